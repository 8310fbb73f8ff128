//! The instance pool: warm reuse, growth up to the limit, idle stop, dead instances replaced.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use common::{alive, call, config, eventually, fixture};
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec};
use serde_json::json;

fn pooled(
    cfg: &scf_context::FunctionConfig,
    python: scf_process::RuntimeKind,
    max: usize,
    idle: Duration,
) -> ProcessFunction {
    ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_pool(PoolConfig::new(max, idle)),
    )
    .unwrap()
}

/// [`pooled`] without a sandbox: the tests that follow the bootstrap's host pid.
fn pooled_unsandboxed(
    cfg: &scf_context::FunctionConfig,
    python: scf_process::RuntimeKind,
    max: usize,
    idle: Duration,
) -> ProcessFunction {
    ProcessFunction::new(
        ProcessSpec::new(cfg.clone(), fixture("python"), python)
            .with_pool(PoolConfig::new(max, idle))
            .with_sandbox(scf_process::Sandbox::off()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_warm_instance_is_reused() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("warm-fn", "index.pid_handler");
    let f = pooled(&cfg, python, 4, Duration::from_secs(60));
    let a = call(&f, &cfg, json!({})).await.0.unwrap();
    let b = call(&f, &cfg, json!({})).await.0.unwrap();
    assert_eq!(a, b, "same process twice");
    let stats = f.stats();
    assert_eq!((stats.started, stats.live, stats.idle), (1, 1, 1));
}

#[tokio::test]
async fn the_pool_grows_on_demand_up_to_its_limit() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("grow-fn", "index.multi");
    let f = pooled(&cfg, python, 3, Duration::from_secs(60));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let f = f.clone();
        let cfg = cfg.clone();
        tasks.push(tokio::spawn(async move {
            call(&f, &cfg, json!({"op": "sleep_handler", "seconds": 0.4})).await
        }));
    }
    let peak_live = {
        let mut peak = 0;
        for _ in 0..50 {
            peak = peak.max(f.stats().live);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak
    };
    for t in tasks {
        assert_eq!(t.await.unwrap().0.unwrap(), json!("woke up"));
    }
    assert_eq!(peak_live, 3, "grew to the limit and no further");
    assert_eq!(f.stats().started, 3, "six invocations on three instances");
    let mut pids = HashSet::new();
    for _ in 0..3 {
        pids.insert(
            call(&f, &cfg, json!({"op": "pid_handler"}))
                .await
                .0
                .unwrap(),
        );
    }
    assert_eq!(
        pids.len(),
        1,
        "sequential calls reuse the most recent instance"
    );
}

#[tokio::test]
async fn idle_instances_are_stopped_after_the_idle_timeout() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("idle-fn", "index.pid_handler");
    let f = pooled_unsandboxed(&cfg, python, 2, Duration::from_millis(300));
    let pid = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
    assert!(alive(pid));
    assert!(
        eventually(Duration::from_secs(5), || !alive(pid)).await,
        "stopped when idle"
    );
    assert_eq!(f.stats().idle, 0);
    assert!(eventually(Duration::from_secs(2), || f.stats().live == 0).await);
    let again = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
    assert_ne!(again, pid, "a new instance starts on demand");
}

#[tokio::test]
async fn an_idle_instance_that_died_is_replaced_transparently() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("dead-idle-fn", "index.pid_handler");
    let f = pooled_unsandboxed(&cfg, python, 2, Duration::from_secs(60));
    let pid = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(eventually(Duration::from_secs(3), || !alive(pid)).await);
    let again = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
    assert_ne!(again, pid);
}

#[tokio::test]
async fn an_idle_instance_that_died_just_before_its_invocation_is_replaced_transparently() {
    // The invocation comes as soon as the process is dead (a zombie at most, before the
    // monitor has reaped it): the instance's socket, closed by the death, must tell, and
    // the event go to a new instance.
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("just-died-idle-fn", "index.pid_handler");
    let f = pooled_unsandboxed(&cfg, python, 2, Duration::from_secs(60));
    for _ in 0..5 {
        let pid = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap(),
            rustix::process::Signal::KILL,
        )
        .unwrap();
        let begun = std::time::Instant::now();
        while alive(pid) {
            assert!(
                begun.elapsed() < Duration::from_secs(3),
                "the kill took effect"
            );
            std::thread::yield_now();
        }
        let again = call(&f, &cfg, json!({})).await.0.unwrap().as_i64().unwrap();
        assert_ne!(again, pid, "the dead instance did not serve");
    }
}
