//! The services mounted in an axum 0.8 application: the peer rule through axum's
//! `ConnectInfo` (feature `axum`), the mount prefix, and health and metrics as services
//! of their own.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::MockConnectInfo;
use axum::Router;
use http::Request;
use scf_http::apigw::{Route, Routes};
use scf_http::{ApiService, Credentials, GatewayService, HealthService, Metrics, MetricsService};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::common::{self, body_bytes, invoker};

const INVOKE: &[u8] = br#"{"FunctionName":"hello"}"#;

fn app(invoker: scf_invoker::Invoker) -> Router {
    let metrics = Arc::new(Metrics::new());
    let routes = Routes::new().with(Route::new("ANY", "/hello/{name}", "web").unwrap());
    Router::new()
        .nest_service(
            "/scf",
            ApiService::new(invoker.clone(), Credentials::new()).with_metrics(metrics.clone()),
        )
        .nest_service(
            "/api",
            GatewayService::new(invoker.clone(), routes).with_metrics(metrics.clone()),
        )
        .route_service("/health", HealthService::new(invoker.clone()))
        .route_service("/prom", MetricsService::new(metrics, invoker))
}

fn api_call() -> Request<axum::body::Body> {
    let mut request = common::api_request("Invoke", INVOKE);
    *request.uri_mut() = "/scf".parse().unwrap();
    request.map(axum::body::Body::from)
}

async fn json(response: http::Response<axum::body::Body>) -> Value {
    serde_json::from_slice(&body_bytes(response).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mounted_api_refuses_an_unsigned_call_from_a_remote_peer() {
    let peer: SocketAddr = "203.0.113.5:40000".parse().unwrap();
    let app = app(invoker()).layer(MockConnectInfo(peer));
    let body = json(app.oneshot(api_call()).await.unwrap()).await;
    assert_eq!(
        body["Response"]["Error"]["Code"], "AuthFailure.UnauthorizedOperation",
        "{body}"
    );
    assert!(body["Response"]["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("203.0.113.5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mounted_api_answers_a_loopback_peer_over_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app(invoker()).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let status = common::raw_post(addr, "/scf", INVOKE, "Invoke").await;
    assert!(status.contains(r#"\"hello\":{}"#), "{status}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mounted_api_without_connect_info_fails_closed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Served without `into_make_service_with_connect_info`: no peer is known.
    let server = tokio::spawn(async move { axum::serve(listener, app(invoker())).await });
    let body = common::raw_post(addr, "/scf", INVOKE, "Invoke").await;
    assert!(body.contains("AuthFailure.UnauthorizedOperation"), "{body}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_nested_under_a_prefix_keeps_it_in_the_event_path() {
    let peer: SocketAddr = "203.0.113.5:40000".parse().unwrap();
    let app = app(invoker()).layer(MockConnectInfo(peer));
    let request = Request::get("/api/hello/scf?x=1")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-api-requestid"));
    let body = json(response).await;
    // `web` echoes the event's path; the route `/hello/{name}` matched `/hello/scf` below the mount.
    assert_eq!(body["path"], "/api/hello/scf", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_are_services_of_their_own() {
    let app = app(invoker());
    let health = app
        .clone()
        .oneshot(
            Request::get("/health")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(json(health).await, serde_json::json!({"status": "ok"}));
    let _ = app
        .clone()
        .oneshot(
            Request::get("/api/x")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let metrics = app
        .oneshot(
            Request::get("/prom")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(body_bytes(metrics).await).unwrap();
    assert!(
        text.contains(r#"scf_http_requests_total{endpoint="gateway"} 1"#),
        "{text}"
    );
}
