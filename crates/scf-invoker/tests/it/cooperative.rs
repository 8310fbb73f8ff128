//! Handlers that declare themselves cooperative (`Handler::is_cooperative`, or wrapped in
//! `scf_handler::cooperative`) run on the caller's task even in `Execution::Isolated`, and their deadline still holds; others
//! run on a pool thread.

use crate::common;

use std::time::{Duration, Instant};

use common::{function_with_timeout_1s, invoker};
use scf_context::Context;
use scf_handler::{cooperative, FunctionError, FunctionStatus, Handler};
use scf_invoker::{Execution, InvokeRequest};
use serde_json::{json, Value};

/// Answers with the name of the thread it ran on; sleeps (awaiting) when asked to.
struct ThreadName {
    cooperative: bool,
}

#[async_trait::async_trait]
impl Handler for ThreadName {
    async fn call(&self, event: Value, _ctx: Context) -> Result<Value, FunctionError> {
        if let Some(ms) = event["sleep_ms"].as_u64() {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Ok(json!(std::thread::current()
            .name()
            .unwrap_or("")
            .to_owned()))
    }

    fn is_cooperative(&self) -> bool {
        self.cooperative
    }
}

/// The name of the thread `handler` ran on under `Execution::Isolated`.
async fn thread_of(handler: impl Handler) -> String {
    thread_under(&invoker(Execution::Isolated), handler).await
}

/// The name of the thread `handler` ran on under `invoker`.
async fn thread_under(invoker: &scf_invoker::Invoker, handler: impl Handler) -> String {
    invoker
        .add_function(function_with_timeout_1s("fn-threads"), handler)
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("fn-threads", "{}"))
        .await
        .unwrap();
    assert_eq!(response.status, FunctionStatus::Success);
    serde_json::from_str(&response.ret_msg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooperative_handler_runs_on_the_callers_runtime_in_isolated_mode() {
    let name = thread_of(ThreadName { cooperative: true }).await;
    assert!(
        !name.starts_with("scf-invoker-"),
        "ran on the runtime, not a pool thread: {name:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_handlers_run_on_a_pool_thread_in_isolated_mode() {
    let name = thread_of(ThreadName { cooperative: false }).await;
    assert!(name.starts_with("scf-invoker-"), "ran on {name:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_wrapped_in_cooperative_runs_on_the_callers_runtime() {
    let name = thread_of(cooperative(ThreadName { cooperative: false })).await;
    assert!(
        !name.starts_with("scf-invoker-"),
        "ran on the runtime, not a pool thread: {name:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooperative_handler_still_times_out_at_its_deadline() {
    let invoker = invoker(Execution::Isolated);
    invoker
        .add_function(
            function_with_timeout_1s("fn-sleepy"),
            ThreadName { cooperative: true },
        )
        .unwrap();
    let start = Instant::now();
    let response = invoker
        .invoke(InvokeRequest::new("fn-sleepy", r#"{"sleep_ms": 5000}"#))
        .await
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(response.status, FunctionStatus::TimeLimitReached);
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(1050),
        "433 within 50 ms of the deadline: {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_execution_runs_an_async_handler_on_the_callers_task() {
    let invoker = common::invoker_with(|_| {});
    let name = thread_under(&invoker, ThreadName { cooperative: false }).await;
    assert!(
        !name.starts_with("scf-invoker-"),
        "the default runs it on the caller's runtime, not a pool thread: {name:?}"
    );
    assert_eq!(
        invoker.pool_stats().threads,
        0,
        "no pool thread was started"
    );
}
