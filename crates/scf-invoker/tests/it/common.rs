//! Helpers shared by the integration tests: invokers, function configs and the seed's handlers.
//!
//! A test runs on tokio's paused clock (`#[tokio::test(start_paused = true)]`) only when
//! every wait on its path is a tokio timer of the test's runtime: its handlers are
//! cooperative (`scf_handler::cooperative`) and await only tokio, no deadline fires, and
//! it checks nothing the invoker times with `std::time::Instant` (the deadline, `Duration`)
//! or the wall clock (`StartTime`, `MsgTTL`). Handlers on pool threads (`Execution::Isolated`)
//! or std threads would see the clock jump while they work. The other tests wait in real
//! time and run in nextest's `real-time` group (`.config/nextest.toml`).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use scf_context::{Context, FunctionConfig, RetryConfig};
use scf_handler::FunctionError;
use scf_invoker::{Execution, Invoker, InvokerConfig};
use scf_store::MemoryStore;
use serde_json::Value;

/// An invoker with a fresh memory store and `execution`.
pub fn invoker(execution: Execution) -> Invoker {
    invoker_with(|c| c.execution = execution)
}

/// An invoker with a fresh memory store, configured further by `f`.
pub fn invoker_with(f: impl FnOnce(&mut InvokerConfig)) -> Invoker {
    let mut config = InvokerConfig::default().with_store(Arc::new(MemoryStore::default()));
    f(&mut config);
    Invoker::new(config).expect("a valid invoker config")
}

/// Both execution modes, for tests that must hold in each.
pub const MODES: [Execution; 2] = [Execution::Isolated, Execution::Inline];

/// A function config with the platform defaults and `name`.
pub fn function(name: &str) -> FunctionConfig {
    FunctionConfig::new(name)
}

/// A function config with a 1 s timeout (the platform's minimum).
pub fn function_with_timeout_1s(name: &str) -> FunctionConfig {
    let mut config = FunctionConfig::new(name);
    config.timeout = Duration::from_secs(1);
    config
}

/// A function config whose async retries are `retries` and `interval_ms` apart.
pub fn function_with_retries(name: &str, retries: u8, interval_ms: u64) -> FunctionConfig {
    let mut config = FunctionConfig::new(name);
    config.retry = RetryConfig::new(retries, Duration::from_millis(interval_ms));
    config
}

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {path}: {e}"))
        .trim_end()
        .to_string()
}

/// The seed's error, raised by the second example handler.
#[derive(Debug, thiserror::Error)]
#[error("user {0} already exists")]
pub struct UserNameAlreadyExistsException(pub String);

/// A handler that waits until the test adds a permit to `gate`, then returns `"done"`.
pub fn gated(gate: Arc<tokio::sync::Semaphore>) -> impl scf_handler::Handler {
    scf_handler::handler_fn(move |_: Value, _: Context| {
        let gate = gate.clone();
        async move {
            gate.acquire()
                .await
                .map_err(|e| FunctionError::new("Closed", e.to_string()))?
                .forget();
            Ok::<_, FunctionError>("done")
        }
    })
}

/// The seed's echo handler: returns the event.
pub async fn echo(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    Ok(event)
}

/// The seed's failing handler: always raises `UserNameAlreadyExistsException`.
pub async fn register_user(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    let name = event["username"].as_str().unwrap_or("someone").to_string();
    Err(UserNameAlreadyExistsException(name).into())
}

/// Polls `f` every 10 ms until it is true or `timeout` passes; whether it became true.
///
/// Timed with tokio's clock: real time, except in a test on a paused clock, where the
/// timeout is virtual like the waits of the code under test.
pub async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if tokio::time::Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The async event's status once it is no longer RUNNING (or the last seen after `timeout`,
/// timed with tokio's clock like [`eventually`]).
pub async fn final_status(invoker: &Invoker, id: &str, timeout: Duration) -> scf_store::AsyncEvent {
    let end = tokio::time::Instant::now() + timeout;
    loop {
        let event = invoker
            .get_async_event(id)
            .await
            .expect("store read")
            .expect("the event is stored");
        if event.status != scf_store::AsyncStatus::Running || tokio::time::Instant::now() > end {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
