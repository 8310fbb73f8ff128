//! Invoke overhead: a no-op handler and the event `{"key":"abctest"}`, called directly and
//! through the `Invoker` (memory store) in both execution modes, each on a single-threaded
//! runtime (one core drives the calls).
//!
//! Run with `cargo bench -p scf-invoker`. The medians, their difference (the invoker's
//! overhead) and the rate one core sustains are in criterion's report; the machine is
//! printed first.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError, Handler};
use scf_invoker::{Execution, InvokeRequest, Invoker, InvokerConfig};
use scf_store::MemoryStore;
use serde_json::Value;

const EVENT: &str = r#"{"key":"abctest"}"#;

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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn invoker(rt: &tokio::runtime::Runtime, execution: Execution) -> Invoker {
    let mut config = InvokerConfig::default().with_store(Arc::new(MemoryStore::default()));
    config.execution = execution;
    let invoker = Invoker::with_handle(config, rt.handle().clone()).expect("invoker");
    invoker
        .add_function(FunctionConfig::new("noop"), handler_fn(noop))
        .expect("function");
    invoker
}

fn bench(c: &mut Criterion) {
    machine();
    let mut group = c.benchmark_group("invoke");
    group.measurement_time(Duration::from_secs(5));

    let rt = runtime();
    let handler: Arc<dyn Handler> = Arc::new(handler_fn(noop));
    let event: Value = serde_json::from_str(EVENT).expect("event");
    let ctx = Context::new(
        &FunctionConfig::new("noop"),
        "00000000-0000-4000-8000-000000000000",
    );
    group.bench_function("direct_handler_call", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let out = handler.call(event.clone(), ctx.clone()).await;
                    std::hint::black_box(out).ok();
                }
                start.elapsed()
            })
        })
    });

    for (name, execution) in [
        ("invoker_inline", Execution::Inline),
        ("invoker_isolated", Execution::Isolated),
    ] {
        let rt = runtime();
        let invoker = invoker(&rt, execution);
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
