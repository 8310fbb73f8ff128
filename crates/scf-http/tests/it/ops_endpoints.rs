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

/// `GET path` on a fresh connection to `addr`: the status.
async fn get_status(addr: std::net::SocketAddr, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ops_listener_takes_healthz_and_metrics_off_the_other_listeners() {
    use scf_http::{Server, ServerConfig, Serves};
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_signals(false)
        .with_listener("127.0.0.1:0".parse().unwrap(), Serves::Ops);
    let server = Server::new(config, common::invoker())
        .unwrap()
        .bind()
        .await
        .unwrap();
    let [main, ops] = server.local_addrs()[..] else {
        panic!()
    };
    assert_eq!(get_status(ops, "/healthz").await, 200);
    assert_eq!(get_status(ops, "/metrics").await, 200);
    assert_eq!(get_status(ops, "/hello").await, 404);
    // The main listener: no route matches them any more.
    assert_eq!(get_status(main, "/healthz").await, 404);
    assert_eq!(get_status(main, "/metrics").await, 404);
    server.shutdown().await;

    // Switched off: not even on the ops listener.
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_signals(false)
        .with_listener("127.0.0.1:0".parse().unwrap(), Serves::Ops);
    config.ops_endpoints = false;
    let server = Server::new(config, common::invoker())
        .unwrap()
        .bind()
        .await
        .unwrap();
    assert_eq!(get_status(server.local_addrs()[1], "/metrics").await, 404);
    server.shutdown().await;
}
