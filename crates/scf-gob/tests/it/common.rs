//! The messages of scf-go-lib as plain test values, and their gob and JSON forms (the JSON
//! is what the Go checker reads and writes: `[]byte` as base64, nil as `null`).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use proptest::prelude::*;
use scf_gob::{split_message, Decoder, Value};
use serde_json::{json, Value as Json};

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Request {
    pub(crate) payload: Vec<u8>,
    pub(crate) request_id: String,
    pub(crate) seconds: i64,
    pub(crate) nanos: i64,
    pub(crate) client_context: Vec<u8>,
    pub(crate) namespace: String,
    pub(crate) memory: i32,
    pub(crate) time_limit: i32,
    pub(crate) environment: String,
    pub(crate) uin: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Frame {
    pub(crate) path: String,
    pub(crate) line: i32,
    pub(crate) label: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) kind: String,
    pub(crate) frames: Vec<Frame>,
    pub(crate) should_exit: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Response {
    pub(crate) payload: Vec<u8>,
    pub(crate) error: Option<Failure>,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "\\PC{0,24}", "[a-z0-9-]{1,36}"]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..48)
}

pub(crate) fn request() -> impl Strategy<Value = Request> {
    (
        (bytes(), text(), any::<i64>(), any::<i64>(), bytes()),
        (text(), any::<i32>(), any::<i32>(), text(), text()),
    )
        .prop_map(
            |(
                (payload, request_id, seconds, nanos, client_context),
                (namespace, memory, time_limit, environment, uin),
            )| Request {
                payload,
                request_id,
                seconds,
                nanos,
                client_context,
                namespace,
                memory,
                time_limit,
                environment,
                uin,
            },
        )
}

pub(crate) fn response() -> impl Strategy<Value = Response> {
    let frame =
        (text(), any::<i32>(), text()).prop_map(|(path, line, label)| Frame { path, line, label });
    let failure = (
        text(),
        text(),
        prop::collection::vec(frame, 0..4),
        any::<bool>(),
    )
        .prop_map(|(message, kind, frames, should_exit)| Failure {
            message,
            kind,
            frames,
            should_exit,
        });
    (bytes(), prop::option::of(failure)).prop_map(|(payload, error)| Response { payload, error })
}

pub(crate) fn request_value(r: &Request) -> Value {
    Value::record([
        ("Payload", Value::Bytes(r.payload.clone())),
        ("RequestId", Value::String(r.request_id.clone())),
        (
            "Deadline",
            Value::record([
                ("Seconds", Value::Int(r.seconds)),
                ("Nanos", Value::Int(r.nanos)),
            ]),
        ),
        ("ClientContext", Value::Bytes(r.client_context.clone())),
        ("Namespace", Value::String(r.namespace.clone())),
        ("MemoryLimitInMb", Value::Int(i64::from(r.memory))),
        ("TimeLimitInMs", Value::Int(i64::from(r.time_limit))),
        ("Environment", Value::String(r.environment.clone())),
        ("TencentcloudUin", Value::String(r.uin.clone())),
    ])
}

pub(crate) fn response_value(r: &Response) -> Value {
    let mut fields = vec![("Payload", Value::Bytes(r.payload.clone()))];
    if let Some(e) = &r.error {
        let frames = e
            .frames
            .iter()
            .map(|f| {
                Value::record([
                    ("Path", Value::String(f.path.clone())),
                    ("Line", Value::Int(i64::from(f.line))),
                    ("Label", Value::String(f.label.clone())),
                ])
            })
            .collect();
        fields.push((
            "Error",
            Value::record([
                ("Message", Value::String(e.message.clone())),
                ("Type", Value::String(e.kind.clone())),
                ("StackTrace", Value::List(frames)),
                ("ShouldExit", Value::Bool(e.should_exit)),
            ]),
        ));
    }
    Value::record(fields)
}

fn b64(b: &[u8]) -> Json {
    if b.is_empty() {
        Json::Null
    } else {
        json!(base64::engine::general_purpose::STANDARD.encode(b))
    }
}

pub(crate) fn request_json(r: &Request) -> Json {
    json!({
        "Payload": b64(&r.payload), "RequestId": r.request_id, "TraceId": "",
        "Deadline": {"Seconds": r.seconds, "Nanos": r.nanos},
        "InvokedFunctionUnique": "", "ClientContext": b64(&r.client_context),
        "Namespace": r.namespace, "FunctionName": "", "FunctionVersion": "",
        "MemoryLimitInMb": r.memory, "TimeLimitInMs": r.time_limit,
        "Environment": r.environment, "TencentcloudRegion": "", "TencentcloudAppID": "",
        "TencentcloudUin": r.uin, "FunctionTrace": "",
    })
}

pub(crate) fn response_json(r: &Response) -> Json {
    let error = match &r.error {
        None => Json::Null,
        Some(e) => json!({
            "Message": e.message, "Type": e.kind,
            "StackTrace": if e.frames.is_empty() { Json::Null } else {
                e.frames.iter().map(|f| json!({"Path": f.path, "Line": f.line, "Label": f.label})).collect()
            },
            "ShouldExit": e.should_exit,
        }),
    };
    json!({"Payload": b64(&r.payload), "Error": error})
}

fn int(v: &Value, name: &str) -> i64 {
    v.field(name).and_then(Value::as_i64).unwrap_or(0)
}

fn string(v: &Value, name: &str) -> String {
    v.field(name)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn byte_vec(v: &Value, name: &str) -> Vec<u8> {
    v.field(name)
        .and_then(Value::as_bytes)
        .unwrap_or(&[])
        .to_vec()
}

/// A decoded `InvokeRequest`, Go's omitted zero values filled in.
pub(crate) fn request_from(v: &Value) -> Request {
    let deadline = v
        .field("Deadline")
        .cloned()
        .unwrap_or(Value::Struct(Vec::new()));
    Request {
        payload: byte_vec(v, "Payload"),
        request_id: string(v, "RequestId"),
        seconds: int(&deadline, "Seconds"),
        nanos: int(&deadline, "Nanos"),
        client_context: byte_vec(v, "ClientContext"),
        namespace: string(v, "Namespace"),
        memory: i32::try_from(int(v, "MemoryLimitInMb")).unwrap(),
        time_limit: i32::try_from(int(v, "TimeLimitInMs")).unwrap(),
        environment: string(v, "Environment"),
        uin: string(v, "TencentcloudUin"),
    }
}

/// A decoded `InvokeResponse`.
pub(crate) fn response_from(v: &Value) -> Response {
    Response {
        payload: byte_vec(v, "Payload"),
        error: v.field("Error").map(|e| Failure {
            message: string(e, "Message"),
            kind: string(e, "Type"),
            frames: match e.field("StackTrace") {
                Some(Value::List(items)) => items
                    .iter()
                    .map(|f| Frame {
                        path: string(f, "Path"),
                        line: i32::try_from(int(f, "Line")).unwrap(),
                        label: string(f, "Label"),
                    })
                    .collect(),
                _ => Vec::new(),
            },
            should_exit: e
                .field("ShouldExit")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }),
    }
}

/// Every value of a gob stream, in order.
pub(crate) fn decode_stream(bytes: &[u8]) -> Vec<Value> {
    let mut decoder = Decoder::new();
    let mut rest = bytes;
    let mut values = Vec::new();
    while let Some((message, used)) = split_message(rest).unwrap() {
        if let Some(v) = decoder.decode_message(message).unwrap() {
            values.push(v);
        }
        rest = &rest[used..];
    }
    assert!(rest.is_empty(), "{} bytes left over", rest.len());
    values
}

/// The Go checker, built once per test process; `None` when `go` is missing and skips
/// are allowed.
pub(crate) fn gobcheck() -> Option<&'static PathBuf> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        if !scf_testkit::require(&scf_testkit::GO) {
            return None;
        }
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gobcheck");
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-bin");
        Some(scf_testkit::go::build(&src, &out, "gobcheck"))
    })
    .as_ref()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs the checker with `args` and `input`; its stdout.
pub(crate) fn run(bin: &PathBuf, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gobcheck {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
