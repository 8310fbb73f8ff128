//! The API 3.0 protocol checks, before and after the body: `POST`, `application/json`,
//! `X-TC-Version` and `X-TC-Action`.

use http::header::CONTENT_TYPE;
use http::request::Parts;
use http::Method;

use super::API_VERSION;
use crate::error::{ApiError, ErrorCode};

/// Refuses a request that is not a `POST` of `application/json` (`UnsupportedProtocol`),
/// before its body is read.
pub(crate) fn check_method_and_type(parts: &Parts) -> Result<(), ApiError> {
    if parts.method != Method::POST {
        return Err(ApiError::new(
            ErrorCode::UnsupportedProtocol,
            format!(
                "The HTTP method {} is not supported: this endpoint takes POST with Content-Type application/json, signed with TC3-HMAC-SHA256.",
                parts.method
            ),
        ));
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedProtocol,
            format!(
                "The Content-Type {content_type:?} is not supported: this endpoint takes application/json (signature v3, TC3-HMAC-SHA256)."
            ),
        ));
    }
    Ok(())
}

/// The action named by `X-TC-Action`, once `X-TC-Version` is checked to be
/// [`API_VERSION`].
pub(crate) fn action(parts: &Parts) -> Result<String, ApiError> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let version =
        header("x-tc-version").ok_or_else(|| ApiError::missing_parameter("X-TC-Version"))?;
    if version != API_VERSION {
        return Err(ApiError::no_such_version(&version));
    }
    let action = header("x-tc-action").ok_or_else(|| ApiError::missing_parameter("X-TC-Action"))?;
    if action.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingParameter,
            format!(
                "The header `X-TC-Action` is empty: it must name the action, one of {}.",
                super::ACTIONS.join(", ")
            ),
        ));
    }
    Ok(action)
}
