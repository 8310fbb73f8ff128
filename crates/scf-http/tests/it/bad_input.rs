//! Bad input against a real server, one socket per case: the cases are in
//! `tests/fixtures/bad_input.json` (what is sent, what must come back, and why). After
//! every case a good `Invoke` must be answered. Real sockets and the real clock (the
//! first-request deadline is made 500 ms here), so it runs in the `real-time` group.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use scf_http::apigw::Route;
use scf_http::{Limits, Server, ServerConfig};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bytes of a case's body.
fn body_bytes(body: &Value) -> (Vec<u8>, bool) {
    match body {
        Value::String(s) => (s.as_bytes().to_vec(), false),
        Value::Object(o) if o.contains_key("hex") => {
            let hex = o["hex"].as_str().unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (bytes, false)
        }
        Value::Object(o) => {
            let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
            let times = o["times"].as_u64().unwrap() as usize;
            let mut out = text("prefix").as_bytes().to_vec();
            out.extend(text("repeat").repeat(times).as_bytes());
            out.extend(text("suffix").as_bytes());
            (
                out,
                o.get("chunked").and_then(Value::as_bool).unwrap_or(false),
            )
        }
        other => panic!("a body is a string or an object, not {other}"),
    }
}

/// What came back: `None` when the server closed without an answer.
struct Answer {
    status: u16,
    body: String,
}

async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.ok()?;
    Some(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Runs one case; `Err` says how it differs from what the fixture expects.
async fn run_case(addr: SocketAddr, case: &Value) -> Result<(), String> {
    let (body, chunked) = body_bytes(&case["body"]);
    let head = case["head"]
        .as_str()
        .unwrap()
        .replace("{addr}", &addr.to_string())
        .replace("{now}", &common::now().to_string())
        .replace("{len}", &body.len().to_string());
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    // A write may fail once the server has answered and closed; the answer is what counts.
    let _ = stream.write_all(head.as_bytes()).await;
    if chunked {
        for chunk in body.chunks(64 * 1024) {
            let frame = format!("{:x}\r\n", chunk.len());
            if stream.write_all(frame.as_bytes()).await.is_err()
                || stream.write_all(chunk).await.is_err()
                || stream.write_all(b"\r\n").await.is_err()
            {
                break;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    } else {
        let _ = stream.write_all(&body).await;
    }
    let expect = &case["expect"];
    if expect["nothing"].as_bool() == Some(true) {
        drop(stream);
        return Ok(());
    }
    let answer = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut stream))
        .await
        .map_err(|_| "no answer and no close within 20 s".to_string())?;
    if expect["closed"].as_bool() == Some(true) {
        return match answer {
            None => Ok(()),
            Some(a) => Err(format!(
                "answered {} {} instead of closing",
                a.status, a.body
            )),
        };
    }
    let answer = answer.ok_or("closed without an answer")?;
    let want = expect["status"].as_u64().unwrap_or(200) as u16;
    if answer.status != want {
        return Err(format!(
            "status {} (want {want}): {}",
            answer.status, answer.body
        ));
    }
    let json: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    if let Some(errno) = expect.get("errno") {
        if &json["errno"] != errno {
            return Err(format!("errno: {}", answer.body));
        }
    }
    if let Some(code) = expect.get("code") {
        let got = &json["Response"]["Error"]["Code"];
        let ok = match code {
            Value::Null => got.is_null() && json["Response"].is_object(),
            c => got == c,
        };
        if !ok {
            return Err(format!("code (want {code}): {}", answer.body));
        }
    }
    if let Some(part) = expect.get("message").and_then(Value::as_str) {
        if !answer.body.contains(part) {
            return Err(format!("message without {part:?}: {}", answer.body));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_case_is_answered_as_the_fixture_says_and_a_good_invoke_follows() {
    let mut limits = Limits::default();
    limits.first_request_timeout = Duration::from_millis(500);
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_signals(false)
        .with_limits(limits)
        .with_route(Route::new("ANY", "/web/{x}", "web").unwrap());
    let server = Server::new(config, common::invoker())
        .unwrap()
        .bind()
        .await
        .unwrap();
    let addr = server.local_addr();
    let fixture = common::fixture("bad_input.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "{}", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        if let Err(e) = run_case(addr, case).await {
            failures.push(format!("{name}: {e}"));
        }
        let good = common::raw_post(addr, "/", br#"{"FunctionName":"hello"}"#, "Invoke").await;
        if !good.contains(r#""InvokeResult":0"#) {
            failures.push(format!("{name}: the good Invoke after it got {good}"));
        }
    }
    server.shutdown().await;
    let shown: Vec<String> = failures
        .iter()
        .map(|f| f.chars().take(400).collect())
        .collect();
    assert!(
        shown.is_empty(),
        "{} case(s) failed:\n{}",
        shown.len(),
        shown.join("\n")
    );
}
