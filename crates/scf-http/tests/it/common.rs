//! Helpers shared by the integration tests: an invoker with test functions, API calls
//! through the socket-less service, and a JSON matcher with placeholders.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Request, Response};
use http_body_util::BodyExt;
use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_http::auth::SigningRequest;
use scf_http::{ScfService, Server, ServerConfig};
use scf_invoker::{Invoker, InvokerConfig};
use scf_store::MemoryStore;
use serde_json::{json, Value};

pub const SECRET_ID: &str = "AKIDstubid";
pub const SECRET_KEY: &str = "stubsecretkey";

/// The seed's error, raised by `fails`.
#[derive(Debug, thiserror::Error)]
#[error("user {0} already exists")]
pub struct UserNameAlreadyExistsException(pub String);

/// An invoker with a fresh memory store and the test functions:
/// - `hello`: logs a line and returns `{"hello": <event>}`;
/// - `fails`: raises `UserNameAlreadyExistsException`;
/// - `slow`: 1 s timeout, sleeps 3 s;
/// - `web`: an integration response echoing the event's path, query and body;
/// - `not-web`: returns a string, not an integration response;
/// - `raw`: returns the event's `want` field as its return value;
/// - `hello` in namespace `other`.
pub fn invoker() -> Invoker {
    let config = InvokerConfig::default().with_store(Arc::new(MemoryStore::default()));
    let invoker = Invoker::new(config).expect("an invoker");
    add_test_functions(&invoker);
    invoker
}

pub fn add_test_functions(invoker: &Invoker) {
    invoker
        .add_function(
            FunctionConfig::new("hello"),
            handler_fn(|event: Value, _ctx: Context| async move {
                tracing::info!("hello got {event}");
                Ok::<_, FunctionError>(json!({ "hello": event }))
            }),
        )
        .unwrap();
    invoker
        .add_function(
            FunctionConfig::new("fails"),
            handler_fn(|event: Value, _ctx: Context| async move {
                let name = event["name"].as_str().unwrap_or("tom").to_string();
                Err::<Value, _>(UserNameAlreadyExistsException(name))
            }),
        )
        .unwrap();
    let mut slow = FunctionConfig::new("slow");
    slow.timeout = Duration::from_secs(1);
    invoker
        .add_function(
            slow,
            handler_fn(|_: Value, _ctx: Context| async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                Ok::<_, FunctionError>(json!("late"))
            }),
        )
        .unwrap();
    invoker
        .add_function(
            FunctionConfig::new("web"),
            handler_fn(|event: Value, _ctx: Context| async move {
                Ok::<_, FunctionError>(json!({
                    "isBase64Encoded": false,
                    "statusCode": 200,
                    "headers": {"Content-Type": "application/json", "Set-Cookie": ["a=1", "b=2"]},
                    "body": json!({
                        "path": event["path"],
                        "pathParameters": event["pathParameters"],
                        "queryString": event["queryString"],
                        "body": event["body"],
                        "requestId": event["requestContext"]["requestId"],
                        "sourceIp": event["requestContext"]["sourceIp"],
                    }).to_string(),
                }))
            }),
        )
        .unwrap();
    invoker
        .add_function(
            FunctionConfig::new("not-web"),
            handler_fn(
                |_: Value, _ctx: Context| async move { Ok::<_, FunctionError>(json!("plain")) },
            ),
        )
        .unwrap();
    invoker
        .add_function(
            FunctionConfig::new("raw"),
            handler_fn(|event: Value, _ctx: Context| async move {
                Ok::<_, FunctionError>(event["want"].clone())
            }),
        )
        .unwrap();
    let mut other = FunctionConfig::new("hello");
    other.namespace = "other".into();
    invoker
        .add_function(
            other,
            handler_fn(
                |_: Value, _ctx: Context| async move { Ok::<_, FunctionError>(json!("other")) },
            ),
        )
        .unwrap();
}

/// The socket-less service of a server on `config` over `invoker`.
pub fn service_with(config: ServerConfig, invoker: Invoker) -> ScfService {
    Server::new(config.with_signals(false), invoker)
        .expect("a valid server config")
        .service()
}

/// An unauthenticated service over the test functions.
pub fn service() -> ScfService {
    service_with(ServerConfig::new("127.0.0.1:0".parse().unwrap()), invoker())
}

/// An authenticated service (`AKIDstubid` / `stubsecretkey`) over the test functions.
pub fn signed_service() -> ScfService {
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_credentials(scf_http::Credentials::single(SECRET_ID, SECRET_KEY));
    service_with(config, invoker())
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An unsigned API request for `action` with a JSON `body`.
pub fn api_request(action: &str, body: &[u8]) -> Request<Vec<u8>> {
    Request::post("/")
        .header("Host", "127.0.0.1:9000")
        .header("Content-Type", "application/json")
        .header("X-TC-Action", action)
        .header("X-TC-Version", "2018-04-16")
        .header("X-TC-Region", "ap-guangzhou")
        .header("X-TC-Timestamp", now().to_string())
        .body(body.to_vec())
        .unwrap()
}

/// A request signed as the Python SDK signs it, at `timestamp`.
pub fn signed_request(action: &str, body: &[u8], timestamp: i64) -> Request<Vec<u8>> {
    let auth = SigningRequest::new(SECRET_ID, SECRET_KEY, "127.0.0.1:9000", timestamp, body)
        .authorization()
        .unwrap();
    let mut request = api_request(action, body);
    request
        .headers_mut()
        .insert("X-TC-Timestamp", timestamp.to_string().parse().unwrap());
    request
        .headers_mut()
        .insert("Authorization", auth.parse().unwrap());
    request
}

/// A request with a `Full` body, which `oneshot` takes.
pub fn full(request: Request<Vec<u8>>) -> Request<http_body_util::Full<bytes::Bytes>> {
    request.map(|b| http_body_util::Full::new(bytes::Bytes::from(b)))
}

/// The whole body of a response (of the service, or a bare integration response).
pub async fn body_bytes<B>(response: Response<B>) -> Vec<u8>
where
    B: hyper::body::Body,
    B::Error: std::fmt::Debug,
{
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

/// Sends an API request and checks the envelope every answer shares: HTTP 200,
/// `Content-Type: application/json` exactly, `Response.RequestId` equal to the
/// `x-api-requestid` header. Returns the body.
pub async fn send_api(service: &ScfService, request: Request<Vec<u8>>) -> Value {
    let response = service.oneshot(full(request)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let header_id = response.headers()["x-api-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(body["Response"]["RequestId"], header_id, "{body}");
    body
}

/// An unsigned API call with a JSON body.
pub async fn call(service: &ScfService, action: &str, body: Value) -> Value {
    send_api(service, api_request(action, body.to_string().as_bytes())).await
}

/// The error envelope with `code` and `message` (any RequestId).
pub fn api_error(code: &str, message: &str) -> Value {
    json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "<uuid>"}})
}

/// A fixture file as JSON.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that `actual` equals `expected`, where these strings in `expected` match any
/// value of their kind: `"<uuid>"`, `"<string>"`, `"<number>"`, `"<datetime>"`
/// (`YYYY-MM-DD HH:MM:SS`), `"<any>"`.
#[track_caller]
pub fn assert_json(actual: &Value, expected: &Value) {
    if let Err(path) = matches(actual, expected, "$") {
        panic!(
            "JSON differs at {path}\n  actual:   {}\n  expected: {}",
            serde_json::to_string_pretty(actual).unwrap(),
            serde_json::to_string_pretty(expected).unwrap()
        );
    }
}

fn matches(actual: &Value, expected: &Value, path: &str) -> Result<(), String> {
    match (actual, expected) {
        (_, Value::String(p)) if p == "<any>" => Ok(()),
        (Value::String(s), Value::String(p)) if p == "<uuid>" => uuid::Uuid::parse_str(s)
            .map(|_| ())
            .map_err(|_| path.to_string()),
        (Value::String(_), Value::String(p)) if p == "<string>" => Ok(()),
        (Value::String(s), Value::String(p)) if p == "<datetime>" => {
            let ok = s.len() == 19 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b' ';
            ok.then_some(()).ok_or_else(|| path.to_string())
        }
        (Value::Number(_), Value::String(p)) if p == "<number>" => Ok(()),
        (Value::Object(a), Value::Object(e)) => {
            if a.len() != e.len() || a.keys().any(|k| !e.contains_key(k)) {
                return Err(format!(
                    "{path} (keys {:?} vs {:?})",
                    a.keys().collect::<Vec<_>>(),
                    e.keys().collect::<Vec<_>>()
                ));
            }
            for (k, v) in e {
                matches(&a[k], v, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!("{path} (length {} vs {})", a.len(), e.len()));
            }
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                matches(x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (a, e) if a == e => Ok(()),
        _ => Err(path.to_string()),
    }
}

/// POSTs an unsigned API call for `action` with `body` to `path` on `addr` over a real
/// TCP connection (HTTP/1.1, `Connection: close`); the whole response as text.
pub async fn raw_post(addr: std::net::SocketAddr, path: &str, body: &[u8], action: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-TC-Action: {action}\r\nX-TC-Version: 2018-04-16\r\nX-TC-Timestamp: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        now(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}
