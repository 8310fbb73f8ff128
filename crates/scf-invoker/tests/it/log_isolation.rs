//! What a handler logs through `tracing` and `log` lands in its own invocation's log and
//! never in another's, with many invocations at once on a multi-threaded runtime, and
//! from the handler's extra threads through the context's thread hook.

use crate::common;

use std::time::Duration;

use common::{function, invoker};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{InvokeRequest, LogType};
use serde_json::Value;

/// A handler that logs through `tracing`, `log` (bridged into `tracing` by the one opt-in
/// call an application without a `log` bridge of its own makes) and an extra thread.
fn chatty() -> impl scf_handler::Handler {
    // Err when a test of this process bridged `log` already.
    let _ = scf_logs::capture_log_crate();
    handler_fn(|event: Value, ctx: Context| async move {
        let me = event["me"].as_u64().unwrap_or(0);
        for step in 0..5 {
            tracing::info!(step, "tracing from {me}");
            log::warn!("log from {me} step {step}");
            // Move between worker threads and interleave with the others.
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let task = ctx.wrap_thread_task(Box::new(move || {
            tracing::error!("thread of {me}");
        }));
        std::thread::spawn(task).join().ok();
        Ok::<_, FunctionError>(me)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invocations_each_get_only_their_own_lines() {
    for mode in common::MODES {
        let invoker = invoker(mode);
        invoker.add_function(function("chatty"), chatty()).unwrap();
        let handles: Vec<_> = (0..64u64)
            .map(|me| {
                let invoker = invoker.clone();
                tokio::spawn(async move {
                    let request = InvokeRequest::new("chatty", serde_json::json!({ "me": me }))
                        .with_log_type(LogType::Tail);
                    (me, invoker.invoke(request).await.unwrap())
                })
            })
            .collect();
        for handle in handles {
            let (me, response) = handle.await.unwrap();
            assert!(response.is_success());
            let record = &invoker.request_logs(&response.request_id).await.unwrap()[0];
            let id = &response.request_id;
            let user_lines: Vec<&str> = record
                .log
                .lines()
                .filter(|l| l.contains(&format!("\t{id}\t[")))
                .collect();
            assert_eq!(user_lines.len(), 11, "{mode:?} {me}: {}", record.log);
            for step in 0..5 {
                assert!(record
                    .log
                    .contains(&format!("[INFO]\ttracing from {me} step={step}")));
                assert!(record
                    .log
                    .contains(&format!("[WARN]\tlog from {me} step {step}")));
            }
            assert!(record.log.contains(&format!("[ERROR]\tthread of {me}")));
            for other in (0..64u64).filter(|o| *o != me) {
                assert!(
                    !record.log.contains(&format!("from {other} ")),
                    "{me} got {other}'s line"
                );
                assert!(!record.log.contains(&format!("thread of {other}\n")));
            }
            assert_eq!(
                record.log.matches("RequestId:").count(),
                4,
                "only its own platform lines"
            );
        }
    }
}

#[tokio::test]
async fn every_user_line_carries_a_timestamp_the_request_id_and_a_level() {
    let invoker = invoker(Default::default());
    invoker.add_function(function("chatty"), chatty()).unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("chatty", r#"{"me":7}"#).with_log_type(LogType::Tail))
        .await
        .unwrap();
    let user_lines: Vec<&str> = response
        .log
        .lines()
        .filter(|l| !l.contains("RequestId:"))
        .collect();
    assert_eq!(user_lines.len(), 11);
    for line in user_lines {
        let fields: Vec<&str> = line.splitn(4, '\t').collect();
        assert_eq!(fields.len(), 4, "{line}");
        let ts =
            time::OffsetDateTime::parse(fields[0], &time::format_description::well_known::Rfc3339);
        assert!(ts.is_ok(), "timestamp in {line}");
        assert_eq!(fields[1], response.request_id);
        assert!(
            ["[INFO]", "[WARN]", "[ERROR]"].contains(&fields[2]),
            "{line}"
        );
    }
}

#[tokio::test]
async fn logs_outside_an_invocation_go_nowhere_near_one() {
    let invoker = invoker(Default::default());
    invoker.add_function(function("chatty"), chatty()).unwrap();
    tracing::info!("host line before");
    let response = invoker
        .invoke(InvokeRequest::new("chatty", r#"{"me":1}"#).with_log_type(LogType::Tail))
        .await
        .unwrap();
    tracing::info!("host line after");
    assert!(!response.log.contains("host line"));
}
