//! The HTTP services, each a `tower::Service<http::Request<B>>` over any body type:
//! [`ApiService`] (the cloud API), [`GatewayService`] (the API Gateway routes),
//! [`HealthService`] and [`MetricsService`], and [`ScfService`], the whole that
//! [`Server`](crate::Server) serves (the API at `POST /` with `X-TC-Action`, the gateway
//! for the rest, `/healthz` and `/metrics`).

#[cfg(feature = "api")]
mod api;
mod body;
#[cfg(feature = "gateway")]
mod gateway;
mod ops;
#[cfg(feature = "gateway")]
mod stream;
#[cfg(feature = "server")]
mod whole;

#[cfg(feature = "api")]
pub use api::ApiService;
pub use body::ResponseBody;
#[cfg(feature = "gateway")]
pub use gateway::GatewayService;
pub use ops::{HealthService, MetricsService};
#[cfg(feature = "server")]
pub use whole::ScfService;
