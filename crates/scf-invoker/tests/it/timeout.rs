//! Timeouts: 433 `time out` promptly at the deadline, whatever the handler does with its
//! thread; the context's cancellation fires; stuck handlers never starve other invocations.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{echo, function, function_with_timeout_1s, invoker};
use scf_context::{CancelReason, Context};
use scf_handler::{blocking_fn, handler_fn, FunctionError, FunctionStatus};
use scf_invoker::{Execution, InvokeRequest, Invoker};
use scf_store::{LogQuery, RetCodeFilter};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(1);
const PROMPT: Duration = Duration::from_millis(50);

async fn timed(invoker: &Invoker, name: &str) -> (scf_invoker::InvokeResponse, Duration) {
    let start = Instant::now();
    let response = invoker
        .invoke(InvokeRequest::new(name, "{}"))
        .await
        .expect("the invocation runs");
    (response, start.elapsed())
}

fn assert_timed_out(response: &scf_invoker::InvokeResponse, elapsed: Duration) {
    assert_eq!(response.status, FunctionStatus::TimeLimitReached);
    assert!(elapsed >= DEADLINE, "not before the deadline: {elapsed:?}");
    assert!(
        elapsed < DEADLINE + PROMPT,
        "within 50 ms of the deadline: {elapsed:?}"
    );
    let error: Value = serde_json::from_str(&response.err_msg).unwrap();
    assert_eq!(error["errorMessage"], "time out");
    assert_eq!(error["statusCode"], 433);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_blocking_its_thread_ends_with_433_within_50_ms_of_the_deadline() {
    let invoker = invoker(Execution::Isolated);
    invoker
        .add_function(
            function_with_timeout_1s("blocker"),
            handler_fn(|_: Value, _: Context| async {
                std::thread::sleep(Duration::from_secs(3));
                Ok::<_, FunctionError>("too late")
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "blocker").await;
    assert_timed_out(&response, elapsed);
    assert!(
        invoker.pool_stats().busy >= 1,
        "the blocked thread is still busy until the handler returns"
    );
}

static STOP_SPINNING: AtomicBool = AtomicBool::new(false);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_fn_handler_under_the_default_execution_ends_with_433_within_50_ms_of_the_deadline(
) {
    let invoker = common::invoker_with(|_| {});
    invoker
        .add_function(
            function_with_timeout_1s("blocking-fn"),
            blocking_fn(|_: Value, _: Context| {
                std::thread::sleep(Duration::from_secs(3));
                Ok::<_, FunctionError>("too late")
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "blocking-fn").await;
    assert_timed_out(&response, elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_spinning_on_the_cpu_ends_with_433_within_50_ms_of_the_deadline() {
    let invoker = invoker(Execution::Isolated);
    invoker
        .add_function(
            function_with_timeout_1s("spinner"),
            handler_fn(|_: Value, _: Context| async {
                let start = Instant::now();
                let mut n = 0u64;
                while !STOP_SPINNING.load(Ordering::Relaxed)
                    && start.elapsed() < Duration::from_secs(5)
                {
                    n = n.wrapping_add(1);
                    std::hint::spin_loop();
                }
                Ok::<_, FunctionError>(n)
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "spinner").await;
    STOP_SPINNING.store(true, Ordering::Relaxed);
    assert_timed_out(&response, elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_recorded_and_billed_like_scf() {
    let invoker = invoker(Execution::Isolated);
    invoker
        .add_function(
            function_with_timeout_1s("sleeper"),
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "sleeper").await;
    assert_timed_out(&response, elapsed);
    assert!(response.duration_ms >= 1000.0);
    assert!(response.bill_duration_ms >= 1000, "timeouts are billed");
    let page = invoker
        .get_logs(LogQuery {
            ret_code: Some(RetCodeFilter::TimeLimitExceeded),
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, 1);
    let record = &page.records[0];
    assert_eq!(record.status_code, 433);
    assert_eq!(record.ret_code, 1);
    assert!(record
        .log
        .contains(&format!("ERROR RequestId:{} Result:", response.request_id)));
    assert!(record.log.contains("\"errorMessage\":\"time out\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_cancellation_fires_with_timeout_so_a_cooperative_handler_can_stop() {
    for mode in common::MODES {
        let invoker = invoker(mode);
        let seen: Arc<Mutex<Option<(CancelReason, Duration)>>> = Arc::default();
        let slot = seen.clone();
        invoker
            .add_function(
                function_with_timeout_1s("polite"),
                handler_fn(move |_: Value, ctx: Context| {
                    let slot = slot.clone();
                    async move {
                        // A cooperative handler that works on a thread of its own and checks
                        // the signal between steps.
                        let done = std::thread::spawn(move || {
                            let start = Instant::now();
                            while !ctx.is_cancelled() {
                                std::thread::sleep(Duration::from_millis(5));
                            }
                            *slot.lock().unwrap() =
                                Some((ctx.cancel_reason().unwrap(), start.elapsed()));
                        });
                        let _ = done;
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        Ok::<_, FunctionError>(())
                    }
                }),
            )
            .unwrap();
        let (response, elapsed) = timed(&invoker, "polite").await;
        assert_timed_out(&response, elapsed);
        // A generous wait for the handler's own thread to record what it saw (it may be left
        // unscheduled for long on a loaded machine, see terminate.rs); how promptly it saw the
        // signal is checked below.
        assert!(
            common::eventually(Duration::from_secs(5), || seen.lock().unwrap().is_some()).await
        );
        let (reason, after) = seen.lock().unwrap().take().unwrap();
        assert_eq!(reason, CancelReason::Timeout, "{mode:?}");
        assert!(after < DEADLINE + PROMPT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_handlers_do_not_starve_other_invocations() {
    let invoker = invoker(Execution::Isolated);
    invoker
        .add_function(
            function_with_timeout_1s("blocker"),
            handler_fn(|_: Value, _: Context| async {
                std::thread::sleep(Duration::from_secs(2));
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    // More blocked handlers than the runtime has worker threads.
    let blocked: Vec<_> = (0..6)
        .map(|_| {
            let invoker = invoker.clone();
            tokio::spawn(async move { timed(&invoker, "blocker").await })
        })
        .collect();
    assert!(common::eventually(Duration::from_secs(1), || invoker.pool_stats().busy >= 6).await);
    for _ in 0..20 {
        let start = Instant::now();
        let response = invoker
            .invoke(InvokeRequest::new("echo", "{}"))
            .await
            .unwrap();
        assert!(response.is_success());
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "{:?}",
            start.elapsed()
        );
    }
    for handle in blocked {
        let (response, elapsed) = handle.await.unwrap();
        assert_eq!(response.status.code(), 433);
        assert!(elapsed < DEADLINE + PROMPT * 2, "{elapsed:?}");
    }
    // Their threads are still stuck in `sleep`; new invocations get fresh threads.
    let response = invoker
        .invoke(InvokeRequest::new("echo", "{}"))
        .await
        .unwrap();
    assert!(response.is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_awaiting_handler_is_dropped_at_the_deadline_and_frees_its_thread() {
    let invoker = invoker(Execution::Isolated);
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let flag = dropped.clone();
    invoker
        .add_function(
            function_with_timeout_1s("sleeper"),
            handler_fn(move |_: Value, _: Context| {
                let guard = SetOnDrop(flag.clone());
                async move {
                    let _guard = guard;
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    Ok::<_, FunctionError>(())
                }
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "sleeper").await;
    assert_timed_out(&response, elapsed);
    assert!(
        common::eventually(Duration::from_millis(500), || dropped
            .load(Ordering::SeqCst))
        .await
    );
    assert!(
        common::eventually(Duration::from_millis(500), || invoker.pool_stats().busy
            == 0)
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_execution_times_out_at_an_await_point() {
    let invoker = invoker(Execution::Inline);
    invoker
        .add_function(
            function_with_timeout_1s("sleeper"),
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "sleeper").await;
    assert_timed_out(&response, elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_execution_reports_a_result_that_comes_after_the_deadline_as_a_timeout() {
    let invoker = invoker(Execution::Inline);
    invoker
        .add_function(
            function_with_timeout_1s("late"),
            handler_fn(|_: Value, _: Context| async {
                std::thread::sleep(Duration::from_millis(1200));
                Ok::<_, FunctionError>("late")
            }),
        )
        .unwrap();
    let (response, elapsed) = timed(&invoker, "late").await;
    assert_eq!(response.status.code(), 433);
    assert!(
        elapsed >= Duration::from_millis(1200),
        "inline cannot interrupt a blocked thread"
    );
}
