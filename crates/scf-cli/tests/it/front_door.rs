//! `scf serve` under abuse, as a real process: unsigned floods of large bodies, bodies
//! over the limit sent whole by clients that read only afterwards (Python's
//! `http.client`, curl), measured on the process itself (`/proc/<pid>/status`).

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{project, Served};

const TEN_MB: usize = 10 * 1024 * 1024;

/// A field of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Sends an unsigned `Invoke` with a body of `len` bytes (declared with Content-Length)
/// whole, then reads the answer.
fn unsigned_post(addr: &str, len: usize) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-TC-Action: Invoke\r\nX-TC-Version: 2018-04-16\r\nContent-Length: {len}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        s.write_all(&chunk[..n])
            .expect("the whole body is accepted");
        left -= n;
    }
    let mut answer = vec![0u8; 4096];
    let n = s.read(&mut answer).expect("the answer is readable");
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[test]
fn forty_unsigned_ten_mb_bodies_at_once_keep_the_server_under_100_mb() {
    let data = tempfile::tempdir().unwrap();
    let s = Served::start(
        &project(),
        data.path(),
        &["--secret-id", "AKIDfront", "--secret-key", "front-secret"],
    );
    let pid = s.child.id();
    let before = status_kb(pid, "VmRSS");
    let clients: Vec<_> = (0..40)
        .map(|_| {
            let addr = s.addr.clone();
            std::thread::spawn(move || unsigned_post(&addr, TEN_MB))
        })
        .collect();
    for c in clients {
        let answer = c.join().unwrap();
        assert!(
            answer.contains("AuthFailure.InvalidAuthorization"),
            "{answer}"
        );
    }
    let peak = status_kb(pid, "VmHWM");
    eprintln!("scf serve resident memory: {before} kB before, peak {peak} kB");
    assert!(peak < 100 * 1024, "peak resident memory {peak} kB");
}

#[test]
fn a_body_over_the_limit_sent_whole_gets_its_answer_with_python_and_curl() {
    let data = tempfile::tempdir().unwrap();
    let s = Served::start(&project(), data.path(), &[]);
    let over = TEN_MB + 1;

    // Python's http.client sends the whole body before it reads the answer.
    let script = format!(
        r#"
import http.client, json
c = http.client.HTTPConnection("{addr}", timeout=60)
c.request("POST", "/", body=b" " * {over}, headers={{"Content-Type": "application/json", "X-TC-Action": "Invoke", "X-TC-Version": "2018-04-16"}})
r = c.getresponse()
print(r.status, json.loads(r.read())["Response"]["Error"]["Code"])
"#,
        addr = s.addr
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "200 InvalidParameter.RequestTooLarge"
    );

    // curl (which asks `Expect: 100-continue` for a large body, so it sends none).
    let body = data.path().join("big.json");
    std::fs::write(&body, vec![b' '; over]).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-X", "POST", "-H", "Content-Type: application/json"])
        .args([
            "-H",
            "X-TC-Action: Invoke",
            "-H",
            "X-TC-Version: 2018-04-16",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(format!("http://{}/", s.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["Response"]["Error"]["Code"], "InvalidParameter.RequestTooLarge",
        "{answer}"
    );

    // The gateway's 6 MB limit, the whole body sent by http.client.
    let script = format!(
        r#"
import http.client
c = http.client.HTTPConnection("{addr}", timeout=60)
c.request("POST", "/hello", body=b"x" * (6 * 1024 * 1024 + 1))
r = c.getresponse()
print(r.status)
"#,
        addr = s.addr
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "413");
}
