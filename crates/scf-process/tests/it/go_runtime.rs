//! The Go runtime: a `Go1` function is its executable, which serves net/rpc as
//! scf-go-lib does (the fixture is a Go program with the same wire contract, built here
//! offline); the host calls it with SCF's timeouts, errors, logs and memory accounting.

use crate::common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use common::{call, config, function};
use scf_process::{ProcessFunction, ProcessSpec, RuntimeKind};
use serde_json::json;

/// The code directory holding the fixture's executable `main`, built once per test
/// process; `None` when `go` is missing and skips are allowed.
fn code_dir() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if !scf_testkit::require(&scf_testkit::GO) {
            return None;
        }
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-function");
        scf_testkit::go::build(&common::fixture("go"), &out, "main");
        Some(out)
    })
    .as_ref()
}

macro_rules! go_or_skip {
    () => {
        match code_dir() {
            Some(dir) => dir,
            None => return,
        }
    };
}

fn go_function(cfg: &scf_context::FunctionConfig, dir: &std::path::Path) -> ProcessFunction {
    function(cfg, dir, RuntimeKind::from_scf_name("Go1").unwrap())
}

#[tokio::test]
async fn the_return_value_is_the_json_of_what_the_handler_returned() {
    let dir = go_or_skip!();
    let cfg = config("go-key", "main");
    let f = go_function(&cfg, dir);
    let (out, log) = call(&f, &cfg, json!({"op": "key", "key": "abctest"})).await;
    assert_eq!(out.unwrap(), json!("abctest"));
    assert!(
        log.contains("init: go function starting"),
        "the init log: {log}"
    );
    assert!(log.contains("event key is abctest"), "{log}");
    assert!(log.contains("Init Report RequestId: "), "{log}");
    let (out, warm) = call(&f, &cfg, json!({"op": "key", "key": "again"})).await;
    assert_eq!(out.unwrap(), json!("again"));
    assert!(!warm.contains("init: go function starting"), "{warm}");
}

#[tokio::test]
async fn a_returned_error_is_a_user_error_named_after_its_go_type() {
    let dir = go_or_skip!();
    let cfg = config("go-error", "main");
    let f = go_function(&cfg, dir);
    let err = call(&f, &cfg, json!({"op": "error", "username": "alice"}))
        .await
        .0
        .unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "UserNameAlreadyExistsError");
    assert_eq!(err.message(), "user name alice already exists");
    let scf = err.to_scf_json("r");
    assert_eq!(scf.error_message, "user code exception caught");
    assert_eq!(
        scf.stack_trace,
        "UserNameAlreadyExistsError: user name alice already exists"
    );
    // The instance stays: a returned error is not a crash.
    assert_eq!(
        call(&f, &cfg, json!({"op": "calls"})).await.0.unwrap(),
        json!(2)
    );
}

#[tokio::test]
async fn a_panic_is_a_user_error_with_its_stack_and_the_instance_is_replaced() {
    let dir = go_or_skip!();
    let cfg = config("go-panic", "main");
    let f = go_function(&cfg, dir);
    assert_eq!(
        call(&f, &cfg, json!({"op": "calls"})).await.0.unwrap(),
        json!(1)
    );
    let err = call(&f, &cfg, json!({"op": "panic"})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.message(), "assignment to entry in nil map");
    let trace = err.to_scf_json("r").stack_trace;
    assert!(trace.contains("main.handler\n\t"), "{trace}");
    assert!(trace.contains("main.go:"), "{trace}");
    assert!(
        trace.ends_with(": assignment to entry in nil map"),
        "{trace}"
    );
    assert_eq!(
        call(&f, &cfg, json!({"op": "calls"})).await.0.unwrap(),
        json!(1),
        "scf-go-lib asks to exit after a panic: a new instance serves the next invocation"
    );
}

#[tokio::test]
async fn a_handler_past_its_timeout_is_time_out_and_the_instance_replaced() {
    let dir = go_or_skip!();
    let mut cfg = config("go-sleep", "main");
    cfg.timeout = Duration::from_secs(1);
    let f = go_function(&cfg, dir);
    assert_eq!(
        call(&f, &cfg, json!({"op": "calls"})).await.0.unwrap(),
        json!(1)
    );
    let started = std::time::Instant::now();
    let (out, log) = call(&f, &cfg, json!({"op": "sleep"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 433);
    assert_eq!(err.message(), "time out");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ends at the deadline"
    );
    assert!(log.contains("going to sleep"), "{log}");
    assert_eq!(
        call(&f, &cfg, json!({"op": "calls"})).await.0.unwrap(),
        json!(1)
    );
}

#[tokio::test]
async fn the_request_carries_the_context_the_deadline_and_the_environment() {
    let dir = go_or_skip!();
    let mut cfg = config("go-ctx", "main");
    cfg.memory_mb = 256;
    cfg.environment.insert("GREETING".into(), "héllo".into());
    let f = go_function(&cfg, dir);
    let ctx = common::ctx(&cfg);
    let request_id = ctx.request_id.clone();
    let out = scf_handler::Handler::call(&f, json!({"op": "context"}), ctx)
        .await
        .unwrap();
    assert_eq!(out["request_id"], json!(request_id));
    assert_eq!(out["function_name"], json!("go-ctx"));
    assert_eq!(out["namespace"], json!("default"));
    assert_eq!(out["function_version"], json!("$LATEST"));
    assert_eq!(out["memory_limit_in_mb"], json!(256));
    assert_eq!(out["time_limit_in_ms"], json!(5000));
    assert_eq!(out["greeting"], json!("héllo"));
    assert_eq!(out["scf_namespace"], json!("default"));
    let left = out["deadline_in_ms"].as_i64().unwrap();
    assert!((1..=5000).contains(&left), "{left}");
    assert!(
        out["unique"]
            .as_str()
            .unwrap()
            .ends_with(":namespace/default/function/go-ctx"),
        "{out}"
    );
    if scf_process::Sandbox::detected().has_private_network() {
        // Reached through netns::connect, inside the instance's own namespace.
        assert_eq!(out["port"], json!("28902"));
    }
}

#[tokio::test]
async fn stdout_stderr_and_log_lines_land_in_the_invocation_log() {
    let dir = go_or_skip!();
    let cfg = config("go-log", "main");
    let f = go_function(&cfg, dir);
    let (out, log) = call(&f, &cfg, json!({"op": "log"})).await;
    assert_eq!(out.unwrap(), json!("ok"));
    for needle in ["stdout line", "stderr line", "log line"] {
        assert!(log.contains(needle), "{needle:?} in {log}");
    }
}

#[tokio::test]
async fn a_program_that_exits_mid_invocation_is_439_with_its_output() {
    let dir = go_or_skip!();
    let cfg = config("go-exit", "main");
    let f = go_function(&cfg, dir);
    let (out, log) = call(&f, &cfg, json!({"op": "exit"})).await;
    assert_eq!(out.unwrap_err().status().code(), 439);
    assert!(log.contains("exiting"), "{log}");
    assert_eq!(
        call(&f, &cfg, json!({"op": "calls"})).await.0.unwrap(),
        json!(1)
    );
}

#[tokio::test]
async fn without_a_sandbox_the_program_listens_on_a_free_host_port() {
    let dir = go_or_skip!();
    let cfg = config("go-plain", "main");
    let f = common::unsandboxed(&cfg, dir, RuntimeKind::from_scf_name("Go1").unwrap());
    let out = call(&f, &cfg, json!({"op": "key", "key": "plain"})).await.0;
    assert_eq!(out.unwrap(), json!("plain"));
}

#[test]
fn a_handler_that_names_no_executable_is_refused_with_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("go-missing", "main");
    let spec = ProcessSpec::new(cfg, dir.path(), RuntimeKind::Go);
    let err = ProcessFunction::new(spec).unwrap_err().to_string();
    assert!(err.contains("go build -o main"), "{err}");
}

#[tokio::test]
async fn the_instance_s_memory_is_the_invocation_s_mem_usage() {
    let dir = go_or_skip!();
    let cfg = config("go-mem", "main");
    let f = go_function(&cfg, dir);
    let ctx = common::ctx(&cfg);
    let log = scf_logs::LogBuffer::new(ctx.request_id.clone());
    let (out, mem) = f.invoke(json!({"op": "key", "key": "m"}), &ctx, &log).await;
    assert_eq!(out.unwrap(), json!("m"));
    // A Go program's resident memory: a few MB, far below the 128 MB limit.
    assert!((1 << 20..128 << 20).contains(&mem), "{mem}");
}
