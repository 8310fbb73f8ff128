//! The official clients, unchanged, against a server on an ephemeral loopback port: the
//! Python SDK, tccli and the Node.js SDK.
//!
//! They are installed by `tests/clients/install.sh` (a virtualenv at `<repo>/.venv-clients`
//! and `tests/clients/node/node_modules`); `SCF_CLIENTS_VENV` points elsewhere. Without
//! them these tests fail, naming what is missing; `cargo xtask ci --allow-skips` skips
//! them instead and lists them (see `scf-testkit`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{add_test_functions, SECRET_ID, SECRET_KEY};
use scf_http::{Credentials, RunningServer, Server, ServerConfig};
use scf_invoker::{Invoker, InvokerConfig};
use serde_json::{json, Value};
use tokio::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Python,
    Tccli,
    Node,
}

const ALL: [Client; 3] = [Client::Python, Client::Tccli, Client::Node];

#[derive(Debug)]
struct Clients {
    python: PathBuf,
    tccli: PathBuf,
    node: PathBuf,
    drivers: PathBuf,
}

/// The clients, found where `tests/clients/install.sh` puts them; `None` only when
/// skips are allowed (`scf_testkit::require` fails the test otherwise).
fn clients() -> Option<Clients> {
    if !(scf_testkit::require(&scf_testkit::OFFICIAL_CLIENTS)
        && scf_testkit::require(&scf_testkit::NODE))
    {
        return None;
    }
    let found = scf_testkit::Clients::locate();
    let drivers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    assert_eq!(
        found.node_dir,
        drivers.join("node"),
        "SCF_CLIENTS_NODE_DIR must be tests/clients/node for node_client.js"
    );
    Some(Clients {
        python: found.python,
        tccli: found.tccli,
        node: scf_testkit::on_path("node").expect("checked by require"),
        drivers,
    })
}

async fn server() -> RunningServer {
    let invoker = Invoker::new(InvokerConfig::default()).unwrap();
    add_test_functions(&invoker);
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_signals(false)
        .with_credentials(Credentials::single(SECRET_ID, SECRET_KEY));
    Server::new(config, invoker).unwrap().bind().await.unwrap()
}

/// What a client got: the `Response` object, or the API error it raised.
#[derive(Debug)]
enum Outcome {
    Ok(Value),
    Err {
        code: String,
        message: String,
        request_id: String,
    },
}

impl Outcome {
    #[track_caller]
    fn ok(self) -> Value {
        match self {
            Outcome::Ok(v) => v,
            other => panic!("expected success, got {other:?}"),
        }
    }

    #[track_caller]
    fn err(self) -> (String, String, String) {
        match self {
            Outcome::Err {
                code,
                message,
                request_id,
            } => (code, message, request_id),
            other => panic!("expected an API error, got {other:?}"),
        }
    }
}

struct Call<'a> {
    clients: &'a Clients,
    port: u16,
    secret_key: &'a str,
    clock_offset: i64,
    home: tempfile::TempDir,
}

impl<'a> Call<'a> {
    fn new(clients: &'a Clients, server: &RunningServer) -> Self {
        Self {
            clients,
            port: server.local_addr().port(),
            secret_key: SECRET_KEY,
            clock_offset: 0,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for var in [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, client: Client, action: &str, params: Value) -> Outcome {
        let c = self.clients;
        let endpoint = format!("http://127.0.0.1:{}", self.port);
        let mut cmd = match client {
            Client::Python => {
                let mut cmd = self.command(&c.python);
                cmd.arg(c.drivers.join("python_client.py"))
                    .args(["--port", &self.port.to_string(), "--secret-id", SECRET_ID])
                    .args(["--secret-key", self.secret_key])
                    .args(["--clock-offset", &self.clock_offset.to_string()]);
                let text = params.to_string();
                if text.len() > 64 * 1024 {
                    // Over what one argument may hold: through a file.
                    let file = self.home.path().join("params.json");
                    std::fs::write(&file, text).unwrap();
                    cmd.args([action, &format!("@{}", file.display())]);
                } else {
                    cmd.args([action, &text]);
                }
                cmd
            }
            Client::Node => {
                let mut cmd = self.command(&c.node);
                cmd.arg(c.drivers.join("node_client.js")).args([
                    &self.port.to_string(),
                    SECRET_ID,
                    self.secret_key,
                    &self.clock_offset.to_string(),
                    action,
                    &params.to_string(),
                ]);
                cmd
            }
            Client::Tccli => {
                let mut cmd = if self.clock_offset == 0 {
                    self.command(&c.tccli)
                } else {
                    let mut cmd = self.command(&c.python);
                    cmd.arg(c.drivers.join("tccli_client.py")).args([
                        "--clock-offset",
                        &self.clock_offset.to_string(),
                        "--",
                    ]);
                    cmd
                };
                cmd.env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
                    .env("TENCENTCLOUD_SECRET_KEY", self.secret_key)
                    .args([
                        "scf",
                        action,
                        "--endpoint",
                        &endpoint,
                        "--region",
                        "ap-guangzhou",
                    ]);
                for (k, v) in params.as_object().unwrap() {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    cmd.arg(format!("--{k}")).arg(value);
                }
                cmd
            }
        };
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("the client finished within 60 s")
            .expect("the client started");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let context = format!("{client:?} {action} {params}\nstdout: {stdout}\nstderr: {stderr}");
        if client == Client::Tccli {
            if out.status.success() {
                return Outcome::Ok(
                    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {context}")),
                );
            }
            // `[TencentCloudSDKException] code:X message:Y requestId:Z`
            let text = stderr.trim();
            let rest = text
                .split_once("[TencentCloudSDKException] code:")
                .unwrap_or_else(|| panic!("no SDK exception: {context}"))
                .1;
            let (code, rest) = rest.split_once(" message:").unwrap();
            let (message, request_id) = rest.rsplit_once(" requestId:").unwrap();
            return Outcome::Err {
                code: code.into(),
                message: message.into(),
                request_id: request_id.trim().into(),
            };
        }
        let line: Value =
            serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {context}"));
        if let Some(ok) = line.get("ok") {
            return Outcome::Ok(ok.clone());
        }
        let e = line.get("error").unwrap_or_else(|| panic!("{context}"));
        Outcome::Err {
            code: e["code"].as_str().unwrap_or_default().into(),
            message: e["message"].as_str().unwrap_or_default().into(),
            request_id: e["requestId"].as_str().unwrap_or_default().into(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_invoke_with_log_type_tail() {
    let Some(clients) = clients() else {
        return;
    };
    let server = server().await;
    let call = Call::new(&clients, &server);
    for client in ALL {
        let response = call
            .run(client, "Invoke", json!({"FunctionName": "hello", "ClientContext": "{\"key\": \"abctest\"}", "LogType": "Tail"}))
            .await
            .ok();
        let result = &response["Result"];
        assert_eq!(
            result["RetMsg"], r#"{"hello":{"key":"abctest"}}"#,
            "{client:?}"
        );
        assert_eq!(result["ErrMsg"], "", "{client:?}");
        assert_eq!(result["InvokeResult"], 0, "{client:?}");
        let id = result["FunctionRequestId"].as_str().unwrap();
        let log = result["Log"].as_str().unwrap();
        assert!(
            log.starts_with("START RequestId:") && log.contains(id),
            "{client:?}: {log}"
        );
        assert!(
            log.contains("hello got {\"key\":\"abctest\"}"),
            "{client:?}: {log}"
        );
        assert!(uuid::Uuid::parse_str(response["RequestId"].as_str().unwrap()).is_ok());
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_invoke_then_get_function_logs_by_request_id() {
    let Some(clients) = clients() else {
        return;
    };
    let server = server().await;
    let call = Call::new(&clients, &server);
    for client in ALL {
        let response = call
            .run(client, "Invoke", json!({"FunctionName": "hello", "InvocationType": "Event", "ClientContext": "{\"key\": \"async\"}"}))
            .await
            .ok();
        let id = response["Result"]["FunctionRequestId"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(response["Result"]["RetMsg"], "", "{client:?}");
        let mut logs = Value::Null;
        for _ in 0..50 {
            logs = call
                .run(client, "GetFunctionLogs", json!({"FunctionName": "hello", "Limit": 10, "Order": "desc", "FunctionRequestId": id}))
                .await
                .ok();
            if logs["Data"][0]["RetCode"] == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(logs["TotalCount"], 1, "{client:?}: {logs}");
        let record = &logs["Data"][0];
        assert_eq!(record["RequestId"], id.as_str());
        assert_eq!(record["FunctionName"], "hello");
        assert_eq!(record["RetMsg"], r#"{"hello":{"key":"async"}}"#);
        assert_eq!(record["RetCode"], 0);
        assert_eq!(record["InvokeFinished"], 1);
        assert!(record["Log"].as_str().unwrap().contains(&id));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_function_logs_filters() {
    let Some(clients) = clients() else {
        return;
    };
    let server = server().await;
    let call = Call::new(&clients, &server);
    let ok = call
        .run(Client::Python, "Invoke", json!({"FunctionName": "hello"}))
        .await
        .ok();
    let ok = ok["Result"]["FunctionRequestId"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = call
        .run(Client::Python, "Invoke", json!({"FunctionName": "fails"}))
        .await
        .ok();
    assert_eq!(failed["Result"]["InvokeResult"], 1);
    let failed = failed["Result"]["FunctionRequestId"]
        .as_str()
        .unwrap()
        .to_string();
    let ids = |logs: &Value| -> Vec<String> {
        logs["Data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["RequestId"].as_str().unwrap().to_string())
            .collect()
    };
    for client in ALL {
        let is0 = call
            .run(
                client,
                "GetFunctionLogs",
                json!({"Filter": {"RetCode": "is0"}, "Limit": 10}),
            )
            .await
            .ok();
        assert_eq!(ids(&is0), std::slice::from_ref(&ok), "{client:?}");
        let not0 = call
            .run(
                client,
                "GetFunctionLogs",
                json!({"Filter": {"RetCode": "not0"}}),
            )
            .await
            .ok();
        assert_eq!(ids(&not0), std::slice::from_ref(&failed), "{client:?}");
        let user = call
            .run(
                client,
                "GetFunctionLogs",
                json!({"FunctionName": "fails", "Filter": {"RetCode": "UserCodeException"}}),
            )
            .await
            .ok();
        assert_eq!(user["Data"][0]["RetCode"], 1, "{client:?}");
        let asc = call
            .run(
                client,
                "GetFunctionLogs",
                json!({"Order": "asc", "OrderBy": "start_time", "Offset": 0, "Limit": 1}),
            )
            .await
            .ok();
        assert_eq!(ids(&asc), std::slice::from_ref(&ok), "{client:?}");
        assert_eq!(asc["TotalCount"], 2, "{client:?}");
        let (code, message, _) = call
            .run(client, "GetFunctionLogs", json!({"Order": "sideways"}))
            .await
            .err();
        assert_eq!(code, "InvalidParameterValue", "{client:?}");
        assert_eq!(
            message,
            "The value `sideways` of parameter `Order` is invalid: expected one of asc, desc."
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_function() {
    let Some(clients) = clients() else {
        return;
    };
    let server = server().await;
    let call = Call::new(&clients, &server);
    for client in ALL {
        let (code, message, request_id) = call
            .run(
                client,
                "Invoke",
                json!({"FunctionName": "no-such-function-4f1c"}),
            )
            .await
            .err();
        assert_eq!(code, "ResourceNotFound.Function", "{client:?}");
        assert_eq!(
            message, "Function no-such-function-4f1c does not exist.",
            "{client:?}"
        );
        assert!(
            uuid::Uuid::parse_str(&request_id).is_ok(),
            "{client:?}: {request_id}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature() {
    let Some(clients) = clients() else {
        return;
    };
    let server = server().await;
    let mut call = Call::new(&clients, &server);
    call.secret_key = "not-the-secret-key";
    for client in ALL {
        let (code, message, _) = call
            .run(client, "Invoke", json!({"FunctionName": "hello"}))
            .await
            .err();
        assert_eq!(code, "AuthFailure.SignatureFailure", "{client:?}");
        assert_eq!(message, "The provided credentials could not be validated. Please check your signature is correct.");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_timestamp() {
    let Some(clients) = clients() else {
        return;
    };
    let server = server().await;
    let mut call = Call::new(&clients, &server);
    call.clock_offset = -600;
    for client in ALL {
        let (code, message, _) = call
            .run(client, "Invoke", json!({"FunctionName": "hello"}))
            .await
            .err();
        assert_eq!(code, "AuthFailure.SignatureExpire", "{client:?}");
        assert!(
            message.starts_with("Signature expired: X-TC-Timestamp "),
            "{client:?}: {message}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_reads_the_answer_to_a_body_over_10_mb() {
    let Some(c) = clients() else { return };
    let server = server().await;
    let call = Call::new(&c, &server);
    // The SDK sends the whole body before it reads; it used to see a reset.
    let big = format!("\"{}\"", "x".repeat(10 * 1024 * 1024));
    let (code, message, _) = call
        .run(
            Client::Python,
            "Invoke",
            json!({"FunctionName": "hello", "ClientContext": big}),
        )
        .await
        .err();
    assert_eq!(code, "InvalidParameter.RequestTooLarge", "{message}");
    server.shutdown().await;
}
