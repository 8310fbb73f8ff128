//! Request bodies read within a limit, and the request-id headers every answer carries.
//!
//! These are the building blocks [`ApiService`](crate::ApiService) and
//! [`GatewayService`](crate::GatewayService) use, public so that a gateway of one's own
//! reads bodies and tags responses the same way.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_LENGTH};
use http::{HeaderMap, Response};
use http_body::Body;
use http_body_util::{BodyExt, Limited};

/// Any error a body type may report, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The header API Gateway adds to the event and to its response with the request id.
pub const REQUEST_ID_HEADER: &str = "x-api-requestid";

/// The response header that carries the function's own request id (`FunctionRequestId`,
/// the id in its log's `START RequestId:` line) on gateway responses.
pub const FUNCTION_REQUEST_ID_HEADER: &str = "x-scf-requestid";

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body (declared or received) is over the limit.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body did not arrive within the time allowed.
    #[error("the request body was not received in time")]
    Timeout,
    /// The server already holds as many bytes of request bodies as its budget allows
    /// ([`Limits::body_budget_bytes`](crate::Limits::body_budget_bytes)).
    #[error("the server is reading other request bodies up to its budget of {budget} bytes; retry later")]
    OverBudget {
        /// The budget in bytes.
        budget: u64,
    },
    /// The body type reported an error (the connection failed).
    #[error("the request body could not be read: {0}")]
    Failed(String),
}

/// The error a body reports when taking its next bytes would pass the server's body
/// budget; [`read_limited`] turns it into [`BodyError::OverBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server's budget of {budget} bytes of request bodies is in use")]
pub struct OverBudget {
    /// The budget in bytes.
    pub budget: u64,
}

/// What a body's error says, as a [`BodyError`]: [`OverBudget`] found anywhere in its
/// chain of sources, else the message of each link, so that a malformed chunk says so.
fn body_failure(e: &(dyn std::error::Error + 'static)) -> BodyError {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut parts: Vec<String> = Vec::new();
    while let Some(err) = next {
        if let Some(b) = err.downcast_ref::<OverBudget>() {
            return BodyError::OverBudget { budget: b.budget };
        }
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    BodyError::Failed(parts.join(": "))
}

/// The `Content-Length` a request declares, if it is a number.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads a whole body of at most `limit` bytes: refused before anything is read when its
/// size hint is over the limit, and as soon as the bytes received pass it.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use scf_http::body::{read_limited, BodyError};
/// let body = http_body_util::Full::new(bytes::Bytes::from_static(b"hello"));
/// assert_eq!(read_limited(body.clone(), 5).await.unwrap(), "hello");
/// assert_eq!(read_limited(body, 4).await, Err(BodyError::TooLarge { limit: 4 }));
/// # });
/// ```
pub async fn read_limited<B>(body: B, limit: u64) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    if body.size_hint().lower() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let max = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(BodyError::TooLarge { limit })
        }
        Err(e) => Err(body_failure(e.as_ref())),
    }
}

/// [`read_limited`] within `timeout` (no timer for a body that is already complete, such
/// as a GET's).
#[cfg(any(feature = "api", feature = "gateway"))]
pub async fn read_body<B>(
    body: B,
    limit: u64,
    timeout: std::time::Duration,
) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    if body.is_end_stream() {
        return read_limited(body, limit).await;
    }
    tokio::time::timeout(timeout, read_limited(body, limit))
        .await
        .unwrap_or(Err(BodyError::Timeout))
}

/// Sets header `name` of `response` to `id` (an id that is not a valid header value, or a
/// name that is not a valid header name, is left out).
pub fn set_id_header<B>(response: &mut Response<B>, name: &'static str, id: &str) {
    if let (Some(name), Ok(v)) = (id_header_name(name), HeaderValue::from_str(id)) {
        response.headers_mut().insert(name, v);
    }
}

/// [`set_id_header`] for an id the caller no longer needs: its bytes become the header
/// value without a copy.
#[cfg(feature = "gateway")]
pub(crate) fn set_owned_id_header<B>(response: &mut Response<B>, name: &'static str, id: String) {
    if let (Some(name), Ok(v)) = (
        id_header_name(name),
        HeaderValue::from_maybe_shared(Bytes::from(id)),
    ) {
        response.headers_mut().insert(name, v);
    }
}

/// The header name `name`, without an allocation for the two id headers (a `&'static str`
/// name is otherwise copied into a new `HeaderName` at every insert); `None` when it is
/// not a valid header name.
fn id_header_name(name: &'static str) -> Option<http::HeaderName> {
    const REQUEST_ID: http::HeaderName = http::HeaderName::from_static(REQUEST_ID_HEADER);
    const FUNCTION_REQUEST_ID: http::HeaderName =
        http::HeaderName::from_static(FUNCTION_REQUEST_ID_HEADER);
    match name {
        REQUEST_ID_HEADER => Some(REQUEST_ID),
        FUNCTION_REQUEST_ID_HEADER => Some(FUNCTION_REQUEST_ID),
        other => http::HeaderName::from_bytes(other.as_bytes()).ok(),
    }
}

/// A fresh request id in uuid v4 form. Request ids need to be unique, not secret, so they
/// come from a per-thread splitmix64 sequence seeded once from the standard library's
/// randomly keyed hasher rather than from a system call per request.
pub fn new_request_id() -> String {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5cf);
            h.finish()
        });
    }
    fn next(state: &Cell<u64>) -> u64 {
        let mut z = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let (hi, lo) = STATE.with(|s| (next(s), next(s)));
    let mut bytes = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant

    // Written into one string of the final length: a `format!` per byte cost the gateway
    // seventeen allocations per request (7% of its CPU in a profile).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4_and_distinct() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
