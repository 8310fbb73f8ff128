//! What the gateway answers once a route's function was asked to run: the invoke
//! outcome (success, function failure, refusal) as one HTTP response.

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use serde_json::Value;

use scf_invoker::{EventPayload, InvokeError, InvokeRequest, InvokeResponse};

use super::{integration_response, GatewayError, Route};
use crate::body::{set_id_header, FUNCTION_REQUEST_ID_HEADER};

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

/// The synchronous invocation a matched route asks for: its function, namespace and
/// qualifier, with `event` (from [`build_event_json`](super::build_event_json)).
pub fn invoke_request(route: &Route, event: Value) -> InvokeRequest {
    let mut invoke = InvokeRequest::new(route.function_name.clone(), EventPayload::Value(event))
        .with_namespace(route.namespace.clone());
    if let Some(q) = &route.qualifier {
        invoke = invoke.with_qualifier(q.clone());
    }
    invoke
}

/// The HTTP response API Gateway sends for an invoke outcome:
///
/// - the function succeeded: its integration response ([`integration_response`]), or 403
///   [`INVALID_RESPONSE_BODY`](super::INVALID_RESPONSE_BODY) when the return value is not
///   one;
/// - the function failed (error, panic, timeout): 200 with SCF's error JSON;
/// - the invoker refused: [`GatewayError::from_invoke_error`].
///
/// A web function's route ([`Route::web`]) answers a failure with its status code as the
/// HTTP status (433 timeout, 405 the server exited, 410 body over 6 MB, 446 nothing on
/// port 9000, 434 memory, 500…) and SCF's error JSON, as SCF's web functions do.
///
/// When the function ran, the response carries `x-scf-requestid` (its
/// `FunctionRequestId`). The caller adds `x-api-requestid`
/// ([`set_id_header`](crate::body::set_id_header)).
pub fn invoke_outcome_response(
    outcome: Result<&InvokeResponse, &InvokeError>,
) -> Response<Full<Bytes>> {
    route_outcome_response(outcome, false)
}

/// [`invoke_outcome_response`] for a route to a web function when `web`.
pub fn route_outcome_response(
    outcome: Result<&InvokeResponse, &InvokeError>,
    web: bool,
) -> Response<Full<Bytes>> {
    let response = match outcome {
        Err(error) => return GatewayError::from_invoke_error(error).to_response(),
        Ok(response) => response,
    };
    let result = if response.is_success() {
        match response.return_value.as_ref() {
            Some(value) => integration_response(value),
            // The invoker returns the value with every success.
            None => Err(GatewayError::Internal(
                "a successful invocation without its return value".into(),
            )),
        }
    } else {
        let mut failed = GatewayError::FunctionFailed {
            body: response.ret_msg.clone(),
        }
        .to_response();
        if web {
            *failed.status_mut() = http::StatusCode::from_u16(response.status.code())
                .unwrap_or(http::StatusCode::BAD_GATEWAY);
        }
        Ok(failed)
    };
    let mut http_response = result.unwrap_or_else(|error| {
        if let GatewayError::InvalidResponse { detail } = &error {
            tracing::warn!(request_id = %response.request_id, %detail, "scf-http: the function's return value is not a valid integration response");
        }
        error.to_response()
    });
    set_id_header(
        &mut http_response,
        FUNCTION_REQUEST_ID_HEADER,
        &response.request_id,
    );
    http_response
}
