//! Run a Rust handler as an SCF Custom Runtime `bootstrap`, the way `lambda_runtime`
//! serves AWS Lambda.
//!
//! The same [`scf_handler::Handler`] values that run in process under `scf-invoker` run
//! here unchanged: a function is written once and runs embedded, under `scf serve`, or on
//! SCF. [`run`] (async) or [`start`] (blocking, for `main`) reads `SCF_RUNTIME_API`,
//! `SCF_RUNTIME_API_PORT` and `_HANDLER`, posts `/runtime/init/ready` once, then loops on
//! `GET /runtime/invocation/next` (no client timeout), builds the [`Context`] from the
//! `request_id`, `memory_limit_in_mb` and `time_limit_in_ms` headers and the SCF
//! variables, calls the handler, and posts the JSON result to
//! `/runtime/invocation/response` or SCF's error JSON to `/runtime/invocation/error`.
//! [`run_registry`] serves one of many handlers, picked by `_HANDLER`.
//!
//! It never panics on missing or malformed input: a missing variable at start is one
//! clear line on stderr and a non-zero exit ([`start`]); a malformed event and a handler
//! panic are reported through `/runtime/invocation/error` and the loop goes on.
//!
//! Each result goes out in the same write as the next long poll (HTTP/1.1 pipelining
//! on the one kept-alive connection), so an invocation costs the instance one round trip.
//! Under `scf serve`, which names a Unix socket of the instance's own in
//! `SCF_RUNTIME_SOCKET`, the runtime speaks length-prefixed frames there instead (one
//! write and one read per invocation, no HTTP on either side); without the variable, or
//! when the socket cannot be reached, it speaks the standard HTTP API.
//!
//! Dependencies, kept small so the bootstrap binary stays small: a hand-written HTTP/1.1
//! client over one kept-alive TCP connection (no TLS: the API is on loopback) with
//! `httparse` for response heads, tokio's current-thread runtime and TCP, `http`/`bytes`
//! for the header and body types, `futures-util` to catch a panicking handler future, `serde_json`,
//! `thiserror`, and our `scf-context`/`scf-handler`.
//!
//! ```no_run
//! use scf_context::Context;
//! use scf_handler::{handler_fn, FunctionError};
//! use serde_json::{json, Value};
//!
//! async fn main_handler(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
//!     Ok(json!({ "hello": event["key"] }))
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     scf_runtime::start(handler_fn(main_handler))
//! }
//! ```

mod client;
mod config;
mod frames;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::FutureExt;
use http::HeaderMap;
use scf_context::Context;
use scf_handler::{FunctionError, FunctionStatus, Handler, Registry, SharedHandler};
use serde_json::Value;

pub use client::ApiError;
pub use config::{ConfigError, RuntimeConfig};

/// Why the runtime stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The environment does not describe a Custom Runtime instance.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The Custom Runtime API could not be reached or misbehaved.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `handler` until the Custom Runtime API goes away.
pub async fn run(handler: impl Handler) -> Result<(), RuntimeError> {
    let config = RuntimeConfig::from_env()?;
    serve(config, Ok(std::sync::Arc::new(handler))).await
}

/// Serves the handler of `registry` named by `_HANDLER`. If there is none, each
/// invocation fails with status 437 and a message naming what is missing.
pub async fn run_registry(registry: Registry) -> Result<(), RuntimeError> {
    let config = RuntimeConfig::from_env()?;
    let handler = registry.resolve_str(&config.handler).map_err(|e| {
        eprintln!("scf-runtime: handler {:?}: {e}", config.handler);
        e.to_function_error()
    });
    serve(config, handler).await
}

/// Blocking form of [`run`] for `main`: prints one clear line on stderr and returns a
/// failure exit code when it cannot run.
pub fn start(handler: impl Handler) -> ExitCode {
    block(run(handler))
}

/// Blocking form of [`run_registry`].
pub fn start_registry(registry: Registry) -> ExitCode {
    block(run_registry(registry))
}

fn block(fut: impl std::future::Future<Output = Result<(), RuntimeError>>) -> ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RuntimeError::from)
        .and_then(|rt| rt.block_on(fut));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scf-runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serves with an explicit configuration (tests and embedders that do not use the
/// process environment).
pub async fn serve(
    config: RuntimeConfig,
    handler: Result<SharedHandler, FunctionError>,
) -> Result<(), RuntimeError> {
    let mut api = Api::connect(&config).await;
    let mut next = api.ready_then_next().await?;
    loop {
        let ctx = context_from(&config, &next);
        let request_id = ctx.request_id.clone();
        let outcome = match (&handler, serde_json::from_slice::<Value>(&next.body)) {
            (_, Err(e)) => Err(FunctionError::platform(
                FunctionStatus::InvalidParameterValue,
                format!("parse event error: {e}"),
            )),
            (Err(missing), Ok(_)) => Err(missing.clone()),
            (Ok(h), Ok(event)) => AssertUnwindSafe(h.call(event, ctx))
                .catch_unwind()
                .await
                .unwrap_or_else(|payload| Err(FunctionError::from_panic(payload.as_ref()))),
        };
        let (error, body) = match outcome {
            Ok(value) => (false, value.to_string()),
            Err(e) => (
                true,
                serde_json::to_string(&e.to_scf_json(&request_id)).unwrap_or_default(),
            ),
        };
        next = api.push_then_next(error, body.as_bytes()).await?;
    }
}

/// One invocation as fetched: what the context is made from, and the event.
#[derive(Debug)]
pub(crate) struct Next {
    pub(crate) request_id: String,
    pub(crate) memory_limit_in_mb: Option<u32>,
    pub(crate) time_limit_in_ms: Option<u64>,
    pub(crate) body: bytes::Bytes,
}

impl From<client::Reply> for Next {
    fn from(reply: client::Reply) -> Self {
        let headers = &reply.headers;
        Self {
            request_id: header(headers, "request_id").unwrap_or_default().to_owned(),
            memory_limit_in_mb: header(headers, "memory_limit_in_mb")
                .and_then(|v| v.trim().parse().ok()),
            time_limit_in_ms: header(headers, "time_limit_in_ms")
                .and_then(|v| v.trim().parse().ok()),
            body: reply.body,
        }
    }
}

/// The way to the host: the standard HTTP API, or the lean transport of `scf serve`.
enum Api {
    Http(client::Client),
    Frames(frames::FrameClient),
}

const SOCKET_PATH: &str = "SCF_RUNTIME_SOCKET";

fn socket_error(source: std::io::Error) -> ApiError {
    ApiError::Io {
        path: SOCKET_PATH.into(),
        source,
    }
}

impl Api {
    async fn connect(config: &RuntimeConfig) -> Self {
        if let Some(path) = &config.socket {
            if let Ok(frames) = frames::FrameClient::connect(path).await {
                return Self::Frames(frames);
            }
        }
        Self::Http(client::Client::new(&config.api_host, config.api_port))
    }

    /// Reports the init done and waits for the first event.
    async fn ready_then_next(&mut self) -> Result<Next, ApiError> {
        match self {
            Self::Http(api) => {
                api.send("POST", "/runtime/init/ready", Some(b" ")).await?;
                Ok(api.send("GET", client::NEXT, None).await?.into())
            }
            Self::Frames(api) => {
                api.ready().await.map_err(socket_error)?;
                api.next().await.map_err(socket_error)
            }
        }
    }

    /// Sends a result (`error`: an error body) and waits for the next event.
    async fn push_then_next(&mut self, error: bool, body: &[u8]) -> Result<Next, ApiError> {
        match self {
            Self::Http(api) => {
                let path = if error {
                    "/runtime/invocation/error"
                } else {
                    "/runtime/invocation/response"
                };
                Ok(api.push_then_next(path, body).await?.into())
            }
            Self::Frames(api) => api.push_then_next(error, body).await.map_err(socket_error),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    // HeaderMap look-ups are case-insensitive: `Request_Id` and `request_id` both match.
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn context_from(config: &RuntimeConfig, next: &Next) -> Context {
    let mut function = config.function.clone();
    if let Some(mb) = next.memory_limit_in_mb {
        function.memory_mb = mb;
    }
    if let Some(ms) = next.time_limit_in_ms {
        function.timeout = Duration::from_millis(ms);
    }
    Context::new(&function, &next.request_id)
}

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
