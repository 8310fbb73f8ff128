//! The client against the real Custom Runtime API server (scf-process), with the test
//! binary itself as the bootstrap: results, errors, panics, events that do not fit.

use crate::common;

use std::time::Duration;

use scf_context::{Context, FunctionConfig};
use scf_handler::{FunctionStatus, Handler};
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec, RuntimeKind};
use serde_json::json;

/// The full name of [`child_entry`] in the test binary.
const CHILD_TEST: &str = "runtime_api::child_entry";

/// Not a test: the bootstrap of the functions below (the test binary re-executed as
/// `--exact CHILD_TEST --ignored`), which serves the registry and exits.
#[test]
#[ignore = "a helper process: the bootstrap that the runtime_api tests start"]
fn child_entry() {
    if std::env::var(common::CHILD_VAR).is_err() {
        panic!("{CHILD_TEST} is the bootstrap of the runtime_api tests, not a test: it runs only with {} set", common::CHILD_VAR);
    }
    std::process::exit(match scf_runtime::start_registry(common::registry()) {
        c if c == std::process::ExitCode::SUCCESS => 0,
        _ => 1,
    });
}

fn function(handler: &str, dir: &tempfile::TempDir) -> (ProcessFunction, FunctionConfig) {
    common::write_bootstrap(dir.path(), CHILD_TEST);
    let mut config = FunctionConfig::new("rust-fn");
    config.handler = handler.into();
    config.memory_mb = 256;
    config.timeout = Duration::from_secs(5);
    config
        .environment
        .insert(common::CHILD_VAR.into(), "1".into());
    let spec = ProcessSpec::new(config.clone(), dir.path(), RuntimeKind::Custom)
        .with_pool(PoolConfig::new(1, Duration::from_secs(60)));
    (ProcessFunction::new(spec).expect("valid spec"), config)
}

#[tokio::test]
async fn a_result_is_posted_and_the_context_comes_from_the_headers_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let (f, config) = function("index.echo", &dir);
    let ctx = Context::new(&config, "req-1");
    let out = f.call(json!({"key": "abctest"}), ctx).await.unwrap();
    assert_eq!(out["event"], json!({"key": "abctest"}));
    assert_eq!(out["request_id"], "req-1");
    assert_eq!(out["memory_limit_in_mb"], 256);
    assert_eq!(out["time_limit_in_ms"], 5000);
    assert_eq!(out["function_name"], "rust-fn");
    assert_eq!(out["namespace"], "default");
    // A second invocation reuses the same instance: init ready was posted once.
    let out = f
        .call(json!({"n": 2}), Context::new(&config, "req-2"))
        .await
        .unwrap();
    assert_eq!(out["request_id"], "req-2");
    assert_eq!(f.stats().started, 1);
}

#[tokio::test]
async fn a_returned_error_is_posted_as_the_scf_error_json() {
    let dir = tempfile::tempdir().unwrap();
    let (f, config) = function("index.fail", &dir);
    let err = f
        .call(json!({"user": "bob"}), Context::new(&config, "req-e"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), FunctionStatus::UserCodeException);
    let scf = err.to_scf_json("req-e");
    assert!(
        scf.stack_trace
            .contains("UserNameAlreadyExistsException: user bob exists"),
        "{scf:?}"
    );
}

#[tokio::test]
async fn a_panic_is_reported_and_the_loop_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (f, config) = function("index.panic", &dir);
    let err = f
        .call(json!({"panic": true}), Context::new(&config, "req-p"))
        .await
        .unwrap_err();
    assert!(
        err.to_scf_json("req-p")
            .stack_trace
            .contains("handler panicked on purpose"),
        "{err:?}"
    );
    let out = f
        .call(json!({"panic": false}), Context::new(&config, "req-q"))
        .await
        .unwrap();
    assert_eq!(out, json!("survived"));
    assert_eq!(f.stats().started, 1, "the same process served both");
}

#[tokio::test]
async fn an_event_that_does_not_fit_is_reported_and_the_loop_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (f, config) = function("index.typed", &dir);
    let err = f
        .call(json!({"key": 5}), Context::new(&config, "req-t"))
        .await
        .unwrap_err();
    assert!(
        err.to_scf_json("req-t").stack_trace.contains("at `key`"),
        "{err:?}"
    );
    let out = f
        .call(json!({"key": "ok"}), Context::new(&config, "req-u"))
        .await
        .unwrap();
    assert_eq!(out, json!("ok"));
}

#[tokio::test]
async fn an_unknown_handler_name_fails_each_invocation_with_437() {
    let dir = tempfile::tempdir().unwrap();
    let (f, config) = function("index.nope", &dir);
    let err = f
        .call(json!({}), Context::new(&config, "req-n"))
        .await
        .unwrap_err();
    let scf = err.to_scf_json("req-n");
    assert!(
        scf.error_message
            .contains("'module' object has no attribute 'nope'")
            || scf
                .stack_trace
                .contains("'module' object has no attribute 'nope'"),
        "{scf:?}"
    );
}
