//! A context counts down from `time_limit_in_ms` and carries the cancellation signal.

use std::time::{Duration, Instant};

use scf_context::{CancelReason, Context, FunctionConfig};

#[test]
fn remaining_time_counts_down_from_the_time_limit() {
    let mut config = FunctionConfig::new("hello");
    config.timeout = Duration::from_secs(2);
    let ctx = Context::new(&config, "rid");
    let left = ctx.get_remaining_time_in_millis();
    assert!(left <= 2000 && left > 1000, "left = {left}");
    assert_eq!(ctx.time_limit(), Duration::from_secs(2));
}

#[test]
fn remaining_time_is_zero_after_the_deadline() {
    let ctx = Context::default().with_start(Instant::now() - Duration::from_secs(10));
    assert_eq!(ctx.remaining_time(), Duration::ZERO);
    assert_eq!(ctx.get_remaining_time_in_millis(), 0);
}

#[test]
fn cancellation_is_shared_by_clones_and_reports_its_reason() {
    let ctx = Context::default();
    let handle = ctx.cancellation().clone();
    let copy = ctx.clone();
    assert_eq!(ctx.cancel_reason(), None);
    handle.cancel(CancelReason::Terminated);
    assert!(ctx.is_cancelled());
    assert!(copy.is_cancelled());
    assert_eq!(copy.cancel_reason(), Some(CancelReason::Terminated));
}

#[test]
fn cancelled_future_completes_when_fired_from_another_thread() {
    let ctx = Context::default();
    let handle = ctx.cancellation().clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.cancel(CancelReason::Timeout);
    });
    let reason = block_on(ctx.cancellation().cancelled());
    t.join().unwrap();
    assert_eq!(reason, CancelReason::Timeout);
}

/// A minimal executor so this test needs no async runtime, as the crate itself needs none.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context as Cx, Poll, Wake, Waker};
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Cx::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
