//! PgStore benchmarks, the same shapes as scf-store-sqlite's: sustained append throughput
//! (one node), a `GetFunctionLogs`-shaped query over 1,000,000 records, and the async
//! queue (events enqueued, claimed and finished).
//!
//! The server: `SCF_BENCH_POSTGRES_URL` if set, else a private cluster started here
//! (`fsync=on`, `synchronous_commit=on`: the durability a deployment runs with; 1 GiB of
//! shared buffers).

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use scf_logs::LogRecord;
use scf_store::{
    AsyncEvent, AsyncQueue, AttemptEnd, FunctionRef, LogQuery, LogStore, Order, OrderBy,
    RetCodeFilter,
};
use scf_store_postgres::{PgStore, PgStoreConfig};

use scf_store::conformance::records::bench_record as record;

const APPEND_BATCH: u64 = 100_000;
const QUERY_ROWS: u64 = 1_000_000;

/// The server's URL (and the cluster, kept alive until the process ends).
fn server() -> &'static str {
    SERVER.get_or_init(|| match std::env::var("SCF_BENCH_POSTGRES_URL") {
        Ok(url) => url,
        Err(_) => {
            let c = scf_testkit::PgCluster::start_with(&[
                "fsync=on",
                "synchronous_commit=on",
                "shared_buffers=1GB",
                "max_wal_size=4GB",
            ])
            .expect("start a PostgreSQL cluster");
            let url = c.url();
            *CLUSTER.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
            url
        }
    })
}

static SERVER: OnceLock<String> = OnceLock::new();
/// The private cluster, stopped at the end of `main` (a static is never dropped).
static CLUSTER: Mutex<Option<scf_testkit::PgCluster>> = Mutex::new(None);

/// Stops the private cluster when `main` returns or unwinds.
struct StopCluster;

impl Drop for StopCluster {
    fn drop(&mut self) {
        drop(CLUSTER.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}

/// A store in a fresh schema.
fn store(name: &str) -> PgStore {
    let schema = format!("bench_{name}_{}", std::process::id());
    let mut cfg = PgStoreConfig::new(server()).with_schema(schema);
    cfg.op_timeout = Duration::from_secs(120);
    PgStore::open_with(cfg).expect("open")
}

fn append(c: &mut Criterion) {
    let store = store("append");
    let next = AtomicU64::new(0);
    let mut g = c.benchmark_group("pg_append");
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
    eprintln!("lost records: {}", store.lost_records());
}

/// Runs `sql` in `schema` on a connection of its own.
fn sql(schema: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(server(), tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .await
            .expect("search_path");
        client.batch_execute(sql).await.expect("sql");
    });
}

fn query(c: &mut Criterion) {
    let store = store("query");
    let started = Instant::now();
    let chunk = 50_000;
    let mut i = 0;
    while i < QUERY_ROWS {
        for n in i..i + chunk {
            store.put(record(n)).expect("put");
        }
        store.flush().expect("flush");
        i += chunk;
    }
    eprintln!("built {QUERY_ROWS} records in {:.1?}", started.elapsed());
    // What autovacuum does within a minute of such a load (statistics for the planner,
    // the visibility map for index-only scans): the steady state, measured without
    // waiting for it.
    let analyzed = Instant::now();
    sql(store.schema(), "VACUUM ANALYZE logs");
    eprintln!("VACUUM ANALYZE in {:.1?}", analyzed.elapsed());
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
    let mut g = c.benchmark_group("pg_query_1m");
    g.bench_function("fn_not0_limit100_start_time_desc", |b| {
        b.iter(|| store.query(&q).expect("query"));
    });
    let all = LogQuery {
        function_name: Some("fn-7".into()),
        limit: 20,
        ..LogQuery::default()
    };
    g.bench_function("fn_limit20_start_time_desc", |b| {
        b.iter(|| store.query(&all).expect("query"));
    });
    g.finish();
}

/// Events per measured iteration of the queue benchmarks (a tenth of the SQLite
/// benchmark's: every enqueue and end is a commit the server makes durable, an fsync).
const QUEUE_EVENTS: u64 = 640;
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

fn queue_functions() -> Vec<FunctionRef> {
    (0..16)
        .map(|n| FunctionRef::new("default", format!("fn-{n}")))
        .collect()
}

/// Enqueues `count` events, then claims them `CLAIM_LIMIT` at a time as `worker` and
/// finishes each, until it finished `count` or found none due.
fn enqueue_claim_finish(store: &PgStore, next: &AtomicU64, count: u64, worker: &str) {
    let now = time::OffsetDateTime::now_utc();
    let base = next.fetch_add(count, Ordering::Relaxed);
    for n in base..base + count {
        store.enqueue(&queue_event(n, now)).expect("enqueue");
    }
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

fn queue(c: &mut Criterion) {
    let store = store("queue");
    let next = AtomicU64::new(0);
    let mut g = c.benchmark_group("pg_queue");
    g.sample_size(10);
    g.throughput(Throughput::Elements(QUEUE_EVENTS));
    g.bench_function("enqueue_claim64_finish_sequential", |b| {
        b.iter(|| enqueue_claim_finish(&store, &next, QUEUE_EVENTS, "w"));
    });
    g.bench_function("enqueue_claim64_finish_threads_8", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for t in 0..8 {
                    let (store, next) = (&store, &next);
                    s.spawn(move || {
                        enqueue_claim_finish(store, next, QUEUE_EVENTS / 8, &format!("w{t}"))
                    });
                }
            })
        });
    });
    g.finish();
}

criterion_group!(benches, append, query, queue);

fn main() {
    let _stop = StopCluster;
    benches();
    Criterion::default().configure_from_args().final_summary();
}
