//! What the real server never sends, from a raw-socket peer: bytes that are not JSON,
//! headers in the CN doc's capitalisation, and a count of `init/ready` posts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use scf_runtime::RuntimeConfig;
use serde_json::{json, Value};

struct Req {
    method: String,
    path: String,
    body: String,
}

fn read_req(r: &mut BufReader<TcpStream>) -> Option<Req> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(w: &mut TcpStream, extra: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    );
    w.write_all(msg.as_bytes())
        .expect("the client reads what the peer writes");
}

#[test]
fn malformed_events_and_capitalised_headers_over_one_kept_alive_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = RuntimeConfig::from_lookup(|k| match k {
        "SCF_RUNTIME_API" => Some("127.0.0.1".into()),
        "SCF_RUNTIME_API_PORT" => Some(port.to_string()),
        "_HANDLER" => Some("index.main_handler".into()),
        "SCF_FUNCTIONNAME" => Some("raw".into()),
        // A socket that cannot be reached: the runtime falls back to the HTTP API.
        "SCF_RUNTIME_SOCKET" => Some("/nonexistent/scf-runtime.sock".into()),
        _ => None,
    })
    .unwrap();
    crate::common::serve_echo_in_background(config);
    let (stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let mut readies = 0;
    let mut pushes = Vec::new();
    let events = [
        (
            "Request_Id: r1\r\nMemory_Limit_In_Mb: 512\r\nTime_Limit_In_Ms: 7000\r\n",
            "{not json",
        ),
        (
            "REQUEST_ID: r2\r\nmemory_limit_in_mb: 64\r\ntime_limit_in_ms: 1000\r\n",
            r#"{"key":"abctest"}"#,
        ),
    ];
    let mut next = 0;
    while pushes.len() < 2 {
        let req = read_req(&mut r).expect("the runtime keeps its one connection open");
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/runtime/init/ready") => {
                readies += 1;
                respond(&mut w, "", "");
            }
            ("GET", "/runtime/invocation/next") => {
                let (headers, body) = events[next];
                next += 1;
                respond(&mut w, headers, body);
            }
            ("POST", p) => {
                pushes.push((p.to_string(), req.body));
                respond(&mut w, "", "");
            }
            other => panic!("unexpected request {other:?}"),
        }
    }
    assert_eq!(readies, 1, "init/ready is posted once");
    assert_eq!(pushes[0].0, "/runtime/invocation/error");
    let err: Value = serde_json::from_str(&pushes[0].1).unwrap();
    crate::common::assert_parse_error(&err, "r1");
    assert_eq!(pushes[1].0, "/runtime/invocation/response");
    let ok: Value = serde_json::from_str(&pushes[1].1).unwrap();
    assert_eq!(
        ok,
        json!({"e": {"key": "abctest"}, "rid": "r2", "mem": 64, "ms": 1000})
    );
}

#[test]
fn missing_and_malformed_variables_are_named() {
    let err = RuntimeConfig::from_lookup(|_| None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable SCF_RUNTIME_API is not set: this program is an SCF Custom Runtime bootstrap and must be started by SCF or `scf serve`"
    );
    let err = RuntimeConfig::from_lookup(|k| match k {
        "SCF_RUNTIME_API" => Some("127.0.0.1".into()),
        "SCF_RUNTIME_API_PORT" => Some("http".into()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"environment variable SCF_RUNTIME_API_PORT is "http": must be a port number from 1 to 65535"#
    );
}

#[test]
fn the_example_binary_exits_with_one_clear_line_when_not_under_scf() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "scf-runtime", "--example", "hello"])
        .env_remove("SCF_RUNTIME_API")
        .env_remove("SCF_RUNTIME_API_PORT")
        .env_remove("_HANDLER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("scf-runtime:"))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("SCF_RUNTIME_API is not set"), "{err}");
}
