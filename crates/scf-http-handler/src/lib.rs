//! Run an axum `Router`, or any `tower_service::Service` of `http` requests, as a Tencent
//! Cloud SCF function behind API Gateway events, as `lambda_http` does for AWS Lambda:
//! each event becomes an `http::Request`, the service's `http::Response` becomes the
//! integration response the gateway answers with. The handler runs wherever a
//! [`Handler`](scf_handler::Handler) runs: as a Custom Runtime with `scf-runtime`
//! (`scf_runtime::start(service_handler(router))`, see `examples/axum_function.rs`),
//! under `scf serve` (`examples/rust-axum`), or embedded in an `scf_invoker::Invoker`.
//!
//! ```
//! use axum::{extract::Path, routing::get, Router};
//! use scf_handler::Handler;
//! use scf_http_handler::service_handler;
//! use serde_json::json;
//!
//! let router = Router::new().route(
//!     "/hello/{name}",
//!     get(|Path(name): Path<String>| async move { format!("hello, {name}") }),
//! );
//! let handler = service_handler(router);
//!
//! let event = json!({"httpMethod": "GET", "path": "/hello/scf", "headers": {}});
//! let config = scf_context::FunctionConfig::new("hello");
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let response = rt.block_on(handler.call(event, scf_context::Context::new(&config, "req-1")));
//! let response = response.unwrap();
//! assert_eq!(response["statusCode"], 200);
//! assert_eq!(response["body"], "hello, scf");
//! ```
//!
//! # What is in it
//!
//! - [`service_handler`]: a tower service as a [`Handler`](scf_handler::Handler)
//!   ([`ServiceHandler`]), for `scf_runtime::start`, `scf_invoker::Invoker::add_function`
//!   or a `Registry`.
//! - The two conversions it is made of, public for a handler of your own:
//!   [`into_request`] (event → `http::Request`, with [`query_string`] and a
//!   [`GatewayContext`]) and [`from_response`] / [`into_integration_response`]
//!   (`http::Response` → [`ApiGatewayResponse`](scf_event::ApiGatewayResponse), binary
//!   bodies as Base64 with `isBase64Encoded`, see [`is_text`]).
//!
//! # Where it sits
//!
//! In the core, beside `scf-handler`: no async runtime (no tokio, no hyper), so a function
//! binary pays only for `http`, `http-body`, `http-body-util` and `tower-service` on top of
//! the handler crates, and the service brings whatever runtime it uses.
//!
//! Why each dependency is here:
//!
//! - `scf-event` (its `apigw` feature only): the event and the integration response.
//! - `scf-context`, `scf-handler`: the `Context` and the `Handler` trait.
//! - `http`, `http-body`, `http-body-util`, `bytes`: the request and response types, and
//!   reading a response body of any type whole.
//! - `tower-service`: the `Service` trait an axum `Router` implements.
//! - `base64`: binary response bodies. `serde_json`: the return value.
//!   `thiserror`: the error types.

mod handler;
mod request;
mod response;

pub use handler::{service_handler, BoxError, ServiceHandler};
pub use request::{into_request, query_string, Body, EventError, GatewayContext};
pub use response::{from_response, into_integration_response, is_text, BodyError};

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
