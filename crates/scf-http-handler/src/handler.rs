//! A tower HTTP service as a [`Handler`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use http_body::Body as HttpBody;
use scf_context::Context;
use scf_event::ApiGatewayRequest;
use scf_handler::{decode_event, FunctionError, Handler};
use serde_json::Value;
use tower_service::Service;

use crate::request::{into_request, Body};
use crate::response::into_integration_response;

/// A boxed error, what tower services commonly fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A tower service of `http` requests (an axum `Router`, a `tower::ServiceBuilder`
/// stack, a hyper service…) as a [`Handler`] behind API Gateway events; made by
/// [`service_handler`].
///
/// Each invocation decodes the event ([`into_request`](crate::into_request); the
/// invocation's [`Context`] and a [`GatewayContext`](crate::GatewayContext) are in the
/// request's extensions), calls a clone of the service once it is ready, reads the whole
/// response body and returns the integration response
/// ([`from_response`](crate::from_response)). An event that is not an API Gateway event
/// fails with `InvalidEvent`; a service that fails (not a response with an error status,
/// which is returned as it is) fails with `HttpServiceError`, a body that cannot be read
/// with `BodyError`, each a user error (430).
#[derive(Clone)]
pub struct ServiceHandler<S> {
    service: S,
}

impl<S> fmt::Debug for ServiceHandler<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceHandler")
            .field("service", &std::any::type_name::<S>())
            .finish()
    }
}

/// `service` as a [`Handler`] behind API Gateway events; see [`ServiceHandler`].
pub fn service_handler<S>(service: S) -> ServiceHandler<S> {
    ServiceHandler { service }
}

impl<S> ServiceHandler<S> {
    /// The service.
    pub fn service(&self) -> &S {
        &self.service
    }
}

type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send + 'a>>;

fn service_error(error: impl Into<BoxError>) -> FunctionError {
    let error: BoxError = error.into();
    let mut trace = Vec::new();
    let mut source = error.source();
    while let Some(e) = source {
        trace.push(format!("caused by: {e}"));
        source = e.source();
    }
    let failure = FunctionError::new("HttpServiceError", error.to_string());
    if trace.is_empty() {
        failure
    } else {
        failure.with_stack_trace(trace.join("\n"))
    }
}

impl<S, B> Handler for ServiceHandler<S>
where
    S: Service<http::Request<Body>, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn call<'a, 'b>(&'a self, event: Value, context: Context) -> CallFuture<'b>
    where
        'a: 'b,
    {
        let mut service = self.service.clone();
        Box::pin(async move {
            let event: ApiGatewayRequest = decode_event(event)?;
            let mut request = into_request(event)
                .map_err(|e| FunctionError::new("InvalidEvent", e.to_string()))?;
            request.extensions_mut().insert(context);
            std::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(service_error)?;
            let response = service.call(request).await.map_err(service_error)?;
            let response = into_integration_response(response)
                .await
                .map_err(|e| FunctionError::new("BodyError", e.to_string()))?;
            serde_json::to_value(response).map_err(|e| FunctionError::from_error(&e))
        })
    }
}
