//! Isolation: a clean environment, the code directory as working directory, and a scratch
//! `TMPDIR` per instance that is removed when the instance stops.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use common::{call, config, eventually, fixture};
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec};
use serde_json::json;

#[tokio::test]
async fn the_instance_sees_scf_variables_and_its_own_but_nothing_of_the_host() {
    let python = runtime_or_skip!("Python3.9");
    // Edition 2021: setting a variable is safe; the name is unique to this test.
    std::env::set_var("SCF_PROCESS_TEST_HOST_SECRET", "do-not-leak");
    std::env::set_var("TENCENTCLOUD_SECRETKEY", "host-credential");
    let mut cfg = config("env-fn", "index.env_handler");
    cfg.environment
        .insert("DB_HOST".into(), "db.internal".into());
    cfg.region = "ap-shanghai".into();
    let scratch = tempfile::tempdir().unwrap();
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python).with_scratch_root(scratch.path()),
    )
    .unwrap();
    let out = call(&f, &cfg, json!({})).await.0.unwrap();
    let env = out["environ"].as_object().unwrap();
    assert!(!env.contains_key("SCF_PROCESS_TEST_HOST_SECRET"), "{env:?}");
    assert!(
        !env.contains_key("TENCENTCLOUD_SECRETKEY"),
        "no host credentials: {env:?}"
    );
    assert!(!env.keys().any(|k| k.starts_with("CARGO")), "{env:?}");
    let get = |k: &str| {
        env.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{k} missing: {env:?}"))
    };
    assert_eq!(get("DB_HOST"), "db.internal");
    assert_eq!(get("SCF_FUNCTIONNAME"), "env-fn");
    assert_eq!(get("SCF_FUNCTIONVERSION"), "$LATEST");
    assert_eq!(get("SCF_NAMESPACE"), "default");
    assert_eq!(get("TENCENTCLOUD_REGION"), "ap-shanghai");
    assert_eq!(get("TENCENTCLOUD_RUNENV"), "SCF");
    assert_eq!(get("SCF_RUNTIME_API"), "127.0.0.1");
    assert!(get("SCF_RUNTIME_API_PORT").parse::<u16>().is_ok());
    assert_eq!(get("_HANDLER"), "index.env_handler");
    assert_eq!(get("PYTHONDONTWRITEBYTECODE"), "x");
    let code_dir = fixture("python").canonicalize().unwrap();
    assert_eq!(PathBuf::from(out["cwd"].as_str().unwrap()), code_dir);
    assert_eq!(get("USER_CODE_ROOT"), format!("{}/", code_dir.display()));
    assert_eq!(get("PYTHONPATH"), code_dir.display().to_string());
    let tmpdir = PathBuf::from(get("TMPDIR"));
    assert!(
        tmpdir.starts_with(scratch.path()),
        "TMPDIR {tmpdir:?} is the instance's scratch"
    );
    assert!(PathBuf::from(get("HOME")).starts_with(scratch.path()));
    assert!(get("PATH").contains("/usr/bin"));
}

#[tokio::test]
async fn local_state_lives_as_long_as_the_instance_and_no_longer() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("tmp-fn", "index.tmp_state_handler");
    let scratch = tempfile::tempdir().unwrap();
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_scratch_root(scratch.path())
            .with_pool(PoolConfig::new(2, Duration::from_secs(60))),
    )
    .unwrap();
    let first = call(&f, &cfg, json!({})).await.0.unwrap();
    assert_eq!(first["existed"], json!(false));
    let second = call(&f, &cfg, json!({})).await.0.unwrap();
    assert_eq!(
        second["existed"],
        json!(true),
        "a warm instance keeps its /tmp"
    );
    assert_eq!(second["tmpdir"], first["tmpdir"]);
    let tmpdir = PathBuf::from(first["tmpdir"].as_str().unwrap());
    assert!(tmpdir.join("state.txt").exists());

    assert_eq!(f.stop_idle().await, 1);
    assert!(
        !tmpdir.exists(),
        "the scratch directory is removed when the instance stops"
    );
    let third = call(&f, &cfg, json!({})).await.0.unwrap();
    assert_eq!(
        third["existed"],
        json!(false),
        "state on disk does not outlive the instance"
    );
    assert_ne!(third["tmpdir"], first["tmpdir"]);
}

#[tokio::test]
async fn concurrent_instances_get_separate_scratch_directories() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("tmp-concurrent", "index.multi");
    let scratch = tempfile::tempdir().unwrap();
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_sandbox(scf_process::Sandbox::off())
            .with_scratch_root(scratch.path())
            .with_pool(PoolConfig::new(2, Duration::from_secs(60))),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hold = dir.path().join("hold.pid");
    // One instance sleeps while the other reports its TMPDIR.
    let sleeper = {
        let f = f.clone();
        let cfg = cfg.clone();
        let hold = hold.clone();
        tokio::spawn(async move {
            call(
                &f,
                &cfg,
                json!({"op": "sleep_with_pid_file", "pid_file": hold}),
            )
            .await
        })
    };
    assert!(eventually(Duration::from_secs(5), || hold.exists()).await);
    let other = call(&f, &cfg, json!({"op": "tmp_state_handler"}))
        .await
        .0
        .unwrap();
    let entries = std::fs::read_dir(scratch.path()).unwrap().count();
    assert_eq!(entries, 2, "one scratch directory per instance");
    assert!(PathBuf::from(other["tmpdir"].as_str().unwrap()).starts_with(scratch.path()));
    sleeper.abort();
    let _ = sleeper.await;
    assert!(
        eventually(Duration::from_secs(5), || std::fs::read_dir(scratch.path())
            .unwrap()
            .count()
            == 1)
        .await,
        "the killed instance's scratch is removed"
    );
}

#[tokio::test]
async fn a_crashed_instance_leaves_no_scratch_directory() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("tmp-crash", "index.exit_handler");
    let scratch = tempfile::tempdir().unwrap();
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python).with_scratch_root(scratch.path()),
    )
    .unwrap();
    let (out, _) = call(&f, &cfg, json!({})).await;
    assert_eq!(out.unwrap_err().status().code(), 439);
    assert!(
        eventually(Duration::from_secs(5), || std::fs::read_dir(scratch.path())
            .unwrap()
            .count()
            == 0)
        .await,
        "scratch removed"
    );
}

#[tokio::test]
async fn dropping_the_function_stops_its_instances_and_removes_their_scratch() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("tmp-drop", "index.pid_handler");
    let scratch = tempfile::tempdir().unwrap();
    let f = ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_sandbox(scf_process::Sandbox::off())
            .with_scratch_root(scratch.path()),
    )
    .unwrap();
    let pid = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
    drop(f);
    assert!(std::fs::read_dir(scratch.path()).unwrap().count() == 0);
    assert!(eventually(Duration::from_secs(3), || !common::alive(pid)).await);
}
