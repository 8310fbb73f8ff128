//! The router the tests serve (the same routes as `examples/axum_function.rs`), and the
//! fixtures.
#![allow(dead_code, unreachable_pub)]

use axum::extract::{Extension, Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use scf_context::Context;
use scf_http_handler::GatewayContext;
use serde_json::{json, Value};

/// The bytes `/axum/pixel.png` answers with (not UTF-8).
pub const PIXEL: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00];

pub fn router() -> Router {
    Router::new()
        .route(
            "/axum/hello/{name}",
            get(|Path(name): Path<String>| async move {
                tracing::info!("saying hello to {name}");
                format!("hello, {name}")
            }),
        )
        .route(
            "/axum/echo",
            post(
                |Query(query): Query<Value>, headers: axum::http::HeaderMap, Json(body): Json<Value>| async move {
                    Json(json!({
                        "query": query,
                        "body": body,
                        "x-custom": headers.get("x-custom").and_then(|v| v.to_str().ok()),
                    }))
                },
            ),
        )
        .route(
            "/axum/query",
            get(|uri: axum::http::Uri| async move { uri.query().unwrap_or_default().to_owned() }),
        )
        .route(
            "/axum/whoami",
            get(
                |Extension(ctx): Extension<Context>, Extension(gw): Extension<GatewayContext>| async move {
                    Json(json!({
                        "request_id": ctx.request_id,
                        "function": ctx.function_name,
                        "stage": gw.request_context.stage,
                        "source_ip": gw.request_context.source_ip,
                        "name": gw.path_parameters.get("name"),
                    }))
                },
            ),
        )
        .route(
            "/axum/pixel.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], PIXEL).into_response() }),
        )
        .route(
            "/axum/cookies",
            get(|| async {
                (
                    axum::response::AppendHeaders([(header::SET_COOKIE, "a=1"), (header::SET_COOKIE, "b=2")]),
                    "two cookies",
                )
            }),
        )
}

/// A fixture file parsed as JSON.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// An API Gateway event for `method path` with no query, headers or body.
pub fn event(method: &str, path: &str) -> Value {
    json!({
        "requestContext": {"path": path, "httpMethod": method, "sourceIp": "10.0.0.1", "stage": "release"},
        "headers": {},
        "pathParameters": {},
        "queryStringParameters": {},
        "headerParameters": {},
        "path": path,
        "queryString": {},
        "httpMethod": method,
    })
}
