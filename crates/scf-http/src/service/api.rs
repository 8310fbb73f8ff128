//! [`ApiService`]: the cloud API endpoint as a `tower::Service`: the peer rule, protocol
//! checks, the signature, then the action.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use http::{Request, Response};
use http_body::Body;
use time::OffsetDateTime;

use scf_invoker::Invoker;

use super::ResponseBody;
use crate::api::{self, protocol, ApiContext};
use crate::auth::{Credentials, Verifier};
use crate::body::{declared_length, new_request_id, read_body, set_id_header, BodyError};
use crate::body::{BoxError, REQUEST_ID_HEADER};
use crate::error::{ApiError, ErrorCode};
use crate::limits::Limits;
use crate::metrics::{Endpoint, Metrics};
use crate::peer::peer_addr;

/// How the API decides who may call it; made from [`Credentials`] and nothing else, so
/// that "unsigned requests from anywhere" cannot be configured.
#[derive(Debug, Clone)]
enum Access {
    /// Every request must be TC3-signed with one of the credentials.
    Signed(Verifier),
    /// No credentials: unsigned requests, from loopback peers only.
    LoopbackOnly,
}

struct ApiShared {
    invoker: Invoker,
    access: Access,
    limits: Limits,
    metrics: Arc<Metrics>,
    started: OffsetDateTime,
}

/// The Tencent Cloud API 3.0 endpoint (`X-TC-Action`, version `2018-04-16`) over an
/// [`Invoker`], as a `tower::Service<http::Request<B>>` for any body type: mount it in
/// axum (`Router::new().nest_service("/scf", api)`), serve it with hyper, or wrap it in
/// any tower stack. Every request it gets is an API call, whatever its path (the
/// signature covers `/` whatever the mount point). Cheap to clone.
///
/// **Who may call it.** With credentials, every request must carry a valid
/// TC3-HMAC-SHA256 signature. Without credentials ([`Credentials::new`]), a request is
/// answered only when its peer is a loopback address; any other peer, and a request whose
/// peer the host did not say ([`peer`](crate::peer)), gets `AuthFailure.UnauthorizedOperation`.
/// There is no switch to accept unsigned requests from the network.
#[derive(Clone)]
pub struct ApiService {
    shared: Arc<ApiShared>,
}

impl std::fmt::Debug for ApiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiService")
            .field("signed", &matches!(self.shared.access, Access::Signed(_)))
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl ApiService {
    /// The API over `invoker`, accepting requests signed with `credentials` (empty:
    /// unsigned requests from loopback peers only), with the default [`Limits`] and
    /// metrics of its own.
    pub fn new(invoker: Invoker, credentials: Credentials) -> Self {
        Self::build(invoker, credentials, Limits::default(), Arc::default())
    }

    pub(crate) fn build(
        invoker: Invoker,
        credentials: Credentials,
        limits: Limits,
        metrics: Arc<Metrics>,
    ) -> Self {
        let access = if credentials.is_empty() {
            Access::LoopbackOnly
        } else {
            Access::Signed(Verifier::new(credentials))
        };
        Self {
            shared: Arc::new(ApiShared {
                invoker,
                access,
                limits,
                metrics,
                started: OffsetDateTime::now_utc(),
            }),
        }
    }

    /// The same service with `limits` (the body limit and read timeout apply here); for
    /// chaining before it is cloned.
    pub fn with_limits(self, limits: Limits) -> Self {
        self.rebuild(|s| s.limits = limits)
    }

    /// The same service counting into `metrics` (shared with a
    /// [`MetricsService`](crate::MetricsService) or a gateway); for chaining.
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Self {
        self.rebuild(|s| s.metrics = metrics)
    }

    fn rebuild(self, change: impl FnOnce(&mut ApiShared)) -> Self {
        let s = &self.shared;
        let mut shared = ApiShared {
            invoker: s.invoker.clone(),
            access: s.access.clone(),
            limits: s.limits.clone(),
            metrics: s.metrics.clone(),
            started: s.started,
        };
        change(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The same service with the replay cache on or off (off by default): a signature
    /// accepted once is refused for the rest of its timestamp window. No effect without
    /// credentials. For chaining before it is cloned.
    pub fn with_replay_cache(self, on: bool) -> Self {
        self.rebuild(|s| {
            if let Access::Signed(v) = &s.access {
                s.access = Access::Signed(v.clone().with_replay_cache(on));
            }
        })
    }

    /// Whether requests must be signed (credentials were given).
    pub fn is_signed(&self) -> bool {
        matches!(self.shared.access, Access::Signed(_))
    }

    /// The invoker it runs functions on.
    pub fn invoker(&self) -> &Invoker {
        &self.shared.invoker
    }

    /// Its metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// Answers one request: always HTTP 200 with `{"Response": {…}}` and `x-api-requestid`.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let _in_flight = self.shared.metrics.start_request(Endpoint::Api);
        let request_id = new_request_id();
        let mut response = match self.answer(request).await {
            Ok(output) => crate::error::api_response(&output, &request_id),
            Err(error) => {
                tracing::debug!(request_id = %request_id, code = %error.code(), "scf-http: API error");
                error.to_response(&request_id)
            }
        };
        set_id_header(&mut response, REQUEST_ID_HEADER, &request_id);
        response.map(ResponseBody::from)
    }

    /// Its limits.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// Runs `action` with the JSON `body` for a caller the host has already let in (the
    /// console of `scf serve`, behind its own sign-in), without the peer rule or a
    /// signature; otherwise exactly as [`handle`](Self::handle): the same parameters,
    /// validation and `{"Response": {…}}` answer.
    pub async fn handle_authorized(&self, action: &str, body: &[u8]) -> Response<ResponseBody> {
        let _in_flight = self.shared.metrics.start_request(Endpoint::Api);
        let request_id = new_request_id();
        let ctx = ApiContext {
            invoker: &self.shared.invoker,
            metrics: &self.shared.metrics,
            started: self.shared.started,
        };
        let mut response = match api::dispatch(ctx, action, body).await {
            Ok(output) => crate::error::api_response(&output, &request_id),
            Err(error) => error.to_response(&request_id),
        };
        set_id_header(&mut response, REQUEST_ID_HEADER, &request_id);
        response.map(ResponseBody::from)
    }

    async fn answer<B>(
        &self,
        request: Request<B>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ApiError>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        if let Access::LoopbackOnly = self.shared.access {
            check_loopback_peer(&parts.extensions)?;
        }
        protocol::check_method_and_type(&parts)?;
        // Who signed it, as far as the headers tell, before any body is read: an unsigned
        // or wrongly keyed request costs no body in memory.
        if let Access::Signed(verifier) = &self.shared.access {
            verifier.check_headers(&parts.headers, now_unix())?;
        }
        let limit = self.shared.limits.max_api_body_bytes;
        if declared_length(&parts.headers).is_some_and(|n| n > limit) {
            return Err(ApiError::body_too_large(limit));
        }
        let body = match read_body(body, limit, self.shared.limits.body_read_timeout).await {
            Ok(b) => b,
            Err(BodyError::TooLarge { .. }) => return Err(ApiError::body_too_large(limit)),
            Err(BodyError::Timeout) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    "The request body was not received in time.",
                ))
            }
            Err(e @ BodyError::OverBudget { .. }) => {
                return Err(ApiError::new(
                    ErrorCode::RequestLimitExceeded,
                    format!("The request body was not read: {e}."),
                ))
            }
            Err(BodyError::Failed(e)) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("The request body could not be read: {e}."),
                ))
            }
        };
        if let Access::Signed(verifier) = &self.shared.access {
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
        let action = protocol::action(&parts)?;
        let ctx = ApiContext {
            invoker: &self.shared.invoker,
            metrics: &self.shared.metrics,
            started: self.shared.started,
        };
        api::dispatch(ctx, &action, &body).await
    }
}

/// The peer rule of an API without credentials: loopback peers only, and no peer known
/// is no peer allowed.
fn check_loopback_peer(extensions: &http::Extensions) -> Result<(), ApiError> {
    match peer_addr(extensions) {
        Some(peer) if peer.ip().to_canonical().is_loopback() => Ok(()),
        Some(peer) => Err(ApiError::new(
            ErrorCode::UnauthorizedPeer,
            format!(
                "No credentials are configured, so this endpoint answers unsigned requests from loopback peers only, and {peer} is not one. Configure credentials (SecretId/SecretKey) to accept signed requests from the network."
            ),
        )),
        None => Err(ApiError::new(
            ErrorCode::UnauthorizedPeer,
            "No credentials are configured, so this endpoint answers unsigned requests from loopback peers only, and the host did not say who sent this one. Insert scf_http::PeerAddr into the request's extensions (or, with the `axum` feature, serve with into_make_service_with_connect_info::<SocketAddr>()), or configure credentials.",
        )),
    }
}

impl<B> tower_service::Service<Request<B>> for ApiService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(request).await) })
    }
}
