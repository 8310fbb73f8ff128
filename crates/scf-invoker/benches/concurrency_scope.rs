//! What a deployment-wide concurrency limit costs per invocation: a no-op sync
//! invocation with the limit counted per node (`ConcurrencyScope::Node`, an atomic) and
//! counted in the store (`ConcurrencyScope::Deployment`: a slot taken before the run and
//! given back after), over a `MemoryStore` and over a `SqliteStore` file (what `scf serve`
//! shares between nodes), back to back in one run. Log records go to the same SQLite
//! file in every case, as under `scf serve`.
//!
//! Two shapes: one caller invoking back to back (the latency a caller sees), and 16
//! callers at once on a two-thread runtime (what the store's writer sustains).
//!
//! Run with `cargo bench -p scf-invoker --bench concurrency_scope`; the machine is printed
//! first.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{ConcurrencyScope, Execution, InvokeRequest, Invoker, InvokerConfig};
use scf_store::MemoryStore;
use scf_store_sqlite::SqliteStore;
use serde_json::Value;

const EVENT: &str = r#"{"key":"abctest"}"#;
const CALLERS: u64 = 16;

async fn noop(_event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    Ok(Value::Null)
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores (nproc), CPU: {cpu}");
}

fn invoker(
    rt: &tokio::runtime::Runtime,
    store: &Arc<SqliteStore>,
    scope: ConcurrencyScope,
) -> Invoker {
    let mut config = InvokerConfig::default().with_store(store.clone());
    config.execution = Execution::Inline;
    config.concurrency = scope;
    let invoker = Invoker::with_handle(config, rt.handle().clone()).expect("invoker");
    invoker
        .add_function(FunctionConfig::new("noop"), handler_fn(noop))
        .expect("function");
    invoker
}

fn bench(c: &mut Criterion) {
    machine();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(dir.path().join("scf.sqlite")).expect("store"));
    let scopes = |store: &Arc<SqliteStore>| {
        [
            ("per_node", ConcurrencyScope::Node),
            (
                "deployment_memory",
                ConcurrencyScope::Deployment(Arc::new(MemoryStore::default())),
            ),
            (
                "deployment_sqlite",
                ConcurrencyScope::Deployment(store.clone()),
            ),
        ]
    };

    let mut group = c.benchmark_group("concurrency_scope_sequential");
    group.measurement_time(Duration::from_secs(5));
    for (name, scope) in scopes(&store) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let invoker = invoker(&rt, &store, scope);
        let request = InvokeRequest::new("noop", EVENT);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let out = invoker.invoke(request.clone()).await;
                        assert!(std::hint::black_box(out).is_ok_and(|r| r.is_success()));
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("concurrency_scope_16_callers");
    group.measurement_time(Duration::from_secs(5));
    for (name, scope) in scopes(&store) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let invoker = invoker(&rt, &store, scope);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    let mut tasks = tokio::task::JoinSet::new();
                    for caller in 0..CALLERS {
                        let invoker = invoker.clone();
                        let n = iters / CALLERS + u64::from(caller < iters % CALLERS);
                        tasks.spawn(async move {
                            let request = InvokeRequest::new("noop", EVENT);
                            for _ in 0..n {
                                let out = invoker.invoke(request.clone()).await;
                                assert!(out.is_ok_and(|r| r.is_success()));
                            }
                        });
                    }
                    while let Some(done) = tasks.join_next().await {
                        done.expect("a caller panicked");
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
