//! The Go runtime (`Go1`): the function's executable, built with Tencent's scf-go-lib,
//! serves Go's net/rpc (gob) on the port in `_LAMBDA_SERVER_PORT` instead of calling the
//! Custom Runtime API. A driver task of the host, one per instance, stands in for the
//! bootstrap: it connects to that port (inside the instance's network namespace), calls
//! `Function.Ping` until the program answers, reports the instance ready, and then turns
//! every invocation the host dispatches into a `Function.Invoke` call and its reply into
//! the invocation's outcome, through the Runtime API's in-process client. Timeouts,
//! memory, logs (the program's stdout and stderr) and crashes are the host's, as for
//! every runtime.
//!
//! A returned `error` is a 430 with scf-go-lib's `Type` (the Go type's name) and message;
//! a panic is the same with its stack frames as the trace, and as scf-go-lib asks for it
//! (`ShouldExit`), the instance is stopped after it.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scf_gob::{messages, RpcClient, Value};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::instance::Exit;
use crate::runtime_api::{Dispatch, LocalClient, Outcome};
use crate::spec::{is_executable, ProcessError};

/// The port the program listens on inside its own network namespace (SCF lists
/// `_SCF_SERVER_PORT=28902` among a function's variables).
pub(crate) const RPC_PORT: u16 = 28902;

/// Checks that the handler names an executable file in the code directory.
pub(crate) fn validate(code_dir: &Path, handler: &str) -> Result<(), ProcessError> {
    let path = code_dir.join(handler);
    let problem = if handler.is_empty() || handler.split('/').any(|p| p == ".." || p.is_empty()) {
        Some(format!(
            "a Go1 function's handler is the name of its executable in the code directory (e.g. `main`), not {handler:?}"
        ))
    } else {
        match std::fs::metadata(&path) {
            Err(e) => Some(format!(
                "a Go1 function's handler names its executable, built with `GOOS=linux GOARCH=amd64 go build -o {handler}` and scf-go-lib: {e}"
            )),
            Ok(m) if !m.is_file() => Some("the handler must name a file".into()),
            Ok(_) if !is_executable(&path) => Some(format!(
                "is not executable: set its execute permission (chmod 755 {handler})"
            )),
            Ok(_) => None,
        }
    };
    match problem {
        Some(problem) => Err(ProcessError::Bootstrap { path, problem }),
        None => Ok(()),
    }
}

/// The port a new instance's program is to listen on: [`RPC_PORT`] in a network namespace
/// of its own, else a port free on the host's loopback now.
pub(crate) fn port(netns: bool) -> std::io::Result<u16> {
    if netns {
        return Ok(RPC_PORT);
    }
    let probe = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(probe.local_addr()?.port())
}

/// What the driver of one instance needs.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) api: LocalClient,
    pub(crate) exit: watch::Receiver<Option<Exit>>,
    /// The instance's process group.
    pub(crate) pid: u32,
    /// A pidfd of a process in the instance's network namespace (`None`: the host's).
    pub(crate) netns: Option<OwnedFd>,
    pub(crate) port: u16,
}

/// Starts the driver; it ends when the instance's process does.
pub(crate) fn drive(driver: Driver) {
    let mut exit = driver.exit.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = exit.wait_for(Option::is_some) => {}
            result = serve(&driver) => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "the Go1 function's RPC connection failed; stopping the instance");
                }
                kill(&driver);
            }
        }
    });
}

fn kill(driver: &Driver) {
    use rustix::process::{kill_process_group, pidfd_send_signal, Pid, Signal};
    if let Some(pid) = i32::try_from(driver.pid).ok().and_then(Pid::from_raw) {
        // ESRCH: the group is gone already.
        let _ = kill_process_group(pid, Signal::KILL);
    }
    if let Some(fd) = &driver.netns {
        let _ = pidfd_send_signal(fd, Signal::KILL);
    }
}

/// Connects, pings, reports ready, then serves invocations until the connection fails.
async fn serve(driver: &Driver) -> Result<(), String> {
    let mut conn = connect(driver).await?;
    let mut rpc = RpcClient::new();
    let pong = call(
        &mut conn,
        &mut rpc,
        "Function.Ping",
        messages::ping_request(),
        &Value::record([]),
    )
    .await?;
    if let Some(e) = pong.error {
        return Err(format!("Function.Ping answered an error: {e}"));
    }
    driver.api.ready();
    loop {
        let fetched = driver.api.next().await;
        let request = invoke_request(fetched.dispatch());
        let reply = call(
            &mut conn,
            &mut rpc,
            "Function.Invoke",
            messages::invoke_request(),
            &request,
        )
        .await?;
        let (outcome, should_exit) = outcome(reply, &fetched.dispatch().request_id);
        if should_exit {
            // Before the push, so that the instance is never handed another event.
            kill(driver);
        }
        driver.api.push(&fetched, outcome);
        if should_exit {
            return Ok(());
        }
    }
}

/// Connects to the program's port, waiting for it to listen.
async fn connect(driver: &Driver) -> Result<TcpStream, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, driver.port));
    let mut pause = Duration::from_millis(1);
    loop {
        let attempt = match &driver.netns {
            Some(fd) => {
                let fd = fd.try_clone().map_err(|e| e.to_string())?;
                tokio::task::spawn_blocking(move || {
                    crate::netns::connect(fd.as_fd(), addr, Duration::from_secs(1))
                })
                .await
                .map_err(|e| e.to_string())?
                .and_then(TcpStream::from_std)
            }
            None => TcpStream::connect(addr).await,
        };
        match attempt {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("connecting to the function's port {addr}: {e}")),
        }
    }
}

/// One call: writes it, reads until its reply.
async fn call(
    conn: &mut TcpStream,
    rpc: &mut RpcClient,
    method: &str,
    ty: &scf_gob::Type,
    arg: &Value,
) -> Result<scf_gob::Reply, String> {
    let (bytes, seq) = rpc.call(method, ty, arg).map_err(|e| e.to_string())?;
    conn.write_all(&bytes)
        .await
        .map_err(|e| format!("{method}: {e}"))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(reply) = rpc.reply().map_err(|e| format!("{method}: {e}"))? {
            if reply.seq == seq {
                return Ok(reply);
            }
        }
        let n = conn
            .read(&mut buf)
            .await
            .map_err(|e| format!("{method}: {e}"))?;
        if n == 0 {
            return Err(format!("{method}: the function closed the connection"));
        }
        rpc.receive(&buf[..n]);
    }
}

/// scf-go-lib's `InvokeRequest` for a dispatched invocation: the event, the request id,
/// the deadline (now + the time limit) and the context's fields.
fn invoke_request(d: &Dispatch) -> Value {
    let ctx: serde_json::Value = serde_json::from_str(&d.context_json).unwrap_or_default();
    let text = |key: &str| Value::String(ctx[key].as_str().unwrap_or_default().to_owned());
    let environ = ctx["environ"].as_str().unwrap_or_default();
    let environment: serde_json::Map<String, serde_json::Value> = environ
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let deadline = SystemTime::now()
        .checked_add(Duration::from_millis(d.time_limit_in_ms))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let field = |key: &str| ctx[key].as_str().unwrap_or_default().to_owned();
    let unique = format!(
        "qcs::scf:{}:uin/{}:namespace/{}/function/{}",
        field("tencentcloud_region"),
        field("tencentcloud_uin"),
        field("namespace"),
        field("function_name")
    );
    Value::record([
        ("Payload", Value::Bytes(d.event.to_vec())),
        ("RequestId", Value::String(d.request_id.clone())),
        (
            "Deadline",
            Value::record([
                (
                    "Seconds",
                    Value::Int(i64::try_from(deadline.as_secs()).unwrap_or(i64::MAX)),
                ),
                ("Nanos", Value::Int(i64::from(deadline.subsec_nanos()))),
            ]),
        ),
        ("InvokedFunctionUnique", Value::String(unique)),
        ("Namespace", text("namespace")),
        ("FunctionName", text("function_name")),
        ("FunctionVersion", text("function_version")),
        (
            "MemoryLimitInMb",
            Value::Int(i64::try_from(d.memory_limit_in_mb).unwrap_or(i64::MAX)),
        ),
        (
            "TimeLimitInMs",
            Value::Int(i64::try_from(d.time_limit_in_ms).unwrap_or(i64::MAX)),
        ),
        (
            "Environment",
            Value::String(serde_json::Value::Object(environment).to_string()),
        ),
        ("TencentcloudRegion", text("tencentcloud_region")),
        ("TencentcloudAppID", text("tencentcloud_appid")),
        ("TencentcloudUin", text("tencentcloud_uin")),
    ])
}

/// The outcome of an `InvokeResponse` (or of the RPC error in its place), and whether
/// the function asked to be stopped (a panic).
fn outcome(reply: scf_gob::Reply, request_id: &str) -> (Outcome, bool) {
    let user_error = |kind: &str, message: &str, trace: String| {
        let kind = if kind.is_empty() { "error" } else { kind };
        // Without frames, no trace at all: the host writes the `Type: message` line.
        let stack = if trace.is_empty() {
            String::new()
        } else {
            format!("{trace}\n{kind}: {message}")
        };
        json!({
            "errorCode": -1, "errorMessage": "user code exception caught", "requestId": request_id,
            "stackTrace": stack, "statusCode": 430,
            "errorType": kind, "errorValue": message, "trace": trace,
        })
    };
    if let Some(e) = reply.error {
        let body = user_error("RpcError", &e, String::new());
        return (Outcome::Error(body.to_string().into()), false);
    }
    let Some(error) = reply.body.field("Error") else {
        let payload = reply
            .body
            .field("Payload")
            .and_then(Value::as_bytes)
            .unwrap_or(b"null");
        let payload = if payload.is_empty() {
            &b"null"[..]
        } else {
            payload
        };
        return (
            Outcome::Response(bytes::Bytes::copy_from_slice(payload)),
            false,
        );
    };
    let text = |v: &Value, key: &str| {
        v.field(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let frames = match error.field("StackTrace") {
        Some(Value::List(frames)) => frames
            .iter()
            .map(|f| {
                let line = f.field("Line").and_then(Value::as_i64).unwrap_or(0);
                format!("{}\n\t{}:{line}", text(f, "Label"), text(f, "Path"))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    let should_exit = error
        .field("ShouldExit")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = user_error(&text(error, "Type"), &text(error, "Message"), frames);
    (Outcome::Error(body.to_string().into()), should_exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: Value) -> scf_gob::Reply {
        scf_gob::Reply {
            seq: 1,
            error: None,
            body,
        }
    }

    #[test]
    fn a_payload_is_the_response_and_an_error_is_scf_s_error_json() {
        let (out, exit) = outcome(
            reply(Value::record([(
                "Payload",
                Value::Bytes(b"\"hi\"".to_vec()),
            )])),
            "r",
        );
        assert!(matches!(out, Outcome::Response(b) if &b[..] == b"\"hi\""));
        assert!(!exit);
        let panic = Value::record([(
            "Error",
            Value::record([
                ("Message", Value::String("boom".into())),
                ("Type", Value::String("string".into())),
                (
                    "StackTrace",
                    Value::List(vec![Value::record([
                        ("Path", Value::String("/code/main.go".into())),
                        ("Line", Value::Int(12)),
                        ("Label", Value::String("handler".into())),
                    ])]),
                ),
                ("ShouldExit", Value::Bool(true)),
            ]),
        )]);
        let (out, exit) = outcome(reply(panic), "r");
        assert!(exit);
        let Outcome::Error(body) = out else {
            panic!("an error")
        };
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["errorType"], "string");
        assert_eq!(
            body["stackTrace"],
            "handler\n\t/code/main.go:12\nstring: boom"
        );
    }

    #[test]
    fn a_handler_that_is_not_an_executable_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = validate(dir.path(), "../main").unwrap_err().to_string();
        assert!(err.contains("name of its executable"), "{err}");
        let err = validate(dir.path(), "main").unwrap_err().to_string();
        assert!(err.contains("go build -o main"), "{err}");
    }
}
