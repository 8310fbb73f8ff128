//! The request body as the server hands it to the services: its bytes counted against the
//! server's body budget while the request is handled, and what is left of it read and
//! discarded (up to a bound) after an early answer, so that a client that sends its whole
//! body before reading (Python's `http.client`) reads the answer instead of a reset.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::body::{declared_length, BoxError, OverBudget};

/// The bytes of request bodies held at once, for every connection of a server.
#[derive(Debug, Clone)]
pub(super) struct BodyBudget {
    permits: Arc<Semaphore>,
    bytes: u64,
}

impl BodyBudget {
    pub(super) fn new(bytes: u64) -> Self {
        let n = usize::try_from(bytes)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(n)),
            bytes,
        }
    }
}

/// What a request's headers say of its body, kept for [`GuardedBody::finish`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Asked {
    expects_continue: bool,
    declared: Option<u64>,
}

impl Asked {
    pub(super) fn of(headers: &HeaderMap) -> Self {
        Self {
            expects_continue: headers
                .get(http::header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
            declared: declared_length(headers),
        }
    }
}

struct Inner {
    body: Incoming,
    polled: bool,
    /// While discarding, bytes are dropped as they come and count against nothing.
    discarding: bool,
    held: Vec<OwnedSemaphorePermit>,
    budget: BodyBudget,
}

/// A request body whose received bytes hold a share of the [`BodyBudget`] until the
/// request is answered. Cheap to clone: the server keeps one handle to discard the rest.
#[derive(Clone)]
pub(super) struct GuardedBody(Arc<Mutex<Inner>>);

impl GuardedBody {
    pub(super) fn new(body: Incoming, budget: BodyBudget) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            body,
            polled: false,
            discarding: false,
            held: Vec::new(),
            budget,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After the answer is made: gives the budget back, then reads and drops what is left
    /// of the body (up to `bound` bytes within `time`) so that the client can read the
    /// answer. Nothing is read when the client asked `Expect: 100-continue` and the body
    /// was never asked for (it then sends no body), or when the declared length is over
    /// the bound (the connection closes after the answer).
    pub(super) async fn finish(self, asked: Asked, bound: u64, time: Duration) {
        {
            let mut inner = self.lock();
            inner.held.clear();
            if inner.body.is_end_stream() {
                return;
            }
            if asked.expects_continue && !inner.polled {
                return;
            }
            if asked.declared.is_some_and(|n| n > bound) {
                return;
            }
            inner.discarding = true;
        }
        let mut body = self;
        let drain = async {
            let mut seen = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(data) = frame.data_ref() {
                    seen += data.len() as u64;
                    if seen > bound {
                        return;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(time, drain).await;
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut inner = self.lock();
        inner.polled = true;
        let frame = match Pin::new(&mut inner.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if inner.discarding {
            return Poll::Ready(Some(Ok(frame)));
        }
        if let Some(data) = frame.data_ref() {
            let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
            if n > 0 {
                let permits = inner.budget.permits.clone();
                match permits.try_acquire_many_owned(n) {
                    Ok(p) => inner.held.push(p),
                    Err(_) => {
                        let budget = inner.budget.bytes;
                        inner.held.clear();
                        return Poll::Ready(Some(Err(Box::new(OverBudget { budget }))));
                    }
                }
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.lock().body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.lock().body.size_hint()
    }
}
