//! SqliteStore benchmarks: sustained append throughput, a `GetFunctionLogs`-shaped query
//! over 1,000,000 records, and deleting expired records (retention).

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scf_logs::LogRecord;
use scf_store::{LogQuery, LogStore, Order, OrderBy, RetCodeFilter};
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig};

#[path = "support/records.rs"]
mod records;
use records::record;

const APPEND_BATCH: u64 = 100_000;
const QUERY_ROWS: u64 = 1_000_000;

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("append.db")).expect("open");
    let next = AtomicU64::new(0);
    let mut g = c.benchmark_group("sqlite_append");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(APPEND_BATCH));
    g.bench_function("put_100k_then_flush", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let base = next.fetch_add(APPEND_BATCH, Ordering::Relaxed);
                let records: Vec<LogRecord> = (base..base + APPEND_BATCH).map(record).collect();
                let start = Instant::now();
                for r in records {
                    store.put(r).expect("put");
                }
                store.flush().expect("flush");
                total += start.elapsed();
            }
            total
        });
    });
    g.finish();
}

fn query(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("query.db")).expect("open");
    let started = Instant::now();
    let chunk = 50_000;
    let mut i = 0;
    while i < QUERY_ROWS {
        store
            .put_batch((i..i + chunk).map(record).collect())
            .expect("bulk load");
        i += chunk;
    }
    eprintln!("built {QUERY_ROWS} records in {:.1?}", started.elapsed());
    let q = LogQuery {
        function_name: Some("fn-7".into()),
        ret_code: Some(RetCodeFilter::Not0),
        order: Order::Desc,
        order_by: OrderBy::StartTime,
        offset: 0,
        limit: 100,
        ..LogQuery::default()
    };
    let page = store.query(&q).expect("query");
    eprintln!(
        "query matches {} records, page of {}",
        page.total_count,
        page.records.len()
    );
    let mut g = c.benchmark_group("sqlite_query_1m");
    g.bench_function("fn_not0_limit100_start_time_desc", |b| {
        b.iter(|| store.query(&q).expect("query"));
    });
    g.finish();
}

/// Deleting 100k expired records (and their keys) with `purge`, in the default batches
/// of 10,000 (each its own transaction: what an append may wait for), from a file that
/// also holds 1M records not expired.
fn purge(c: &mut Criterion) {
    const EXPIRED: u64 = 100_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = SqliteStoreConfig::default();
    // The bench's records started on 2026-11-25.
    cfg.log_retention = Some(Duration::from_secs(24 * 3600));
    let store = SqliteStore::open_with(dir.path().join("purge.db"), cfg).expect("open");
    let now = time::OffsetDateTime::now_utc();
    let mut i = 0;
    while i < QUERY_ROWS {
        let kept = (i..i + 50_000)
            .map(|n| {
                let mut r = record(n);
                r.start_time = now;
                r
            })
            .collect();
        store.put_batch(kept).expect("bulk load");
        i += 50_000;
    }
    let next = AtomicU64::new(QUERY_ROWS);
    let mut g = c.benchmark_group("sqlite_purge");
    g.sample_size(10);
    g.throughput(Throughput::Elements(EXPIRED));
    g.bench_function("purge_100k_expired_of_1_1m", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let base = next.fetch_add(EXPIRED, Ordering::Relaxed);
                store
                    .put_batch((base..base + EXPIRED).map(record).collect())
                    .expect("expired records");
                let start = Instant::now();
                let report = store.purge().expect("purge");
                total += start.elapsed();
                assert_eq!(report.log_records, EXPIRED);
            }
            total
        });
    });
    g.finish();
}

criterion_group!(benches, append, query, purge);
criterion_main!(benches);
