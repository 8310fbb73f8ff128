//! [`StoreError`]: what a store reports when it cannot do what was asked.

use std::path::PathBuf;

/// Why a [`LogStore`](crate::LogStore) operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file (or its parent directory) could not be opened or created.
    #[error("cannot open log store at {path}: {detail}")]
    Open {
        /// The database path.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Creating or checking the schema failed.
    #[error("log store schema: {0}")]
    Schema(String),
    /// A write (log record or async event) failed.
    #[error("log store write failed ({what}): {detail}")]
    Write {
        /// What was being written.
        what: String,
        /// The underlying error.
        detail: String,
    },
    /// A read failed.
    #[error("log store read failed ({what}): {detail}")]
    Read {
        /// What was being read.
        what: String,
        /// The underlying error.
        detail: String,
    },
    /// A stored row could not be turned back into a record.
    #[error("corrupt row for request id `{request_id}`: {detail}")]
    CorruptRow {
        /// The request id of the row.
        request_id: String,
        /// What was wrong with it.
        detail: String,
    },
    /// A query parameter breaks a rule.
    #[error("invalid query parameter {field}: {detail}")]
    InvalidQuery {
        /// The parameter (API spelling), e.g. `Offset + Limit`.
        field: &'static str,
        /// The rule and the value given.
        detail: String,
    },
    /// No async event has this `InvokeRequestId`.
    #[error("no async event with InvokeRequestId `{0}`")]
    AsyncEventNotFound(String),
    /// An async event with this `InvokeRequestId` is already queued.
    #[error("an async event with InvokeRequestId `{0}` is already queued")]
    AsyncEventExists(String),
    /// The store is full of events that must not be dropped (running async events).
    #[error("log store is full: {what} capacity {capacity} reached")]
    Full {
        /// Which part is full.
        what: &'static str,
        /// The configured capacity.
        capacity: usize,
    },
    /// A function already has the most saved test events a store keeps, and one of
    /// another name was saved.
    #[error("function `{namespace}/{function_name}` already has {max} saved test events (the most kept); delete one or save under an existing name")]
    TestEventsFull {
        /// The function's namespace.
        namespace: String,
        /// The function's name.
        function_name: String,
        /// The limit ([`MAX_TEST_EVENTS_PER_FUNCTION`](crate::MAX_TEST_EVENTS_PER_FUNCTION)).
        max: usize,
    },
    /// The background writer thread has stopped; nothing more can be written.
    #[error("log store writer thread has stopped")]
    WriterStopped,
}
