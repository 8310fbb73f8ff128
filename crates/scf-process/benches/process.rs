//! Benchmarks of out-of-process Python functions, printed as medians:
//!
//! 1. warm invocation through the invoker's `Invoke` of a Python `return event` function,
//!    against calling the same function in a loop inside one Python process (the
//!    difference is the runtime's overhead per warm invocation);
//! 2. cold start (a new function's first invocation) against a bare
//!    `python3 -c 'import index'`;
//! 3. throughput with a pool of 4 instances;
//! 4. the sandbox's cost: warm invocations and cold starts with this host's sandbox
//!    against none, alternating in the same run.
//!
//! `cargo bench -p scf-process --bench process` (set `SCF_BENCH_QUICK=1` for a short run).
//! Skips (and says so) when no `python3` is found.

// A benchmark fails by panicking, as a test does.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scf_context::FunctionConfig;
use scf_invoker::{Execution, InvokeRequest, Invoker, InvokerConfig};
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec, RuntimeKind, Sandbox};

const EVENT: &str = r#"{"key":"abctest"}"#;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures/echo")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn config(name: &str) -> FunctionConfig {
    let mut c = FunctionConfig::new(name);
    c.handler = "index.main_handler".into();
    c.timeout = Duration::from_secs(10);
    c
}

fn invoker(execution: Execution) -> Invoker {
    let mut cfg = InvokerConfig::default().with_execution(execution);
    cfg.store = Arc::new(scf_store::MemoryStore::new(1_000));
    Invoker::new(cfg).expect("inside a runtime")
}

/// Median seconds per call of `index.main_handler(event, context)` inside one Python process.
fn python_in_process(python: &Path, iterations: usize) -> f64 {
    let script = format!(
        r#"
import json, time, index
event = json.loads('{EVENT}')
context = {{"memory_limit_in_mb": 128, "time_limit_in_ms": 10000, "request_id": "r"}}
for _ in range(1000):
    index.main_handler(event, context)
samples = []
for _ in range({iterations}):
    t = time.perf_counter_ns()
    index.main_handler(event, context)
    samples.append(time.perf_counter_ns() - t)
samples.sort()
print(samples[len(samples) // 2])
"#
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .current_dir(fixture())
        .output()
        .expect("python runs");
    let ns: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a number");
    ns / 1e9
}

/// Median seconds of a bare `python3 -c 'import index'` (process start to exit).
fn python_import(python: &Path, runs: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(python)
            .args(["-c", "import index"])
            .current_dir(fixture())
            .env("PYTHONDONTWRITEBYTECODE", "x")
            .status()
            .expect("python runs");
        assert!(status.success());
        samples.push(t.elapsed().as_secs_f64());
    }
    median(samples)
}

async fn warm(python: &RuntimeKind, execution: Execution, iterations: usize) -> Vec<f64> {
    warm_in(python, execution, iterations, Sandbox::detected().clone()).await
}

async fn warm_in(
    python: &RuntimeKind,
    execution: Execution,
    iterations: usize,
    sandbox: Sandbox,
) -> Vec<f64> {
    let invoker = invoker(execution);
    let cfg = config("bench-warm");
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture(), python.clone()).with_sandbox(sandbox),
    )
    .unwrap();
    invoker.add_function(cfg, f).unwrap();
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations + 200 {
        let t = Instant::now();
        let r = invoker
            .invoke(InvokeRequest::new("bench-warm", EVENT))
            .await
            .unwrap();
        let dt = t.elapsed().as_secs_f64();
        assert!(r.is_success(), "{}", r.err_msg);
        if i >= 200 {
            samples.push(dt);
        }
    }
    samples
}

/// Warm invocations straight through `ProcessFunction::invoke`, without the invoker.
async fn warm_direct(python: &RuntimeKind, iterations: usize) -> Vec<f64> {
    let cfg = config("bench-direct");
    let f = ProcessFunction::new(ProcessSpec::new(cfg.clone(), fixture(), python.clone())).unwrap();
    let event: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    let log = scf_logs::LogBuffer::new("bench");
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations + 200 {
        let ctx = scf_context::Context::new(&cfg, "bench");
        let t = Instant::now();
        let (out, _) = f.invoke(event.clone(), &ctx, &log).await;
        let dt = t.elapsed().as_secs_f64();
        out.unwrap();
        log.take();
        if i >= 200 {
            samples.push(dt);
        }
    }
    samples
}

/// Cold starts (a new function's first `Invoke`) alternating with bare
/// `python3 -c 'import index'` runs, so that both see the same machine load; returns
/// (cold, bare) samples in seconds.
async fn cold(python: &RuntimeKind, interpreter: &Path, runs: usize) -> (Vec<f64>, Vec<f64>) {
    cold_in(python, interpreter, runs, Sandbox::detected().clone()).await
}

async fn cold_in(
    python: &RuntimeKind,
    interpreter: &Path,
    runs: usize,
    sandbox: Sandbox,
) -> (Vec<f64>, Vec<f64>) {
    let invoker = invoker(Execution::Isolated);
    let (mut cold, mut bare) = (Vec::new(), Vec::new());
    for i in 0..runs {
        bare.push(python_import(interpreter, 1));
        let cfg = config(&format!("bench-cold-{i}"));
        let f = ProcessFunction::new(
            ProcessSpec::new(cfg.clone(), fixture(), python.clone()).with_sandbox(sandbox.clone()),
        )
        .unwrap();
        invoker.add_function(cfg.clone(), f.clone()).unwrap();
        let t = Instant::now();
        let r = invoker
            .invoke(InvokeRequest::new(cfg.name.clone(), EVENT))
            .await
            .unwrap();
        cold.push(t.elapsed().as_secs_f64());
        assert!(r.is_success(), "{}", r.err_msg);
        f.stop_idle().await;
    }
    (cold, bare)
}

async fn throughput(python: &RuntimeKind, clients: usize, total: usize) -> (f64, usize) {
    let invoker = Arc::new(invoker(Execution::Isolated));
    // The pool holds 4 instances; the function's concurrency limit stays above the number
    // of clients, so that extra invocations wait for an instance instead of being refused.
    let cfg = config("bench-pool");
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture(), python.clone())
            .with_pool(PoolConfig::new(4, Duration::from_secs(60))),
    )
    .unwrap();
    invoker.add_function(cfg, f.clone()).unwrap();
    // Start all four instances first.
    let warmup: Vec<_> = (0..8)
        .map(|_| {
            let inv = invoker.clone();
            tokio::spawn(async move { inv.invoke(InvokeRequest::new("bench-pool", EVENT)).await })
        })
        .collect();
    for w in warmup {
        let _ = w.await;
    }
    let t = Instant::now();
    let per_client = total / clients;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let inv = invoker.clone();
            tokio::spawn(async move {
                let mut errors = 0;
                for _ in 0..per_client {
                    match inv.invoke(InvokeRequest::new("bench-pool", EVENT)).await {
                        Ok(r) if r.is_success() => {}
                        _ => errors += 1,
                    }
                }
                errors
            })
        })
        .collect();
    let mut errors = 0;
    for task in tasks {
        errors += task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(errors, 0, "every invocation succeeds");
    (
        (per_client * clients) as f64 / secs,
        f.stats().started as usize,
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{n} CPUs ({cpu})")
}

fn main() {
    let quick = std::env::var("SCF_BENCH_QUICK").is_ok_and(|v| v == "1");
    let python = match RuntimeKind::from_scf_name("Python3.9") {
        Ok(kind) => kind,
        Err(e) => {
            eprintln!("SKIPPED: no Python to benchmark ({e})");
            return;
        }
    };
    let RuntimeKind::Python { interpreter } = &python else {
        unreachable!()
    };
    let version = Command::new(interpreter)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "machine: {}; {version} at {}",
        machine(),
        interpreter.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (iterations, cold_runs, total) = if quick {
        (500, 5, 2_000)
    } else {
        (5_000, 30, 20_000)
    };

    if std::env::var("SCF_BENCH_ONLY").is_ok_and(|v| v == "sandbox") {
        sandbox_cost(&rt, &python, interpreter, iterations, cold_runs);
        return;
    }
    if std::env::var("SCF_BENCH_ONLY").is_ok_and(|v| v == "warm") {
        let direct = rt.block_on(warm_direct(&python, iterations * 4));
        println!(
            "warm ProcessFunction::invoke without the invoker: median {:.1} µs",
            median(direct) * 1e6
        );
        return;
    }
    let in_process = python_in_process(interpreter, 100_000);
    println!(
        "python in-process call of index.main_handler: median {:.2} µs",
        in_process * 1e6
    );
    let direct = rt.block_on(warm_direct(&python, iterations));
    println!(
        "warm ProcessFunction::invoke without the invoker: median {:.1} µs, p90 {:.1} µs",
        median(direct.clone()) * 1e6,
        percentile(direct, 0.9) * 1e6
    );
    for (name, execution) in [
        ("Isolated (default)", Execution::Isolated),
        ("Inline", Execution::Inline),
    ] {
        let samples = rt.block_on(warm(&python, execution, iterations));
        let m = median(samples.clone());
        println!(
            "warm Invoke, execution {name}: median {:.1} µs, p90 {:.1} µs, p99 {:.1} µs over {iterations}; overhead per warm invocation {:.1} µs",
            m * 1e6,
            percentile(samples.clone(), 0.9) * 1e6,
            percentile(samples, 0.99) * 1e6,
            (m - in_process) * 1e6
        );
    }

    let (cold, bare) = rt.block_on(cold(&python, interpreter, cold_runs));
    let diffs: Vec<f64> = cold.iter().zip(&bare).map(|(c, b)| c - b).collect();
    println!(
        "cold start: first Invoke of a new function median {:.1} ms; bare `python3 -c 'import index'` median {:.1} ms; difference of medians {:.1} ms, median of paired differences {:.1} ms",
        median(cold.clone()) * 1e3,
        median(bare.clone()) * 1e3,
        (median(cold) - median(bare)) * 1e3,
        median(diffs) * 1e3
    );

    for clients in [4, 16] {
        let (rate, started) = rt.block_on(throughput(&python, clients, total));
        println!("throughput, pool of 4 instances, {clients} concurrent clients: {rate:.0} invocations/s ({started} instances started)");
    }
    sandbox_cost(&rt, &python, interpreter, iterations, cold_runs);
}

/// Warm medians and cold starts with this host's sandbox and without one, three rounds
/// alternating, so that both see the same machine load.
fn sandbox_cost(
    rt: &tokio::runtime::Runtime,
    python: &RuntimeKind,
    interpreter: &Path,
    iterations: usize,
    cold_runs: usize,
) {
    let on = Sandbox::detected().clone();
    let failing: Vec<String> = on
        .guarantees()
        .iter()
        .filter(|g| !g.holds)
        .map(|g| g.name.to_owned())
        .collect();
    println!("sandbox: on {}, not holding here: {failing:?}", on.is_on());
    let (mut warm_off, mut warm_on, mut cold_off, mut cold_on) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let off = median(rt.block_on(warm_in(
            python,
            Execution::Isolated,
            iterations,
            Sandbox::off(),
        )));
        let with =
            median(rt.block_on(warm_in(python, Execution::Isolated, iterations, on.clone())));
        warm_off.push(off);
        warm_on.push(with);
        cold_off.extend(
            rt.block_on(cold_in(python, interpreter, cold_runs, Sandbox::off()))
                .0,
        );
        cold_on.extend(
            rt.block_on(cold_in(python, interpreter, cold_runs, on.clone()))
                .0,
        );
    }
    let us = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{:.1}", x * 1e6))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "sandbox: warm Invoke median per round, no sandbox [{}] µs, sandboxed [{}] µs; median of rounds {:+.1}%",
        us(&warm_off),
        us(&warm_on),
        (median(warm_on.clone()) / median(warm_off.clone()) - 1.0) * 100.0
    );
    println!(
        "sandbox: cold start (first Invoke) median no sandbox {:.1} ms, sandboxed {:.1} ms: {:+.1} ms",
        median(cold_off.clone()) * 1e3,
        median(cold_on.clone()) * 1e3,
        (median(cold_on) - median(cold_off)) * 1e3
    );
}
