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
//! Response, streamed (when the invocation's context has a
//! [`response_stream`](scf_context::Context::response_stream), which the gateway gives):
//! the head goes to the stream as soon as the server sent it, each body chunk as it
//! arrives; the body is counted: one whose `Content-Length` is over 6 MB is 410 before
//! anything is sent, and one that grows past 6 MB is cut there (the client's response
//! ends incomplete) and the invocation fails with 410; a client that goes away ends the invocation (499, the instance is stopped).
//! The invocation's return value is then the integration response without its body,
//! `"body": ""` with `bodyBytes`, the bytes sent (SCF does not log bodies).
//!
//! Response, whole (an `Invoke` call): `statusCode`; `headers`, a header sent several
//! times (`Set-Cookie`) as an array of its values in order; `body` as text when it is
//! UTF-8, else Base64 with `isBase64Encoded: true`. A body over 6 MB is 410. Hop-by-hop
//! headers are dropped.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use scf_context::{ResponseStream, StreamHook};
use serde_json::{Map, Value};

use super::{drive, Conn, WebPort};
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

/// Why a request did not reach the server or got no complete answer.
#[derive(Debug)]
pub(crate) enum Unreachable {
    /// The server could not be reached, or dropped the connection.
    Failed(String),
    /// The client of the streamed response went away.
    ClientGone,
}

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
pub(crate) fn request(event: &Value, request_id: &str) -> Result<Request<Full<Bytes>>, Outcome> {
    let Value::Object(event) = event else {
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
    let query = query(event);
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

/// The response's headers but the hop-by-hop ones, a repeated one once per value in order.
fn end_to_end(headers: &http::HeaderMap) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
    headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
}

/// The integration response for a server's response head and body (`None`: streamed,
/// `body` empty and `bodyBytes` the bytes sent).
fn integration_response(parts: &http::response::Parts, body: Result<&[u8], u64>) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    for (name, value) in end_to_end(&parts.headers) {
        let value = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
        match headers.get_mut(name.as_str()) {
            None => {
                headers.insert(name.as_str().to_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    let mut response = serde_json::json!({
        "isBase64Encoded": false,
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": "",
    });
    match body {
        Ok(body) => match std::str::from_utf8(body) {
            Ok(text) => response["body"] = Value::String(text.to_owned()),
            Err(_) => {
                response["body"] =
                    Value::String(base64::engine::general_purpose::STANDARD.encode(body));
                response["isBase64Encoded"] = Value::Bool(true);
            }
        },
        Err(sent) => response["bodyBytes"] = Value::from(sent),
    }
    response
}

/// Sends `request` (what the invocation's event stands for, [`request`]) to the
/// instance's server and reads its answer: [`Outcome::Value`] with the integration
/// response, [`Outcome::TooLarge`] for a body over 6 MB; [`Unreachable`] when the server
/// could not be reached or dropped the connection before the end of its answer, or the
/// client of a streamed answer went away. With `stream`, the answer goes there as it
/// comes (see the module's documentation).
pub(crate) async fn forward(
    port: &Arc<WebPort>,
    request: Request<Full<Bytes>>,
    request_id: &str,
    stream: Option<StreamHook>,
) -> Result<Outcome, Unreachable> {
    let unreachable =
        |e: std::io::Error| Unreachable::Failed(format!("connecting to port {}: {e}", port.port()));
    let (mut conn, kept) = port.conn().await.map_err(unreachable)?;
    let mut retried = false;
    port.sent.store(true, Ordering::Release);
    let mut request = request;
    let response = loop {
        match drive(&mut conn.driver, conn.sender.try_send_request(request)).await {
            Ok(response) => break response,
            // A kept connection the server closed while idle, before the request was
            // written: it never reached the server (hyper gives it back), so it goes once
            // more on a new connection. (A connection closed after the request was
            // written is a failure: the server may have acted on it.)
            Err(mut e) if kept && !retried && e.error().is_canceled() => {
                let Some(again) = e.take_message() else {
                    return Err(Unreachable::Failed(e.into_error().to_string()));
                };
                retried = true;
                request = again;
                conn = port.connect().await.map_err(unreachable)?;
            }
            Err(e) => {
                return Err(Unreachable::Failed(format!(
                    "the server did not answer: {}",
                    e.into_error()
                )))
            }
        }
    };
    let (parts, body) = response.into_parts();
    let outcome = match &stream {
        Some(hook) => streamed(&mut conn, &parts, body, request_id, hook.stream()).await?,
        None => whole(&mut conn, &parts, body).await?,
    };
    if !matches!(outcome, Outcome::TooLarge) {
        port.keep(conn);
    }
    Ok(outcome)
}

/// Reads the whole body (at most 6 MB) into the integration response.
async fn whole(
    conn: &mut Conn,
    parts: &http::response::Parts,
    mut body: Incoming,
) -> Result<Outcome, Unreachable> {
    let mut bytes = Vec::new();
    while let Some(frame) = drive(&mut conn.driver, body.frame()).await {
        let frame =
            frame.map_err(|e| Unreachable::Failed(format!("reading the response body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_RESPONSE_BODY {
                return Ok(Outcome::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Outcome::Value(integration_response(parts, Ok(&bytes))))
}

/// Sends the head, then each body chunk as it comes, to `stream`.
async fn streamed(
    conn: &mut Conn,
    parts: &http::response::Parts,
    mut body: Incoming,
    request_id: &str,
    stream: &dyn ResponseStream,
) -> Result<Outcome, Unreachable> {
    // A body declared over the limit is refused before anything is sent, as when whole.
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_RESPONSE_BODY as u64) {
        return Ok(Outcome::TooLarge);
    }
    let headers = end_to_end(&parts.headers)
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    if !stream.head(request_id, parts.status.as_u16(), headers) {
        return Err(Unreachable::ClientGone);
    }
    let mut sent = 0usize;
    loop {
        let frame = tokio::select! {
            biased;
            frame = drive(&mut conn.driver, body.frame()) => frame,
            () = stream.closed() => return Err(Unreachable::ClientGone),
        };
        let Some(frame) = frame else { break };
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers: not forwarded
            },
            Err(e) => {
                let why = format!("reading the response body: {e}");
                stream.end(Err(why.clone()));
                return Err(Unreachable::Failed(why));
            }
        };
        let room = MAX_RESPONSE_BODY - sent;
        let over = data.len() > room;
        let data = if over { data.slice(..room) } else { data };
        sent += data.len();
        if !data.is_empty() && !stream.chunk(Vec::from(data)).await {
            return Err(Unreachable::ClientGone);
        }
        if over {
            stream.end(Err(format!(
                "the web server answered with more than {MAX_RESPONSE_BODY} bytes"
            )));
            return Ok(Outcome::TooLarge);
        }
    }
    stream.end(Ok(()));
    Ok(Outcome::Value(integration_response(
        parts,
        Err(sent as u64),
    )))
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
        let req = request(&event, "rid").unwrap();
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
        let Err(Outcome::Error(body)) = request(&serde_json::json!({"key": "value"}), "rid") else {
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
        let v = integration_response(&parts, Ok(&[0xff, 0]));
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
