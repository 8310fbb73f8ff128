//! The HTTP services, each a `tower::Service<http::Request<B>>` over any body type:
//! [`ApiService`] (the cloud API), [`GatewayService`] (the API Gateway routes),
//! [`HealthService`] and [`MetricsService`], and [`ScfService`], the whole that
//! [`Server`](crate::Server) serves (the API at `POST /` with `X-TC-Action`, the gateway
//! for the rest, `/healthz` and `/metrics`).

#[cfg(feature = "api")]
mod api;
#[cfg(feature = "gateway")]
mod gateway;
mod ops;
#[cfg(feature = "server")]
mod whole;

use bytes::Bytes;
use http_body_util::Full;

#[cfg(feature = "api")]
pub use api::ApiService;
#[cfg(feature = "gateway")]
pub use gateway::GatewayService;
pub use ops::{HealthService, MetricsService};
#[cfg(feature = "server")]
pub use whole::ScfService;

/// The response body type of every service.
pub type ResponseBody = Full<Bytes>;
