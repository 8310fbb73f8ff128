//! End to end through the invoker: a process function is an ordinary handler, so `Invoke`,
//! its log framing, `MemUsage`, timeouts and the async queue apply unchanged.

use crate::common;

use std::time::Duration;

use common::{alive, config, eventually, example, fixture};
use scf_handler::FunctionStatus;
use scf_invoker::{InvokeRequest, Invoker, InvokerConfig, LogType, MemSource};
use scf_process::{ProcessFunction, ProcessSpec};
use serde_json::{json, Value};

fn invoker() -> Invoker {
    Invoker::new(InvokerConfig::default()).expect("inside a runtime")
}

async fn full_log(invoker: &Invoker, request_id: &str) -> String {
    let records = invoker.request_logs(request_id).await.unwrap();
    records.last().expect("a record").log.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_python_function_runs_through_invoke_with_scf_framing() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-seed", "index.main_handler");
    let invoker = invoker();
    let f = ProcessFunction::new(ProcessSpec::new(
        cfg.clone(),
        example("python-seed"),
        python,
    ))
    .unwrap();
    invoker.add_function(cfg, f).unwrap();

    let first = invoker
        .invoke(
            InvokeRequest::new("python-seed", r#"{"key":"abctest"}"#).with_log_type(LogType::Tail),
        )
        .await
        .unwrap();
    assert_eq!(first.status, FunctionStatus::Success, "{}", first.err_msg);
    assert_eq!(first.ret_msg, r#""abctest""#);
    assert_eq!(first.mem_source, MemSource::Reported);
    assert!(
        first.mem_usage_bytes > 1024 * 1024,
        "the instance's peak RSS: {}",
        first.mem_usage_bytes
    );
    let log = full_log(&invoker, &first.request_id).await;
    let lines: Vec<&str> = log.lines().collect();
    let pos = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix:?} in {log}"))
    };
    assert!(pos("START RequestId:") < pos("Init Report RequestId:"));
    assert!(pos("Init Report RequestId:") < pos("{'key': 'abctest'}"));
    assert!(pos("{'key': 'abctest'}") < pos("Response RequestId:"));
    assert!(pos("Response RequestId:") < pos("END RequestId:"));
    assert!(pos("END RequestId:") < pos("Report RequestId:"));

    let warm = invoker
        .invoke(InvokeRequest::new("python-seed", r#"{"key":"warm"}"#))
        .await
        .unwrap();
    assert_eq!(warm.ret_msg, r#""warm""#);
    let warm_log = full_log(&invoker, &warm.request_id).await;
    assert!(!warm_log.contains("Init Report"), "{warm_log}");
    assert!(warm_log.contains("{'key': 'warm'}"), "{warm_log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhandled_exception_is_scf_error_json_in_err_msg() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-fail", "index.always_failed_handler");
    let invoker = invoker();
    invoker
        .add_function(
            cfg.clone(),
            ProcessFunction::new(ProcessSpec::new(cfg, example("python-seed"), python)).unwrap(),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("python-fail", "{}"))
        .await
        .unwrap();
    assert_eq!(response.status.code(), 430);
    let error: Value = serde_json::from_str(&response.err_msg).unwrap();
    assert_eq!(error["errorMessage"], "user code exception caught");
    assert_eq!(error["statusCode"], 430);
    assert_eq!(error["requestId"], json!(response.request_id));
    let trace = error["stackTrace"].as_str().unwrap();
    assert!(
        trace.starts_with("Traceback (most recent call last):"),
        "{trace}"
    );
    assert!(trace.ends_with("Exception: I failed!"), "{trace}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoker_timeout_kills_the_instance() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("python-slow", "index.multi");
    cfg.timeout = Duration::from_secs(1);
    let invoker = invoker();
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_sandbox(scf_process::Sandbox::off()),
    )
    .unwrap();
    invoker.add_function(cfg, f.clone()).unwrap();
    // Warm up first, so that the deadline is spent in the function, not in its init.
    let warm = invoker
        .invoke(InvokeRequest::new("python-slow", r#"{"op":"pid_handler"}"#))
        .await
        .unwrap();
    let pid: i64 = warm.ret_msg.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let event = json!({"op": "sleep_with_pid_file", "pid_file": dir.path().join("p")}).to_string();
    let response = invoker
        .invoke(InvokeRequest::new("python-slow", event))
        .await
        .unwrap();
    assert_eq!(response.status, FunctionStatus::TimeLimitReached);
    let error: Value = serde_json::from_str(&response.err_msg).unwrap();
    assert_eq!(error["errorMessage"], "time out");
    assert!(
        eventually(Duration::from_secs(3), || !alive(pid)).await,
        "instance {pid} killed"
    );
    assert!(
        eventually(Duration::from_secs(3), || f.stats().live == 0).await,
        "{:?}",
        f.stats()
    );
    let after = invoker
        .invoke(InvokeRequest::new("python-slow", r#"{"op":"pid_handler"}"#))
        .await
        .unwrap();
    assert_eq!(after.status, FunctionStatus::Success);
    assert_ne!(after.ret_msg, warm.ret_msg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_events_run_on_process_functions() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-async", "index.main_handler");
    let invoker = invoker();
    invoker
        .add_function(
            cfg.clone(),
            ProcessFunction::new(ProcessSpec::new(cfg, example("python-seed"), python)).unwrap(),
        )
        .unwrap();
    let accepted = invoker
        .invoke(InvokeRequest::event("python-async", r#"{"key":"later"}"#))
        .await
        .unwrap();
    let id = accepted.request_id.clone();
    let mut record = None;
    for _ in 0..200 {
        if let Some(r) = invoker.request_logs(&id).await.unwrap().pop() {
            if r.status_code == 200 {
                record = Some(r);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let record = record.expect("the async event ran");
    assert_eq!(record.ret_msg, r#""later""#);
    assert!(record.log.contains("{'key': 'later'}"), "{}", record.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bash_custom_runtime_runs_through_invoke() {
    if !common::has_curl() {
        return;
    }
    let cfg = config("bash-echo", "index.main_handler");
    let invoker = invoker();
    invoker
        .add_function(
            cfg.clone(),
            ProcessFunction::new(ProcessSpec::new(
                cfg,
                fixture("custom-curl"),
                scf_process::RuntimeKind::Custom,
            ))
            .unwrap(),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("bash-echo", r#"{"key":"abctest"}"#))
        .await
        .unwrap();
    assert_eq!(
        response.status,
        FunctionStatus::Success,
        "{}",
        response.err_msg
    );
    assert_eq!(
        response.ret_msg,
        r#""Echoing request: '{\"key\":\"abctest\"}'""#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_is_timed_by_init_timeout_not_by_the_functions_timeout() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("slow-init", "index.main_handler");
    cfg.timeout = Duration::from_secs(1);
    let invoker = invoker();
    let f = ProcessFunction::new(ProcessSpec::new(
        cfg.clone(),
        fixture("python-slow-init"),
        python,
    ))
    .unwrap();
    invoker.add_function(cfg, f).unwrap();
    let out = invoker
        .invoke(InvokeRequest::new("slow-init", "{}"))
        .await
        .unwrap();
    assert_eq!(out.status, FunctionStatus::Success, "{out:?}");
    assert_eq!(out.ret_msg, "\"warm\"");
    assert!(
        out.duration_ms < 1000.0,
        "Duration {} leaves init out",
        out.duration_ms
    );
    let log = full_log(&invoker, &out.request_id).await;
    assert!(log.contains("initialised"), "{log}");
    assert!(log.contains("Init Report RequestId: "), "{log}");
    // Warm: no init this time.
    let out = invoker
        .invoke(InvokeRequest::new("slow-init", "{}"))
        .await
        .unwrap();
    assert_eq!(out.status, FunctionStatus::Success);
    assert!(!full_log(&invoker, &out.request_id)
        .await
        .contains("Init Report"));
}
