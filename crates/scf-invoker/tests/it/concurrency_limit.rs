//! Per-function concurrency: 432 with SCF's message for sync calls, waiting for async ones.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{function, gated, invoker, invoker_with};
use scf_handler::{cooperative, FunctionStatus};
use scf_invoker::{InvokeError, InvokeRequest};
use tokio::sync::Semaphore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_call_over_the_limit_is_refused_with_432_and_scfs_message() {
    let invoker = invoker(Default::default());
    let gate = Arc::new(Semaphore::new(0));
    let mut config = function("slow");
    config.max_concurrency = Some(2);
    config.memory_mb = 256;
    invoker.add_function(config, gated(gate.clone())).unwrap();

    let running: Vec<_> = (0..2)
        .map(|_| {
            let invoker = invoker.clone();
            tokio::spawn(async move { invoker.invoke(InvokeRequest::new("slow", "{}")).await })
        })
        .collect();
    assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 2).await);

    let err = invoker
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), FunctionStatus::ResourceLimitReached);
    assert_eq!(
        err.to_string(),
        "Function [ slow ] concurrency exceeded reserved quota 512 MB"
    );
    assert!(matches!(
        err,
        InvokeError::ConcurrencyLimit {
            limit: 2,
            quota_mb: 512,
            ..
        }
    ));

    gate.add_permits(2);
    for handle in running {
        assert!(handle.await.unwrap().unwrap().is_success());
    }
    gate.add_permits(1);
    let again = invoker
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap();
    assert!(
        again.is_success(),
        "the slots are released when invocations end"
    );
    let page = invoker.get_logs(Default::default()).await.unwrap();
    assert_eq!(page.total_count, 3, "the refused call is not recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoker_default_limit_applies_when_the_function_sets_none() {
    let invoker = invoker_with(|c| c.default_concurrency = 1);
    let gate = Arc::new(Semaphore::new(0));
    invoker
        .add_function(function("slow"), gated(gate.clone()))
        .unwrap();
    let first = {
        let invoker = invoker.clone();
        tokio::spawn(async move { invoker.invoke(InvokeRequest::new("slow", "{}")).await })
    };
    assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
    let err = invoker
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Function [ slow ] concurrency exceeded reserved quota 128 MB"
    );
    assert_eq!(invoker.functions()[0].running, 1);
    gate.add_permits(1);
    assert!(first.await.unwrap().unwrap().is_success());
}

// On tokio's paused clock: the handler is cooperative (it waits on a tokio semaphore on
// the test's runtime) and the waiting events re-check the gate on a tokio timer.
#[tokio::test(start_paused = true)]
async fn async_events_over_the_limit_wait_for_room_instead_of_failing() {
    let invoker = invoker(Default::default());
    let gate = Arc::new(Semaphore::new(0));
    let mut config = function("slow");
    config.max_concurrency = Some(1);
    invoker
        .add_function(config, cooperative(gated(gate.clone())))
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
    // Past two of the waiting events' re-checks of the gate (every 100 ms).
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(invoker.in_flight(), 1, "only one runs at a time");
    gate.add_permits(3);
    for id in ids {
        let event = common::final_status(&invoker, &id, Duration::from_secs(5)).await;
        assert_eq!(event.status, scf_store::AsyncStatus::Finished);
        assert_eq!(event.attempts, 1, "waiting for room is not an attempt");
    }
}

/// A sync call refused by the concurrency limit writes no record but is counted as a
/// throttle in the store's per-minute aggregates (the console's throttle series).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sync_call_is_counted_as_a_throttle_in_the_store() {
    use scf_store::{ConsoleStore, MemoryStore, StatsQuery};
    let store = Arc::new(MemoryStore::default());
    let invoker = invoker_with(|c| *c = std::mem::take(c).with_store(store.clone()));
    let gate = Arc::new(Semaphore::new(0));
    let mut config = function("slow");
    config.max_concurrency = Some(1);
    invoker.add_function(config, gated(gate.clone())).unwrap();
    let first = {
        let invoker = invoker.clone();
        tokio::spawn(async move { invoker.invoke(InvokeRequest::new("slow", "{}")).await })
    };
    assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
    for _ in 0..2 {
        let err = invoker
            .invoke(InvokeRequest::new("slow", "{}"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), FunctionStatus::ResourceLimitReached);
    }
    gate.add_permits(1);
    assert!(first.await.unwrap().unwrap().is_success());
    let now = time::OffsetDateTime::now_utc();
    let stats = store
        .minute_stats(&StatsQuery {
            namespace: "default".into(),
            function_name: Some("slow".into()),
            start: now - time::Duration::minutes(5),
            end: now + time::Duration::minutes(1),
        })
        .unwrap();
    let throttles: u64 = stats.iter().map(|m| m.throttles).sum();
    let invocations: u64 = stats.iter().map(|m| m.invocations).sum();
    assert_eq!((throttles, invocations), (2, 1), "{stats:?}");
    let page = invoker.get_logs(Default::default()).await.unwrap();
    assert_eq!(page.total_count, 1, "a throttle is not a log record");
}
