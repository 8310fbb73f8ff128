//! SqliteStore benchmarks: sustained append throughput and a
//! `GetFunctionLogs`-shaped query over 1,000,000 records.

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scf_logs::{LogQuery, LogRecord, LogStore, Order, OrderBy, RetCodeFilter, SqliteStore};

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

criterion_group!(benches, append, query);
criterion_main!(benches);
