//! An axum `Router` as an SCF function: a Custom Runtime bootstrap that serves API
//! Gateway events through the router, as `lambda_http` does on AWS.
//!
//! ```text
//! cargo build --release -p scf-http-handler --example axum_function
//! cargo run --release -p scf-cli -- serve -t examples/rust-axum/template.yaml
//! curl http://127.0.0.1:9000/axum/hello/scf
//! curl http://127.0.0.1:9000/axum/pixel.png -o pixel.png   # a binary body, Base64 on the wire
//! ```
//!
//! Deployed to SCF, this binary is the package's `bootstrap` (see docs/deploy-rust.md),
//! behind an API Gateway trigger.

use axum::extract::{Extension, Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use scf_context::Context;
use scf_http_handler::{service_handler, GatewayContext};
use serde_json::{json, Value};

/// The smallest PNG (1x1, transparent): a binary body, sent Base64-encoded.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

fn app() -> Router {
    Router::new()
        .route(
            "/axum/hello/{name}",
            get(|Path(name): Path<String>| async move { format!("hello, {name}") }),
        )
        .route(
            "/axum/echo",
            post(
                |Query(query): Query<Value>, Json(body): Json<Value>| async move {
                    Json(json!({"query": query, "body": body}))
                },
            ),
        )
        .route(
            "/axum/whoami",
            get(
                |Extension(ctx): Extension<Context>, Extension(gw): Extension<GatewayContext>| async move {
                    Json(json!({
                        "request_id": ctx.request_id,
                        "function": ctx.function_name,
                        "stage": gw.request_context.stage,
                    }))
                },
            ),
        )
        .route(
            "/axum/pixel.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], PIXEL).into_response() }),
        )
}

fn main() -> std::process::ExitCode {
    scf_runtime::start(service_handler(app()))
}
