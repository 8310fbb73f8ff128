//! How an invocation's result comes back to the task that dispatched it: through the
//! standard Runtime API's server, a web function's forward, or the bootstrap's own
//! connection on the lean transport ([`crate::frames`]).

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::Value;

use scf_context::CancelReason;

use crate::instance::Exit;
use crate::runtime_api::{Dispatch, Outcome};

/// An invocation's event: the value, and its JSON text made when a runtime needs it (a
/// web function's request is made from the value, never from the text).
pub(crate) struct Event {
    pub(crate) value: Value,
    text: OnceLock<Bytes>,
}

impl Event {
    pub(crate) fn new(value: Value) -> Self {
        Self {
            value,
            text: OnceLock::new(),
        }
    }

    /// The event as JSON text, for the Runtime API and the lean transport.
    pub(crate) fn text(&self) -> Bytes {
        let to_text =
            || Bytes::from(serde_json::to_vec(&self.value).unwrap_or_else(|_| b"null".to_vec()));
        self.text.get_or_init(to_text).clone()
    }
}

/// How a pending invocation's result comes back.
pub(crate) enum Pending<'a> {
    /// Through the standard Runtime API's server, or a web function's forward.
    Answer(crate::web::Answer),
    /// Read by this task on the bootstrap's own connection.
    Frames(&'a mut crate::frames::FrameConn, Dispatch),
}

/// Why a pending invocation ended without an outcome.
pub(crate) enum NoOutcome {
    /// The API server dropped it (it is stopping), a web server its connection, or the
    /// client of a streamed response went away.
    Cut(crate::web::Cut),
    /// The lean transport failed.
    Frame(crate::frames::FrameError),
}

/// A pending invocation's end: its outcome, or why none came.
pub(crate) async fn pushed(pending: Pending<'_>) -> Result<Outcome, NoOutcome> {
    match pending {
        Pending::Answer(answer) => answer.await.map_err(NoOutcome::Cut),
        Pending::Frames(conn, dispatch) => conn.invoke(&dispatch).await.map_err(NoOutcome::Frame),
    }
}

/// How an invocation on an instance ended.
pub(crate) enum Ended {
    Pushed(Outcome),
    Exited(Exit),
    OverMemory(u64),
    TimedOut,
    Cancelled(CancelReason),
    /// The lean transport broke (`crate::frames`): what came instead of a result.
    Broken(String),
    /// The client of a web function's streamed response went away.
    ClientGone,
}

impl Ended {
    /// The end a pending invocation's outcome (or its lack) makes.
    pub(crate) fn of(pushed: Result<Outcome, NoOutcome>) -> Self {
        use crate::frames::FrameError;
        match pushed {
            Ok(pushed) => Ended::Pushed(pushed),
            // The server dropped the invocation (it is stopping), or a web server its
            // connection.
            Err(NoOutcome::Cut(crate::web::Cut::Gone)) => Ended::Exited(Exit { status: None }),
            Err(NoOutcome::Cut(crate::web::Cut::ClientGone)) => Ended::ClientGone,
            Err(NoOutcome::Frame(FrameError::Closed)) => Ended::Broken(String::new()),
            Err(NoOutcome::Frame(FrameError::TooLarge)) => Ended::Pushed(Outcome::TooLarge),
            Err(NoOutcome::Frame(FrameError::Invalid(what))) => Ended::Broken(what),
        }
    }
}
