//! One request to a web function's server: the API Gateway event as an HTTP request, the
//! HTTP response as an integration response.
//!
//! Request: `httpMethod`; `path` as the client sent it (still percent-encoded); the query
//! from `queryString` (each key and value percent-encoded again, repeated keys in their
//! order, keys in the event's order, which the gateway writes sorted); `headers` as they are (a header
//! the client repeated arrives joined with `, `, `cookie` with `; `, which HTTP reads the
//! same); the body, Base64-decoded when `isBase64Encoded`, byte for byte. Hop-by-hop
//! headers (`connection`, `keep-alive`, `transfer-encoding`, `te`, `trailer`, `upgrade`,
//! `proxy-connection`) and the client's own `x-scf-*` headers are dropped, SCF reserving
//! them; `content-length` is the body's; `x-scf-request-id` is the invocation's request id;
//! an event without `host` gets `host: 127.0.0.1:9000`.
//!
//! Response: `statusCode`; `headers`, a header sent several times (`Set-Cookie`) as an
//! array of its values in order; `body` as text when it is UTF-8, else Base64 with
//! `isBase64Encoded: true`. A body over 6 MB is 410. Hop-by-hop headers are dropped.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Map, Value};

use super::WebPort;
use crate::runtime_api::Outcome;

/// The largest response body SCF returns from a web function.
pub(crate) const MAX_RESPONSE_BODY: usize = 6 * 1024 * 1024;

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// Why a request did not reach the server or got no answer.
#[derive(Debug)]
pub(crate) struct Unreachable(pub(crate) String);

/// An event that is not an HTTP request: the `Outcome` the invocation fails with.
fn not_a_request(detail: &str) -> Outcome {
    let body = serde_json::json!({
        "statusCode": 436,
        "errorMessage": format!("a web function takes an API Gateway event (an HTTP request): {detail}"),
        "stackTrace": "",
    });
    Outcome::Error(Bytes::from(body.to_string()))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The query string `queryString` stands for.
fn query(event: &Map<String, Value>) -> String {
    let mut out = String::new();
    let Some(Value::Object(query)) = event.get("queryString") else {
        return out;
    };
    let mut pair = |key: &str, value: Option<&str>| {
        if !out.is_empty() {
            out.push('&');
        }
        encode(key, &mut out);
        if let Some(v) = value {
            out.push('=');
            encode(v, &mut out);
        }
    };
    for (key, value) in query {
        match value {
            Value::String(s) => pair(key, Some(s)),
            Value::Array(values) => {
                for v in values {
                    pair(key, Some(v.as_str().unwrap_or_default()));
                }
            }
            Value::Bool(true) => pair(key, None),
            Value::Null | Value::Bool(false) => {}
            other => pair(key, Some(&other.to_string())),
        }
    }
    out
}

/// The HTTP request an API Gateway event stands for, or why it stands for none.
fn request(event: &[u8], request_id: &str) -> Result<Request<Full<Bytes>>, Outcome> {
    let value: Value = serde_json::from_slice(event).map_err(|e| not_a_request(&e.to_string()))?;
    let Value::Object(event) = value else {
        return Err(not_a_request("the event is not a JSON object"));
    };
    let method = event
        .get("httpMethod")
        .and_then(Value::as_str)
        .ok_or_else(|| not_a_request("the event has no `httpMethod`"))?;
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| not_a_request(&format!("`httpMethod` {method:?} is not an HTTP method")))?;
    let path = event.get("path").and_then(Value::as_str).unwrap_or("/");
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let query = query(&event);
    let target = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let body = match event.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) => {
            if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| not_a_request(&format!("`body` is not Base64: {e}")))?;
                Bytes::from(decoded)
            } else {
                Bytes::from(text.clone().into_bytes())
            }
        }
        Some(other) => Bytes::from(other.to_string().into_bytes()),
    };
    let mut builder = Request::builder().method(method).uri(target.as_str());
    if let Some(Value::Object(headers)) = event.get("headers") {
        for (name, value) in headers {
            let lower = name.to_ascii_lowercase();
            if HOP_BY_HOP.contains(&lower.as_str())
                || lower == "content-length"
                || lower.starts_with("x-scf-")
            {
                continue;
            }
            let Ok(name) = HeaderName::from_bytes(lower.as_bytes()) else {
                continue;
            };
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&text) {
                builder = builder.header(name, value);
            }
        }
    }
    // HTTP/1.1 requires a Host (Node.js answers 400 without one); an `Invoke` event may
    // have none.
    if builder
        .headers_ref()
        .is_some_and(|h| !h.contains_key(http::header::HOST))
    {
        builder = builder.header(http::header::HOST, "127.0.0.1:9000");
    }
    if let Ok(id) = HeaderValue::from_str(request_id) {
        builder = builder.header("x-scf-request-id", id);
    }
    builder
        .body(Full::new(body))
        .map_err(|e| not_a_request(&format!("`path` {target:?}: {e}")))
}

/// The integration response for a server's response head and body.
fn integration_response(parts: &http::response::Parts, body: &[u8]) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    for name in parts.headers.keys() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let values: Vec<Value> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let value = if values.len() == 1 {
            values.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::Array(values)
        };
        headers.insert(name.as_str().to_owned(), value);
    }
    let (body, base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    serde_json::json!({
        "isBase64Encoded": base64,
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": body,
    })
}

/// Sends the request `event` stands for to the instance's server and reads its answer:
/// [`Outcome::Response`] with the integration response, [`Outcome::TooLarge`] for a body
/// over 6 MB, [`Outcome::Error`] for an event that is no HTTP request; [`Unreachable`]
/// when the server could not be reached or dropped the connection before answering.
pub(crate) async fn forward(
    port: Arc<WebPort>,
    event: Bytes,
    request_id: String,
) -> Result<Outcome, Unreachable> {
    let first = match request(&event, &request_id) {
        Ok(r) => r,
        Err(outcome) => return Ok(outcome),
    };
    let (mut sender, kept) = port
        .sender()
        .await
        .map_err(|e| Unreachable(format!("connecting to port {}: {e}", port.port())))?;
    let mut retried = false;
    port.sent.store(true, Ordering::Release);
    let mut pending = sender.send_request(first);
    let response = loop {
        match pending.await {
            Ok(response) => break response,
            // A kept connection the server closed while idle, before the request was
            // written: it never reached the server, so it goes once more on a new
            // connection. (A connection closed after the request was written is a
            // failure: the server may have acted on it.)
            Err(e) if kept && !retried && e.is_canceled() => {
                let Ok(again) = request(&event, &request_id) else {
                    return Err(Unreachable(e.to_string()));
                };
                retried = true;
                sender = port
                    .connect()
                    .await
                    .map_err(|e| Unreachable(format!("connecting to port {}: {e}", port.port())))?;
                pending = sender.send_request(again);
            }
            Err(e) => return Err(Unreachable(format!("the server did not answer: {e}"))),
        }
    };
    let (parts, body) = response.into_parts();
    let body = match Limited::new(body, MAX_RESPONSE_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Ok(Outcome::TooLarge),
        Err(e) => return Err(Unreachable(format!("reading the response body: {e}"))),
    };
    let value = integration_response(&parts, &body);
    port.keep(sender);
    Ok(Outcome::Response(Bytes::from(value.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_becomes_its_request_with_the_query_re_encoded_and_the_body_decoded() {
        let event = serde_json::json!({
            "httpMethod": "POST",
            "path": "/a%20b/c",
            "queryString": {"flag": true, "q": ["1", "x y"]},
            "headers": {"content-type": "application/octet-stream", "connection": "close", "x-scf-fake": "1", "content-length": "99"},
            "body": "AAEC/w==",
            "isBase64Encoded": true,
        });
        let req = request(event.to_string().as_bytes(), "rid").unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/a%20b/c?flag&q=1&q=x%20y");
        assert_eq!(req.headers()["x-scf-request-id"], "rid");
        assert!(req.headers().get("connection").is_none());
        assert!(req.headers().get("x-scf-fake").is_none());
        assert!(req.headers().get("content-length").is_none());
        let body = req.into_body();
        let bytes = futures_bytes(body);
        assert_eq!(bytes, [0u8, 1, 2, 255]);
    }

    fn futures_bytes(body: Full<Bytes>) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async { body.collect().await.unwrap().to_bytes().to_vec() })
    }

    #[test]
    fn an_event_without_a_method_is_refused_with_436() {
        let Err(Outcome::Error(body)) = request(br#"{"key":"value"}"#, "rid") else {
            panic!("accepted");
        };
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["statusCode"], 436);
        assert!(v["errorMessage"].as_str().unwrap().contains("httpMethod"));
    }

    #[test]
    fn repeated_response_headers_become_an_array_and_a_binary_body_base64() {
        let response = http::Response::builder()
            .status(404)
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("transfer-encoding", "chunked")
            .body(())
            .unwrap();
        let (parts, ()) = response.into_parts();
        let v = integration_response(&parts, &[0xff, 0]);
        assert_eq!(v["statusCode"], 404);
        assert_eq!(
            v["headers"]["set-cookie"],
            serde_json::json!(["a=1", "b=2"])
        );
        assert!(v["headers"].get("transfer-encoding").is_none());
        assert_eq!(v["isBase64Encoded"], true);
        assert_eq!(v["body"], "/wA=");
    }
}
