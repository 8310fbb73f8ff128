//! Async (`Event`) invocations: the id comes back at once, the function runs in the
//! background, and its result and status are in the store under that id.

use crate::common;

use std::time::{Duration, Instant};

use common::{echo, final_status, function, invoker};
use scf_context::Context;
use scf_handler::{cooperative, handler_fn, FunctionError};
use scf_invoker::{InvokeRequest, LogType};
use scf_logs::InvocationType;
use scf_store::{AsyncQuery, AsyncStatus};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_returns_the_request_id_before_the_function_runs() {
    for mode in common::MODES {
        let invoker = invoker(mode);
        invoker
            .add_function(
                function("slow"),
                handler_fn(|event: Value, _: Context| async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    tracing::info!("processed {}", event["key"]);
                    Ok::<_, FunctionError>(event)
                }),
            )
            .unwrap();
        let start = Instant::now();
        let accepted = invoker
            .invoke(
                InvokeRequest::event("slow", common::fixture("abctest_event.json"))
                    .with_log_type(LogType::Tail),
            )
            .await
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
        uuid::Uuid::parse_str(&accepted.request_id).unwrap();
        assert_eq!(accepted.invocation_type, InvocationType::Event);
        assert_eq!(accepted.ret_msg, "", "only FunctionRequestId is filled");
        assert_eq!(accepted.log, "", "async calls return no log");
        assert_eq!(accepted.duration_ms, 0.0);
        assert_eq!(accepted.bill_duration_ms, 0);

        let running = invoker
            .get_async_event(&accepted.request_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(running.status, AsyncStatus::Running);
        assert_eq!(running.status_code, 0);
        assert_eq!(running.event, r#"{"key":"abctest"}"#);

        let done = final_status(&invoker, &accepted.request_id, Duration::from_secs(5)).await;
        assert_eq!(done.status, AsyncStatus::Finished, "{mode:?}");
        assert_eq!(done.status_code, 200);
        assert_eq!(done.attempts, 1);
        assert!(done.end_time.is_some());

        let records = invoker.request_logs(&accepted.request_id).await.unwrap();
        assert_eq!(records.len(), 1);
        let record = &records[0];
        assert_eq!(record.ret_code, 0);
        assert_eq!(record.ret_msg, r#"{"key":"abctest"}"#);
        assert_eq!(record.retry_num, 0);
        assert_eq!(record.invocation_type, InvocationType::Event);
        assert!(record.log.contains("[INFO]\tprocessed \"abctest\""));
        assert!(record.duration_ms >= 300.0);
    }
}

// On tokio's paused clock: the handler is cooperative and only sleeps on a tokio timer.
#[tokio::test(start_paused = true)]
async fn a_running_attempt_is_visible_in_the_logs_as_running() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("slow"),
            cooperative(handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok::<_, FunctionError>(())
            })),
        )
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("slow", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
    let records = invoker.request_logs(&id).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].ret_code, 2, "RetCode 2 = running");
    final_status(&invoker, &id, Duration::from_secs(5)).await;
    let records = invoker.request_logs(&id).await.unwrap();
    assert_eq!(
        records[0].ret_code, 0,
        "the finished record replaces the running one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_async_finds_events_by_function_and_invoke_type() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let timer = invoker
        .invoke(InvokeRequest::event("echo", "{}").with_invoke_type("TRIGGER_TIMER"))
        .await
        .unwrap()
        .request_id;
    let other = invoker
        .invoke(InvokeRequest::event("echo", "{}"))
        .await
        .unwrap()
        .request_id;
    final_status(&invoker, &timer, Duration::from_secs(5)).await;
    final_status(&invoker, &other, Duration::from_secs(5)).await;
    let query = AsyncQuery {
        function_name: Some("echo".into()),
        invoke_types: vec!["TRIGGER_TIMER".into()],
        ..AsyncQuery::default()
    };
    let (total, events) = invoker.list_async(query).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(events[0].invoke_request_id, timer);
    assert_eq!(events[0].status, AsyncStatus::Finished);
    let all = AsyncQuery {
        function_name: Some("echo".into()),
        ..AsyncQuery::default()
    };
    assert_eq!(invoker.list_async(all).await.unwrap().0, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_async_events_all_finish() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..200 {
        let event = serde_json::json!({ "i": i });
        ids.push(
            invoker
                .invoke(InvokeRequest::event("echo", event))
                .await
                .unwrap()
                .request_id,
        );
    }
    for id in &ids {
        let done = final_status(&invoker, id, Duration::from_secs(10)).await;
        assert_eq!(done.status, AsyncStatus::Finished);
    }
}
