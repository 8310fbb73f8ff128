//! A runtime-agnostic cancellation signal, so that the core crates need no tokio.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context as TaskContext, Poll, Waker};

/// Why an invocation was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// The invocation reached `time_limit_in_ms`.
    Timeout,
    /// The invocation was terminated (`TerminateAsyncEvent`).
    Terminated,
    /// The host is shutting down and its grace period ended.
    Shutdown,
}

impl CancelReason {
    fn to_u8(self) -> u8 {
        match self {
            CancelReason::Timeout => 1,
            CancelReason::Terminated => 2,
            CancelReason::Shutdown => 3,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(CancelReason::Timeout),
            2 => Some(CancelReason::Terminated),
            3 => Some(CancelReason::Shutdown),
            _ => None,
        }
    }
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::Timeout => "time out",
            CancelReason::Terminated => "terminated",
            CancelReason::Shutdown => "shutdown",
        })
    }
}

/// A cancellation signal shared between the host that runs an invocation and the
/// handler that serves it.
///
/// Clones share one state. The host calls [`Cancellation::cancel`] when the
/// deadline passes or the invocation is terminated; a cooperative handler polls
/// [`Cancellation::is_cancelled`] or awaits [`Cancellation::cancelled`] on any
/// async runtime.
#[derive(Clone, Default)]
pub struct Cancellation {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    reason: AtomicU8,
    next_id: AtomicU64,
    wakers: Mutex<Vec<(u64, Waker)>>,
}

impl Inner {
    fn wakers(&self) -> MutexGuard<'_, Vec<(u64, Waker)>> {
        // A poisoned lock only means a waker panicked while registered; the list is still usable.
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Cancellation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancellation")
            .field("reason", &self.reason())
            .finish()
    }
}

impl Cancellation {
    /// A fresh, not yet cancelled signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires the signal with `reason`. The first reason wins; later calls do nothing.
    pub fn cancel(&self, reason: CancelReason) {
        if self
            .inner
            .reason
            .compare_exchange(0, reason.to_u8(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let wakers = std::mem::take(&mut *self.inner.wakers());
            for (_, waker) in wakers {
                waker.wake();
            }
        }
    }

    /// Whether the signal has fired.
    pub fn is_cancelled(&self) -> bool {
        self.inner.reason.load(Ordering::Acquire) != 0
    }

    /// Why the signal fired, if it has.
    pub fn reason(&self) -> Option<CancelReason> {
        CancelReason::from_u8(self.inner.reason.load(Ordering::Acquire))
    }

    /// A future that completes when the signal fires.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            inner: self.inner.clone(),
            id: None,
        }
    }
}

/// The future returned by [`Cancellation::cancelled`]; yields the reason.
#[must_use = "futures do nothing unless awaited"]
pub struct Cancelled {
    inner: Arc<Inner>,
    id: Option<u64>,
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled").finish_non_exhaustive()
    }
}

impl Future for Cancelled {
    type Output = CancelReason;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<CancelReason> {
        let load = |inner: &Inner| CancelReason::from_u8(inner.reason.load(Ordering::Acquire));
        if let Some(reason) = load(&self.inner) {
            return Poll::Ready(reason);
        }
        let inner = self.inner.clone();
        let mut wakers = inner.wakers();
        // Re-check under the lock: `cancel` takes the list under the same lock.
        if let Some(reason) = load(&inner) {
            return Poll::Ready(reason);
        }
        match self.id {
            Some(id) => {
                if let Some(slot) = wakers.iter_mut().find(|(i, _)| *i == id) {
                    slot.1.clone_from(cx.waker());
                } else {
                    wakers.push((id, cx.waker().clone()));
                }
            }
            None => {
                let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
                wakers.push((id, cx.waker().clone()));
                drop(wakers);
                self.id = Some(id);
            }
        }
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.inner.wakers().retain(|(i, _)| *i != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn first_reason_wins_and_wakes_pending_futures() {
        let c = Cancellation::new();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = TaskContext::from_waker(&waker);
        let mut fut = Box::pin(c.cancelled());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            c.inner.wakers().len(),
            1,
            "re-polling must not grow the waker list"
        );
        c.cancel(CancelReason::Timeout);
        c.cancel(CancelReason::Terminated);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            fut.as_mut().poll(&mut cx),
            Poll::Ready(CancelReason::Timeout)
        );
        assert_eq!(c.reason(), Some(CancelReason::Timeout));
    }

    #[test]
    fn dropped_future_unregisters_its_waker() {
        let c = Cancellation::new();
        let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
        let mut cx = TaskContext::from_waker(&waker);
        let mut fut = Box::pin(c.cancelled());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        drop(fut);
        assert!(c.inner.wakers().is_empty());
    }
}
