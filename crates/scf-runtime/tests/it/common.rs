//! The functions the tests serve through `scf_runtime`, run as the bootstrap process by
//! re-executing this test binary in child mode.

use std::path::Path;

use scf_context::Context;
use scf_handler::{handler_fn, FunctionError, Registry};
use serde::Deserialize;
use serde_json::{json, Value};

/// The variable that tells a re-executed test binary which function to serve.
pub(crate) const CHILD_VAR: &str = "RUNTIME_TEST_CHILD";

#[derive(Debug, thiserror::Error)]
#[error("user {0} exists")]
pub(crate) struct UserNameAlreadyExistsException(String);

#[derive(Deserialize)]
pub(crate) struct Typed {
    pub(crate) key: String,
}

pub(crate) fn registry() -> Registry {
    Registry::new()
        .with(
            "index.echo",
            handler_fn(|e: Value, ctx: Context| async move {
                Ok::<_, FunctionError>(json!({
                    "event": e,
                    "request_id": ctx.request_id,
                    "memory_limit_in_mb": ctx.memory_limit_in_mb,
                    "time_limit_in_ms": ctx.time_limit_in_ms,
                    "function_name": ctx.function_name,
                    "namespace": ctx.namespace,
                }))
            }),
        )
        .and_then(|r| {
            r.with(
                "index.fail",
                handler_fn(|e: Value, _ctx: Context| async move {
                    Err::<Value, FunctionError>(
                        UserNameAlreadyExistsException(e["user"].as_str().unwrap_or("?").into())
                            .into(),
                    )
                }),
            )
        })
        .and_then(|r| {
            r.with(
                "index.panic",
                handler_fn(|e: Value, _ctx: Context| async move {
                    if e["panic"] == true {
                        panic!("handler panicked on purpose");
                    }
                    Ok::<_, FunctionError>(json!("survived"))
                }),
            )
        })
        .and_then(|r| {
            r.with(
                "index.typed",
                handler_fn(|e: Typed, _ctx: Context| async move { Ok::<_, FunctionError>(e.key) }),
            )
        })
        .expect("valid handler names")
}

/// Writes a `bootstrap` into `dir` that re-runs this test binary as the runtime.
pub(crate) fn write_bootstrap(dir: &Path, child_test: &str) {
    // In the code directory, as a deployed function's binary is: a sandboxed instance sees
    // nothing of the host's file system beyond it (docs/security.md).
    let exe = dir.join("runtime-test-binary");
    std::fs::copy(
        std::env::current_exe().expect("the test binary knows its path"),
        &exe,
    )
    .expect("copy the test binary into the code directory");
    let script = format!(
        "#!/bin/sh\nexec \"{}\" --exact {child_test} --ignored --nocapture --test-threads=1\n",
        exe.display()
    );
    let path = dir.join("bootstrap");
    std::fs::write(&path, script).expect("write bootstrap");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("chmod bootstrap");
}

/// Serves, on a thread of its own, a handler that answers each event with the event, the
/// request id, the memory limit and the time limit (`e`, `rid`, `mem`, `ms`).
pub(crate) fn serve_echo_in_background(config: scf_runtime::RuntimeConfig) {
    let handler = handler_fn(|e: Value, ctx: Context| async move {
        Ok::<_, FunctionError>(
            json!({"e": e, "rid": ctx.request_id, "mem": ctx.memory_limit_in_mb, "ms": ctx.time_limit_in_ms}),
        )
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = rt.block_on(scf_runtime::serve(config, Ok(std::sync::Arc::new(handler))));
    });
}

/// Checks that `err` is the SCF error JSON of a malformed event of request `request_id`.
pub(crate) fn assert_parse_error(err: &Value, request_id: &str) {
    assert_eq!(err["requestId"], request_id);
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("parse event error: "),
        "{err}"
    );
}
