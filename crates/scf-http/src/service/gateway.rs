//! [`GatewayService`]: the API Gateway endpoint as a `tower::Service`: route, body,
//! event, invocation, response.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;

use scf_invoker::Invoker;

use super::stream::{self, First, WebStream};
use super::ResponseBody;
use crate::apigw::{self, EventSource, GatewayError, LiveRoutes, Routes};
use crate::body::{declared_length, new_request_id, read_body, set_owned_id_header, BodyError};
use crate::body::{BoxError, REQUEST_ID_HEADER};
use crate::limits::Limits;
use crate::metrics::{Endpoint, Metrics};
use crate::peer::{original_path, peer_addr};

#[derive(Clone)]
struct GatewayShared {
    invoker: Invoker,
    routes: LiveRoutes,
    limits: Limits,
    metrics: Arc<Metrics>,
    service_id: String,
    strip_prefix: Option<String>,
}

/// API Gateway routes in front of an [`Invoker`], as a `tower::Service<http::Request<B>>`
/// for any body type: each request is matched against the [`Routes`], becomes SCF's API
/// Gateway event, runs the route's function, and its integration response becomes the
/// HTTP response ([`invoke_outcome_response`](apigw::invoke_outcome_response)). Cheap to
/// clone.
///
/// # Mounted under a prefix
///
/// Routes are written as the API's paths, without the mount point, as on Tencent's
/// gateway (where the service's domain and the stage come before them):
///
/// - **Route matching** sees the path below the mount: what axum's `nest_service("/api",
///   …)` passes on, or, for a host that passes the whole path (hyper, a tower stack), the
///   path after [`strip_prefix`](Self::strip_prefix) (a path outside the prefix is a 404).
/// - **The event's `path`** is the path the client asked for, mount prefix included
///   (`/api/hello/scf` for route `/hello/{name}` mounted at `/api`), so that a function
///   can build its own links. The prefix comes from `strip_prefix`, or, with the `axum`
///   feature, from axum's `OriginalUri`; without either the event's `path` is the path
///   the service saw. `requestContext.path` is the route's path as written.
/// - The 404 of an unmatched request names the path as the service saw it.
///
/// `requestContext.sourceIp` is the request's peer ([`peer`](crate::peer)), `0.0.0.0`
/// when the host did not say.
#[derive(Clone)]
pub struct GatewayService {
    shared: Arc<GatewayShared>,
}

impl std::fmt::Debug for GatewayService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayService")
            .field("routes", &self.shared.routes)
            .field("strip_prefix", &self.shared.strip_prefix)
            .finish_non_exhaustive()
    }
}

impl GatewayService {
    /// The gateway of `routes` over `invoker`, with the default [`Limits`], service id
    /// `service-local` and metrics of its own.
    pub fn new(invoker: Invoker, routes: Routes) -> Self {
        Self {
            shared: Arc::new(GatewayShared {
                invoker,
                routes: LiveRoutes::new(routes),
                limits: Limits::default(),
                metrics: Arc::default(),
                service_id: "service-local".into(),
                strip_prefix: None,
            }),
        }
    }

    fn change(self, f: impl FnOnce(&mut GatewayShared)) -> Self {
        let mut shared = GatewayShared::clone(&self.shared);
        f(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The same gateway with `limits` (body limit and read timeout); for chaining.
    pub fn with_limits(self, limits: Limits) -> Self {
        self.change(|s| s.limits = limits)
    }

    /// The same gateway counting into `metrics`; for chaining.
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Self {
        self.change(|s| s.metrics = metrics)
    }

    /// The same gateway with `requestContext.serviceId` = `id`; for chaining.
    pub fn with_service_id(self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.change(|s| s.service_id = id)
    }

    /// The same gateway for a host that passes the whole path: requests must be under
    /// `prefix` (`/api`: `/api` and `/api/…`, not `/apix`), routes match what follows it,
    /// and the event's `path` keeps it. A trailing `/` of `prefix` is ignored; for
    /// chaining.
    pub fn strip_prefix(self, prefix: &str) -> Self {
        let trimmed = prefix.trim_end_matches('/');
        let prefix = if trimmed.starts_with('/') {
            trimmed.to_string()
        } else {
            format!("/{trimmed}")
        };
        self.change(|s| s.strip_prefix = (prefix != "/").then_some(prefix))
    }

    /// The same gateway matching against `routes`, a table that can be replaced while
    /// it serves; for chaining.
    pub fn with_live_routes(self, routes: LiveRoutes) -> Self {
        self.change(|s| s.routes = routes)
    }

    /// The routes now.
    pub fn routes(&self) -> Arc<Routes> {
        self.shared.routes.get()
    }

    /// The invoker it runs functions on.
    pub fn invoker(&self) -> &Invoker {
        &self.shared.invoker
    }

    /// Its metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// Answers one request; every answer carries `x-api-requestid`.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        self.handle_from(request, None).await
    }

    /// [`handle`](Self::handle) of a request from `peer` (the server knows it; else the
    /// request's extensions say, see [`peer`](crate::peer)).
    pub(crate) async fn handle_from<B>(
        &self,
        request: Request<B>,
        peer: Option<SocketAddr>,
    ) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let _in_flight = self.shared.metrics.start_request(Endpoint::Gateway);
        let request_id = new_request_id();
        let mut response = match self.answer(request, &request_id, peer).await {
            Ok(response) => response,
            Err(error) => error.to_response().map(ResponseBody::from),
        };
        set_owned_id_header(&mut response, REQUEST_ID_HEADER, request_id);
        response
    }

    /// The path routes match and the mount prefix the event's `path` gets back.
    fn split_path<'p>(&self, seen: &'p str, original: Option<&str>) -> Option<(&'p str, String)> {
        if let Some(prefix) = &self.shared.strip_prefix {
            let rest = seen.strip_prefix(prefix.as_str())?;
            return match rest {
                "" => Some(("/", prefix.clone())),
                r if r.starts_with('/') => Some((r, prefix.clone())),
                _ => None,
            };
        }
        let mount = original
            .and_then(|o| o.strip_suffix(seen).or_else(|| (seen == "/").then_some(o)))
            .map(|m| m.trim_end_matches('/'))
            .unwrap_or("");
        Some((seen, mount.to_string()))
    }

    async fn answer<B>(
        &self,
        request: Request<B>,
        request_id: &str,
        peer: Option<SocketAddr>,
    ) -> Result<Response<ResponseBody>, GatewayError>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let no_route = || GatewayError::NoRoute {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
        };
        let (path, mount) = self
            .split_path(parts.uri.path(), original_path(&parts.extensions))
            .ok_or_else(no_route)?;
        let routes = self.shared.routes.get();
        let mut matched = routes.find(&parts.method, path).ok_or_else(no_route)?;
        if !mount.is_empty() {
            let full = original_path(&parts.extensions).unwrap_or(parts.uri.path());
            matched.path = if matched.path == "/" && !full.ends_with('/') {
                mount // `/api` itself, as the client wrote it
            } else {
                format!("{mount}{}", matched.path)
            };
        }
        let limit = self.shared.limits.max_gateway_body_bytes;
        if declared_length(&parts.headers).is_some_and(|n| n > limit) {
            return Err(GatewayError::BodyTooLarge { limit });
        }
        let body = match read_body(body, limit, self.shared.limits.body_read_timeout).await {
            Ok(b) => b,
            Err(BodyError::TooLarge { .. }) => return Err(GatewayError::BodyTooLarge { limit }),
            Err(BodyError::Timeout) => {
                return Err(GatewayError::Refused {
                    status: 408,
                    message: "The request body was not received in time".into(),
                })
            }
            Err(e @ BodyError::OverBudget { .. }) => {
                return Err(GatewayError::Refused {
                    status: 503,
                    message: format!("The request body was not read: {e}"),
                })
            }
            Err(BodyError::Failed(e)) => {
                return Err(GatewayError::Refused {
                    status: 400,
                    message: format!("The request body could not be read: {e}"),
                })
            }
        };
        let source_ip = peer
            .or_else(|| peer_addr(&parts.extensions))
            .map(|p| p.ip().to_canonical())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let route = matched.route;
        let event = apigw::build_event_from(
            matched,
            EventSource::new(
                &parts,
                &body,
                source_ip,
                request_id,
                &self.shared.service_id,
            ),
        );
        if route.web {
            return Ok(self.answer_web(route, event).await);
        }
        let outcome = self
            .shared
            .invoker
            .invoke(apigw::invoke_request(route, event))
            .await;
        record(&self.shared.metrics, route, &outcome);
        Ok(apigw::route_outcome_response(outcome.as_ref(), false).map(ResponseBody::from))
    }

    /// A web function's answer, streamed: the head as soon as its server sent it, the
    /// body as it comes (see [`stream`](super::stream)); or, when the invocation ended
    /// first (a failure before the server answered), that outcome.
    async fn answer_web(
        &self,
        route: &apigw::Route,
        event: serde_json::Value,
    ) -> Response<ResponseBody> {
        let stream = Arc::new(WebStream::default());
        let request = apigw::invoke_request(route, event).with_stream(stream.hook());
        let invoker = self.shared.invoker.clone();
        let metrics = self.shared.metrics.clone();
        let route_owned = route.clone();
        let invocation = Box::pin(async move {
            let outcome = invoker.invoke(request).await;
            record(&metrics, &route_owned, &outcome);
            outcome
        });
        match stream::first(stream, invocation).await {
            First::Head(response) => response,
            First::Done(outcome) => {
                apigw::route_outcome_response(outcome.as_ref(), true).map(ResponseBody::from)
            }
        }
    }
}

/// Counts an invocation of `route` in `metrics`.
fn record(
    metrics: &Metrics,
    route: &apigw::Route,
    outcome: &Result<scf_invoker::InvokeResponse, scf_invoker::InvokeError>,
) {
    let (status, duration) = match outcome {
        Ok(r) => (r.status.code(), Some(r.duration_ms)),
        Err(e) => (e.status().code(), None),
    };
    metrics.record_invocation(&route.namespace, &route.function_name, status, duration);
}

impl<B> tower_service::Service<Request<B>> for GatewayService
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
