//! `MsgTTL`: an accepted async event may start an attempt only within its TTL, counted
//! from when it was accepted; past it the event ends `FAILED` instead of waiting on (for
//! the concurrency limit, a retry, or a process that was down).

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{final_status, function, function_with_retries, gated, invoker, register_user};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError, FunctionStatus};
use scf_invoker::{InvokeRequest, Invoker, InvokerConfig};
use scf_store::{AsyncEvent, AsyncQueue, AsyncStatus};
use scf_store_sqlite::SqliteStore;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_kept_waiting_by_the_concurrency_limit_past_its_ttl_fails_with_432() {
    let invoker = invoker(Default::default());
    let gate = Arc::new(Semaphore::new(0));
    let mut config = function("slow");
    config.max_concurrency = Some(1);
    config.retry = config.retry.with_msg_ttl(Duration::from_secs(1));
    invoker.add_function(config, gated(gate.clone())).unwrap();
    let first = invoker
        .invoke(InvokeRequest::event("slow", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
    let second = invoker
        .invoke(InvokeRequest::event("slow", "{}"))
        .await
        .unwrap()
        .request_id;

    let expired = final_status(&invoker, &second, Duration::from_secs(5)).await;
    assert_eq!(expired.status, AsyncStatus::Failed);
    assert_eq!(expired.status_code, 432);
    assert_eq!(expired.attempts, 0, "it never ran");
    assert!(invoker.request_logs(&second).await.unwrap().is_empty());

    // The TTL only bounds when an attempt may start: the running one finishes.
    gate.add_permits(1);
    let done = final_status(&invoker, &first, Duration::from_secs(5)).await;
    assert_eq!(done.status, AsyncStatus::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_that_would_start_past_the_ttl_is_not_made() {
    let invoker = invoker(Default::default());
    // Retries 1 s apart, a 1.6 s TTL: the first retry starts in time, the second would
    // start at ~2 s.
    let mut config = function_with_retries("register", 2, 1000);
    config.retry = config.retry.with_msg_ttl(Duration::from_millis(1600));
    invoker
        .add_function(config, handler_fn(register_user))
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("register", r#"{"username":"bob"}"#))
        .await
        .unwrap()
        .request_id;

    let event = final_status(&invoker, &id, Duration::from_secs(5)).await;
    assert_eq!(event.status, AsyncStatus::Failed);
    assert_eq!(
        event.status_code,
        i64::from(FunctionStatus::UserCodeException.code()),
        "the last attempt's status"
    );
    assert_eq!(event.attempts, 2);
    let retries: Vec<u32> = invoker
        .request_logs(&id)
        .await
        .unwrap()
        .iter()
        .map(|r| r.retry_num)
        .collect();
    assert_eq!(retries, [0, 1]);
}

#[test]
fn an_event_recovered_after_its_ttl_fails_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("scf.db")).unwrap());
    // Accepted two hours ago by a process that died before running it.
    let accepted = OffsetDateTime::now_utc() - Duration::from_secs(2 * 3600);
    for id in ["expired", "in-time"] {
        let mut ev = AsyncEvent::new(id, "job", "default", "$LATEST", "OTHERS", accepted, "{}");
        if id == "in-time" {
            ev.start_time = OffsetDateTime::now_utc();
        }
        store.enqueue(&ev).unwrap();
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = InvokerConfig::default().with_store(store.clone());
        let invoker = Invoker::new(config).unwrap();
        let mut function = function("job");
        function.retry = function.retry.with_msg_ttl(Duration::from_secs(3600));
        let counted = runs.clone();
        invoker
            .add_function(
                function,
                handler_fn(move |_: Value, _: Context| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { Ok::<_, FunctionError>("ran") }
                }),
            )
            .unwrap();
        let report = invoker.recover().await.unwrap();
        assert_eq!(report.requeued.len(), 2, "{report:?}");

        let expired = final_status(&invoker, "expired", Duration::from_secs(5)).await;
        assert_eq!(expired.status, AsyncStatus::Failed);
        assert_eq!(expired.status_code, 432);
        let in_time = final_status(&invoker, "in-time", Duration::from_secs(5)).await;
        assert_eq!(in_time.status, AsyncStatus::Finished);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1, "only the event in time ran");
}
