//! Helpers shared by the integration tests: interpreters, configs, contexts and calls
//! that capture the invocation's log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scf_context::{Context, FunctionConfig};
use scf_handler::{FunctionError, Handler};
use scf_logs::LogBuffer;
use scf_process::{PoolConfig, ProcessFunction, ProcessSpec, RuntimeKind};
use serde_json::Value;

/// A fixture directory under `tests/fixtures`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A directory under the workspace's `examples/`.
pub(crate) fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// The runtime for `name` (`runtime_or_skip!("Python3.9")`), or `return` from the test
/// when [`runtime`] says its interpreter is missing and skips are allowed.
macro_rules! runtime_or_skip {
    ($name:literal) => {
        match $crate::common::runtime($name) {
            Some(kind) => kind,
            None => return,
        }
    };
}

/// The runtime for `name`; `None` only when its interpreter is missing and skips are
/// allowed (`scf_testkit::require` fails the test otherwise). An interpreter that is
/// there but that scf-process refuses fails the test.
pub(crate) fn runtime(name: &str) -> Option<RuntimeKind> {
    let interpreter = if name.starts_with("Python") {
        &scf_testkit::PYTHON3
    } else if name.starts_with("Nodejs") {
        &scf_testkit::NODE
    } else if name.starts_with("Php") {
        &scf_testkit::PHP
    } else {
        panic!("no interpreter is known for the runtime {name}")
    };
    if !scf_testkit::require(interpreter) {
        return None;
    }
    Some(RuntimeKind::from_scf_name(name).unwrap_or_else(|e| panic!("{name} cannot run here: {e}")))
}

/// A config named `name` with `handler`, 128 MB and a 5 s timeout.
pub(crate) fn config(name: &str, handler: &str) -> FunctionConfig {
    let mut config = FunctionConfig::new(name);
    config.handler = handler.into();
    config.timeout = Duration::from_secs(5);
    config
}

/// A function from `config`, `code_dir` and `runtime`, with a small pool.
pub(crate) fn function(
    config: &FunctionConfig,
    code_dir: &Path,
    runtime: RuntimeKind,
) -> ProcessFunction {
    ProcessFunction::new(
        ProcessSpec::new(config.clone(), code_dir, runtime)
            .with_pool(PoolConfig::new(4, Duration::from_secs(60))),
    )
    .expect("valid spec")
}

/// [`function`] without a sandbox (a process group, as on a host without bubblewrap):
/// for the tests that follow the bootstrap's host pid or share files with it outside its
/// code directory.
pub(crate) fn unsandboxed(
    config: &FunctionConfig,
    code_dir: &Path,
    runtime: RuntimeKind,
) -> ProcessFunction {
    ProcessFunction::new(
        ProcessSpec::new(config.clone(), code_dir, runtime)
            .with_pool(PoolConfig::new(4, Duration::from_secs(60)))
            .with_sandbox(scf_process::Sandbox::off()),
    )
    .expect("valid spec")
}

/// A fresh context for `config`.
pub(crate) fn ctx(config: &FunctionConfig) -> Context {
    Context::new(config, uuid::Uuid::new_v4().to_string())
}

/// Calls `f` as the invoker would (with a current log buffer); returns the result and the
/// invocation's log.
pub(crate) async fn call(
    f: &ProcessFunction,
    config: &FunctionConfig,
    event: Value,
) -> (Result<Value, FunctionError>, String) {
    let ctx = ctx(config);
    let log = LogBuffer::new(ctx.request_id.clone());
    let out = log.scope(f.call(event, ctx)).await;
    (out, log.text())
}

/// Whether process `pid` is alive (and not a zombie).
pub(crate) fn alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            state != Some("Z") && state != Some("X")
        }
        Err(_) => false,
    }
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; whether it held.
pub(crate) async fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `curl` (which the Custom Runtime fixtures use, as SCF's documentation does) is
/// on the instances' `PATH`; `false` only when it is missing and skips are allowed.
pub(crate) fn has_curl() -> bool {
    scf_testkit::require(&scf_testkit::CURL)
}

/// Calls `f` twice and checks each answer is `expected` (the transport tests of the
/// bundled bootstraps).
pub(crate) async fn answers_twice(f: &ProcessFunction, config: &FunctionConfig, expected: Value) {
    for _ in 0..2 {
        let (out, _) = call(f, config, serde_json::json!({})).await;
        assert_eq!(out.unwrap(), expected);
    }
}
