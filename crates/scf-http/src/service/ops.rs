//! [`HealthService`] and [`MetricsService`]: the operational endpoints, each a
//! `tower::Service` of its own to mount where the application wants them (they answer
//! every request they get, whatever its path).

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Request, Response, StatusCode};

use scf_invoker::Invoker;

use super::ResponseBody;
use crate::apigw::json_response;
use crate::metrics::Metrics;

/// `{"status":"ok"}` (200) while the invoker accepts invocations, `{"status":"shutting
/// down"}` (503) once it does not.
#[derive(Debug, Clone)]
pub struct HealthService {
    invoker: Invoker,
}

impl HealthService {
    /// The health of `invoker`.
    pub fn new(invoker: Invoker) -> Self {
        Self { invoker }
    }

    /// The answer.
    pub fn response(&self) -> Response<ResponseBody> {
        if self.invoker.is_accepting() {
            json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec()).map(ResponseBody::from)
        } else {
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                br#"{"status":"shutting down"}"#.to_vec(),
            )
            .map(ResponseBody::from)
        }
    }
}

/// Prometheus text exposition of [`Metrics`] and the invoker's in-flight count.
#[derive(Debug, Clone)]
pub struct MetricsService {
    metrics: Arc<Metrics>,
    invoker: Invoker,
}

impl MetricsService {
    /// Renders `metrics` (share them with the API and gateway services through their
    /// `with_metrics`) and `invoker`'s in-flight invocations.
    pub fn new(metrics: Arc<Metrics>, invoker: Invoker) -> Self {
        Self { metrics, invoker }
    }

    /// The answer.
    pub fn response(&self) -> Response<ResponseBody> {
        let mut text = self.metrics.render(self.invoker.in_flight());
        // The invoker's own counters: log records the store refused, concurrency fallbacks.
        text.push_str(&self.invoker.metrics_text());
        let mut response = Response::new(ResponseBody::from(text));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    }
}

macro_rules! answer_every_request {
    ($service:ty) => {
        impl<B> tower_service::Service<Request<B>> for $service {
            type Response = Response<ResponseBody>;
            type Error = Infallible;
            type Future = Ready<Result<Self::Response, Infallible>>;

            fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, _request: Request<B>) -> Self::Future {
                ready(Ok(self.response()))
            }
        }
    };
}

answer_every_request!(HealthService);
answer_every_request!(MetricsService);
