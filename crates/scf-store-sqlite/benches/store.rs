//! SqliteStore benchmarks: sustained append throughput, a `GetFunctionLogs`-shaped query
//! over 1,000,000 records, deleting expired records (retention), and the async queue
//! (events enqueued, claimed and finished).

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scf_logs::LogRecord;
use scf_store::{
    AsyncEvent, AsyncQueue, AttemptEnd, FunctionRef, LogQuery, LogStore, Order, OrderBy,
    RetCodeFilter,
};
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig};

use scf_store::conformance::records::bench_record as record;

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
    minute_stats(c, &store);
}

/// The console's per-minute aggregates over the same 1M records (20 functions, all in
/// the first 1,000 s of 2026-11-25: 1,000 records a second, a dense worst case): one
/// function's hour (50,000 records in 17 minutes) and the whole namespace's hour (all
/// 1,000,000), and a `GetFunctionLogs` page with a keyword over one function's hour.
fn minute_stats(c: &mut Criterion, store: &SqliteStore) {
    use scf_store::{ConsoleStore, StatsQuery};
    let start = time::macros::datetime!(2026-11-25 00:00:00 UTC);
    let hour = |function: Option<&str>| StatsQuery {
        namespace: "default".into(),
        function_name: function.map(str::to_owned),
        start,
        end: start + time::Duration::hours(1),
    };
    let one = hour(Some("fn-7"));
    let all = hour(None);
    for q in [&one, &all] {
        let minutes = store.minute_stats(q).expect("minute stats");
        let n: u64 = minutes.iter().map(|m| m.invocations).sum();
        eprintln!(
            "{:?}: {} minutes, {n} records",
            q.function_name,
            minutes.len()
        );
    }
    let search = LogQuery {
        function_name: Some("fn-7".into()),
        keyword: Some("errorMessage".into()),
        start_time: Some(start),
        end_time: Some(start + time::Duration::hours(1)),
        ..LogQuery::default()
    };
    let mut g = c.benchmark_group("sqlite_console_1m");
    g.sample_size(10);
    g.bench_function("minute_stats_one_function_hour_50k", |b| {
        b.iter(|| store.minute_stats(&one).expect("minute stats"));
    });
    g.bench_function("minute_stats_namespace_hour_1m", |b| {
        b.iter(|| store.minute_stats(&all).expect("minute stats"));
    });
    g.bench_function("keyword_one_function_hour_limit20", |b| {
        b.iter(|| store.query(&search).expect("keyword query"));
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

/// Events per measured iteration of the queue benchmarks.
const QUEUE_EVENTS: u64 = 6_400;
/// The claim limit: events a worker takes per claim.
const CLAIM_LIMIT: usize = 64;

fn queue_event(n: u64, now: time::OffsetDateTime) -> AsyncEvent {
    AsyncEvent::new(
        format!("ev-{n:012}"),
        format!("fn-{}", n % 16),
        "default",
        "$LATEST",
        "OTHERS",
        now,
        format!("{{\"n\":{n},\"payload\":\"{}\"}}", "x".repeat(200)),
    )
}

/// Enqueues `count` events from `next`, then claims events `CLAIM_LIMIT` at a time as
/// `worker` and finishes each, until it finished `count` or found none due: the whole
/// life of an event through the queue.
fn enqueue_claim_finish(store: &SqliteStore, next: &AtomicU64, count: u64, worker: &str) {
    let now = time::OffsetDateTime::now_utc();
    let base = next.fetch_add(count, Ordering::Relaxed);
    for n in base..base + count {
        store.enqueue(&queue_event(n, now)).expect("enqueue");
    }
    finish(store, worker, count, now);
}

/// The 16 functions of [`queue_event`]'s events, which every benchmark worker runs.
fn queue_functions() -> Vec<FunctionRef> {
    (0..16)
        .map(|n| FunctionRef::new("default", format!("fn-{n}")))
        .collect()
}

/// Claims and finishes up to `count` due events as `worker`; stops early when none is due.
fn finish(store: &SqliteStore, worker: &str, count: u64, now: time::OffsetDateTime) {
    let functions = queue_functions();
    let mut done = 0;
    while done < count {
        let claims = store
            .claim(
                worker,
                Duration::from_secs(60),
                CLAIM_LIMIT,
                &functions,
                now,
            )
            .expect("claim");
        if claims.is_empty() {
            return;
        }
        for c in claims {
            let end = AttemptEnd::Finished { status_code: 200 };
            store
                .end_attempt(&c.event.invoke_request_id, worker, end, now)
                .expect("end attempt");
            done += 1;
        }
    }
}

/// The async queue through one store: each event enqueued (durable on return), claimed in
/// batches of `CLAIM_LIMIT` and finished with `end_attempt`. `sequential`: one thread makes
/// every call, so each call is a transaction of its own; `threads_8`, `threads_32`: that
/// many threads do so at once (as concurrent invocations do), and the writer commits
/// whatever calls are waiting in one transaction.
fn queue(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("queue.db")).expect("open");
    let next = AtomicU64::new(0);
    let mut g = c.benchmark_group("sqlite_queue");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(QUEUE_EVENTS));
    g.bench_function("enqueue_claim64_finish_sequential", |b| {
        b.iter(|| enqueue_claim_finish(&store, &next, QUEUE_EVENTS, "bench"));
    });
    for threads in [8_u64, 32] {
        g.bench_function(format!("enqueue_claim64_finish_threads_{threads}"), |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for i in 0..threads {
                        let (store, next) = (&store, &next);
                        s.spawn(move || {
                            let count = QUEUE_EVENTS / threads;
                            enqueue_claim_finish(store, next, count, &format!("w{i}"));
                        });
                    }
                });
                // What the threads left (each stops at its count) is finished here.
                finish(&store, "rest", u64::MAX, time::OffsetDateTime::now_utc());
            });
        });
    }
    g.finish();
    let later = time::OffsetDateTime::now_utc() + Duration::from_secs(3600);
    assert_eq!(
        store.pending(later).expect("pending"),
        0,
        "every event finished"
    );
}

criterion_group!(benches, append, query, purge, queue);
criterion_main!(benches);
