//! The API Gateway endpoint: route, body, event, invocation, response.

use std::net::SocketAddr;

use http::header::HeaderValue;
use http::{Request, Response};
use hyper::body::Body;

use scf_invoker::{EventPayload, InvokeError, InvokeRequest};

use super::{declared_length, new_request_id, read_body, with_request_id, BodyError};
use super::{ResponseBody, ScfService, FUNCTION_REQUEST_ID_HEADER};
use crate::apigw::{self, EventSource, GatewayError};
use crate::metrics::Endpoint;

impl ScfService {
    pub(super) async fn gateway<B>(
        &self,
        request: Request<B>,
        peer: SocketAddr,
    ) -> Response<ResponseBody>
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
