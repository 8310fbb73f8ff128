//! The hostile-function suite (issue 15): each attack a function tried on a host that
//! served it without a sandbox, asserting that it now fails; everything an instance
//! starts ends with it; outbound network and the host's loopback at 10.0.2.2; and the
//! report of a host where a mechanism is missing.

use crate::common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{call, config, eventually, fixture, runtime};
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec, Sandbox, SandboxConfig};
use serde_json::{json, Value};

/// The Python runtime, with the sandbox of this host, which must be on.
macro_rules! sandboxed_python_or_skip {
    () => {{
        let Some(kind) = runtime("Python3.9") else {
            return;
        };
        if !scf_testkit::require(&scf_testkit::BWRAP) {
            return;
        }
        let sandbox = Sandbox::detected();
        assert!(
            sandbox.is_on(),
            "bwrap is installed but the sandbox is off: {:?}",
            sandbox.guarantees()
        );
        kind
    }};
}

fn hostile(
    name: &str,
    handler: &str,
    python: scf_process::RuntimeKind,
    scratch: &Path,
) -> (ProcessFunction, scf_context::FunctionConfig) {
    let mut cfg = config(name, handler);
    cfg.timeout = Duration::from_secs(10);
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("hostile"), python)
            .with_scratch_root(scratch)
            .with_pool(PoolConfig::new(2, Duration::from_secs(60))),
    )
    .unwrap();
    (f, cfg)
}

/// Host pids of processes whose command line contains `marker`.
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
        if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if String::from_utf8_lossy(&cmdline).contains(marker) && common::alive(i64::from(pid)) {
                found.push(pid);
            }
        }
    }
    found
}

#[tokio::test]
async fn a_function_cannot_read_the_servers_environment_or_command_line() {
    let python = sandboxed_python_or_skip!();
    std::env::set_var("SCF_SANDBOX_TEST_SERVER_SECRET", "server-secret-4c1d");
    let scratch = tempfile::tempdir().unwrap();
    let (f, cfg) = hostile("snoop-env", "index.snoop", python, scratch.path());
    let me = std::process::id();
    let parent = std::os::unix::process::parent_id();
    let out = call(&f, &cfg, json!({"pids": [me, parent, 1]}))
        .await
        .0
        .unwrap();
    let text = out.to_string();
    assert!(!text.contains("server-secret-4c1d"), "{text}");
    assert!(
        !text.contains("nextest") && !text.contains("cargo"),
        "{text}"
    );
    for pid in [me, parent] {
        let environ = out["environ"][pid.to_string()].as_str().unwrap();
        assert!(environ.starts_with("error:"), "pid {pid}: {environ}");
    }
    let pids: Vec<u64> = out["proc_pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert!(
        pids.len() <= 4,
        "the instance sees only its own processes: {pids:?}"
    );
    assert!(!pids.contains(&u64::from(me)), "{pids:?}");
}

#[tokio::test]
async fn a_function_sees_its_code_read_only_and_not_the_hosts_or_other_instances_files() {
    let python = sandboxed_python_or_skip!();
    let scratch = tempfile::tempdir().unwrap();
    // A code directory holding a data directory, as `scf serve` run in a project does.
    let project = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("hostile/index.py"), project.path().join("index.py")).unwrap();
    let data = project.path().join(".scf");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("logs.sqlite"), "every function's events").unwrap();
    let mut cfg = config("snoop-files", "index.snoop");
    cfg.timeout = Duration::from_secs(10);
    let snoop = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), project.path(), python.clone())
            .with_scratch_root(scratch.path())
            .with_hidden_path(&data),
    )
    .unwrap();
    let (victim, victim_cfg) = hostile("victim-files", "index.keep_secret", python, scratch.path());
    let kept = call(
        &victim,
        &victim_cfg,
        json!({"secret": "4111 1111 1111 1111"}),
    )
    .await
    .0
    .unwrap();
    let secret_path = kept["secret_path"].as_str().unwrap().to_owned();
    assert!(
        Path::new(&secret_path).exists(),
        "the victim's file is on the host: {secret_path}"
    );

    let victim_code = fixture("python/index.py").canonicalize().unwrap();
    let paths = [
        "/etc/shadow".to_owned(),
        secret_path.clone(),
        data.join("logs.sqlite").display().to_string(),
        victim_code.display().to_string(),
    ];
    let dirs = [scratch.path().display().to_string(), "/root".to_owned()];
    let out = call(&snoop, &cfg, json!({"paths": paths, "dirs": dirs}))
        .await
        .0
        .unwrap();
    for path in &paths {
        let got = out["files"][path].as_str().unwrap();
        assert!(got.starts_with("error:"), "{path} was readable: {got}");
    }
    for dir in &dirs {
        let got = out["dirs"][dir].as_str().unwrap();
        assert!(!got.contains("scf-victim"), "{dir}: {got}");
    }
    let write = out["write_code"].as_str().unwrap();
    assert!(
        write.contains("Read-only file system"),
        "the code directory is read-only: {write}"
    );
    assert!(!project.path().join("planted.txt").exists());
}

/// The victim holds an invocation with a card number while another function and a
/// process of the host try its Runtime API, at 127.0.0.1:9001 and at its own port.
async fn runtime_api_attack(sandbox: Sandbox) {
    let python = sandboxed_python_or_skip!();
    let scratch = tempfile::tempdir().unwrap();
    let with = |name: &str, handler: &str| {
        let mut cfg = config(name, handler);
        cfg.timeout = Duration::from_secs(10);
        let f = ProcessFunction::new(
            ProcessSpec::new(cfg.clone(), fixture("hostile"), python.clone())
                .with_scratch_root(scratch.path())
                .with_sandbox(sandbox.clone())
                .with_pool(PoolConfig::new(1, Duration::from_secs(60))),
        )
        .unwrap();
        (f, cfg)
    };
    let (victim, victim_cfg) = with("victim-api", "index.keep_secret");
    let (snoop, snoop_cfg) = with("snoop-api", "index.snoop");
    let first = call(&victim, &victim_cfg, json!({"secret": "warm"}))
        .await
        .0
        .unwrap();
    let port: u16 = first["port"].as_str().unwrap().parse().unwrap();
    let held = {
        let (victim, cfg) = (victim.clone(), victim_cfg.clone());
        tokio::spawn(async move {
            call(
                &victim,
                &cfg,
                json!({"secret": "4111 1111 1111 1111", "hold": 2}),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let targets = json!([["127.0.0.1", 9001], ["127.0.0.1", port]]);
    let out = call(&snoop, &snoop_cfg, json!({"connect": targets}))
        .await
        .0
        .unwrap();
    let tried = out["connect"].as_object().unwrap();
    assert!(tried.contains_key(&format!("127.0.0.1:{port}")), "{out}");
    let text = out["connect"].to_string();
    assert!(
        !text.contains("4111"),
        "the snoop got the victim's event: {text}"
    );
    // A process of the host (this test) tries the victim's port too.
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let _ = s.write_all(b"GET /runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let got = String::from_utf8_lossy(&buf);
        assert!(
            !got.contains("4111"),
            "the host process got the victim's event: {got}"
        );
    }
    let (victim_out, _) = held.await.unwrap();
    let victim_out = victim_out.unwrap();
    assert!(
        victim_out["secret_path"].is_string(),
        "the victim's caller got the victim's result, not a forged one: {victim_out}"
    );
}

#[tokio::test]
async fn another_function_cannot_reach_an_instances_runtime_api() {
    assert!(
        Sandbox::detected().has_private_network()
            || !Sandbox::detected().is_on()
            || !running_as_root(),
        "{:?}",
        Sandbox::detected().guarantees()
    );
    runtime_api_attack(Sandbox::detected().clone()).await;
}

#[tokio::test]
async fn without_a_network_namespace_the_runtime_api_serves_only_the_instances_own_processes() {
    runtime_api_attack(Sandbox::probe(
        &SandboxConfig::detect_except("no-netns").unwrap(),
    ))
    .await;
}

/// Whether this test runs as root (which can place the API in the instance's namespace).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_ascii_whitespace().nth(1) == Some("0"))
    })
}

async fn strays_end_with_the_instance(then: &str, expect_status: Option<u16>) {
    let python = sandboxed_python_or_skip!();
    let scratch = tempfile::tempdir().unwrap();
    let mut cfg = config("strays", "index.spawn_strays");
    cfg.timeout = Duration::from_secs(2);
    cfg.memory_mb = 128;
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("hostile"), python).with_scratch_root(scratch.path()),
    )
    .unwrap();
    let marker = format!("stray-{}", uuid::Uuid::new_v4());
    // Warm, so that the time limit is spent in the function, not in its init.
    assert_eq!(
        call(&f, &cfg, json!({"then": "warm"})).await.0.unwrap(),
        "warm"
    );
    let started = Instant::now();
    let event = json!({"marker": marker, "then": then, "mb": 400});
    let call_f = call(&f, &cfg, event);
    let result = match then {
        "return" => {
            let out = call_f.await.0;
            assert_eq!(out.unwrap(), "spawned");
            assert_eq!(
                processes_with(&marker).len(),
                3,
                "three strays run while the instance does"
            );
            assert_eq!(f.stop_idle().await, 1);
            None
        }
        _ => Some(call_f.await.0.unwrap_err()),
    };
    if let (Some(err), Some(status)) = (&result, expect_status) {
        assert_eq!(err.status().code(), status, "{err:?}");
        if status == 433 {
            let late = started.elapsed().saturating_sub(cfg.timeout);
            assert!(
                late < Duration::from_millis(50),
                "433 came {late:?} after the deadline"
            );
        }
    }
    assert!(
        eventually(Duration::from_secs(3), || processes_with(&marker)
            .is_empty())
        .await,
        "still alive after the instance ended ({then}): {:?}",
        processes_with(&marker)
    );
}

#[tokio::test]
async fn everything_an_instance_started_ends_with_it_at_a_timeout() {
    strays_end_with_the_instance("sleep", Some(433)).await;
}

#[tokio::test]
async fn everything_an_instance_started_ends_with_it_at_a_memory_kill() {
    strays_end_with_the_instance("alloc", Some(434)).await;
}

#[tokio::test]
async fn everything_an_instance_started_ends_with_it_when_it_is_stopped() {
    strays_end_with_the_instance("return", None).await;
}

#[tokio::test]
async fn outbound_connections_work_and_the_hosts_loopback_is_10_0_2_2() {
    let python = sandboxed_python_or_skip!();
    if !scf_testkit::require(&scf_testkit::SLIRP4NETNS) {
        return;
    }
    // A service on the host's loopback, as a local database would be.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0_u8; 4];
            let _ = s.read_exact(&mut buf);
            let _ = s.write_all(b"pong");
        }
    });
    let scratch = tempfile::tempdir().unwrap();
    let (f, cfg) = hostile("outbound", "index.outbound", python, scratch.path());
    // 10.0.2.2 in a private network namespace, 127.0.0.1 where instances share the host's.
    let host = Sandbox::detected().host_loopback().unwrap();
    if Sandbox::detected().has_private_network() {
        assert_eq!(host.to_string(), "10.0.2.2");
    }
    let out = call(&f, &cfg, json!({"host": host.to_string(), "port": port}))
        .await
        .0
        .unwrap();
    assert_eq!(out, "connected: pong");
}

#[tokio::test]
async fn a_host_without_network_namespaces_says_which_guarantee_fails_and_still_runs_functions() {
    let python = sandboxed_python_or_skip!();
    let sandbox = Sandbox::probe(&SandboxConfig::detect_except("no-netns").unwrap());
    let lines = sandbox.guarantees();
    let by_name = |n: &str| lines.iter().find(|g| g.name == n).unwrap().clone();
    for name in ["secrets", "runtime-api", "files", "containment", "network"] {
        assert!(by_name(name).holds, "{name}: {lines:?}");
    }
    let api = by_name("runtime-api").to_string();
    assert!(
        api.contains("refused and logged") && api.contains("SCF_SANDBOX=no-netns"),
        "{api}"
    );
    assert!(
        by_name("network").detail.contains("ports are shared"),
        "{lines:?}"
    );
    // Without slirp4netns a private namespace has no outbound network: said so.
    let no_slirp = Sandbox::probe(&SandboxConfig::detect_except("no-slirp4netns").unwrap());
    if no_slirp.has_private_network() {
        let network = no_slirp
            .guarantees()
            .into_iter()
            .find(|g| g.name == "network")
            .unwrap();
        assert!(
            !network.holds && network.to_string().starts_with("network: DOES NOT HOLD: "),
            "{network}"
        );
        assert_eq!(no_slirp.host_loopback(), None);
    }
    let scratch = tempfile::tempdir().unwrap();
    let cfg = config("no-netns", "index.keep_secret");
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("hostile"), python.clone())
            .with_scratch_root(scratch.path())
            .with_sandbox(sandbox),
    )
    .unwrap();
    let out: Value = call(&f, &cfg, json!({"secret": "s"})).await.0.unwrap();
    assert_ne!(out["port"], "9001", "the API is on a host port: {out}");

    let off = Sandbox::probe(&SandboxConfig::off());
    let off_lines = off.guarantees();
    assert_eq!(
        off_lines.iter().filter(|g| !g.holds).count(),
        4,
        "{off_lines:?}"
    );
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("hostile"), python)
            .with_scratch_root(scratch.path())
            .with_sandbox(off),
    )
    .unwrap();
    assert!(call(&f, &cfg, json!({"secret": "s"})).await.0.is_ok());
}

#[test]
fn a_sandbox_setting_with_an_unknown_word_is_refused_naming_it() {
    let err = SandboxConfig::detect_except("no-netns,no-pidns").unwrap_err();
    assert!(err.contains("\"no-pidns\""), "{err}");
    assert!(SandboxConfig::detect_except("off").unwrap().bwrap.is_none());
}

#[test]
fn a_slirp4netns_that_fails_is_reported_and_instances_keep_loopback_only() {
    if !scf_testkit::require(&scf_testkit::BWRAP) {
        return;
    }
    let mut config = SandboxConfig::detect();
    // A stand-in that exits at once, as slirp4netns does without /dev/net/tun.
    config.slirp4netns = Some(std::path::PathBuf::from("/bin/false"));
    let sandbox = Sandbox::probe(&config);
    if !sandbox.has_private_network() {
        return assert!(sandbox
            .guarantees()
            .iter()
            .any(|g| g.name == "network" && g.holds));
    }
    let network = sandbox
        .guarantees()
        .into_iter()
        .find(|g| g.name == "network")
        .unwrap();
    assert!(!network.holds, "{network}");
    assert!(
        network
            .detail
            .contains("slirp4netns failed (/bin/false exited"),
        "{network}"
    );
    assert_eq!(sandbox.host_loopback(), None);
}
