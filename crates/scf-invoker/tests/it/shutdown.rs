//! Graceful shutdown: stop accepting, let running invocations finish within the grace
//! period, cancel the rest, keep queued async events.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{echo, function, invoker};
use scf_context::{CancelReason, Context};
use scf_handler::{cooperative, handler_fn, FunctionError, FunctionStatus};
use scf_invoker::{InvokeError, InvokeRequest};
use scf_store::AsyncStatus;
use serde_json::Value;

fn sleeper(ms: u64) -> impl scf_handler::Handler {
    handler_fn(move |_: Value, _: Context| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok::<_, FunctionError>("slept")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_running_invocations_finish_and_refuses_new_ones() {
    for mode in common::MODES {
        let invoker = invoker(mode);
        invoker
            .add_function(function("slow"), sleeper(200))
            .unwrap();
        invoker
            .add_function(function("echo"), handler_fn(echo))
            .unwrap();
        let running = {
            let invoker = invoker.clone();
            tokio::spawn(async move { invoker.invoke(InvokeRequest::new("slow", "{}")).await })
        };
        assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
        let start = Instant::now();
        let report = {
            let invoker = invoker.clone();
            tokio::spawn(async move { invoker.shutdown(Duration::from_secs(5)).await })
        };
        assert!(common::eventually(Duration::from_secs(1), || !invoker.is_accepting()).await);
        let err = invoker
            .invoke(InvokeRequest::new("echo", "{}"))
            .await
            .unwrap_err();
        assert!(matches!(err, InvokeError::ShuttingDown));
        assert_eq!(err.status(), FunctionStatus::ServiceSuspended);
        let err = invoker
            .invoke(InvokeRequest::event("echo", "{}"))
            .await
            .unwrap_err();
        assert!(matches!(err, InvokeError::ShuttingDown));
        let report = report.await.unwrap();
        assert_eq!(report.cancelled, 0);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "returns once they finished"
        );
        assert!(running.await.unwrap().unwrap().is_success(), "{mode:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_still_running_after_the_grace_period_are_cancelled() {
    let invoker = invoker(Default::default());
    let seen: Arc<Mutex<Option<CancelReason>>> = Arc::default();
    let slot = seen.clone();
    invoker
        .add_function(
            function("endless"),
            handler_fn(move |_: Value, ctx: Context| {
                let slot = slot.clone();
                async move {
                    std::thread::spawn(move || {
                        while !ctx.is_cancelled() {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        *slot.lock().unwrap() = ctx.cancel_reason();
                    });
                    std::future::pending::<()>().await;
                    Ok::<_, FunctionError>(())
                }
            }),
        )
        .unwrap();
    let running = {
        let invoker = invoker.clone();
        tokio::spawn(async move { invoker.invoke(InvokeRequest::new("endless", "{}")).await })
    };
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
    let start = Instant::now();
    let report = invoker.shutdown(Duration::from_millis(100)).await;
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(report.cancelled, 1);
    let response = running.await.unwrap().unwrap();
    assert_eq!(response.status, FunctionStatus::RequestCanceled);
    assert!(response.err_msg.contains("the invoker shut down"));
    // A generous wait, as in terminate.rs: the handler's own thread polls every 5 ms, but a
    // loaded machine can leave it unscheduled for long (1 s was seen to be too short there).
    assert!(common::eventually(Duration::from_secs(5), || seen.lock().unwrap().is_some()).await);
    assert_eq!(*seen.lock().unwrap(), Some(CancelReason::Shutdown));
}

// On tokio's paused clock: the handler is cooperative and only sleeps on a tokio timer, and
// the grace period is one too.
#[tokio::test(start_paused = true)]
async fn queued_and_interrupted_async_events_stay_running_in_the_store() {
    let invoker = common::invoker_with(|c| c.async_workers = 1);
    invoker
        .add_function(function("slow"), cooperative(sleeper(10_000)))
        .unwrap();
    let running = invoker
        .invoke(InvokeRequest::event("slow", "{}"))
        .await
        .unwrap()
        .request_id;
    let queued = invoker
        .invoke(InvokeRequest::event("slow", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
    let report = invoker.shutdown(Duration::from_millis(50)).await;
    assert_eq!(report.cancelled, 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let event = invoker.get_async_event(&running).await.unwrap().unwrap();
    assert_eq!(event.status, AsyncStatus::Running, "left for recover()");
    assert_eq!(
        event.attempts, 0,
        "an attempt interrupted by shutdown is not counted"
    );
    let record = &invoker.request_logs(&running).await.unwrap()[0];
    assert_eq!(record.ret_code, 3);
    let event = invoker.get_async_event(&queued).await.unwrap().unwrap();
    assert_eq!((event.status, event.attempts), (AsyncStatus::Running, 0));
}
