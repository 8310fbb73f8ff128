//! The HTTP service without a socket: one request in, one response out.
//!
//! [`ScfService`] routes a request to the cloud API (`POST /` with `X-TC-Action`), to the
//! API Gateway routes, or to `/healthz` and `/metrics`. The server feeds it requests
//! from connections; tests call [`ScfService::oneshot`] directly.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use time::OffsetDateTime;

use scf_invoker::{EventPayload, InvokeError, InvokeRequest, Invoker};

use crate::api::{self, ApiContext, API_VERSION};
use crate::apigw::{self, EventSource, GatewayError, Routes, REQUEST_ID_HEADER};
use crate::auth::Verifier;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::{Endpoint, Metrics};
use crate::server::{Limits, Serves};

/// The response header that carries the function's own request id (`FunctionRequestId`,
/// the id in its log's `START RequestId:` line) on gateway responses.
pub const FUNCTION_REQUEST_ID_HEADER: &str = "x-scf-requestid";

/// The response body type.
pub type ResponseBody = Full<Bytes>;

pub(crate) struct Shared {
    pub(crate) invoker: Invoker,
    pub(crate) verifier: Option<Verifier>,
    pub(crate) routes: Routes,
    pub(crate) limits: Limits,
    pub(crate) metrics: Metrics,
    pub(crate) service_id: String,
    pub(crate) ops_endpoints: bool,
    pub(crate) started: OffsetDateTime,
}

/// The socket-less HTTP service: the cloud API, the gateway routes, `/healthz` and
/// `/metrics`. Cheap to clone.
#[derive(Clone)]
pub struct ScfService {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for ScfService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScfService")
            .field("routes", &self.shared.routes)
            .field("authenticated", &self.shared.verifier.is_some())
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

enum BodyError {
    TooLarge,
    Timeout,
    Failed(String),
}

async fn read_body<B>(body: B, limit: u64, timeout: Duration) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if body.size_hint().lower() > limit {
        return Err(BodyError::TooLarge);
    }
    if body.is_end_stream() {
        // No body (a GET): nothing to wait for, so no timer either.
        return Ok(Bytes::new());
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let collected = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
    match collected {
        Err(_) => Err(BodyError::Timeout),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(BodyError::TooLarge)
            } else {
                Err(BodyError::Failed(e.to_string()))
            }
        }
    }
}

fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn with_request_id(mut response: Response<ResponseBody>, id: &str) -> Response<ResponseBody> {
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

/// A fresh uuid v4 request id. Request ids need to be unique, not secret, so they come
/// from a per-thread splitmix64 sequence seeded once from the OS generator rather than
/// from a system call per request.
fn new_request_id() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    fn next(state: &Cell<u64>) -> u64 {
        let mut z = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let (hi, lo) = STATE.with(|s| (next(s), next(s)));
    let bytes = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
    let mut buf = uuid::Uuid::encode_buffer();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .encode_lower(&mut buf)
        .to_owned()
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl ScfService {
    /// The invoker the service runs functions on.
    pub fn invoker(&self) -> &Invoker {
        &self.shared.invoker
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Serves one request as a listener serving both endpoints would, from peer
    /// `127.0.0.1:0` (for tests, like axum's `oneshot`).
    pub async fn oneshot<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.call(
            request,
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            Serves::Both,
        )
        .await
    }

    /// Serves one request from `peer` on a listener that serves `serves`.
    pub async fn call<B>(
        &self,
        request: Request<B>,
        peer: SocketAddr,
        serves: Serves,
    ) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path();
        if self.shared.ops_endpoints
            && (request.method() == Method::GET || request.method() == Method::HEAD)
        {
            if path == "/healthz" {
                return self.healthz();
            }
            if path == "/metrics" {
                return self.render_metrics();
            }
        }
        let is_api = match serves {
            Serves::Api => true,
            Serves::Gateway => false,
            _ => path == "/" && request.headers().contains_key("x-tc-action"),
        };
        if is_api {
            self.api(request).await
        } else {
            self.gateway(request, peer).await
        }
    }

    /// Infallible form of [`call`](Self::call), for `hyper::service::service_fn`.
    pub(crate) async fn serve<B>(
        self,
        request: Request<B>,
        peer: SocketAddr,
        serves: Serves,
    ) -> Result<Response<ResponseBody>, Infallible>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Ok(self.call(request, peer, serves).await)
    }

    fn healthz(&self) -> Response<ResponseBody> {
        let status = if self.shared.invoker.is_accepting() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let body = if status.is_success() {
            r#"{"status":"ok"}"#
        } else {
            r#"{"status":"shutting down"}"#
        };
        crate::error::json_response(status, body.as_bytes().to_vec())
    }

    fn render_metrics(&self) -> Response<ResponseBody> {
        let mut text = self.shared.metrics.render(self.shared.invoker.in_flight());
        // The invoker's own counters: log records the store refused, concurrency fallbacks.
        text.push_str(&self.shared.invoker.metrics_text());
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    }

    // ---- cloud API ----

    async fn api<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let _in_flight = self.shared.metrics.start_request(Endpoint::Api);
        let request_id = new_request_id();
        let response = match self.api_inner(request).await {
            Ok(output) => crate::error::api_response(&output, &request_id),
            Err(error) => {
                tracing::debug!(request_id = %request_id, code = %error.code(), "scf-http: API error");
                error.to_response(&request_id)
            }
        };
        with_request_id(response, &request_id)
    }

    async fn api_inner<B>(
        &self,
        request: Request<B>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        if parts.method != Method::POST {
            return Err(ApiError::new(
                ErrorCode::UnsupportedProtocol,
                format!(
                    "The HTTP method {} is not supported: this endpoint takes POST with Content-Type application/json, signed with TC3-HMAC-SHA256.",
                    parts.method
                ),
            ));
        }
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::new(
                ErrorCode::UnsupportedProtocol,
                format!(
                    "The Content-Type {content_type:?} is not supported: this endpoint takes application/json (signature v3, TC3-HMAC-SHA256)."
                ),
            ));
        }
        let limit = self.shared.limits.max_api_body_bytes;
        if declared_length(&parts.headers).is_some_and(|n| n > limit) {
            return Err(ApiError::body_too_large(limit));
        }
        let body = match read_body(body, limit, self.shared.limits.body_read_timeout).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return Err(ApiError::body_too_large(limit)),
            Err(BodyError::Timeout) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    "The request body was not received in time.",
                ))
            }
            Err(BodyError::Failed(e)) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("The request body could not be read: {e}."),
                ))
            }
        };
        if let Some(verifier) = &self.shared.verifier {
            let query = parts.uri.query().unwrap_or("");
            let authority = parts.uri.authority().map(|a| a.as_str());
            verifier.verify(
                &parts.method,
                query,
                authority,
                &parts.headers,
                &body,
                now_unix(),
            )?;
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let version =
            header("x-tc-version").ok_or_else(|| ApiError::missing_parameter("X-TC-Version"))?;
        if version != API_VERSION {
            return Err(ApiError::no_such_version(&version));
        }
        let action =
            header("x-tc-action").ok_or_else(|| ApiError::missing_parameter("X-TC-Action"))?;
        let ctx = ApiContext {
            invoker: &self.shared.invoker,
            metrics: &self.shared.metrics,
            started: self.shared.started,
        };
        api::dispatch(ctx, &action, &body).await
    }

    // ---- API Gateway ----

    async fn gateway<B>(&self, request: Request<B>, peer: SocketAddr) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let _in_flight = self.shared.metrics.start_request(Endpoint::Gateway);
        let request_id = new_request_id();
        let response = match self.gateway_inner(request, peer, &request_id).await {
            Ok(response) => response,
            Err(error) => {
                if let GatewayError::InvalidResponse { detail } = &error {
                    tracing::warn!(request_id = %request_id, %detail, "scf-http: the function's return value is not a valid integration response");
                }
                error.to_response()
            }
        };
        with_request_id(response, &request_id)
    }

    async fn gateway_inner<B>(
        &self,
        request: Request<B>,
        peer: SocketAddr,
        request_id: &str,
    ) -> Result<Response<ResponseBody>, GatewayError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let Some(matched) = self.shared.routes.find(&parts.method, parts.uri.path()) else {
            return Err(GatewayError::NoRoute {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
            });
        };
        let limit = self.shared.limits.max_gateway_body_bytes;
        if declared_length(&parts.headers).is_some_and(|n| n > limit) {
            return Err(GatewayError::BodyTooLarge { limit });
        }
        let body = match read_body(body, limit, self.shared.limits.body_read_timeout).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return Err(GatewayError::BodyTooLarge { limit }),
            Err(BodyError::Timeout) => {
                return Err(GatewayError::Refused {
                    status: 408,
                    message: "The request body was not received in time".into(),
                })
            }
            Err(BodyError::Failed(e)) => {
                return Err(GatewayError::Refused {
                    status: 400,
                    message: format!("The request body could not be read: {e}"),
                })
            }
        };
        let source_ip = peer.ip().to_canonical();
        let event = apigw::build_event_json(
            &matched,
            EventSource::new(
                &parts,
                &body,
                source_ip,
                request_id,
                &self.shared.service_id,
            ),
        );
        let route = matched.route;
        let mut invoke =
            InvokeRequest::new(route.function_name.clone(), EventPayload::Value(event))
                .with_namespace(route.namespace.clone());
        if let Some(q) = &route.qualifier {
            invoke = invoke.with_qualifier(q.clone());
        }
        let metrics = &self.shared.metrics;
        match self.shared.invoker.invoke(invoke).await {
            Err(error) => {
                metrics.record_invocation(
                    &route.namespace,
                    &route.function_name,
                    error.status().code(),
                    None,
                );
                Err(GatewayError::from_invoke_error(&error))
            }
            Ok(response) => {
                metrics.record_invocation(
                    &route.namespace,
                    &route.function_name,
                    response.status.code(),
                    Some(response.duration_ms),
                );
                let mut http_response = if response.is_success() {
                    // The invoker returns the value with every success.
                    let value = response.return_value.as_ref().ok_or_else(|| {
                        GatewayError::Internal(
                            "a successful invocation without its return value".into(),
                        )
                    })?;
                    apigw::integration_response(value)?
                } else {
                    GatewayError::FunctionFailed {
                        body: response.ret_msg.clone(),
                    }
                    .to_response()
                };
                if let Ok(v) = HeaderValue::from_str(&response.request_id) {
                    http_response
                        .headers_mut()
                        .insert(FUNCTION_REQUEST_ID_HEADER, v);
                }
                Ok(http_response)
            }
        }
    }
}

impl GatewayError {
    /// The gateway's answer when the invoker refuses to run a route's function.
    ///
    /// | refusal (function status) | HTTP status |
    /// |---|---|
    /// | event too large (406) | 413 |
    /// | concurrency limit, queue full (432) | 429 |
    /// | event not JSON (400) | 400 |
    /// | unknown function or qualifier (435, 442) | 502: the route points at nothing |
    /// | shutting down (402) | 503 |
    /// | anything else | 500 |
    pub fn from_invoke_error(error: &InvokeError) -> Self {
        let status = match error {
            InvokeError::RequestTooLarge { .. } => 413,
            InvokeError::ConcurrencyLimit { .. } | InvokeError::QueueFull { .. } => 429,
            InvokeError::InvalidEvent { .. } => 400,
            InvokeError::FunctionNotFound { .. } | InvokeError::QualifierNotFound { .. } => 502,
            InvokeError::ShuttingDown => 503,
            _ => 500,
        };
        GatewayError::Refused {
            status,
            message: error.to_string(),
        }
    }
}
