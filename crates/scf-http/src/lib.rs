//! Tencent Cloud SCF over HTTP: the cloud API endpoint (`scf.tencentcloudapi.com`'s wire
//! protocol, so the official SDKs and `tccli` work against it unchanged) and the API
//! Gateway trigger, on top of an [`Invoker`], as `tower` services to
//! mount anywhere and as a ready-made hyper [`Server`].
//!
//! - **Cloud API** ([`ApiService`]; `X-TC-Action`, `X-TC-Version: 2018-04-16`): `Invoke`,
//!   `InvokeFunction`, `GetFunctionLogs`, `GetRequestStatus`, `GetAsyncEventStatus`,
//!   `ListAsyncEvents`, `TerminateAsyncEvent`, `ListFunctions`, `GetFunction`. Every
//!   answer is HTTP 200, `Content-Type: application/json`,
//!   `{"Response": {…, "RequestId": "…"}}`; errors carry the real codes ([`error`]).
//!   With credentials every request must be TC3-HMAC-SHA256-signed ([`auth`]); without,
//!   only requests from a loopback peer are answered, wherever the service runs
//!   ([`peer`]).
//! - **API Gateway trigger** ([`GatewayService`], [`apigw`]): routes matched as Tencent's
//!   API Gateway matches them (`=exact`, `^~prefix`, `{variables}`, plain paths by
//!   longest prefix; [`Routes::find`](apigw::Routes::find)) turn a request into SCF's API
//!   Gateway event and the function's integration response into the HTTP response.
//! - **Operations**: [`HealthService`] and [`MetricsService`] (Prometheus), to mount
//!   where wanted.
//! - **Server** ([`Server`]): HTTP/1.1 keep-alive and h2c, a header read timeout, a body
//!   read timeout, a connection cap and a per-peer cap, first-request and idle deadlines,
//!   a budget of body bytes held at once ([`Limits`]; docs/security.md lists them),
//!   graceful shutdown on SIGTERM / Ctrl-C or by
//!   [`ShutdownHandle`], `GET /healthz` and `GET /metrics`. Both endpoints can share one
//!   port or use two ([`Serves`]). [`ScfService`] is the whole it serves.
//!
//! Every service is a `tower::Service<http::Request<B>>` for any `http_body::Body` `B`
//! with `Error = Infallible`: `axum::Router::nest_service` mounts it, hyper serves it
//! through `hyper_util::service::TowerToHyperService`, any tower layer wraps it. How a
//! mount prefix is seen is documented on [`GatewayService`]; `examples/axum_gateway.rs`
//! is a whole app, and `docs/gateway.md` the guide with each use's dependency count.
//!
//! # Cargo features
//!
//! | feature | what it adds | needs |
//! |---|---|---|
//! | (none) | [`apigw`] routes, the event, the integration response; [`body`] limits and request ids; [`peer`] | `http`, `scf-event` |
//! | `gateway` | [`GatewayService`], [`apigw::invoke_outcome_response`], health and metrics | `scf-invoker`, `tokio` (`time`) |
//! | `api` | [`ApiService`] with TC3 auth, health and metrics | `scf-invoker`, `scf-store`, `hmac`, `sha2`, `time` |
//! | `server` (default) | [`Server`], [`ScfService`]; implies `api` and `gateway` | `hyper`, `hyper-util`, `tokio` (`net`, `rt`, `signal`, `sync`) |
//! | `axum` | the peer from axum's `ConnectInfo<SocketAddr>`, the mount prefix from its `OriginalUri` | `axum` (no default features) |
//!
//! # Gateway errors: what a client of a route gets
//!
//! | situation | HTTP status | body |
//! |---|---|---|
//! | no route matches | 404 | `{"errno":404,"error":"There is no api match for GET /x","method":"GET","path":"/x"}` |
//! | the return value is not a valid integration response | 403 | `{"errno":403,"error":"Invalid scf response format. please check your scf response format."}` |
//! | the function failed (error, panic, **timeout**) | 200 | the SCF error JSON, e.g. `{"errorCode":-1,"errorMessage":"time out","requestId":"…","stackTrace":"","statusCode":433}` |
//! | body over 6 MB | 413 | `{"errno":413,"error":"…"}` |
//! | the invoker refused (concurrency 429, unknown function 502, shutting down 503…) | see [`GatewayError::from_invoke_error`](apigw::GatewayError::from_invoke_error) | `{"errno":…,"error":"…"}` |
//!
//! Why a failed function is a 200 with the error JSON: SCF's documentation says that when
//! the API Gateway timeout is longer than the function's, a timed-out function reaches
//! the client as HTTP 200 whose body is SCF's timeout error; a 5xx comes only from the
//! gateway's own (shorter) timeout, which this gateway does not add. A function error is
//! reported the same way for one rule, and because the error JSON is the function's
//! result as SCF returns it (its `statusCode` is the function status, not an HTTP
//! status, so it is not read as an integration response). Clients that need a failure
//! status should return an integration response with one.
//!
//! Every gateway response carries `x-api-requestid` (the request id, also the event's
//! `requestContext.requestId` and `headers["x-api-requestid"]`) and, when the function
//! ran, `x-scf-requestid` (the invocation's `FunctionRequestId`, the id in its log's
//! `START RequestId:` line and in `GetFunctionLogs`).
//!
//! # Throughput
//!
//! `benches/gateway_load.rs` compares the gateway and `Invoke` with a bare hyper server.
//! With the invoker's default `Execution::Inline` a native async handler runs on the
//! connection's task; `Execution::Isolated` (for async code not trusted to yield) hops
//! to an isolation thread and back for every invocation, which costs more CPU than the
//! HTTP work itself.
//!
//! # Who depends on it
//!
//! Embedders that serve functions over HTTP (a local SCF, a custom gateway around native
//! handlers, an axum app that routes to functions, the CLI). It is the top of the stack:
//! scf-event → scf-context → scf-handler → scf-logs → scf-store → scf-invoker →
//! scf-http.
//!
//! Why each dependency is here (and behind which feature):
//! - always: `scf-event` (the API Gateway event and integration response types), `http`,
//!   `http-body`, `http-body-util`, `bytes` (requests, responses, bodies read within a
//!   limit), `serde_json` (the event), `base64` (binary gateway bodies), `thiserror`.
//! - `gateway`/`api`: `scf-invoker` runs the functions (and `scf-handler`, `scf-context`,
//!   `scf-store` are re-exported so that one dependency is enough); `tokio` (`time`
//!   only) times body reads; `tower-service` is the `Service` trait (no dependencies of
//!   its own); `tracing` the services' own diagnostics.
//! - `api`: `scf-logs` and `scf-store` (the log records, queries and async events the API
//!   serves), `hmac`, `sha2`, `hex`, `subtle` (TC3-HMAC-SHA256 and its constant-time
//!   comparison), `serde` and `time` (the API's JSON and date-times).
//! - `server`: `hyper`, `hyper-util` and tokio's `net`, `rt`, `signal`, `sync`: the
//!   listeners, connections, timers and signals.
//! - `axum`: reading axum's `ConnectInfo` and `OriginalUri` extensions.
//!
//! # Example
//!
//! ```
//! use scf_context::{Context, FunctionConfig};
//! use scf_handler::{handler_fn, FunctionError};
//! use scf_http::{apigw::Route, Server, ServerConfig};
//! use scf_invoker::{Invoker, InvokerConfig};
//! use serde_json::{json, Value};
//!
//! async fn hello(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
//!     let name = event["pathParameters"]["name"].as_str().unwrap_or("world").to_string();
//!     Ok(json!({"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": format!("hello {name}")}))
//! }
//!
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let invoker = Invoker::new(InvokerConfig::default())?;
//! invoker.add_function(FunctionConfig::new("hello"), handler_fn(hello))?;
//! let config = ServerConfig::new("127.0.0.1:0".parse()?)
//!     .with_route(Route::new("GET", "/hello/{name}", "hello")?);
//! let server = Server::new(config, invoker)?;
//!
//! // Without a socket, as tests do:
//! let request = http::Request::get("/hello/scf").body(String::new())?;
//! let response = server.service().oneshot(request).await;
//! assert_eq!(response.status(), 200);
//!
//! // On a socket: `server.bind().await?` listens; `.shutdown().await` stops it.
//! let running = server.bind().await?;
//! assert_ne!(running.local_addr().port(), 0);
//! running.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "api")]
pub mod api;
pub mod apigw;
#[cfg(feature = "api")]
pub mod auth;
pub mod body;
#[cfg(feature = "api")]
pub mod error;
mod limits;
#[cfg(any(feature = "api", feature = "gateway"))]
mod metrics;
pub mod peer;
#[cfg(feature = "server")]
mod server;
#[cfg(any(feature = "api", feature = "gateway"))]
mod service;

/// The `http` crate this one's types come from (`Request`, `Response`, `Method`...).
pub use http;
/// The handler's `Context` and a function's configuration (`scf-context`).
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_context as context;
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_context::{Context, FunctionConfig};
/// The trigger events and the integration response (`scf-event`).
pub use scf_event as event;
pub use scf_event::{ApiGatewayRequest, ApiGatewayResponse};
/// Handlers, their errors and status codes (`scf-handler`).
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_handler as handler;
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_handler::{blocking_fn, handler_fn, FunctionError, Handler};
/// The invoker: functions, invocations, their outcomes (`scf-invoker`).
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_invoker as invoker;
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_invoker::{
    EventPayload, Execution, InvokeError, InvokeRequest, InvokeResponse, Invoker, InvokerConfig,
};
/// The log and async-queue stores (`scf-store`: `MemoryStore`, the traits).
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_store as store;
#[cfg(any(feature = "api", feature = "gateway"))]
pub use scf_store::MemoryStore;

#[cfg(feature = "api")]
pub use auth::{Credentials, CredentialsError};
pub use body::{BodyError, OverBudget, FUNCTION_REQUEST_ID_HEADER, REQUEST_ID_HEADER};
#[cfg(feature = "api")]
pub use error::{ApiError, ErrorCode};
pub use limits::{Limits, MAX_API_BODY_BYTES, MAX_GATEWAY_BODY_BYTES};
#[cfg(any(feature = "api", feature = "gateway"))]
pub use metrics::{Metrics, DURATION_BUCKETS};
pub use peer::PeerAddr;
#[cfg(feature = "server")]
pub use server::{
    Listen, Mount, MountFn, RunningServer, Server, ServerConfig, ServerError, Serves,
    ShutdownHandle,
};
#[cfg(feature = "api")]
pub use service::ApiService;
#[cfg(feature = "gateway")]
pub use service::GatewayService;
#[cfg(feature = "server")]
pub use service::ScfService;
#[cfg(any(feature = "api", feature = "gateway"))]
pub use service::{HealthService, MetricsService, ResponseBody};

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
