//! What each console page asks the server for, against an SQLite store holding 1M log
//! records (the target: every page under 200 ms), in process (no socket, no browser):
//!
//! - Functions page: `GET /console/` + `api/session` + `api/functions` (the last hour's
//!   invocations and errors of every function from the per-minute aggregates);
//! - Function page: `api/templates` + `GetFunction` + `api/events`;
//! - Logs page: `api/functions?Counts=false` + `GetFunctionLogs` (first page of 20; all records, the
//!   failure filter, a keyword, a keyword no record holds: the bounded search's worst case);
//! - Monitoring page: `api/functions?Counts=false` + `api/metrics` over the last hour and the last 24
//!   hours, for one function and for the whole deployment.
//!
//! The records: 1,000,000 of two functions (`hello` 90 %, `failing` 10 %, which fails),
//! start times spread evenly over the last 24 hours, each with a framed log of about 300
//! bytes. Filling the store takes a minute; it is done once per run.
//!
//! `cargo bench -p scf-console --bench page_load`; `SCF_BENCH_RECORDS=N` for another count.

// criterion_group! generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;

use scf_console::{Console, ConsoleConfig, CSRF_HEADER};
use scf_http::{handler_fn, Credentials, FunctionConfig, FunctionError, PeerAddr};
use scf_invoker::{Invoker, InvokerConfig};
use scf_logs::LogRecord;
use scf_store::LogStore;
use scf_store_sqlite::SqliteStore;

async fn echo(event: Value, _ctx: scf_http::Context) -> Result<Value, FunctionError> {
    Ok(event)
}

fn record(i: u64, n: u64, now: OffsetDateTime) -> LogRecord {
    let failing = i % 10 == 0;
    let name = if failing { "failing" } else { "hello" };
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        i as u32,
        (i >> 8) as u16,
        i % 4096,
        (i / 7) % 4096,
        i * 2_654_435_761
    );
    // Evenly over the last 24 hours, newest last.
    let ago = time::Duration::milliseconds(((n - i) * 86_400_000 / n) as i64);
    let mut r = LogRecord::new(name, "default", "$LATEST", id.clone(), now - ago);
    r.ret_code = i64::from(failing);
    r.status_code = if failing { 430 } else { 200 };
    r.invoke_finished = true;
    r.duration_ms = 1.0 + (i % 97) as f64 * 0.37;
    r.bill_duration_ms = r.duration_ms.ceil() as u64;
    r.mem_usage_bytes = 14_000_000 + (i % 13) * 100_000;
    r.ret_msg = if failing {
        "{\"errorCode\":-1,\"errorMessage\":\"user code exception caught\",\"statusCode\":430}"
            .into()
    } else {
        "\"abctest\"".into()
    };
    r.log = format!(
        "START RequestId:{id}\n{{'key': 'abctest', 'n': {i}}}\n{}END RequestId:{id}\nReport RequestId:{id} Duration:{:.3}ms Memory:128MB MemUsage:{}\n",
        if failing { "Traceback (most recent call last):\nException: I failed!\n" } else { "" },
        r.duration_ms,
        r.mem_usage_bytes
    );
    r
}

struct Setup {
    console: Console,
    csrf: String,
    _dir: tempfile::TempDir,
}

fn setup(rt: &tokio::runtime::Runtime) -> Setup {
    let n: u64 = std::env::var("SCF_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("bench setup");
    let store = Arc::new(SqliteStore::open(dir.path().join("logs.sqlite")).expect("bench setup"));
    let now = OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    for i in 0..n {
        store.put(record(i, n, now)).expect("bench setup");
    }
    store.flush().expect("bench setup");
    eprintln!(
        "page_load: {n} records written in {:.1?}",
        started.elapsed()
    );
    let console = rt.block_on(async {
        let invoker =
            Invoker::new(InvokerConfig::default().with_store(store.clone())).expect("bench setup");
        for name in ["hello", "failing"] {
            invoker
                .add_function(FunctionConfig::new(name), handler_fn(echo))
                .expect("bench setup");
        }
        let mut config = ConsoleConfig::new(Credentials::new());
        config.store = Some(store.clone());
        Console::new(invoker, config).expect("bench setup")
    });
    let csrf = rt.block_on(async {
        let (_, v) = call(&console, "GET", "/console/api/session", "", "").await;
        v["csrf"].as_str().expect("bench setup").to_string()
    });
    Setup {
        console,
        csrf,
        _dir: dir,
    }
}

async fn call(
    c: &Console,
    method: &str,
    path: &str,
    csrf: &str,
    body: &str,
) -> (StatusCode, Value) {
    let mut r = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:9000")
        .header(CSRF_HEADER, csrf)
        .body(Bytes::from(body.to_string()))
        .expect("bench setup");
    r.extensions_mut()
        .insert(PeerAddr("127.0.0.1:50000".parse().expect("bench setup")));
    let response = c.handle(r).await;
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("bench setup")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("bench setup");
    let s = setup(&rt);
    let page = |requests: &'static [(&'static str, &'static str, &'static str)]| {
        let console = s.console.clone();
        let csrf = s.csrf.clone();
        let rt = &rt;
        move || {
            rt.block_on(async {
                for (method, path, body) in requests {
                    let (status, v) = call(&console, method, path, &csrf, body).await;
                    assert!(status == 200, "{path}: {status} {v}");
                    black_box(v);
                }
            })
        }
    };
    let mut g = c.benchmark_group("console_page_1M_records");
    g.sample_size(20);
    let functions: &[(&str, &str, &str)] = &[
        ("GET", "/console/", ""),
        ("GET", "/console/api/session", ""),
        ("GET", "/console/api/functions", ""),
    ];
    g.bench_function("functions", |b| b.iter(page(functions)));
    let function: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/templates", ""),
        (
            "POST",
            "/console/api/action/GetFunction",
            r#"{"FunctionName":"hello"}"#,
        ),
        ("GET", "/console/api/events?FunctionName=hello", ""),
    ];
    g.bench_function("function", |b| b.iter(page(function)));
    let logs: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        (
            "POST",
            "/console/api/action/GetFunctionLogs",
            r#"{"FunctionName":"hello","Limit":20}"#,
        ),
    ];
    g.bench_function("logs", |b| b.iter(page(logs)));
    let failures: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        (
            "POST",
            "/console/api/action/GetFunctionLogs",
            r#"{"FunctionName":"failing","Limit":20,"Filter":{"RetCode":"not0"}}"#,
        ),
    ];
    g.bench_function("logs_failure_filter", |b| b.iter(page(failures)));
    let keyword: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        (
            "POST",
            "/console/api/action/GetFunctionLogs",
            r#"{"FunctionName":"failing","Limit":20,"SearchContext":{"Keyword":"I failed!"}}"#,
        ),
    ];
    g.bench_function("logs_keyword", |b| b.iter(page(keyword)));
    // The worst case of the bounded search: a keyword no record holds, in the busy
    // function, reads its newest `DEFAULT_KEYWORD_SCAN` (10,000) records' text and stops.
    let rare: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        (
            "POST",
            "/console/api/action/GetFunctionLogs",
            r#"{"FunctionName":"hello","Limit":20,"SearchContext":{"Keyword":"no record holds this"}}"#,
        ),
    ];
    g.bench_function("logs_keyword_none_match", |b| b.iter(page(rare)));
    let monitoring: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        (
            "GET",
            "/console/api/metrics?FunctionName=hello&Minutes=60",
            "",
        ),
    ];
    g.bench_function("monitoring_hour", |b| b.iter(page(monitoring)));
    let deployment: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        ("GET", "/console/api/metrics?Minutes=60", ""),
    ];
    g.bench_function("monitoring_hour_deployment", |b| b.iter(page(deployment)));
    let day: &[(&str, &str, &str)] = &[
        ("GET", "/console/api/functions?Counts=false", ""),
        (
            "GET",
            "/console/api/metrics?FunctionName=hello&Minutes=1440",
            "",
        ),
    ];
    g.bench_function("monitoring_day", |b| b.iter(page(day)));
    g.finish();
}

criterion_group!(benches, pages);
criterion_main!(benches);
