//! `GET /healthz` and the Prometheus `GET /metrics`.

use crate::common;

use common::{body_bytes, call, full, service};
use http::Request;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_ok() {
    let response = service()
        .oneshot(full(Request::get("/healthz").body(Vec::new()).unwrap()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(body_bytes(response).await, br#"{"status":"ok"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_when_shutting_down() {
    let s = service();
    s.invoker().shutdown(std::time::Duration::ZERO).await;
    let response = s
        .oneshot(full(Request::get("/healthz").body(Vec::new()).unwrap()))
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(body_bytes(response).await, br#"{"status":"shutting down"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_invocations_by_function_and_status() {
    let s = service();
    call(&s, "Invoke", json!({"FunctionName": "hello"})).await;
    call(&s, "Invoke", json!({"FunctionName": "hello"})).await;
    call(&s, "Invoke", json!({"FunctionName": "fails"})).await;
    call(&s, "Invoke", json!({"FunctionName": "nope"})).await;
    let response = s
        .oneshot(full(Request::get("/metrics").body(Vec::new()).unwrap()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(body_bytes(response).await).unwrap();
    for line in [
        "# TYPE scf_invocations_total counter",
        r#"scf_invocations_total{namespace="default",function="hello",status="200"} 2"#,
        r#"scf_invocations_total{namespace="default",function="fails",status="430"} 1"#,
        r#"scf_invocations_total{namespace="default",function="nope",status="435"} 1"#,
        "# TYPE scf_invocation_duration_seconds histogram",
        r#"scf_invocation_duration_seconds_bucket{namespace="default",function="hello",le="+Inf"} 2"#,
        r#"scf_invocation_duration_seconds_count{namespace="default",function="hello"} 2"#,
        "# TYPE scf_http_requests_in_flight gauge",
        "scf_http_requests_in_flight 0",
        "scf_invocations_in_flight 0",
        r#"scf_http_requests_total{endpoint="api"} 4"#,
        r#"scf_http_requests_total{endpoint="gateway"} 0"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(
        !text.contains(r#"function="nope",le="#),
        "a refusal has no duration"
    );
}
