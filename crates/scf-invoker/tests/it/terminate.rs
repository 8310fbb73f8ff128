//! Terminating async events: running, queued and waiting ones end ABORTED; ended and
//! unknown ones are refused with a clear error.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{final_status, function, function_with_retries, invoker, invoker_with, register_user};
use scf_context::{CancelReason, Context};
use scf_handler::{cooperative, handler_fn, FunctionError};
use scf_invoker::{AsyncEventError, InvokeRequest};
use scf_store::AsyncStatus;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_a_running_event_cancels_its_context_and_aborts_it() {
    for mode in common::MODES {
        let invoker = invoker(mode);
        let seen: Arc<Mutex<Option<CancelReason>>> = Arc::default();
        let slot = seen.clone();
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let running = started.clone();
        invoker
            .add_function(
                function("worker"),
                handler_fn(move |_: Value, ctx: Context| {
                    let slot = slot.clone();
                    let running = running.clone();
                    async move {
                        // Work on a thread of its own that checks the signal between steps.
                        std::thread::spawn(move || {
                            running.store(true, std::sync::atomic::Ordering::SeqCst);
                            while !ctx.is_cancelled() {
                                std::thread::sleep(Duration::from_millis(5));
                            }
                            *slot.lock().unwrap() = ctx.cancel_reason();
                        });
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Ok::<_, FunctionError>(())
                    }
                }),
            )
            .unwrap();
        let id = invoker
            .invoke(InvokeRequest::event("worker", "{}"))
            .await
            .unwrap()
            .request_id;
        assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
        // In flight counts from before the handler's first poll: terminate only once its
        // thread runs, or a loaded machine aborts the handler before it spawned it.
        assert!(
            common::eventually(Duration::from_secs(5), || started
                .load(std::sync::atomic::Ordering::SeqCst))
            .await
        );
        invoker.terminate(&id, "default", "worker").await.unwrap();
        let event = invoker.get_async_event(&id).await.unwrap().unwrap();
        assert_eq!(event.status, AsyncStatus::Aborted, "visible at once");
        assert_eq!(event.status_code, 499);
        assert!(event.end_time.is_some());
        // Generous waits: the handler's own thread polls every 5 ms, but a loaded machine
        // can leave it unscheduled for long (1 s was seen to be too short).
        assert!(common::eventually(Duration::from_secs(5), || invoker.in_flight() == 0).await);
        assert!(
            common::eventually(Duration::from_secs(5), || seen.lock().unwrap().is_some()).await
        );
        assert_eq!(
            *seen.lock().unwrap(),
            Some(CancelReason::Terminated),
            "{mode:?}"
        );
        let records = invoker.request_logs(&id).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].ret_code, 3, "RetCode 3 = interrupted");
        assert_eq!(records[0].status_code, 499);
        assert!(!records[0].invoke_finished);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let event = invoker.get_async_event(&id).await.unwrap().unwrap();
        assert_eq!(
            event.status,
            AsyncStatus::Aborted,
            "the worker does not overwrite it"
        );
    }
}

// On tokio's paused clock: the handler is cooperative and the retry interval is a tokio
// timer, so the test can wait past the interval and see that the retry never comes.
#[tokio::test(start_paused = true)]
async fn terminating_an_event_waiting_for_a_retry_stops_its_retries() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function_with_retries("register", 2, 10_000),
            cooperative(handler_fn(register_user)),
        )
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("register", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(
        common::eventually(Duration::from_secs(2), || {
            invoker
                .store()
                .get(&id)
                .map(|r| r.iter().any(|r| r.ret_code == 1))
                .unwrap_or(false)
        })
        .await
    );
    invoker.terminate(&id, "default", "register").await.unwrap();
    let event = invoker.get_async_event(&id).await.unwrap().unwrap();
    assert_eq!(event.status, AsyncStatus::Aborted);
    assert_eq!(event.attempts, 1);
    // Past the 10 s interval: the retry would have started by now.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(
        invoker.request_logs(&id).await.unwrap().len(),
        1,
        "no further attempt"
    );
}

// On tokio's paused clock: the handler is cooperative (it waits on a tokio semaphore on
// the test's runtime), so the wait for a run that must not come is virtual.
#[tokio::test(start_paused = true)]
async fn terminating_a_queued_event_means_it_never_runs() {
    let invoker = invoker_with(|c| c.async_workers = 1);
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
    let first = invoker
        .invoke(InvokeRequest::event("busy", "{}"))
        .await
        .unwrap()
        .request_id;
    let queued = invoker
        .invoke(InvokeRequest::event("busy", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(common::eventually(Duration::from_secs(2), || invoker.in_flight() == 1).await);
    invoker.terminate(&queued, "default", "busy").await.unwrap();
    gate.add_permits(2);
    assert_eq!(
        final_status(&invoker, &first, Duration::from_secs(5))
            .await
            .status,
        AsyncStatus::Finished
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let event = invoker.get_async_event(&queued).await.unwrap().unwrap();
    assert_eq!((event.status, event.attempts), (AsyncStatus::Aborted, 0));
    assert!(
        invoker.request_logs(&queued).await.unwrap().is_empty(),
        "it never ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_event_cannot_be_terminated() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(common::echo))
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("echo", "{}"))
        .await
        .unwrap()
        .request_id;
    final_status(&invoker, &id, Duration::from_secs(5)).await;
    let err = invoker.terminate(&id, "default", "echo").await.unwrap_err();
    assert!(matches!(
        err,
        AsyncEventError::AlreadyEnded {
            status: AsyncStatus::Finished,
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("has already ended with status FINISHED"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_and_other_functions_events_are_not_found() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(common::echo))
        .unwrap();
    let err = invoker
        .terminate("no-such-id", "default", "echo")
        .await
        .unwrap_err();
    assert!(matches!(err, AsyncEventError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        r#"no async event with InvokeRequestId "no-such-id" for function "echo" in namespace "default""#
    );
    let id = invoker
        .invoke(InvokeRequest::event("echo", "{}"))
        .await
        .unwrap()
        .request_id;
    let err = invoker
        .terminate(&id, "default", "other")
        .await
        .unwrap_err();
    assert!(matches!(err, AsyncEventError::NotFound { .. }));
}
