//! Several invokers sharing one store are one deployment: each records its node id with
//! the attempts it runs and the events it accepts.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{echo, final_status, function};
use scf_handler::{cooperative, handler_fn};
use scf_invoker::{InvokeRequest, Invoker, InvokerConfig};
use scf_store::{AsyncStatus, MemoryStore};

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
