//! Cloud API errors: every code this endpoint answers with, its message, and the one
//! HTTP shape all answers share.
//!
//! Every answer of the API endpoint, success or error, is HTTP 200 with
//! `Content-Type: application/json` (exactly: the Python SDK reads `Response.Error` only
//! for that value) and a body `{"Response": {…, "RequestId": "…"}}`; an error puts
//! `{"Error": {"Code", "Message"}}` in the `Response` object.

use std::fmt;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use scf_handler::FunctionStatus;
use scf_invoker::InvokeError;

use crate::auth::AuthError;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal; )*) => {
        /// An API error code, spelled as Tencent Cloud spells it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in `Response.Error.Code`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
        }
    };
}

error_codes! {
    /// `Authorization` is absent or malformed.
    InvalidAuthorization = "AuthFailure.InvalidAuthorization";
    /// The SecretId is unknown.
    SecretIdNotFound = "AuthFailure.SecretIdNotFound";
    /// The timestamp is more than 5 minutes off, or the scope date is wrong.
    SignatureExpire = "AuthFailure.SignatureExpire";
    /// The signature does not match.
    SignatureFailure = "AuthFailure.SignatureFailure";
    /// The async event is not in a state that allows the operation (already finished).
    AsyncEventStatus = "FailedOperation.AsyncEventStatus";
    /// The function is not in a state that can run.
    FunctionStatusError = "FailedOperation.FunctionStatusError";
    /// The server failed.
    InternalError = "InternalError";
    /// A system the server depends on failed: the store that holds the async queue
    /// cannot be written, so an async event was not accepted.
    InternalErrorSystem = "InternalError.System";
    /// No such action.
    InvalidAction = "InvalidAction";
    /// The body is not a JSON object of the action's parameters, or a parameter has the wrong type.
    InvalidParameter = "InvalidParameter";
    /// The request or the event is over its size limit.
    RequestTooLarge = "InvalidParameter.RequestTooLarge";
    /// A parameter value is not allowed (an enum value, a range).
    InvalidParameterValue = "InvalidParameterValue";
    /// The event is not JSON.
    InvalidParameterValueParam = "InvalidParameterValue.Param";
    /// `Offset + Limit` is over 10000.
    LimitExceededOffset = "LimitExceeded.Offset";
    /// The function's concurrency quota is used up.
    LimitExceededQuota = "LimitExceeded.Quota";
    /// A required parameter is missing.
    MissingParameter = "MissingParameter";
    /// No such version of the API.
    NoSuchVersion = "NoSuchVersion";
    /// Too many requests.
    RequestLimitExceeded = "RequestLimitExceeded";
    /// Not enough resources to run the function.
    ResourceInsufficient = "ResourceInsufficient";
    /// No such async event.
    AsyncEventNotFound = "ResourceNotFound.AsyncEvent";
    /// No such function.
    FunctionNotFound = "ResourceNotFound.Function";
    /// No such namespace.
    NamespaceNotFound = "ResourceNotFound.Namespace";
    /// No such version or alias.
    QualifierNotFound = "ResourceNotFound.Qualifier";
    /// The function or account cannot run now (suspended).
    ResourceUnavailable = "ResourceUnavailable";
    /// The caller may not invoke the function.
    UnauthorizedOperation = "UnauthorizedOperation.CAM";
    /// A parameter the action does not have.
    UnknownParameter = "UnknownParameter";
    /// Wrong HTTP method or content type for API 3.0.
    UnsupportedProtocol = "UnsupportedProtocol";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API error: a code and a message that says what was wrong and what would be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `MissingParameter` for parameter `name`.
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            ErrorCode::MissingParameter,
            format!("The request is missing a required parameter `{name}`."),
        )
    }

    /// `UnknownParameter` for parameter `name` of `action`.
    pub fn unknown_parameter(action: &str, name: &str) -> Self {
        Self::new(
            ErrorCode::UnknownParameter,
            format!("The parameter `{name}` is not recognized by action `{action}`."),
        )
    }

    /// `InvalidParameter` for a parameter of the wrong JSON type.
    pub fn wrong_type(name: &str, expected: &str) -> Self {
        Self::new(
            ErrorCode::InvalidParameter,
            format!("The parameter `{name}` must be {expected}."),
        )
    }

    /// `InvalidParameterValue` for a value outside the allowed ones.
    pub fn invalid_value(name: &str, value: &str, allowed: &str) -> Self {
        Self::new(
            ErrorCode::InvalidParameterValue,
            format!("The value `{value}` of parameter `{name}` is invalid: {allowed}."),
        )
    }

    /// `InvalidAction`.
    pub fn invalid_action(action: &str) -> Self {
        Self::new(
            ErrorCode::InvalidAction,
            format!(
                "The action `{action}` does not exist. Supported: {}.",
                crate::api::ACTIONS.join(", ")
            ),
        )
    }

    /// `NoSuchVersion`.
    pub fn no_such_version(version: &str) -> Self {
        Self::new(
            ErrorCode::NoSuchVersion,
            format!(
                "The API version `{version}` does not exist for service scf; use `{}`.",
                crate::api::API_VERSION
            ),
        )
    }

    /// `ResourceNotFound.Function`.
    pub fn function_not_found(name: &str) -> Self {
        Self::new(
            ErrorCode::FunctionNotFound,
            format!("Function {name} does not exist."),
        )
    }

    /// `ResourceNotFound.Namespace`.
    pub fn namespace_not_found(namespace: &str) -> Self {
        Self::new(
            ErrorCode::NamespaceNotFound,
            format!("Namespace {namespace} does not exist."),
        )
    }

    /// `ResourceNotFound.Qualifier`.
    pub fn qualifier_not_found(function: &str, qualifier: &str) -> Self {
        Self::new(
            ErrorCode::QualifierNotFound,
            format!("Version {qualifier} of function {function} does not exist."),
        )
    }

    /// `ResourceNotFound.AsyncEvent`.
    pub fn async_event_not_found(invoke_request_id: &str) -> Self {
        Self::new(
            ErrorCode::AsyncEventNotFound,
            format!("The async event {invoke_request_id} does not exist."),
        )
    }

    /// The API error for an invocation the invoker refused before running it.
    ///
    /// | refusal (function status) | code |
    /// |---|---|
    /// | unknown function (435) | `ResourceNotFound.Function`, or `ResourceNotFound.Namespace` when `namespace_exists` is false |
    /// | unknown qualifier (442) | `ResourceNotFound.Qualifier` |
    /// | event too large (406) | `InvalidParameter.RequestTooLarge` |
    /// | event not JSON (400) | `InvalidParameterValue.Param` |
    /// | concurrency limit (432) | `LimitExceeded.Quota` |
    /// | async queue full (432) | `RequestLimitExceeded` |
    /// | shutting down (402) | `ResourceUnavailable` |
    /// | async queue cannot be written (500) | `InternalError.System` |
    /// | internal failure (500) | `InternalError` |
    pub fn from_invoke_error(error: &InvokeError, namespace_exists: bool) -> Self {
        let code = match error {
            InvokeError::FunctionNotFound { namespace, name } => {
                return if namespace_exists {
                    Self::function_not_found(name)
                } else {
                    Self::namespace_not_found(namespace)
                };
            }
            InvokeError::QualifierNotFound {
                name, qualifier, ..
            } => return Self::qualifier_not_found(name, qualifier),
            InvokeError::RequestTooLarge { .. } => ErrorCode::RequestTooLarge,
            InvokeError::InvalidEvent { .. } => ErrorCode::InvalidParameterValueParam,
            InvokeError::ConcurrencyLimit { .. } => ErrorCode::LimitExceededQuota,
            InvokeError::QueueFull { .. } => ErrorCode::RequestLimitExceeded,
            InvokeError::ShuttingDown => ErrorCode::ResourceUnavailable,
            InvokeError::Store(_) => ErrorCode::InternalErrorSystem,
            _ => match error.status() {
                FunctionStatus::FunctionNotFound => ErrorCode::FunctionNotFound,
                FunctionStatus::QualifierNotFound => ErrorCode::QualifierNotFound,
                FunctionStatus::RequestTooLarge => ErrorCode::RequestTooLarge,
                FunctionStatus::InvalidParameterValue => ErrorCode::InvalidParameterValueParam,
                FunctionStatus::InvalidInvokeParameter => ErrorCode::InvalidParameterValue,
                FunctionStatus::ResourceLimitReached => ErrorCode::LimitExceededQuota,
                FunctionStatus::ResourceLimit => ErrorCode::RequestLimitExceeded,
                FunctionStatus::InvalidCredentials => ErrorCode::UnauthorizedOperation,
                FunctionStatus::ServiceSuspended => ErrorCode::ResourceUnavailable,
                FunctionStatus::FunctionStatusError => ErrorCode::FunctionStatusError,
                FunctionStatus::InsufficientResources => ErrorCode::ResourceInsufficient,
                _ => ErrorCode::InternalError,
            },
        };
        Self::new(code, sentence(&error.to_string()))
    }

    /// `InvalidParameter.RequestTooLarge` for a body over `limit` bytes.
    pub fn body_too_large(limit: u64) -> Self {
        Self::new(
            ErrorCode::RequestTooLarge,
            format!("The request body is larger than {limit} bytes, the limit of a POST request signed with TC3-HMAC-SHA256."),
        )
    }

    /// `InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }

    /// The HTTP response for this error: 200, `application/json`, the error envelope.
    pub fn to_response(&self, request_id: &str) -> Response<Full<Bytes>> {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            #[serde(rename = "Error")]
            error: ErrorFields<'a>,
        }
        #[derive(Serialize)]
        struct ErrorFields<'a> {
            #[serde(rename = "Code")]
            code: &'a str,
            #[serde(rename = "Message")]
            message: &'a str,
        }
        api_response(
            &ErrorBody {
                error: ErrorFields {
                    code: self.code.as_str(),
                    message: &self.message,
                },
            },
            request_id,
        )
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = match &e {
            AuthError::InvalidAuthorization { .. } => ErrorCode::InvalidAuthorization,
            AuthError::MissingTimestamp => ErrorCode::MissingParameter,
            AuthError::InvalidTimestamp { .. } => ErrorCode::InvalidParameterValue,
            AuthError::SecretIdNotFound { .. } => ErrorCode::SecretIdNotFound,
            AuthError::SignatureExpire { .. } => ErrorCode::SignatureExpire,
            AuthError::SignatureFailure => ErrorCode::SignatureFailure,
        };
        Self::new(code, e.to_string())
    }
}

/// The HTTP response for a successful action: 200, `application/json`,
/// `{"Response": {<fields of output>, "RequestId": request_id}}`.
///
/// `output` must serialize as a map (a struct or a JSON object).
pub fn api_response<T: Serialize + ?Sized>(output: &T, request_id: &str) -> Response<Full<Bytes>> {
    #[derive(Serialize)]
    struct Envelope<'a, T: ?Sized> {
        #[serde(rename = "Response")]
        response: Inner<'a, T>,
    }
    #[derive(Serialize)]
    struct Inner<'a, T: ?Sized> {
        #[serde(flatten)]
        output: &'a T,
        #[serde(rename = "RequestId")]
        request_id: &'a str,
    }
    let body = serde_json::to_vec(&Envelope {
        response: Inner { output, request_id },
    });
    let body = match body {
        Ok(b) => b,
        // Only a non-map output or a failing Serialize impl lands here: a bug, reported as
        // an API error rather than a panic.
        Err(e) => format!(
            r#"{{"Response":{{"Error":{{"Code":"InternalError","Message":{}}},"RequestId":{}}}}}"#,
            serde_json::Value::String(format!("could not encode the response: {e}")),
            serde_json::Value::String(request_id.to_string())
        )
        .into_bytes(),
    };
    json_response(StatusCode::OK, body)
}

/// A response with `status`, `Content-Type: application/json` and `body`.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A message as a sentence: first letter upper-case, ending in a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
