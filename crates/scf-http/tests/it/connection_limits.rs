//! Connections that never send a request, connections left idle, and one peer holding
//! many connections: each is closed by a deadline or refused by the per-peer cap, and a
//! good client is answered meanwhile. Real sockets and the real clock (the `real-time`
//! group), with the deadlines and caps made small through `Limits`.

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::Empty;
use scf_http::{Limits, RunningServer, Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// What a client that opens a connection and then stalls sends.
#[derive(Debug, Clone, Copy)]
enum Stall {
    /// Nothing.
    Silent,
    /// One byte, `P`: the start of both `POST` and the HTTP/2 preface.
    OneByte,
    /// The HTTP/2 preface and an empty SETTINGS frame, then no stream.
    PrefaceOnly,
}

impl Stall {
    const ALL: [Stall; 3] = [Stall::Silent, Stall::OneByte, Stall::PrefaceOnly];

    fn bytes(self) -> &'static [u8] {
        match self {
            Stall::Silent => b"",
            Stall::OneByte => b"P",
            Stall::PrefaceOnly => {
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
            }
        }
    }
}

async fn start(limits: Limits) -> RunningServer {
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_signals(false)
        .with_limits(limits);
    Server::new(config, common::invoker())
        .unwrap()
        .bind()
        .await
        .unwrap()
}

/// A connection to `addr` from the loopback address `from` (127.0.0.x are all loopback
/// on Linux, so each is a distinct peer).
async fn connect_from(from: [u8; 4], addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(addr).await
}

/// Opens a stalled connection; resolves when the server closes it.
async fn stalled(from: [u8; 4], addr: SocketAddr, stall: Stall) -> std::io::Result<()> {
    let mut s = connect_from(from, addr).await?;
    s.write_all(stall.bytes()).await?;
    let mut buf = [0u8; 256];
    loop {
        // The server's SETTINGS and the like may come first; the end is EOF or a reset.
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

/// A good `Invoke` on a fresh connection; its round trip.
async fn good_invoke(addr: SocketAddr) -> Duration {
    let began = Instant::now();
    let answer = common::raw_post(addr, "/", br#"{"FunctionName":"hello"}"#, "Invoke").await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains(r#""InvokeResult":0"#),
        "{answer}"
    );
    began.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_are_dropped_at_the_first_request_deadline() {
    let mut limits = Limits::default();
    limits.first_request_timeout = Duration::from_millis(600);
    let server = start(limits).await;
    let addr = server.local_addr();
    for stall in Stall::ALL {
        let began = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), stalled([127, 0, 0, 1], addr, stall))
            .await
            .unwrap_or_else(|_| panic!("{stall:?}: still open after 5 s"))
            .unwrap();
        let took = began.elapsed();
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_secs(3),
            "{stall:?}: closed after {took:?}, the deadline is 600 ms"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_and_http2_connections_are_closed_after_the_idle_timeout() {
    let mut limits = Limits::default();
    limits.idle_timeout = Duration::from_millis(700);
    limits.header_read_timeout = Duration::from_secs(30);
    let server = start(limits).await;
    let addr = server.local_addr();

    // HTTP/1.1 keep-alive: one request, then nothing.
    let mut h1 = TcpStream::connect(addr).await.unwrap();
    h1.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    assert!(h1.read(&mut buf).await.unwrap() > 0);
    let answered = Instant::now();
    let eof = tokio::time::timeout(Duration::from_secs(5), async {
        while h1.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    assert!(eof.is_ok(), "the idle HTTP/1.1 connection is still open");
    assert!(answered.elapsed() >= Duration::from_millis(600));

    // HTTP/2: one request, then nothing; the connection ends (GOAWAY, then close).
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let conn = tokio::spawn(conn);
    let request = http::Request::get(format!("http://{addr}/healthz"))
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    assert_eq!(sender.send_request(request).await.unwrap().status(), 200);
    let answered = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the idle HTTP/2 connection is still open")
        .unwrap()
        .ok();
    assert!(answered.elapsed() >= Duration::from_millis(600));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_over_its_connection_cap_is_closed_at_once() {
    let mut limits = Limits::default();
    limits.max_connections_per_peer = 2;
    let server = start(limits).await;
    let addr = server.local_addr();
    let _a = connect_from([127, 0, 0, 2], addr).await.unwrap();
    let _b = connect_from([127, 0, 0, 2], addr).await.unwrap();
    let began = Instant::now();
    stalled([127, 0, 0, 2], addr, Stall::Silent).await.unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    // Another peer is served.
    assert!(good_invoke(addr).await < Duration::from_secs(1));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_client_is_answered_within_a_second_while_stalled_clients_fill_the_cap() {
    let mut limits = Limits::default();
    limits.max_connections = 8;
    limits.max_connections_per_peer = 2;
    limits.first_request_timeout = Duration::from_secs(2);
    let server = start(limits).await;
    let addr = server.local_addr();
    let run_for = Duration::from_secs(5);
    let began = Instant::now();
    // Three peers (127.0.0.2-4), each with 10 clients of each kind, reconnecting as soon
    // as they are closed: far more than the cap of 8 connections.
    let mut attackers = Vec::new();
    for peer in 2..=4u8 {
        for stall in Stall::ALL {
            for _ in 0..10 {
                attackers.push(tokio::spawn(async move {
                    while began.elapsed() < run_for {
                        if stalled([127, 0, 0, peer], addr, stall).await.is_err() {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }));
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut worst = Duration::ZERO;
    let mut calls = 0;
    while began.elapsed() < run_for {
        let took = tokio::time::timeout(Duration::from_secs(3), good_invoke(addr))
            .await
            .expect("a good Invoke was not answered within 3 s");
        worst = worst.max(took);
        calls += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{calls} good Invokes, the slowest {worst:?}");
    assert!(calls > 10, "{calls}");
    assert!(
        worst < Duration::from_secs(1),
        "the slowest of {calls} good Invokes took {worst:?}"
    );
    for a in attackers {
        a.abort();
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_the_servers_body_budget_are_refused_and_the_budget_comes_back() {
    let mut limits = Limits::default();
    limits.body_budget_bytes = 1024 * 1024;
    let server = start(limits).await;
    let addr = server.local_addr();
    let big = format!(
        r#"{{"FunctionName":"hello","ClientContext":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let answer = common::raw_post(addr, "/", big.as_bytes(), "Invoke").await;
    assert!(
        answer.contains(r#""Code":"RequestLimitExceeded""#),
        "{answer}"
    );
    assert!(
        answer.contains("The request body was not read: the server is reading other request bodies up to its budget of 1048576 bytes; retry later."),
        "{answer}"
    );
    // Within the budget, again and again: what a request held is given back.
    let small = format!(
        r#"{{"FunctionName":"hello","ClientContext":"{{\"k\":\"{}\"}}"}}"#,
        "x".repeat(600 * 1024)
    );
    for _ in 0..3 {
        let answer = common::raw_post(addr, "/", small.as_bytes(), "Invoke").await;
        assert!(
            answer.contains(r#""InvokeResult":0"#),
            "{}",
            &answer[..300.min(answer.len())]
        );
    }
    server.shutdown().await;
}
