//! The front door's HTTP/2 stream limit and keep-alive pings, each seen from a client
//! that speaks raw HTTP/2 frames over a real socket (so that it can break the rules a
//! well-behaved client library keeps): a stream over `http2_max_concurrent_streams` is
//! refused (`RST_STREAM` `REFUSED_STREAM`) while the streams within it stay open, and a
//! connection that stops answering the server's `PING`s is closed after the ping timeout,
//! long before any idle deadline. Real clock (the `real-time` group).

use crate::common;

use std::time::{Duration, Instant};

use scf_http::{Limits, RunningServer, Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const REFUSED_STREAM: u32 = 0x7;

/// A frame: 24-bit length, type, flags, 31-bit stream id, payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// `POST /` to authority `t` (HPACK: static-table `:method POST`, `:scheme http`,
/// `:path /`, `:authority` with a literal value), END_HEADERS, the stream left open.
fn post_headers(stream: u32) -> Vec<u8> {
    frame(HEADERS, 0x4, stream, &[0x83, 0x86, 0x84, 0x41, 0x01, b't'])
}

/// Reads one frame: (type, flags, stream, payload); `None` at EOF or an error.
async fn read_frame(s: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    s.read_exact(&mut head).await.ok()?;
    let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.ok()?;
    Some((head[3], head[4], stream, payload))
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

/// Opens an HTTP/2 connection (preface, empty SETTINGS, and an ACK of the server's).
async fn h2_connect(server: &RunningServer) -> TcpStream {
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(PREFACE).await.unwrap();
    s.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
    s.write_all(&frame(SETTINGS, 0x1, 0, &[])).await.unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_over_the_concurrent_stream_limit_is_refused() {
    let mut limits = Limits::default();
    limits.http2_max_concurrent_streams = 2;
    let server = start(limits).await;
    let mut s = h2_connect(&server).await;
    // Three streams at once, none ended: the third is over the limit.
    for id in [1, 3, 5] {
        s.write_all(&post_headers(id)).await.unwrap();
    }
    let mut advertised = None;
    let mut resets: Vec<(u32, u32)> = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some((kind, flags, stream, payload)) = read_frame(&mut s).await {
            if kind == SETTINGS && flags & 0x1 == 0 {
                // SETTINGS_MAX_CONCURRENT_STREAMS is identifier 3.
                for p in payload.chunks_exact(6) {
                    if u16::from_be_bytes([p[0], p[1]]) == 3 {
                        advertised = Some(u32::from_be_bytes([p[2], p[3], p[4], p[5]]));
                    }
                }
            }
            if kind == RST_STREAM {
                let code = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                resets.push((stream, code));
                if stream == 5 {
                    break;
                }
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "no RST_STREAM for stream 5 within 5 s; resets {resets:?}"
    );
    assert_eq!(
        advertised,
        Some(2),
        "the server's SETTINGS_MAX_CONCURRENT_STREAMS"
    );
    assert_eq!(
        resets.last(),
        Some(&(5, REFUSED_STREAM)),
        "stream 5 refused: {resets:?}"
    );
    assert!(
        !resets
            .iter()
            .any(|(id, code)| *id != 5 && *code == REFUSED_STREAM),
        "streams within the limit are not refused: {resets:?}"
    );
    // The connection still serves: a new stream once one of the first two is reset by us.
    s.write_all(&frame(RST_STREAM, 0, 1, &[0, 0, 0, 8]))
        .await
        .unwrap();
    s.write_all(&post_headers(7)).await.unwrap();
    let refused_again = tokio::time::timeout(Duration::from_millis(500), async {
        while let Some((kind, _, stream, payload)) = read_frame(&mut s).await {
            if kind == RST_STREAM && stream == 7 && payload[..4] == REFUSED_STREAM.to_be_bytes() {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        !matches!(refused_again, Ok(true)),
        "a stream opened after one closed is within the limit again"
    );
    drop(s);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_stops_answering_pings_is_closed() {
    let mut limits = Limits::default();
    limits.http2_keep_alive = (Duration::from_millis(300), Duration::from_millis(500));
    // Deadlines that must not be what closes it.
    limits.first_request_timeout = Duration::from_secs(60);
    limits.idle_timeout = Duration::from_secs(60);
    limits.header_read_timeout = Duration::from_secs(60);
    let server = start(limits).await;
    let mut s = h2_connect(&server).await;
    let opened = Instant::now();
    let mut pings = 0;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some((kind, flags, _, _)) = read_frame(&mut s).await {
            if kind == PING && flags & 0x1 == 0 {
                // Never answered.
                pings += 1;
            }
        }
    })
    .await;
    let took = opened.elapsed();
    assert!(
        closed.is_ok(),
        "a connection that answers no PING is still open after 10 s"
    );
    assert!(pings >= 1, "the server sent no PING before closing");
    assert!(
        took >= Duration::from_millis(700),
        "closed after {took:?}: before a ping interval and timeout had passed"
    );
    assert!(
        took < Duration::from_secs(5),
        "closed after {took:?}, with pings every 300 ms answered within 500 ms"
    );

    // A connection that answers the pings stays open past that time.
    let mut s = h2_connect(&server).await;
    let held = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some((kind, flags, _, payload)) = read_frame(&mut s).await {
            if kind == PING && flags & 0x1 == 0 {
                s.write_all(&frame(PING, 0x1, 0, &payload)).await.unwrap();
            }
        }
    })
    .await;
    assert!(
        held.is_err(),
        "a connection answering every PING was closed"
    );
    server.shutdown().await;
}
