//! Faults: a timeout kills the whole process group, a crash is 439, memory over the limit
//! is 434, an instance that never gets ready is 450; each one replaces the instance.

use crate::common;

use std::time::Duration;

use common::{alive, call, config, eventually, fixture, function};
use scf_context::CancelReason;
use scf_handler::Handler;
use scf_logs::LogBuffer;
use scf_process::RuntimeKind;
use serde_json::json;

fn read_pid(path: &std::path::Path) -> i64 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group_and_replaces_the_instance() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("timeout-fn", "index.multi");
    cfg.timeout = Duration::from_secs(1);
    let f = common::unsandboxed(&cfg, &fixture("python"), python);
    let before = call(&f, &cfg, json!({"op": "pid_handler"}))
        .await
        .0
        .unwrap();
    let before = before.as_i64().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let started = std::time::Instant::now();
    let (out, log) = call(
        &f,
        &cfg,
        json!({"op": "spawn_sleep_handler", "pid_file": pid_file}),
    )
    .await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 433);
    assert_eq!(err.message(), "time out");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "ends at the deadline"
    );
    let _ = log;

    let child = read_pid(&pid_file);
    assert!(
        eventually(Duration::from_secs(3), || !alive(child)).await,
        "the function's own child {child} was killed with its group"
    );
    assert!(
        eventually(Duration::from_secs(3), || !alive(before)).await,
        "the instance {before} was killed"
    );

    let after = call(&f, &cfg, json!({"op": "pid_handler"}))
        .await
        .0
        .unwrap();
    assert_ne!(
        after.as_i64().unwrap(),
        before,
        "a fresh instance serves the next invocation"
    );
}

#[tokio::test]
async fn a_host_that_drops_the_invocation_leaves_no_busy_instance_behind() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("dropped-fn", "index.multi");
    let f = common::unsandboxed(&cfg, &fixture("python"), python);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("instance.pid");
    let ctx = common::ctx(&cfg);
    let event = json!({"op": "sleep_with_pid_file", "pid_file": pid_file});
    let dropped = tokio::time::timeout(Duration::from_millis(1500), f.call(event, ctx)).await;
    assert!(dropped.is_err(), "still running when the host gives up");
    let pid = read_pid(&pid_file);
    assert!(
        eventually(Duration::from_secs(3), || !alive(pid)).await,
        "the instance was killed"
    );
    assert!(
        eventually(Duration::from_secs(3), || f.stats().live == 0).await,
        "{:?}",
        f.stats()
    );
}

#[tokio::test]
async fn termination_cancels_the_invocation_and_kills_the_instance() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("terminated-fn", "index.multi");
    let f = common::unsandboxed(&cfg, &fixture("python"), python);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("instance.pid");
    let ctx = common::ctx(&cfg);
    let cancel = ctx.cancellation().clone();
    let pid_path = pid_file.clone();
    tokio::spawn(async move {
        while !pid_path.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        cancel.cancel(CancelReason::Terminated);
    });
    let err = f
        .call(
            json!({"op": "sleep_with_pid_file", "pid_file": pid_file}),
            ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status().code(), 499);
    let pid = read_pid(&pid_file);
    assert!(eventually(Duration::from_secs(3), || !alive(pid)).await);
}

#[tokio::test]
async fn process_exit_is_439_with_its_stderr_in_the_log() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("crash-fn", "index.multi");
    let f = common::unsandboxed(&cfg, &fixture("python"), python);
    let before = call(&f, &cfg, json!({"op": "pid_handler"}))
        .await
        .0
        .unwrap();
    let (out, log) = call(&f, &cfg, json!({"op": "exit_handler"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 439);
    assert_eq!(err.message(), "User process exit when running");
    assert!(
        err.stack_trace().unwrap_or("").contains("exit status: 3"),
        "{err:?}"
    );
    assert!(
        log.contains("fatal: giving up"),
        "stderr is in the log: {log}"
    );
    let after = call(&f, &cfg, json!({"op": "pid_handler"}))
        .await
        .0
        .unwrap();
    assert_ne!(after, before, "the next invocation gets a fresh instance");
}

#[tokio::test]
async fn memory_over_the_limit_is_434_and_replaces_the_instance() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("memory-fn", "index.multi");
    cfg.memory_mb = 128;
    let f = common::unsandboxed(&cfg, &fixture("python"), python);
    let before = call(&f, &cfg, json!({"op": "pid_handler"}))
        .await
        .0
        .unwrap();
    let (out, _) = call(
        &f,
        &cfg,
        json!({"op": "memory_handler", "mb": 200, "hold": 2}),
    )
    .await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 434, "{err:?}");
    assert!(
        err.message().contains("over its limit of 128 MB"),
        "{}",
        err.message()
    );
    let pid = before.as_i64().unwrap();
    assert!(
        eventually(Duration::from_secs(3), || !alive(pid)).await,
        "the instance was killed"
    );
    let after = call(&f, &cfg, json!({"op": "pid_handler"}))
        .await
        .0
        .unwrap();
    assert_ne!(after, before);
}

#[tokio::test]
async fn a_short_spike_over_the_limit_is_caught_by_the_peak() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("spike-fn", "index.multi");
    cfg.memory_mb = 128;
    let f = function(&cfg, &fixture("python"), python);
    let (out, _) = call(
        &f,
        &cfg,
        json!({"op": "memory_handler", "mb": 200, "hold": 0}),
    )
    .await;
    assert_eq!(out.unwrap_err().status().code(), 434);
}

#[tokio::test]
async fn mem_usage_is_the_instance_peak_during_that_invocation() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("memusage-fn", "index.multi");
    cfg.memory_mb = 256;
    let f = function(&cfg, &fixture("python"), python);
    let log = LogBuffer::new("r");
    let (out, big) = f
        .invoke(
            json!({"op": "memory_handler", "mb": 60, "hold": 0}),
            &common::ctx(&cfg),
            &log,
        )
        .await;
    assert_eq!(out.unwrap(), json!(60 * 1024 * 1024));
    assert!(
        big > 60 * 1024 * 1024 && big < 256 * 1024 * 1024,
        "peak {big}"
    );
    let (out, small) = f
        .invoke(json!({"op": "pid_handler"}), &common::ctx(&cfg), &log)
        .await;
    assert!(out.is_ok());
    assert!(small > 1024 * 1024, "the interpreter itself: {small}");
    assert!(
        small + 40 * 1024 * 1024 < big,
        "the peak is per invocation: {small} then {big}"
    );
}

#[tokio::test]
async fn an_instance_that_never_reports_ready_is_killed_with_450() {
    let mut cfg = config("never-ready", "index.main_handler");
    cfg.init_timeout = Duration::from_secs(1);
    let f = function(&cfg, &fixture("custom-never-ready"), RuntimeKind::Custom);
    let started = std::time::Instant::now();
    let (out, log) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 450);
    assert!(
        err.message().contains("init timeout") && err.message().contains("1000 ms"),
        "{}",
        err.message()
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        log.contains("starting, but never ready"),
        "the init log is in the log: {log}"
    );
    assert!(
        eventually(Duration::from_secs(3), || f.stats().live == 0).await,
        "{:?}",
        f.stats()
    );
}

#[tokio::test]
async fn a_bootstrap_that_exits_during_init_is_445_with_its_stderr() {
    let cfg = config("exit-at-init", "index.main_handler");
    let f = function(&cfg, &fixture("custom-exit-at-init"), RuntimeKind::Custom);
    let (out, log) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 445);
    assert!(
        err.message().contains("exit status: 2"),
        "{}",
        err.message()
    );
    assert!(
        log.contains("cannot load the function: missing config"),
        "{log}"
    );
}

#[tokio::test]
async fn an_event_never_fetched_times_out_and_says_so() {
    if !common::has_curl() {
        return;
    }
    let mut cfg = config("never-fetches", "index.main_handler");
    cfg.timeout = Duration::from_secs(1);
    let f = function(&cfg, &fixture("custom-never-fetches"), RuntimeKind::Custom);
    let (out, _) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 433);
    assert!(
        err.stack_trace()
            .unwrap_or("")
            .contains("never fetched the event"),
        "{err:?}"
    );
}

#[tokio::test]
async fn with_a_delegated_cgroup_each_instance_gets_memory_max_and_joins_it() {
    let python = runtime_or_skip!("Python3.9");
    // A stand-in for a delegated cgroup v2 directory: the files the kernel would offer.
    let parent = tempfile::tempdir().unwrap();
    std::fs::write(
        parent.path().join("cgroup.subtree_control"),
        "cpu memory pids\n",
    )
    .unwrap();
    let mut cfg = config("cgroup-fn", "index.pid_handler");
    cfg.memory_mb = 256;
    let f = scf_process::ProcessFunction::new(
        scf_process::ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_sandbox(scf_process::Sandbox::off())
            .with_cgroup(scf_process::CgroupPolicy::Under(
                parent.path().to_path_buf(),
            )),
    )
    .unwrap();
    let pid = call(&f, &cfg, json!({})).await.0.unwrap();
    let instance_dir = std::fs::read_dir(parent.path())
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .expect("an instance cgroup")
        .path();
    assert_eq!(
        std::fs::read_to_string(instance_dir.join("memory.max")).unwrap(),
        (256u64 << 20).to_string()
    );
    assert_eq!(
        std::fs::read_to_string(instance_dir.join("cgroup.procs")).unwrap(),
        pid.to_string()
    );
}

#[test]
fn a_cgroup_directory_without_the_memory_controller_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::write(parent.path().join("cgroup.subtree_control"), "cpu pids\n").unwrap();
    let cfg = config("cgroup-refused", "index.main_handler");
    let err = scf_process::ProcessFunction::new(
        scf_process::ProcessSpec::new(cfg, fixture("custom-curl"), RuntimeKind::Custom)
            .with_cgroup(scf_process::CgroupPolicy::Under(
                parent.path().to_path_buf(),
            )),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cgroup.subtree_control") && err.contains("memory"),
        "{err}"
    );
}
