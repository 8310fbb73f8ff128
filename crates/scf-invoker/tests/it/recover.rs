//! Crash durability: accepted async events live in the store, and `recover()` on a new
//! invoker over the same SQLite file runs again the ones that did not finish, continuing
//! their RetryNum from the attempts already made.

use crate::common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{echo, final_status, function};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{Execution, InvokeRequest, Invoker, InvokerConfig};
use scf_store::AsyncStatus;
use scf_store_sqlite::SqliteStore;
use serde_json::Value;

/// An invoker over the SQLite file at `path` (log and queue), with one async worker and a
/// 1 s lease, so that a crashed process's events are claimed again within a second.
fn sqlite_invoker(path: &Path, execution: Execution) -> Invoker {
    let store = Arc::new(SqliteStore::open(path).expect("open the store"));
    let mut config = InvokerConfig::default().with_store(store);
    config.execution = execution;
    config.async_workers = 1;
    config.lease = Duration::from_secs(1);
    config.lease_renewal = Duration::from_millis(200);
    Invoker::new(config).expect("invoker")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn recover_reruns_events_accepted_but_not_finished_before_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scf.db");

    // Process 1 accepts two events: one is running (it hangs) when the process dies, the
    // other is still queued behind it.
    let first = runtime();
    let (running, queued) = first.block_on(async {
        let invoker = sqlite_invoker(&path, Execution::Inline);
        invoker
            .add_function(
                function("job"),
                handler_fn(|_: Value, _: Context| async {
                    std::future::pending::<()>().await;
                    Ok::<_, FunctionError>(())
                }),
            )
            .unwrap();
        let running = invoker
            .invoke(InvokeRequest::event("job", r#"{"n":1}"#))
            .await
            .unwrap();
        assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
        let queued = invoker
            .invoke(InvokeRequest::event("job", r#"{"n":2}"#))
            .await
            .unwrap();
        (running.request_id, queued.request_id)
    });
    // The crash: every task is dropped where it stands; nothing finishes.
    first.shutdown_timeout(Duration::from_secs(1));

    let second = runtime();
    second.block_on(async {
        let invoker = sqlite_invoker(&path, Execution::Isolated);
        invoker
            .add_function(function("job"), handler_fn(echo))
            .unwrap();
        let before = invoker.get_async_event(&running).await.unwrap().unwrap();
        assert_eq!((before.status, before.attempts), (AsyncStatus::Running, 1));
        let before = invoker.get_async_event(&queued).await.unwrap().unwrap();
        assert_eq!((before.status, before.attempts), (AsyncStatus::Running, 0));

        let report = invoker.recover().await.unwrap();
        assert_eq!(report.requeued.len(), 2);
        assert!(report.requeued.contains(&running) && report.requeued.contains(&queued));

        let done = final_status(&invoker, &running, Duration::from_secs(5)).await;
        assert_eq!((done.status, done.attempts), (AsyncStatus::Finished, 2));
        let done = final_status(&invoker, &queued, Duration::from_secs(5)).await;
        assert_eq!((done.status, done.attempts), (AsyncStatus::Finished, 1));

        invoker.store().flush().unwrap();
        let attempts = invoker.request_logs(&running).await.unwrap();
        let summary: Vec<(u32, i64)> = attempts.iter().map(|r| (r.retry_num, r.ret_code)).collect();
        assert_eq!(
            summary,
            [(0, 3), (1, 0)],
            "the crashed attempt is marked interrupted, the rerun is RetryNum 1"
        );
        assert_eq!(attempts[1].ret_msg, r#"{"n":1}"#);
        let attempts = invoker.request_logs(&queued).await.unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!((attempts[0].retry_num, attempts[0].ret_code), (0, 0));

        let again = invoker.recover().await.unwrap();
        assert!(again.requeued.is_empty(), "nothing left to recover");
    });
}

#[test]
fn events_of_functions_not_registered_yet_are_left_for_a_later_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scf.db");
    let first = runtime();
    let id = first.block_on(async {
        let invoker = sqlite_invoker(&path, Execution::Isolated);
        invoker
            .add_function(
                function("later"),
                handler_fn(|_: Value, _: Context| async {
                    std::future::pending::<()>().await;
                    Ok::<_, FunctionError>(())
                }),
            )
            .unwrap();
        invoker
            .invoke(InvokeRequest::event("later", "{}"))
            .await
            .unwrap()
            .request_id
    });
    first.shutdown_timeout(Duration::from_secs(1));

    runtime().block_on(async {
        let invoker = sqlite_invoker(&path, Execution::Isolated);
        let report = invoker.recover().await.unwrap();
        assert!(report.requeued.is_empty());
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].0, id);
        assert!(report.skipped[0].1.contains("not found"));
        invoker
            .add_function(function("later"), handler_fn(echo))
            .unwrap();
        let report = invoker.recover().await.unwrap();
        assert_eq!(report.requeued, std::slice::from_ref(&id));
        let done = final_status(&invoker, &id, Duration::from_secs(5)).await;
        assert_eq!(done.status, AsyncStatus::Finished);
    });
}

#[test]
fn a_graceful_shutdown_keeps_queued_events_for_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scf.db");
    let first = runtime();
    let ids = first.block_on(async {
        let invoker = sqlite_invoker(&path, Execution::Isolated);
        invoker
            .add_function(
                function("slow"),
                handler_fn(|_: Value, _: Context| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Ok::<_, FunctionError>("slow done")
                }),
            )
            .unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                invoker
                    .invoke(InvokeRequest::event("slow", "{}"))
                    .await
                    .unwrap()
                    .request_id,
            );
        }
        assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
        let report = invoker.shutdown(Duration::from_secs(2)).await;
        assert_eq!(
            report.cancelled, 0,
            "the running one finished within the grace period"
        );
        ids
    });
    drop(first);

    runtime().block_on(async {
        let invoker = sqlite_invoker(&path, Execution::Isolated);
        let first = invoker.get_async_event(&ids[0]).await.unwrap().unwrap();
        assert_eq!(first.status, AsyncStatus::Finished);
        for id in &ids[1..] {
            let kept = invoker.get_async_event(id).await.unwrap().unwrap();
            assert_eq!((kept.status, kept.attempts), (AsyncStatus::Running, 0));
        }
        invoker
            .add_function(function("slow"), handler_fn(echo))
            .unwrap();
        let report = invoker.recover().await.unwrap();
        assert_eq!(report.requeued, ids[1..].to_vec());
        for id in &ids[1..] {
            let done = final_status(&invoker, id, Duration::from_secs(5)).await;
            assert_eq!((done.status, done.attempts), (AsyncStatus::Finished, 1));
        }
    });
}
