//! The async queue is bounded: when it is full the call is refused with a clear error,
//! never silently dropped, and every accepted event still runs.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{final_status, function, invoker_with};
use scf_context::Context;
use scf_handler::{cooperative, handler_fn, FunctionError, FunctionStatus};
use scf_invoker::{InvokeError, InvokeRequest};
use scf_store::AsyncStatus;
use serde_json::Value;

// On tokio's paused clock: the handler is cooperative, so a sleep of the test ends only
// once the dispatcher and the worker have nothing left to do.
#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_the_event_and_keeps_every_accepted_one() {
    let invoker = invoker_with(|c| {
        c.async_queue_capacity = 2;
        c.async_workers = 1;
    });
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let g = gate.clone();
    invoker
        .add_function(
            function("busy"),
            cooperative(handler_fn(move |_: Value, _: Context| {
                let g = g.clone();
                async move {
                    g.acquire().await.unwrap().forget();
                    Ok::<_, FunctionError>(())
                }
            })),
        )
        .unwrap();
    let mut accepted = Vec::new();
    let refused = loop {
        match invoker.invoke(InvokeRequest::event("busy", "{}")).await {
            Ok(response) => accepted.push(response.request_id),
            Err(err) => break err,
        }
        assert!(accepted.len() < 10, "the queue is bounded");
        // Let the dispatcher take what it can, so the count is deterministic.
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // One running (held under a lease, so not waiting), two waiting in the queue.
    assert_eq!(accepted.len(), 3);
    assert!(matches!(refused, InvokeError::QueueFull { capacity: 2 }));
    assert_eq!(refused.status(), FunctionStatus::ResourceLimitReached);
    assert_eq!(
        refused.to_string(),
        "the async event queue is full (2 events waiting): the event was not accepted, try again later"
    );
    let (total, _) = invoker.list_async(Default::default()).await.unwrap();
    assert_eq!(total, 3, "the refused event was not stored");

    gate.add_permits(10);
    for id in &accepted {
        let done = final_status(&invoker, id, Duration::from_secs(5)).await;
        assert_eq!(done.status, AsyncStatus::Finished);
    }
    assert!(
        invoker
            .invoke(InvokeRequest::event("busy", "{}"))
            .await
            .is_ok(),
        "room again"
    );
}
