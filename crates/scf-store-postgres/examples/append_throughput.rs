//! Appends records to a PgStore as fast as one node can and reports the rate, with the
//! CPU time this process used (so that a run on a busy machine can be read per CPU).
//!
//! `cargo run --release -p scf-store-postgres --example append_throughput -- URL RECORDS [WRITERS]`
//! (a fresh schema each run; records as the criterion benchmark's).

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use scf_store::LogStore;
use scf_store_postgres::{PgStore, PgStoreConfig};

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().expect("URL");
    let n: u64 = args.get(1).map_or(200_000, |s| s.parse().unwrap());
    let writers: usize = args.get(2).map_or(2, |s| s.parse().unwrap());
    let schema = format!("append_{}_{}", std::process::id(), writers);
    let mut cfg = PgStoreConfig::new(url).with_schema(schema);
    cfg.writers = writers;
    cfg.op_timeout = std::time::Duration::from_secs(300);
    let store = PgStore::open_with(cfg).unwrap();
    let records: Vec<_> = (0..n)
        .map(scf_store::conformance::records::bench_record)
        .collect();
    let cpu = cpu_seconds();
    let start = Instant::now();
    for r in records {
        store.put(r).unwrap();
    }
    store.flush().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} records in {secs:.2} s: {:.0} records/s; this process {:.2} CPU-s; lost {}",
        n as f64 / secs,
        cpu_seconds() - cpu,
        store.lost_records()
    );
}
