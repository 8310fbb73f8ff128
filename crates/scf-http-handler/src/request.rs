//! An API Gateway event as an `http::Request`.

use bytes::Bytes;
use http_body_util::Full;
use scf_event::{ApiGatewayRequest, ApiGatewayRequestContext, QueryValue};

/// The body of the requests this crate makes: the event's whole body, already in memory.
pub type Body = Full<Bytes>;

/// Why an API Gateway event cannot be an `http::Request`; each names the field and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// `httpMethod` is not an HTTP method.
    #[error("httpMethod {0:?} is not an HTTP method")]
    Method(String),
    /// `path` with the query does not make a request target.
    #[error("path {path:?} with queryString does not make a request URI: {reason}")]
    Uri {
        /// The event's `path`.
        path: String,
        /// What the URI parser said.
        reason: String,
    },
    /// A header's name or value is not valid in HTTP.
    #[error("headers.{name:?} is not a valid HTTP header: {reason}")]
    Header {
        /// The header's name as the event spells it.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// `body` is marked `isBase64Encoded` but is not Base64.
    #[error("body: {0}")]
    Body(String),
}

/// What the event said besides the HTTP request itself, put in the request's extensions
/// by [`into_request`] for the service to read (axum: `Extension<GatewayContext>`).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct GatewayContext {
    /// `requestContext`: the API as configured (its path, method, stage), the caller's
    /// source IP and identity, the gateway's request id.
    pub request_context: ApiGatewayRequestContext,
    /// `pathParameters`, as API Gateway matched them.
    pub path_parameters: std::collections::BTreeMap<String, String>,
    /// `stageVariables`, if any.
    pub stage_variables: Option<std::collections::BTreeMap<String, String>>,
}

/// The characters a query component keeps as they are (RFC 3986 unreserved).
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn percent_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// The query string of `queryString`: `k=v` pairs, a key with several values once per
/// value, a flag (`?debug`) as the bare key; keys in sorted order (the event's map does
/// not keep the original order), every component percent-encoded.
pub fn query_string(event: &ApiGatewayRequest) -> String {
    let mut out = String::new();
    for (key, value) in &event.query_string {
        let mut pair = |v: Option<&str>| {
            if !out.is_empty() {
                out.push('&');
            }
            percent_encode(&mut out, key);
            if let Some(v) = v {
                out.push('=');
                percent_encode(&mut out, v);
            }
        };
        match value {
            QueryValue::Flag(_) => pair(None),
            other => other.values().into_iter().for_each(|v| pair(Some(v))),
        }
    }
    out
}

/// The `http::Request` an API Gateway event stands for: method `httpMethod`, URI `path`
/// plus [`query_string`], every header of `headers`, the body (Base64-decoded when
/// `isBase64Encoded`), and a [`GatewayContext`] in its extensions.
///
/// The path is the event's `path` as the gateway sent it (the request's own path; a
/// router sees the same path the client asked for).
pub fn into_request(event: ApiGatewayRequest) -> Result<http::Request<Body>, EventError> {
    let method = http::Method::from_bytes(event.http_method.as_bytes())
        .map_err(|_| EventError::Method(event.http_method.clone()))?;
    let query = query_string(&event);
    let path = if event.path.is_empty() {
        "/"
    } else {
        &event.path
    };
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let uri: http::Uri = target
        .parse()
        .map_err(|e: http::uri::InvalidUri| EventError::Uri {
            path: event.path.clone(),
            reason: e.to_string(),
        })?;
    let body = event
        .body_bytes()
        .map_err(|e| EventError::Body(e.to_string()))?;
    let mut request = http::Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    for (name, value) in event.headers.iter() {
        let header = |reason: String| EventError::Header {
            name: name.clone(),
            reason,
        };
        let name_ =
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| header(e.to_string()))?;
        let value = http::HeaderValue::from_str(value).map_err(|e| header(e.to_string()))?;
        headers.append(name_, value);
    }
    request.extensions_mut().insert(GatewayContext {
        request_context: event.request_context,
        path_parameters: event.path_parameters,
        stage_variables: event.stage_variables,
    });
    Ok(request)
}
