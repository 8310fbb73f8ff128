//! An `http::Response` as an API Gateway integration response.

use base64::Engine as _;
use bytes::Bytes;
use http_body::Body as HttpBody;
use http_body_util::BodyExt as _;
use scf_event::{ApiGatewayResponse, HeaderValue, Headers};

/// Whether a body of this `Content-Type` (and `Content-Encoding`) goes out as text; any
/// other body is sent Base64-encoded with `isBase64Encoded: true`.
///
/// Text is `text/*`, JSON (`application/json`, `*+json`), XML (`application/xml`,
/// `*+xml`), `application/javascript`, `application/x-www-form-urlencoded` and
/// `application/graphql`, none of them compressed (no `Content-Encoding` other than
/// `identity`). A body with no `Content-Type` is text when it is UTF-8.
pub fn is_text(content_type: Option<&str>, content_encoding: Option<&str>) -> bool {
    if content_encoding.is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity")) {
        return false;
    }
    let Some(content_type) = content_type else {
        return true;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind == "text"
        || (kind == "application"
            && (matches!(
                subtype,
                "json"
                    | "xml"
                    | "javascript"
                    | "x-javascript"
                    | "ecmascript"
                    | "x-www-form-urlencoded"
                    | "graphql"
            ) || subtype.ends_with("+json")
                || subtype.ends_with("+xml")))
}

/// The integration response for a response whose body is in memory: `statusCode`, every
/// header (a header sent several times as an array, `"Set-Cookie": ["a=1", "b=2"]`), and
/// the body as text, or Base64 with `isBase64Encoded: true` when it is binary (see
/// [`is_text`]) or not UTF-8.
pub fn from_response(response: http::Response<Bytes>) -> ApiGatewayResponse {
    let (parts, body) = response.into_parts();
    let header = |name: http::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let text = is_text(
        header(http::header::CONTENT_TYPE).as_deref(),
        header(http::header::CONTENT_ENCODING).as_deref(),
    );
    let mut headers: Headers<HeaderValue> = Headers::new();
    for name in parts.headers.keys() {
        let mut values: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let value = if values.len() == 1 {
            HeaderValue::Single(values.remove(0))
        } else {
            HeaderValue::Multi(values)
        };
        headers.insert(name.as_str(), value);
    }
    let (body, is_base64_encoded) = match (text, std::str::from_utf8(&body)) {
        (true, Ok(s)) => (s.to_owned(), false),
        _ if body.is_empty() => (String::new(), false),
        _ => (
            base64::engine::general_purpose::STANDARD.encode(&body),
            true,
        ),
    };
    ApiGatewayResponse {
        is_base64_encoded,
        status_code: parts.status.as_u16(),
        headers,
        body,
    }
}

/// Why a response's body could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading the response body failed: {0}")]
pub struct BodyError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Reads `response`'s whole body and makes the integration response ([`from_response`]).
pub async fn into_integration_response<B>(
    response: http::Response<B>,
) -> Result<ApiGatewayResponse, BodyError>
where
    B: HttpBody,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| BodyError(e.into()))?
        .to_bytes();
    Ok(from_response(http::Response::from_parts(parts, bytes)))
}
