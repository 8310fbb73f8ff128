//! Several invokers sharing one store are one deployment: each records its node id with
//! the attempts it runs and the events it accepts, and with
//! `ConcurrencyScope::Deployment` a function's concurrency limit holds across them (and a
//! dead node's slots come back when their leases run out).

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{echo, final_status, function, gated};
use scf_handler::{cooperative, handler_fn};
use scf_invoker::{ConcurrencyScope, InvokeError, InvokeRequest, Invoker, InvokerConfig};
use scf_store::{AsyncStatus, ConcurrencySlots, FunctionRef, MemoryStore};
use scf_store_sqlite::SqliteStore;
use time::OffsetDateTime;

fn node(store: &Arc<MemoryStore>, id: &str) -> Invoker {
    let mut config = InvokerConfig::default().with_store(store.clone());
    config.node_id = id.to_owned();
    let invoker = Invoker::new(config).unwrap();
    invoker
        .add_function(function("echo"), cooperative(handler_fn(echo)))
        .unwrap();
    invoker
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_events_carry_the_node_that_ran_or_accepted_them() {
    let store = Arc::new(MemoryStore::default());
    let a = node(&store, "host-a-1");
    let sync = a.invoke(InvokeRequest::new("echo", "{}")).await.unwrap();
    let records = a.request_logs(&sync.request_id).await.unwrap();
    assert_eq!(records[0].node, "host-a-1", "a sync record names its node");

    let accepted = a.invoke(InvokeRequest::event("echo", "{}")).await.unwrap();
    let event = a
        .get_async_event(&accepted.request_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event.node, "host-a-1",
        "an event names the node that accepted it"
    );
    let done = final_status(&a, &accepted.request_id, Duration::from_secs(5)).await;
    assert_eq!(done.status, AsyncStatus::Finished);
    let records = a.request_logs(&accepted.request_id).await.unwrap();
    assert_eq!(
        records[0].node, "host-a-1",
        "an async attempt's record names its node"
    );
}

#[test]
fn an_empty_node_id_is_refused_by_name() {
    let mut config = InvokerConfig::default();
    config.node_id = String::new();
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("node_id"), "{error}");
}

/// A node on `store` whose concurrency limits are counted in it, running `gated` (limit 2)
/// that waits for a permit of `gate`; leases of 1 s renewed every 200 ms.
fn deployment_node(
    store: &Arc<SqliteStore>,
    id: &str,
    gate: &Arc<tokio::sync::Semaphore>,
) -> Invoker {
    let mut config = InvokerConfig::default().with_store(store.clone());
    config.node_id = id.to_owned();
    config.concurrency = ConcurrencyScope::Deployment(store.clone());
    config.lease = Duration::from_secs(1);
    config.lease_renewal = Duration::from_millis(200);
    config.async_poll = Duration::from_millis(50);
    let invoker = Invoker::new(config).unwrap();
    let mut f = function("gated");
    f.max_concurrency = Some(2);
    invoker
        .add_function(f, cooperative(gated(gate.clone())))
        .unwrap();
    invoker
}

fn sqlite() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("scf.sqlite")).unwrap());
    (dir, store)
}

async fn held(store: &SqliteStore) -> u32 {
    store
        .held_slots(
            &FunctionRef::new("default", "gated"),
            OffsetDateTime::now_utc(),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_wide_limit_holds_across_nodes_and_frees_when_invocations_end() {
    let (_dir, store) = sqlite();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let a = deployment_node(&store, "node-a", &gate);
    let b = deployment_node(&store, "node-b", &gate);
    let first = tokio::spawn({
        let a = a.clone();
        async move { a.invoke(InvokeRequest::new("gated", "{}")).await }
    });
    let second = tokio::spawn({
        let b = b.clone();
        async move { b.invoke(InvokeRequest::new("gated", "{}")).await }
    });
    assert!(
        common::eventually(Duration::from_secs(5), || a.in_flight() + b.in_flight()
            == 2)
        .await,
        "both invocations run"
    );
    assert_eq!(held(&store).await, 2, "two slots are held in the store");
    // Each node runs one, under its own limit of 2; the deployment's limit is full.
    for node in [&a, &b] {
        let refused = node.invoke(InvokeRequest::new("gated", "{}")).await;
        assert!(
            matches!(refused, Err(InvokeError::ConcurrencyLimit { limit: 2, .. })),
            "a third invocation is refused with 432: {refused:?}"
        );
    }
    // Running past the 1 s lease keeps the slots: their node renews them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        held(&store).await,
        2,
        "renewed slots are still held after the lease"
    );
    let refused = b.invoke(InvokeRequest::new("gated", "{}")).await;
    assert!(
        matches!(refused, Err(InvokeError::ConcurrencyLimit { .. })),
        "{refused:?}"
    );
    gate.add_permits(2);
    assert!(first.await.unwrap().unwrap().status.is_success());
    assert!(second.await.unwrap().unwrap().status.is_success());
    assert!(
        common::eventually(Duration::from_secs(5), || {
            store
                .held_slots(
                    &FunctionRef::new("default", "gated"),
                    OffsetDateTime::now_utc(),
                )
                .unwrap()
                == 0
        })
        .await,
        "the slots are given back"
    );
    gate.add_permits(1);
    let again = b.invoke(InvokeRequest::new("gated", "{}")).await.unwrap();
    assert!(again.status.is_success(), "a slot is free again");
    assert_eq!(b.concurrency_fallbacks(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_slots_come_back_when_their_leases_run_out() {
    let (_dir, store) = sqlite();
    // A node that took both slots and died: nobody renews them, they run out in 1 s.
    let f = FunctionRef::new("default", "gated");
    let now = OffsetDateTime::now_utc();
    for _ in 0..2 {
        let slot = store
            .acquire_slot(&f, "dead-node", 2, Duration::from_secs(1), now)
            .unwrap();
        assert!(slot.is_some());
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(10));
    let b = deployment_node(&store, "node-b", &gate);
    let refused = b.invoke(InvokeRequest::new("gated", "{}")).await;
    assert!(
        matches!(refused, Err(InvokeError::ConcurrencyLimit { .. })),
        "{refused:?}"
    );
    // An async event waits for a slot rather than fail, and runs once the leases ran out.
    let accepted = b.invoke(InvokeRequest::event("gated", "{}")).await.unwrap();
    let done = final_status(&b, &accepted.request_id, Duration::from_secs(10)).await;
    assert_eq!(done.status, AsyncStatus::Finished, "{done:?}");
    let ran = b.invoke(InvokeRequest::new("gated", "{}")).await.unwrap();
    assert!(ran.status.is_success());
}
