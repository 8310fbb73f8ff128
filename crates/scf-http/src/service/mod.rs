//! The HTTP service without a socket: one request in, one response out.
//!
//! [`ScfService`] routes a request to the cloud API (`POST /` with `X-TC-Action`,
//! [`api`]), to the API Gateway routes ([`gateway`]), or to `/healthz` and `/metrics`.
//! The server feeds it requests from connections; tests call [`ScfService::oneshot`]
//! directly.

mod api;
mod body;
mod gateway;

pub(crate) use body::{declared_length, new_request_id, read_body, with_request_id, BodyError};

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Body;
use time::OffsetDateTime;

use scf_invoker::Invoker;

use crate::apigw::Routes;
use crate::auth::Verifier;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::server::Serves;

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
        let text = self.shared.metrics.render(self.shared.invoker.in_flight());
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    }
}
