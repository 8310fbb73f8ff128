//! What needs a real socket: keep-alive, slow clients, the connection cap, graceful
//! shutdown, two listeners, HTTP/2, and the raw bytes the official clients send.

use crate::common;

use std::time::{Duration, Instant};

use common::{add_test_functions, SECRET_ID, SECRET_KEY};
use http_body_util::{BodyExt, Empty};
use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_http::apigw::Route;
use scf_http::{Credentials, Limits, RunningServer, Server, ServerConfig, Serves};
use scf_invoker::{Invoker, InvokerConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn test_invoker() -> Invoker {
    let invoker = Invoker::new(InvokerConfig::default()).unwrap();
    add_test_functions(&invoker);
    let mut pause = FunctionConfig::new("pause");
    pause.timeout = Duration::from_secs(5);
    invoker
        .add_function(
            pause,
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                Ok::<_, FunctionError>(json!({"statusCode": 200, "body": "paused"}))
            }),
        )
        .unwrap();
    invoker
}

fn base_config() -> ServerConfig {
    ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_signals(false)
        .with_route(Route::new("GET", "/pause", "pause").unwrap())
        .with_route(Route::new("ANY", "/web/{x}", "web").unwrap())
}

async fn start(config: ServerConfig) -> RunningServer {
    Server::new(config, test_invoker())
        .unwrap()
        .bind()
        .await
        .unwrap()
}

/// Reads one HTTP/1.1 response (head + Content-Length body); `None` on EOF first.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String, String)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.ok()?;
    Some((status, head, String::from_utf8_lossy(&body).into_owned()))
}

async fn get(stream: &mut TcpStream, path: &str) -> Option<(u16, String, String)> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    stream.write_all(req.as_bytes()).await.ok()?;
    read_response(stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_share_a_kept_alive_connection() {
    let server = start(base_config()).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    for i in 0..3 {
        let (status, _, body) = get(&mut stream, &format!("/web/{i}"))
            .await
            .expect("an answer on the same connection");
        assert_eq!(status, 200);
        assert!(body.contains(&format!("\"/web/{i}\"")), "{body}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_to_send_its_headers_is_disconnected() {
    let mut limits = Limits::default();
    limits.header_read_timeout = Duration::from_millis(300);
    let server = start(base_config().with_limits(limits)).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(b"GET /web/1 HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server closed the connection");
    assert!(started.elapsed() < Duration::from_secs(3));
    // A prompt client on another connection is still served.
    let mut other = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(get(&mut other, "/healthz").await.unwrap().0, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_to_send_its_body_gets_408() {
    let mut limits = Limits::default();
    limits.body_read_timeout = Duration::from_millis(300);
    let server = start(base_config().with_limits(limits)).await;
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(b"POST /web/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly a part")
        .await
        .unwrap();
    let (status, _, body) =
        tokio::time::timeout(Duration::from_secs(5), read_response(&mut stream))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(status, 408);
    assert_eq!(
        body,
        r#"{"errno":408,"error":"The request body was not received in time"}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let mut limits = Limits::default();
    limits.max_connections = 2;
    let server = start(base_config().with_limits(limits)).await;
    let addr = server.local_addr();
    let mut a = TcpStream::connect(addr).await.unwrap();
    let mut b = TcpStream::connect(addr).await.unwrap();
    assert_eq!(get(&mut a, "/healthz").await.unwrap().0, 200);
    assert_eq!(get(&mut b, "/healthz").await.unwrap().0, 200);
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(300), read_response(&mut c)).await;
    assert!(
        early.is_err(),
        "a third connection is not served while two are open"
    );
    drop(a);
    let late = tokio::time::timeout(Duration::from_secs(5), read_response(&mut c)).await;
    assert_eq!(late.unwrap().unwrap().0, 200);
    drop(b);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests_and_stops_listening() {
    let server = start(base_config()).await;
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /pause HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let handle = server.shutdown_handle();
    handle.shutdown();
    assert!(handle.is_shutting_down());
    let (status, _, body) = read_response(&mut stream)
        .await
        .expect("the in-flight request finishes");
    assert_eq!((status, body.as_str()), (200, "paused"));
    server.wait().await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_gateway_can_listen_on_two_ports() {
    let config = base_config()
        .listen_on("127.0.0.1:0".parse().unwrap(), Serves::Api)
        .with_listener("127.0.0.1:0".parse().unwrap(), Serves::Gateway);
    let server = start(config).await;
    let [api, gw] = server.local_addrs()[..] else {
        panic!()
    };
    let mut gateway = TcpStream::connect(gw).await.unwrap();
    assert_eq!(get(&mut gateway, "/web/1").await.unwrap().0, 200);
    let mut api_conn = TcpStream::connect(api).await.unwrap();
    let (status, head, body) = get(&mut api_conn, "/web/1").await.unwrap();
    assert_eq!(status, 200);
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["Response"]["Error"]["Code"], "UnsupportedProtocol");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_with_prior_knowledge_is_served() {
    let server = start(base_config()).await;
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let request = http::Request::get(format!("http://{}/web/h2", server.local_addr()))
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["path"], "/web/h2");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcclis_host_with_a_scheme_reaches_the_verifier() {
    let config = base_config().with_credentials(Credentials::single(SECRET_ID, SECRET_KEY));
    let server = start(config).await;
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tc3/tccli_invoke.http"
    ))
    .unwrap();
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream.write_all(&raw).await.unwrap();
    let (status, _, body) = read_response(&mut stream).await.unwrap();
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    // Captured long ago, so its signature has expired: what matters is that hyper let the
    // `Host: http://…` header through and the verifier judged the request.
    assert_eq!(
        body["Response"]["Error"]["Code"],
        "AuthFailure.SignatureExpire"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_over_a_socket_runs() {
    let config = base_config().with_credentials(Credentials::single(SECRET_ID, SECRET_KEY));
    let server = start(config).await;
    let addr = server.local_addr();
    let body = br#"{"FunctionName":"hello"}"#;
    let host = addr.to_string();
    let ts = common::now();
    let auth = scf_http::auth::SigningRequest::new(SECRET_ID, SECRET_KEY, &host, ts, body)
        .authorization()
        .unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: Invoke\r\nX-TC-Version: 2018-04-16\r\nX-TC-Timestamp: {ts}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let (status, head, body) = read_response(&mut stream).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: application/json\r\n"),
        "{head}"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["Response"]["Result"]["RetMsg"], r#"{"hello":{}}"#);
    server.shutdown().await;
}
