//! What the database does per record when records arrive one at a time, as an invoker
//! puts them: one thread puts `RATE` records a second (paced, not in bursts) for `SECS`
//! seconds, then flushes; prints the transactions the database committed and the CPU its
//! backends and this process used, per record. Run it once with each `batch_interval` to
//! compare (`0` writes whatever has arrived as soon as a connection is free).
//!
//! ```sh
//! cargo run --release -p scf-store-postgres --example paced_puts -- URL RATE SECS INTERVAL_MS
//! ```
//!
//! Give it a server of its own (a throwaway cluster): the counts are the whole database's.

use std::time::Duration;

use scf_store::conformance::records::{invoker_record, put_paced};
use scf_store::LogStore;
use scf_store_postgres::{PgStore, PgStoreConfig};

/// User + system CPU ticks of process `pid` (`self` for this one).
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

/// The database's committed transactions, and the CPU ticks of every backend connected to it.
fn database_usage(client: &mut tokio_postgres::Client, rt: &tokio::runtime::Runtime) -> (i64, u64) {
    rt.block_on(async {
        let commits: i64 = client
            .query_one(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
                &[],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        let pids = client
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
                &[],
            )
            .await
            .unwrap_or_default();
        let ticks = pids
            .iter()
            .map(|r| cpu_ticks(&r.get::<_, i32>(0).to_string()))
            .sum();
        (commits, ticks)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, rate, secs, interval] = args.as_slice() else {
        return Err("usage: paced_puts URL RATE SECS INTERVAL_MS".into());
    };
    let rate: u64 = rate.parse()?;
    let secs: u64 = secs.parse()?;
    let interval = Duration::from_millis(interval.parse()?);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut client, conn) = rt.block_on(tokio_postgres::connect(url, tokio_postgres::NoTls))?;
    rt.spawn(conn);

    let mut cfg = PgStoreConfig::new(url).with_schema(format!("paced_{}", std::process::id()));
    cfg.batch_interval = interval;
    let store = PgStore::open_with(cfg)?;
    // Warm up: the writers' connections open and prepare their statement.
    for i in 0..64 {
        store.put(invoker_record(u64::MAX - i))?;
    }
    store.flush()?;

    // Statistics are sent to the collector at most every 500 ms: let them settle.
    std::thread::sleep(Duration::from_millis(1200));
    let (commits_before, backends_before) = database_usage(&mut client, &rt);
    let own_before = cpu_ticks("self");
    let n = rate * secs;
    put_paced(&store, rate, n)?;
    store.flush()?;
    let own_after = cpu_ticks("self");
    std::thread::sleep(Duration::from_millis(1200));
    let (commits_after, backends_after) = database_usage(&mut client, &rt);
    let per_record_us = |ticks: u64| ticks as f64 * 10_000.0 / n as f64;
    println!(
        "{n} records at {rate}/s, batch_interval {interval:?}: {:.3} transactions per record; \
         database backends {:.1} us CPU per record; this process {:.1} us per record; lost {}",
        (commits_after - commits_before) as f64 / n as f64,
        per_record_us(backends_after.saturating_sub(backends_before)),
        per_record_us(own_after.saturating_sub(own_before)),
        store.lost_records()
    );
    Ok(())
}
