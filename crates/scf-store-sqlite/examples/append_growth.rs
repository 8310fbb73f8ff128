//! Sustained appends into one SQLite store as its file grows: for each sample of 100,000
//! records (`put` each, then `flush`), the rate and the bytes the process wrote per record
//! (WAL and checkpoint; from `/proc/self/io`, Linux only), then the median rate.
//!
//! ```text
//! cargo run --release -p scf-logs --example append_growth -- 40 [DIR]
//! ```
//!
//! The criterion bench (`benches/store.rs`) gives the same rate with statistics; this
//! shows how it changes with the file's size, which a few criterion samples do not.

use std::time::Instant;

use scf_store::LogStore;
use scf_store_sqlite::SqliteStore;

const SAMPLE: u64 = 100_000;

/// Bytes this process has written so far, where the kernel says.
fn written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    let line = io.lines().find(|l| l.starts_with("wchar:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let samples: u64 = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("samples {n:?}: {e}"))?,
        None => 30,
    };
    let dir = match args.next() {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("scf-append-growth-{}", std::process::id())),
    };
    let store = SqliteStore::open(dir.join("append.db"))?;
    let mut rates = Vec::new();
    for k in 0..samples {
        let batch: Vec<_> = (k * SAMPLE..(k + 1) * SAMPLE)
            .map(scf_store::conformance::records::bench_record)
            .collect();
        let before = written();
        let start = Instant::now();
        for r in batch {
            store.put(r)?;
        }
        store.flush()?;
        let rate = SAMPLE as f64 / start.elapsed().as_secs_f64();
        rates.push(rate);
        let per_record = match (before, written()) {
            (Some(a), Some(b)) => format!("{} bytes written per record", (b - a) / SAMPLE),
            _ => "bytes written: n/a".to_owned(),
        };
        println!(
            "{:>5}k records: {rate:>7.0} records/s, {per_record}",
            (k + 1) * SAMPLE / 1000
        );
    }
    drop(store);
    rates.sort_by(f64::total_cmp);
    if let Some(median) = rates.get(rates.len() / 2) {
        println!("median {median:.0} records/s over {samples} samples");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
