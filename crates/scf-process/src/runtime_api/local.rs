//! The Runtime API's client side inside the host, for runtimes whose process does not
//! speak it: the Go runtime's driver fetches each invocation and pushes its outcome
//! through these calls, exactly as an HTTP client of the API would, so that the rest of
//! the host (dispatch, timeouts, the first push being final) treats every runtime alike.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{lock, Current, Dispatch, Outcome, RuntimeApi, Shared};

/// An in-process client of one instance's Runtime API.
#[derive(Debug, Clone)]
pub(crate) struct LocalClient {
    shared: Arc<Shared>,
}

/// An invocation fetched by a [`LocalClient`].
#[derive(Debug)]
pub(crate) struct Fetched {
    current: Arc<Current>,
}

impl Fetched {
    /// What the host dispatched.
    pub(crate) fn dispatch(&self) -> &Dispatch {
        &self.current.dispatch
    }
}

impl RuntimeApi {
    /// A client of this API inside the host.
    pub(crate) fn local(&self) -> LocalClient {
        LocalClient {
            shared: self.shared.clone(),
        }
    }
}

impl LocalClient {
    /// `POST /runtime/init/ready`.
    pub(crate) fn ready(&self) {
        self.shared
            .ready
            .send_if_modified(|ready| !std::mem::replace(ready, true));
    }

    /// `GET /runtime/invocation/next`: waits for the next invocation.
    pub(crate) async fn next(&self) -> Fetched {
        let mut rx = self.shared.current.subscribe();
        loop {
            let current = rx.borrow_and_update().clone();
            if let Some(current) = current.filter(|c| !c.answered()) {
                current.fetched.store(true, Ordering::Release);
                return Fetched { current };
            }
            if rx.changed().await.is_err() {
                // The sender lives in `shared`, which this client holds: never reached.
                std::future::pending::<()>().await;
            }
        }
    }

    /// `POST /runtime/invocation/response` or `/error`: the first push is final.
    pub(crate) fn push(&self, fetched: &Fetched, outcome: Outcome) {
        if let Some(tx) = lock(&fetched.current.outcome).take() {
            let _ = tx.send(outcome);
        }
    }
}
