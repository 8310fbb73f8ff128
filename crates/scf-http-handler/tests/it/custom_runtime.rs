//! The router as a Custom Runtime: this test binary, re-executed as the bootstrap, runs
//! `scf_runtime::start(service_handler(router))` against scf-process's real Custom
//! Runtime API server, and the invoker invokes it with API Gateway events.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use scf_context::FunctionConfig;
use scf_event::ApiGatewayResponse;
use scf_http_handler::service_handler;
use scf_invoker::{InvokeRequest, Invoker, InvokerConfig, LogType};
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec, RuntimeKind};

const CHILD_TEST: &str = "custom_runtime::bootstrap";
const CHILD_VAR: &str = "HTTP_HANDLER_TEST_BOOTSTRAP";

/// Not a test: the bootstrap the test below starts.
#[test]
#[ignore = "a helper process: the bootstrap that the custom_runtime test starts"]
fn bootstrap() {
    if std::env::var(CHILD_VAR).is_err() {
        panic!("{CHILD_TEST} is the bootstrap of the custom_runtime test, not a test: it runs only with {CHILD_VAR} set");
    }
    let code = scf_runtime::start(service_handler(common::router()));
    std::process::exit(if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_served_by_scf_runtime_answers_api_gateway_events() {
    let dir = tempfile::tempdir().unwrap();
    // In the code directory, as a deployed function's binary is: a sandboxed instance sees
    // nothing of the host's file system beyond it (docs/security.md).
    let exe = dir.path().join("router-test-binary");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    let script = format!(
        "#!/bin/sh\nexec \"{}\" --exact {CHILD_TEST} --ignored --nocapture --test-threads=1\n",
        exe.display()
    );
    let bootstrap = dir.path().join("bootstrap");
    std::fs::write(&bootstrap, script).unwrap();
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut config = FunctionConfig::new("axum");
    config.timeout = Duration::from_secs(10);
    config.environment.insert(CHILD_VAR.into(), "1".into());
    let spec = ProcessSpec::new(config.clone(), dir.path(), RuntimeKind::Custom)
        .with_pool(PoolConfig::new(1, Duration::from_secs(60)));
    let invoker = Invoker::new(InvokerConfig::default()).unwrap();
    invoker
        .add_function(config, Arc::new(ProcessFunction::new(spec).unwrap()))
        .unwrap();

    for (event, status, body) in [
        (
            common::fixture("apigw_get_hello.json"),
            200,
            "hello, scf".to_owned(),
        ),
        (common::event("GET", "/nowhere"), 404, String::new()),
    ] {
        let response = invoker
            .invoke(InvokeRequest::new("axum", event).with_log_type(LogType::Tail))
            .await
            .unwrap();
        assert!(
            response.is_success(),
            "{} {}",
            response.ret_msg,
            response.log
        );
        let out = ApiGatewayResponse::from_value(&response.return_value.unwrap()).unwrap();
        assert_eq!(out.status_code, status);
        assert_eq!(out.body, body);
    }
    let response = invoker
        .invoke(InvokeRequest::new(
            "axum",
            common::event("GET", "/axum/pixel.png"),
        ))
        .await
        .unwrap();
    let out = ApiGatewayResponse::from_value(&response.return_value.unwrap()).unwrap();
    assert!(out.is_base64_encoded);
    assert_eq!(out.body_bytes().unwrap(), common::PIXEL);
}
