//! The runtime on the lean transport of `scf serve` (`SCF_RUNTIME_SOCKET`), against a
//! raw Unix-socket peer: one ready frame, then each event frame answered by an error or a
//! response frame on the same connection.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use scf_runtime::RuntimeConfig;
use serde_json::{json, Value};

fn read_frame(s: &mut UnixStream) -> (u8, Vec<u8>) {
    let mut head = [0; 5];
    s.read_exact(&mut head).unwrap();
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    let mut body = vec![0; usize::try_from(len).unwrap()];
    s.read_exact(&mut body).unwrap();
    (head[0], body)
}

fn send_event(s: &mut UnixStream, request_id: &str, mem: u32, ms: u64, event: &str) {
    let payload = format!("{request_id}\n{mem}\n{ms}\n{{}}\n{event}");
    let mut frame = vec![b'I'];
    frame.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(payload.as_bytes());
    s.write_all(&frame).unwrap();
}

#[test]
fn ready_once_then_each_event_frame_is_answered_on_the_same_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let socket = path.to_string_lossy().into_owned();
    let config = RuntimeConfig::from_lookup(|k| match k {
        "SCF_RUNTIME_API" => Some("127.0.0.1".into()),
        // Nothing listens there: every exchange must go over the socket.
        "SCF_RUNTIME_API_PORT" => Some("9".into()),
        "SCF_RUNTIME_SOCKET" => Some(socket.clone()),
        "_HANDLER" => Some("index.main_handler".into()),
        _ => None,
    })
    .unwrap();
    crate::common::serve_echo_in_background(config);
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(read_frame(&mut s).0, b'R', "a ready frame first");
    send_event(&mut s, "r1", 512, 7000, "{not json");
    let (kind, body) = read_frame(&mut s);
    assert_eq!(kind, b'E', "a malformed event is an error frame");
    let err: Value = serde_json::from_slice(&body).unwrap();
    crate::common::assert_parse_error(&err, "r1");
    send_event(&mut s, "r2", 64, 1000, r#"{"key":"abctest"}"#);
    let (kind, body) = read_frame(&mut s);
    assert_eq!(kind, b'O');
    let ok: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        ok,
        json!({"e": {"key": "abctest"}, "rid": "r2", "mem": 64, "ms": 1000})
    );
}
