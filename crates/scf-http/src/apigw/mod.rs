//! The API Gateway trigger: routes, the event a request becomes, and the HTTP response a
//! function's integration response becomes.
//!
//! Everything here is pure (no socket, no invoker), so it is tested request by request.
//! Gateway-level failures and their HTTP shape live in one place, [`GatewayError`].

mod event;
mod live;
#[cfg(feature = "gateway")]
mod outcome;
mod route;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

use scf_event::ApiGatewayResponse;

pub use crate::body::{FUNCTION_REQUEST_ID_HEADER, REQUEST_ID_HEADER};
#[cfg(feature = "gateway")]
pub(crate) use event::build_event_from;
pub use event::{build_event, build_event_json, parse_query, EventSource};
pub use live::LiveRoutes;
#[cfg(feature = "gateway")]
pub use outcome::{invoke_outcome_response, invoke_request, route_outcome_response};
pub use route::{
    PathKind, PathTemplate, Route, RouteError, RouteMatch, RouteMethod, Routes, DEFAULT_STAGE,
};

/// The body API Gateway answers with when a function's return value is not a valid
/// integration response.
pub const INVALID_RESPONSE_BODY: &str = r#"{"errno":403,"error":"Invalid scf response format. please check your scf response format."}"#;

/// Why the gateway answers itself instead of with the function's response.
///
/// Each variant has one HTTP status and one body; see [`GatewayError::status`] and
/// [`GatewayError::to_response`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// No route matches: 404 `{"errno":404,"error":…,"method":…,"path":…}`.
    #[error("There is no api match for {method} {path}")]
    NoRoute {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The function's return value is not a valid integration response: 403 with
    /// [`INVALID_RESPONSE_BODY`]. `detail` (which field is wrong) goes to the log only.
    #[error("Invalid scf response format: {detail}")]
    InvalidResponse {
        /// What is wrong, for the log.
        detail: String,
    },
    /// The request body is over the limit: 413.
    #[error("Request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The function failed (error or timeout): 200 with the SCF error JSON as the body, as
    /// SCF's gateway answers when its timeout is longer than the function's.
    #[error("The function failed: {body}")]
    FunctionFailed {
        /// The SCF error JSON (`{"errorCode":-1,"errorMessage":…,"statusCode":…}`).
        body: String,
    },
    /// The invoker refused to run the function (unknown function, concurrency, event too
    /// large…): `status` with `{"errno":status,"error":message}`.
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Why.
        message: String,
    },
    /// The request could not be read or the server failed: 500.
    #[error("Internal error: {0}")]
    Internal(String),
}

impl GatewayError {
    /// The HTTP status the gateway answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoRoute { .. } => StatusCode::NOT_FOUND,
            Self::InvalidResponse { .. } => StatusCode::FORBIDDEN,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::FunctionFailed { .. } => StatusCode::OK,
            Self::Refused { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response body.
    pub fn body(&self) -> String {
        let status = self.status().as_u16();
        match self {
            Self::NoRoute { method, path } => json!({
                "errno": status,
                "error": self.to_string(),
                "method": method,
                "path": path,
            })
            .to_string(),
            Self::InvalidResponse { .. } => INVALID_RESPONSE_BODY.to_string(),
            Self::FunctionFailed { body } => body.clone(),
            Self::BodyTooLarge { .. } | Self::Refused { .. } | Self::Internal(_) => {
                json!({"errno": status, "error": self.to_string()}).to_string()
            }
        }
    }

    /// The HTTP response: [`status`](Self::status), `application/json`,
    /// [`body`](Self::body).
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        json_response(self.status(), self.body().into_bytes())
    }
}

/// Turns a function's return value into the HTTP response API Gateway would send.
///
/// The value must be a valid integration response ([`ApiGatewayResponse::from_value`]),
/// its body valid Base64 when `isBase64Encoded`, and its header names and values valid in
/// HTTP; otherwise [`GatewayError::InvalidResponse`]. A header whose value is an array is
/// sent once per element.
pub fn integration_response(value: &Value) -> Result<Response<Full<Bytes>>, GatewayError> {
    let parsed =
        ApiGatewayResponse::from_value(value).map_err(|e| GatewayError::InvalidResponse {
            detail: e.to_string(),
        })?;
    http_response(&parsed)
}

/// A typed integration response as an `http::Response` (what [`integration_response`]
/// does once the value is parsed): its status, its headers (an array value is sent once
/// per element), and its body, Base64-decoded when `isBase64Encoded`.
///
/// ```
/// use scf_event::ApiGatewayResponse;
/// let typed = ApiGatewayResponse::new(201, "made").with_header("Location", "/orders/7");
/// let response = scf_http::apigw::http_response(&typed).unwrap();
/// assert_eq!(response.status(), 201);
/// assert_eq!(response.headers()["location"], "/orders/7");
/// ```
pub fn http_response(parsed: &ApiGatewayResponse) -> Result<Response<Full<Bytes>>, GatewayError> {
    let invalid = |detail: String| GatewayError::InvalidResponse { detail };
    let body = parsed.body_bytes().map_err(|e| invalid(e.to_string()))?;
    let status = StatusCode::from_u16(parsed.status_code).map_err(|_| {
        invalid(format!(
            "statusCode {} is not an HTTP status",
            parsed.status_code
        ))
    })?;
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    for (name, value) in parsed.headers.iter() {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("header name {name:?} is not valid in HTTP")))?;
        for v in value.values() {
            let hv = HeaderValue::from_str(v).map_err(|_| {
                invalid(format!(
                    "header {name:?} has a value that is not valid in HTTP: {v:?}"
                ))
            })?;
            response.headers_mut().append(header.clone(), hv);
        }
    }
    Ok(response)
}

/// A response with `status`, `Content-Type: application/json` and `body`.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
