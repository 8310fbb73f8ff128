//! A web function's response streamed through the gateway (issue 16): the head and each
//! chunk reach the client as the function's server writes them, chunked or with a
//! `Content-Length`; server-sent events one by one; a body growing past 6 MB is cut there
//! (410 in its record); the timeout mid-body cuts the response and kills the instance
//! (433); a client that goes away mid-stream stops the instance (499). Real Python
//! (`http.server`) and Node.js (`http`) servers, `tests/fixtures/web-stream`.
//!
//! Streaming is proven by order, not by time: the function writes its first part, then
//! waits for a file the test creates only once it has read that part; a gateway that
//! buffered the response would never show the first part before the file exists.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{api, dechunk, request, Served};

const PREFIXES: [(&str, &str, &str); 2] = [
    ("/py", "stream-python", "python"),
    ("/node", "stream-node", "node"),
];

/// The fixture copied to a temporary directory (the tests create gate files in its code
/// directories), served; `None` when python3 or node is missing and skips are allowed.
fn serve() -> Option<(Served, tempfile::TempDir)> {
    if !scf_testkit::require(&scf_testkit::PYTHON3) || !scf_testkit::require(&scf_testkit::NODE) {
        return None;
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web-stream");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture.join("template.yaml"),
        dir.path().join("template.yaml"),
    )
    .unwrap();
    for lang in ["python", "node"] {
        std::fs::create_dir(dir.path().join(lang)).unwrap();
        for entry in std::fs::read_dir(fixture.join(lang)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(lang).join(entry.file_name())).unwrap();
        }
    }
    let data = dir.path().join(".data");
    let served = Served::start(&dir.path().join("template.yaml"), &data, &[]);
    Some((served, dir))
}

/// A response read as it arrives.
struct Reader {
    socket: TcpStream,
    raw: Vec<u8>,
}

impl Reader {
    fn get(addr: &str, path: &str) -> Reader {
        let mut socket = TcpStream::connect(addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        socket.write_all(head.as_bytes()).unwrap();
        Reader {
            socket,
            raw: Vec::new(),
        }
    }

    /// Reads until what arrived contains `needle` (panics at the end of the response or
    /// after the read timeout).
    fn until(&mut self, needle: &str) {
        let mut buf = [0u8; 65536];
        while !String::from_utf8_lossy(&self.raw).contains(needle) {
            let n = self
                .socket
                .read(&mut buf)
                .unwrap_or_else(|e| panic!("waiting for {needle:?}: {e}; got {:?}", self.text()));
            assert!(
                n > 0,
                "the response ended before {needle:?}: {:?}",
                self.text()
            );
            self.raw.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads to the end of the connection; whether it ended cleanly (not reset).
    fn read_to_end(&mut self) -> bool {
        self.socket.read_to_end(&mut self.raw).is_ok()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The head as text, and the body as sent (still chunked if it was).
    fn split(&self) -> (String, Vec<u8>) {
        let at = self
            .raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a whole head");
        (
            String::from_utf8_lossy(&self.raw[..at]).to_ascii_lowercase(),
            self.raw[at + 4..].to_vec(),
        )
    }
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
}

/// The record of request `id` of `function`, once it is in the store.
fn record(addr: &str, function: &str, id: &str) -> Value {
    for _ in 0..100 {
        let page = api(
            addr,
            "GetFunctionLogs",
            json!({"FunctionName": function, "Limit": 100}),
        );
        let data = page["Data"].as_array().cloned().unwrap_or_default();
        if let Some(r) = data.into_iter().find(|r| r["RequestId"] == id) {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no record {id} of {function}");
}

fn gate(dir: &Path, lang: &str, name: &str) -> PathBuf {
    dir.join(lang).join(name)
}

#[test]
fn the_first_chunk_reaches_the_client_before_the_function_writes_the_rest_chunked_or_by_length() {
    let Some((served, dir)) = serve() else {
        return;
    };
    for (prefix, function, lang) in PREFIXES {
        for by_length in [false, true] {
            let name = format!("gate-{}", u8::from(by_length));
            let query = if by_length { "&length=1" } else { "" };
            let mut r = Reader::get(&served.addr, &format!("{prefix}/gated?gate={name}{query}"));
            r.until("first\n");
            assert!(!r.text().contains("second"), "{}", r.text());
            // Only now may the function write the rest.
            std::fs::write(gate(dir.path(), lang, &name), "").unwrap();
            assert!(r.read_to_end(), "{prefix}");
            let (head, body) = r.split();
            assert!(head.starts_with("http/1.1 200"), "{head}");
            let body = if by_length {
                assert_eq!(header(&head, "content-length"), Some("13"), "{head}");
                body
            } else {
                assert_eq!(
                    header(&head, "transfer-encoding"),
                    Some("chunked"),
                    "{head}"
                );
                assert!(body.ends_with(b"0\r\n\r\n"), "a complete chunked body");
                dechunk(&body)
            };
            assert_eq!(body, b"first\nsecond\n", "{prefix} length={by_length}");
            // The invocation's record: its lines, the bytes sent, success.
            let id = header(&head, "x-scf-requestid").unwrap().to_owned();
            let rec = record(&served.addr, function, &id);
            assert_eq!(rec["RetCode"], 0, "{rec}");
            assert!(
                rec["Log"].as_str().unwrap().contains("first chunk written"),
                "{rec}"
            );
            let ret: Value = serde_json::from_str(rec["RetMsg"].as_str().unwrap()).unwrap();
            assert_eq!(
                (ret["statusCode"].clone(), ret["bodyBytes"].clone()),
                (json!(200), json!(13))
            );
            std::fs::remove_file(gate(dir.path(), lang, &name)).unwrap();
        }
    }
}

#[test]
fn server_sent_events_reach_the_client_one_by_one() {
    let Some((served, dir)) = serve() else {
        return;
    };
    for (prefix, _, lang) in PREFIXES {
        let mut r = Reader::get(&served.addr, &format!("{prefix}/sse?gate=sse"));
        r.until("data: one\n\n");
        assert!(!r.text().contains("data: two"), "{}", r.text());
        std::fs::write(gate(dir.path(), lang, "sse"), "").unwrap();
        assert!(r.read_to_end());
        let (head, body) = r.split();
        assert_eq!(
            header(&head, "content-type"),
            Some("text/event-stream"),
            "{head}"
        );
        let text = String::from_utf8(dechunk(&body)).unwrap();
        let data: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect();
        assert_eq!(data, ["one", "two", "three"], "{prefix}: {text:?}");
    }
}

#[test]
fn a_streamed_body_growing_past_6_mb_is_cut_there_and_recorded_as_410() {
    let Some((served, _dir)) = serve() else {
        return;
    };
    for (prefix, function, _) in PREFIXES {
        let mut r = Reader::get(&served.addr, &format!("{prefix}/grow?mb=7"));
        r.read_to_end();
        let (head, body) = r.split();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        // No last chunk: the client sees it incomplete; at most the first 6 MB (what the
        // gateway had not written yet when it cut the connection is lost).
        assert!(
            !body.ends_with(b"0\r\n\r\n"),
            "{prefix}: the cut body ended as complete"
        );
        let got = dechunk(&body).len();
        assert!(
            (5 * 1024 * 1024..=6 * 1024 * 1024).contains(&got),
            "{prefix}: {got} bytes"
        );
        let id = header(&head, "x-scf-requestid").unwrap().to_owned();
        let rec = record(&served.addr, function, &id);
        let ret: Value = serde_json::from_str(rec["RetMsg"].as_str().unwrap()).unwrap();
        assert_eq!(ret["statusCode"], 410, "{rec}");
        assert_eq!(rec["RetCode"], 1, "{rec}");
        // A whole answer the next time: the function still serves.
        let (status, _, _) = request(
            &served.addr,
            "GET",
            &format!("{prefix}/grow?mb=1"),
            &[],
            b"",
        );
        assert_eq!(status, 200);
    }
}

#[test]
fn the_timeout_mid_body_cuts_the_response_kills_the_instance_and_is_recorded_as_433() {
    let Some((served, _dir)) = serve() else {
        return;
    };
    for (prefix, function, _) in PREFIXES {
        let started = Instant::now();
        let mut r = Reader::get(&served.addr, &format!("{prefix}/drip"));
        r.until("tick\n");
        r.read_to_end();
        // The function's Timeout is 3 s.
        assert!(
            started.elapsed() >= Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let (head, body) = r.split();
        assert!(
            !body.ends_with(b"0\r\n\r\n"),
            "{prefix}: a cut body ended as complete"
        );
        assert!(String::from_utf8_lossy(&dechunk(&body)).starts_with("tick\n"));
        let id = header(&head, "x-scf-requestid").unwrap().to_owned();
        let rec = record(&served.addr, function, &id);
        let ret: Value = serde_json::from_str(rec["RetMsg"].as_str().unwrap()).unwrap();
        assert_eq!(ret["statusCode"], 433, "{rec}");
        // The next request gets a new instance: the dripping one was killed.
        let before = header(&head, "x-instance").unwrap().to_owned();
        let (_, after, _) = request(&served.addr, "GET", &format!("{prefix}/nowhere"), &[], b"");
        let after = after
            .iter()
            .find(|(k, _)| k == "x-instance")
            .unwrap()
            .1
            .clone();
        assert_ne!(before, after, "{prefix}");
    }
}

#[test]
fn a_client_that_goes_away_mid_stream_stops_the_instance_and_is_recorded_as_499() {
    let Some((served, _dir)) = serve() else {
        return;
    };
    for (prefix, function, _) in PREFIXES {
        let started = Instant::now();
        let mut r = Reader::get(&served.addr, &format!("{prefix}/drip"));
        r.until("tick\n");
        let (head, _) = r.split();
        drop(r);
        let id = header(&head, "x-scf-requestid").unwrap().to_owned();
        let rec = record(&served.addr, function, &id);
        let ret: Value = serde_json::from_str(rec["RetMsg"].as_str().unwrap()).unwrap();
        assert_eq!(ret["statusCode"], 499, "{rec}");
        // Ended by the client, not by the 3 s timeout.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let before = header(&head, "x-instance").unwrap().to_owned();
        let (status, after, _) =
            request(&served.addr, "GET", &format!("{prefix}/nowhere"), &[], b"");
        assert_eq!(status, 404);
        let after = after
            .iter()
            .find(|(k, _)| k == "x-instance")
            .unwrap()
            .1
            .clone();
        assert_ne!(before, after, "{prefix}: the instance was not stopped");
    }
}
