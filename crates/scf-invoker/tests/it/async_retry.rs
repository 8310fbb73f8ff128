//! Async retries: after a function error an event is retried per the function's retry
//! config, each attempt logged with its RetryNum; refusals are never retried.

use crate::common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{final_status, function_with_retries, register_user};
use scf_context::{Context, RetryConfig};
use scf_handler::{cooperative, handler_fn, FunctionError};
use scf_invoker::InvokeRequest;
use scf_store::AsyncStatus;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_is_retried_twice_by_default_then_fails() {
    let invoker = common::invoker(Default::default());
    assert_eq!(RetryConfig::default().max_retries, 2);
    let config = function_with_retries("register", 2, 50);
    invoker
        .add_function(config, handler_fn(register_user))
        .unwrap();
    let start = Instant::now();
    let id = invoker
        .invoke(InvokeRequest::event("register", "{}"))
        .await
        .unwrap()
        .request_id;
    let done = final_status(&invoker, &id, Duration::from_secs(5)).await;
    assert_eq!(done.status, AsyncStatus::Failed);
    assert_eq!(done.status_code, 430);
    assert_eq!(done.attempts, 3);
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "two 50 ms intervals"
    );
    let records = invoker.request_logs(&id).await.unwrap();
    let retry_nums: Vec<u32> = records.iter().map(|r| r.retry_num).collect();
    assert_eq!(retry_nums, [0, 1, 2]);
    for record in &records {
        assert_eq!(record.status_code, 430);
        assert_eq!(record.ret_code, 1);
        assert!(record.log.contains("UserNameAlreadyExistsException"));
    }
    let gap = records[1].start_time - records[0].start_time;
    assert!(
        gap >= time::Duration::milliseconds(50),
        "attempts are an interval apart: {gap}"
    );
}

// On tokio's paused clock: the handler is cooperative (it runs on the test's runtime, not
// on a pool thread) and the retry interval is a tokio timer, so virtual time is exact.
#[tokio::test(start_paused = true)]
async fn an_event_that_succeeds_on_a_retry_finishes() {
    let invoker = common::invoker(Default::default());
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    invoker
        .add_function(
            function_with_retries("flaky", 2, 10),
            cooperative(handler_fn(move |_: Value, _: Context| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        Err(FunctionError::new("Flaky", "first call fails"))
                    } else {
                        Ok("ok on retry")
                    }
                }
            })),
        )
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("flaky", "{}"))
        .await
        .unwrap()
        .request_id;
    let done = final_status(&invoker, &id, Duration::from_secs(5)).await;
    assert_eq!(done.status, AsyncStatus::Finished);
    assert_eq!(done.attempts, 2);
    let records = invoker.request_logs(&id).await.unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].retry_num, records[0].ret_code), (0, 1));
    assert_eq!((records[1].retry_num, records[1].ret_code), (1, 0));
    assert_eq!(records[1].ret_msg, "\"ok on retry\"");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_retries_means_one_attempt() {
    let invoker = common::invoker(Default::default());
    invoker
        .add_function(
            function_with_retries("register", 0, 10),
            handler_fn(register_user),
        )
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("register", "{}"))
        .await
        .unwrap()
        .request_id;
    let done = final_status(&invoker, &id, Duration::from_secs(5)).await;
    assert_eq!(done.status, AsyncStatus::Failed);
    assert_eq!(done.attempts, 1);
    assert_eq!(invoker.request_logs(&id).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_panics_are_retried_like_errors() {
    let invoker = common::invoker(Default::default());
    let mut config = function_with_retries("sleepy", 1, 10);
    config.timeout = Duration::from_secs(1);
    invoker
        .add_function(
            config,
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    invoker
        .add_function(
            function_with_retries("panicky", 1, 10),
            handler_fn(|_: Value, _: Context| async {
                if true {
                    panic!("boom");
                }
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    let sleepy = invoker
        .invoke(InvokeRequest::event("sleepy", "{}"))
        .await
        .unwrap()
        .request_id;
    let panicky = invoker
        .invoke(InvokeRequest::event("panicky", "{}"))
        .await
        .unwrap()
        .request_id;
    let done = final_status(&invoker, &sleepy, Duration::from_secs(5)).await;
    assert_eq!(
        (done.status, done.status_code, done.attempts),
        (AsyncStatus::Failed, 433, 2)
    );
    let done = final_status(&invoker, &panicky, Duration::from_secs(5)).await;
    assert_eq!(
        (done.status, done.status_code, done.attempts),
        (AsyncStatus::Failed, 430, 2)
    );
}

// On tokio's paused clock: no handler runs, and the wait for a retry that must not come is
// virtual.
#[tokio::test(start_paused = true)]
async fn refused_events_are_never_retried_nor_stored() {
    let invoker = common::invoker(Default::default());
    invoker
        .add_function(
            function_with_retries("register", 2, 10),
            handler_fn(register_user),
        )
        .unwrap();
    assert!(invoker
        .invoke(InvokeRequest::event("register", "{bad"))
        .await
        .is_err());
    assert!(invoker
        .invoke(InvokeRequest::event("missing", "{}"))
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (total, _) = invoker.list_async(Default::default()).await.unwrap();
    assert_eq!(total, 0);
    assert_eq!(
        invoker
            .get_logs(Default::default())
            .await
            .unwrap()
            .total_count,
        0
    );
}

// On tokio's paused clock: the handler is cooperative and the 300 ms retry interval is a
// tokio timer, so the function is removed within the interval every time, without waiting it.
#[tokio::test(start_paused = true)]
async fn an_event_whose_function_was_removed_fails_with_435_when_its_turn_comes() {
    let invoker = common::invoker(Default::default());
    invoker
        .add_function(
            function_with_retries("register", 1, 300),
            cooperative(handler_fn(register_user)),
        )
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("register", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(common::eventually(Duration::from_secs(2), || { futures_done(&invoker, &id) }).await);
    assert!(invoker.remove_function("default", "register", "$LATEST"));
    let done = final_status(&invoker, &id, Duration::from_secs(5)).await;
    assert_eq!((done.status, done.status_code), (AsyncStatus::Failed, 435));
}

/// Whether the first attempt of `id` has been recorded as finished.
fn futures_done(invoker: &scf_invoker::Invoker, id: &str) -> bool {
    invoker
        .store()
        .get(id)
        .map(|r| r.first().is_some_and(|r| !r.is_running()))
        .unwrap_or(false)
}
