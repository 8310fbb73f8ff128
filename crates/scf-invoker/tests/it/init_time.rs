//! A cold start's init time, reported by the handler, is timed separately from the
//! invocation's time limit and left out of its Duration, as on SCF.

use crate::common;

use std::time::Duration;

use common::{function_with_timeout_1s, invoker, MODES};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError, FunctionStatus};
use scf_invoker::InvokeRequest;
use serde_json::{json, Value};

async fn cold_start(_e: Value, ctx: Context) -> Result<Value, FunctionError> {
    // 800 ms of "init" (a runtime starting), reported, then 500 ms of work: 1.3 s in all,
    // past the 1 s limit, but within it once init is set aside.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(ctx.report_init_duration(Duration::from_millis(800)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(json!("warm"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_init_time_moves_the_deadline_and_is_left_out_of_duration() {
    for mode in MODES {
        let inv = invoker(mode);
        inv.add_function(function_with_timeout_1s("cold"), handler_fn(cold_start))
            .unwrap();
        let out = inv.invoke(InvokeRequest::new("cold", "{}")).await.unwrap();
        assert_eq!(out.status, FunctionStatus::Success, "{mode:?}: {out:?}");
        assert_eq!(out.ret_msg, "\"warm\"");
        assert!(
            out.duration_ms >= 450.0 && out.duration_ms < 800.0,
            "{mode:?}: Duration {} excludes init",
            out.duration_ms
        );
    }
}

async fn too_slow_even_after_init(_e: Value, ctx: Context) -> Result<Value, FunctionError> {
    assert!(ctx.report_init_duration(Duration::from_millis(300)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(json!("late"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_limit_still_holds_after_init() {
    let inv = invoker(scf_invoker::Execution::Isolated);
    inv.add_function(
        function_with_timeout_1s("slow"),
        handler_fn(too_slow_even_after_init),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = inv.invoke(InvokeRequest::new("slow", "{}")).await.unwrap();
    assert_eq!(out.status, FunctionStatus::TimeLimitReached);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1300) && took < Duration::from_millis(1400),
        "ended after {took:?}"
    );
}

#[test]
fn reporting_outside_an_invocation_does_nothing() {
    assert!(!Context::default().report_init_duration(Duration::from_millis(5)));
}
