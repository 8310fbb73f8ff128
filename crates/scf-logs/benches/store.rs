//! SqliteStore benchmarks: sustained append throughput and a
//! `GetFunctionLogs`-shaped query over 1,000,000 records.

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scf_logs::{LogQuery, LogRecord, LogStore, Order, OrderBy, RetCodeFilter, SqliteStore};
use time::macros::datetime;

const APPEND_BATCH: u64 = 100_000;
const QUERY_ROWS: u64 = 1_000_000;
const FUNCTIONS: u64 = 20;

/// A realistic finished record: ~200 bytes of framed log, 5% failures.
fn record(i: u64) -> LogRecord {
    let id = format!(
        "{:08x}-6d64-11e8-a7fe-{:012x}",
        i.wrapping_mul(2_654_435_761) as u32,
        i
    );
    let start =
        datetime!(2026-11-25 00:00:00 UTC) + time::Duration::milliseconds((i % 86_400_000) as i64);
    let mut r = LogRecord::new(
        format!("fn-{}", i % FUNCTIONS),
        "default",
        "$LATEST",
        &id,
        start,
    );
    // 5% failures, spread over every function.
    let failed = i % 101 < 5;
    r.ret_code = i64::from(failed);
    r.status_code = if failed { 430 } else { 200 };
    r.invoke_finished = true;
    r.ret_msg = if failed {
        "{\"errorMessage\":\"boom\"}".into()
    } else {
        "\"ok\"".into()
    };
    r.duration_ms = (i % 1000) as f64 / 10.0;
    r.bill_duration_ms = 1 + i % 100;
    r.mem_usage_bytes = 3_174_400 + i % 4096;
    r.log = format!(
        "START RequestId:{id}\n2026-11-25T00:00:00.000Z\t{id}\t[INFO]\thandled\nEND RequestId:{id}\nReport RequestId:{id} Duration:1ms Memory:128MB MemUsage:3MB\n"
    );
    r
}

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
