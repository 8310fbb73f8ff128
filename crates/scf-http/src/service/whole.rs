//! [`ScfService`]: the API, the gateway and the operational endpoints behind one service,
//! as [`Server`](crate::Server) serves them.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, Request, Response};
use http_body::Body;

use scf_invoker::Invoker;

use super::{ApiService, GatewayService, HealthService, MetricsService, ResponseBody};
use crate::body::{
    new_request_id, read_body, set_id_header, BodyError, BoxError, REQUEST_ID_HEADER,
};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use crate::peer::PeerAddr;
use crate::server::{Mount, Serves};

/// The cloud API, the gateway routes, `/healthz` and `/metrics` in one service: what a
/// [`Server`](crate::Server) listener serves. As a `tower::Service` it serves both
/// endpoints (`POST /` with `X-TC-Action` is an API call, anything else a gateway
/// request); the peer comes from the request's extensions ([`peer`](crate::peer)).
/// Cheap to clone.
#[derive(Clone)]
pub struct ScfService {
    pub(crate) api: ApiService,
    pub(crate) gateway: GatewayService,
    pub(crate) health: HealthService,
    pub(crate) metrics: MetricsService,
    pub(crate) metrics_data: Arc<Metrics>,
    /// Whether the API and gateway listeners serve `/healthz` and `/metrics`.
    pub(crate) ops_endpoints: bool,
    /// Whether [`Serves::Ops`] listeners do (false: switched off).
    pub(crate) ops_listener: bool,
    /// Services mounted under path prefixes of the API's listeners.
    pub(crate) mounts: Arc<[Mount]>,
}

impl std::fmt::Debug for ScfService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScfService")
            .field("api", &self.api)
            .field("gateway", &self.gateway)
            .field("ops_endpoints", &self.ops_endpoints)
            .finish_non_exhaustive()
    }
}

impl ScfService {
    /// The invoker the service runs functions on.
    pub fn invoker(&self) -> &Invoker {
        self.api.invoker()
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics_data
    }

    /// The cloud API part.
    pub fn api(&self) -> &ApiService {
        &self.api
    }

    /// The gateway part.
    pub fn gateway(&self) -> &GatewayService {
        &self.gateway
    }

    /// Serves one request as a listener serving both endpoints would, from its
    /// [`PeerAddr`] when it has one, else from `127.0.0.1:0` (for tests, like axum's
    /// `oneshot`).
    pub async fn oneshot<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let peer = request
            .extensions()
            .get::<PeerAddr>()
            .map(|p| p.0)
            .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
        self.call(request, peer, Serves::Both).await
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
        B::Error: Into<BoxError>,
    {
        self.dispatch_from(request, serves, Some(peer)).await
    }

    async fn dispatch<B>(&self, request: Request<B>, serves: Serves) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        self.dispatch_from(request, serves, None).await
    }

    /// Routes a request; `peer`, when the caller knows it, is inserted as [`PeerAddr`]
    /// for the endpoints that read it from the extensions (the API, mounts), and handed
    /// to the gateway directly (inserting an extension costs a request three allocations).
    async fn dispatch_from<B>(
        &self,
        request: Request<B>,
        serves: Serves,
        peer: Option<SocketAddr>,
    ) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let path = request.uri().path();
        let is_get = request.method() == Method::GET || request.method() == Method::HEAD;
        if serves == Serves::Ops {
            let on = self.ops_listener && is_get;
            return match path {
                "/healthz" if on => self.health.response(),
                "/metrics" if on => self.metrics.response(),
                _ => {
                    let body = serde_json::json!({
                        "errno": 404,
                        "error": format!("This listener serves GET /healthz and GET /metrics only, not {} {path}", request.method()),
                    });
                    let mut response = Response::new(ResponseBody::from(body.to_string()));
                    *response.status_mut() = http::StatusCode::NOT_FOUND;
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    response
                }
            };
        }
        if self.ops_endpoints && is_get {
            if path == "/healthz" {
                return self.health.response();
            }
            if path == "/metrics" {
                return self.metrics.response();
            }
        }
        if serves.includes_api() {
            if let Some(mount) = self.mounts.iter().find(|m| m.matches(path)) {
                return self.mounted(with_peer(request, peer), mount).await;
            }
        }
        let is_api = match serves {
            Serves::Api => true,
            Serves::Gateway => false,
            _ => path == "/" && request.headers().contains_key("x-tc-action"),
        };
        if serves == Serves::Both
            && !is_api
            && path == "/"
            && request.method() == Method::POST
            && self.gateway.routes().find(&Method::POST, "/").is_none()
        {
            // Neither endpoint takes it: say what the cloud API misses rather than that no
            // gateway route matches.
            let request_id = new_request_id();
            let error = ApiError::new(
                ErrorCode::MissingParameter,
                "The request is missing the header `X-TC-Action` that names the cloud API action (e.g. `X-TC-Action: Invoke`), and no API Gateway route takes POST /.",
            );
            let mut response = error.to_response(&request_id);
            set_id_header(&mut response, REQUEST_ID_HEADER, &request_id);
            return response.map(ResponseBody::from);
        }
        if is_api {
            self.api.handle(with_peer(request, peer)).await
        } else {
            self.gateway.handle_from(request, peer).await
        }
    }
}

/// `request` with `peer` as its [`PeerAddr`], when there is one.
fn with_peer<B>(mut request: Request<B>, peer: Option<SocketAddr>) -> Request<B> {
    if let Some(peer) = peer {
        request.extensions_mut().insert(PeerAddr(peer));
    }
    request
}

impl ScfService {
    /// Reads the body whole (within the API's limit and read timeout) and hands the
    /// request to `mount`.
    async fn mounted<B>(&self, request: Request<B>, mount: &Mount) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let limits = self.api.limits();
        match read_body(body, limits.max_api_body_bytes, limits.body_read_timeout).await {
            Ok(bytes) => mount.call(Request::from_parts(parts, bytes)).await,
            Err(e) => {
                let status = match e {
                    BodyError::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
                    BodyError::Timeout => http::StatusCode::REQUEST_TIMEOUT,
                    _ => http::StatusCode::BAD_REQUEST,
                };
                let mut response = Response::new(ResponseBody::from(format!(
                    "the request body was not read: {e}\n"
                )));
                *response.status_mut() = status;
                response
            }
        }
    }
}

impl<B> tower_service::Service<Request<B>> for ScfService
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
        Box::pin(async move { Ok(this.dispatch(request, Serves::Both).await) })
    }
}
