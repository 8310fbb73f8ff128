//! The sandbox through `scf serve` (issue 15): the start-up report, and the attacks of a
//! hostile function on the server's credentials, its data directory and another function,
//! and processes that try to outlive the server.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{http, Served};
use serde_json::{json, Value};

/// The hostile project copied to a temporary directory, with the data directory inside
/// its code directory (as `scf serve` run from a project's root has it). Its code is
/// scf-process's hostile function, whose `http_entry` is the gateway's door to it.
fn hostile_project() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
    let code = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scf-process/tests/fixtures/hostile");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::copy(
        fixture.join("template.yaml"),
        dir.path().join("template.yaml"),
    )
    .unwrap();
    std::fs::copy(code.join("index.py"), dir.path().join("code/index.py")).unwrap();
    let template = dir.path().join("template.yaml");
    let data = dir.path().join("code/.scf");
    (dir, template, data)
}

fn sandboxed_or_skip() -> bool {
    scf_testkit::require(&scf_testkit::PYTHON3) && scf_testkit::require(&scf_testkit::BWRAP)
}

/// Calls handler `handler` of function `path` (`/snoop`, `/victim`) with `event`.
fn invoke(s: &Served, path: &str, handler: &str, event: Value) -> Value {
    let body = json!({"handler": handler, "event": event}).to_string();
    let (status, head, body) = http(
        &s.addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(status, 200, "{head}\n{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z'));
        if String::from_utf8_lossy(&cmdline).contains(marker) && !zombie {
            found.push(pid);
        }
    }
    found
}

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

#[test]
fn serve_prints_one_line_per_sandbox_guarantee_and_which_do_not_hold() {
    if !sandboxed_or_skip() {
        return;
    }
    let (_dir, template, data) = hostile_project();
    let mut s = Served::start(&template, &data, &[]);
    for name in ["secrets", "runtime-api", "files", "containment", "network"] {
        let line = s.wait_for_line(
            |l| l.starts_with(&format!("  sandbox {name}: ")),
            Duration::from_secs(1),
        );
        assert!(
            line.contains(": holds: "),
            "as root with bwrap and slirp4netns: {line}"
        );
    }
    drop(s);
    // A host without slirp4netns, simulated by configuration: no outbound network.
    let mut s = Served::start_with_env(&template, &data, &[], &[("SCF_SANDBOX", "no-slirp4netns")]);
    let line = s.wait_for_line(
        |l| l.starts_with("  sandbox network: "),
        Duration::from_secs(1),
    );
    assert!(
        line.starts_with("  sandbox network: DOES NOT HOLD: "),
        "{line}"
    );
    assert!(line.contains("apt-get install slirp4netns"), "{line}");
    let out = invoke(&s, "/victim", "keep_secret", json!({"secret": "s"}));
    assert_eq!(out["port"], "9001", "functions still run: {out}");
    drop(s);
    // A host without bubblewrap: four guarantees fail, functions still run.
    let mut s = Served::start_with_env(&template, &data, &[], &[("SCF_SANDBOX", "off")]);
    for name in ["secrets", "runtime-api", "files", "containment"] {
        let line = s.wait_for_line(
            |l| l.starts_with(&format!("  sandbox {name}: ")),
            Duration::from_secs(1),
        );
        assert!(line.contains(": DOES NOT HOLD: "), "{line}");
    }
    let out = invoke(&s, "/victim", "keep_secret", json!({"secret": "s"}));
    assert_ne!(
        out["port"], "9001",
        "functions still run, unsandboxed: {out}"
    );
}

#[test]
fn a_function_under_serve_cannot_read_the_servers_credentials_data_or_another_functions_files() {
    if !sandboxed_or_skip() {
        return;
    }
    let (_dir, template, data) = hostile_project();
    let s = Served::start_with_env(
        &template,
        &data,
        &[],
        &[
            ("TENCENTCLOUD_SECRET_ID", "AKIDsandboxtest"),
            ("TENCENTCLOUD_SECRET_KEY", "sandbox-secret-key-5e2f"),
            ("FOO_SECRET", "xyz-sandbox"),
        ],
    );
    let kept = invoke(
        &s,
        "/victim",
        "keep_secret",
        json!({"secret": "4111 1111 1111 1111"}),
    );
    let secret_path = kept["secret_path"].as_str().unwrap().to_owned();
    let server = s.child.id();
    let logs = data.join("logs.sqlite");
    assert!(logs.exists());
    let out = invoke(
        &s,
        "/snoop",
        "snoop",
        json!({
            "pids": [server],
            "paths": ["/etc/shadow", secret_path, logs.display().to_string()],
            "connect": [["127.0.0.1", 9001]],
        }),
    );
    let text = out.to_string();
    for secret in [
        "sandbox-secret-key-5e2f",
        "AKIDsandboxtest",
        "xyz-sandbox",
        "4111",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    for (what, got) in out["files"].as_object().unwrap() {
        assert!(got.as_str().unwrap().starts_with("error:"), "{what}: {got}");
    }
    assert!(out["environ"][server.to_string()]
        .as_str()
        .unwrap()
        .starts_with("error:"));
}

fn strays_end_when_the_server_ends(signal: &str) {
    if !sandboxed_or_skip() {
        return;
    }
    let (_dir, template, data) = hostile_project();
    let s = Served::start(&template, &data, &[]);
    let marker = format!("stray-{}", std::process::id());
    let marker = format!("{marker}-{signal}");
    let out = invoke(
        &s,
        "/snoop",
        "spawn_strays",
        json!({"marker": marker, "then": "return"}),
    );
    assert_eq!(out, "spawned");
    assert_eq!(
        processes_with(&marker).len(),
        3,
        "the strays run while the server does"
    );
    let _ = std::process::Command::new("kill")
        .args([signal, &s.child.id().to_string()])
        .status();
    assert!(
        wait_until(Duration::from_secs(5), || processes_with(&marker)
            .is_empty()),
        "alive after the server got {signal}: {:?}",
        processes_with(&marker)
    );
}

#[test]
fn everything_a_function_started_ends_when_the_server_stops() {
    strays_end_when_the_server_ends("-INT");
}

#[test]
fn everything_a_function_started_ends_when_the_server_crashes() {
    strays_end_when_the_server_ends("-KILL");
}
