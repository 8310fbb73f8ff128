//! Requests refused before a function runs, and failed async-event operations.

use scf_handler::FunctionStatus;
use scf_logs::InvocationType;
use scf_store::{AsyncStatus, StoreError};

/// An invocation refused before the function ran: nothing was recorded and nothing is
/// billed, as on SCF.
///
/// Each variant names what was wrong; [`InvokeError::status`] gives the SCF function
/// status it corresponds to (the HTTP layer maps variants to API error codes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// No function of that name in that namespace (435).
    #[error("function {name:?} not found in namespace {namespace:?}")]
    FunctionNotFound {
        /// The namespace asked for.
        namespace: String,
        /// The function name asked for.
        name: String,
    },
    /// The function exists, but not that version (442).
    #[error("function {name:?} in namespace {namespace:?} has no version {qualifier:?}")]
    QualifierNotFound {
        /// The namespace asked for.
        namespace: String,
        /// The function name asked for.
        name: String,
        /// The qualifier asked for.
        qualifier: String,
    },
    /// The event is bigger than allowed (406).
    #[error("the event is {size} bytes: {invocation_type} events may be at most {limit} bytes")]
    RequestTooLarge {
        /// The event's size in bytes.
        size: usize,
        /// The limit for this invocation type.
        limit: usize,
        /// Sync or async.
        invocation_type: InvocationType,
    },
    /// The event is not valid JSON (400).
    #[error("the event is not valid JSON: {detail}")]
    InvalidEvent {
        /// What the parser found, with line and column.
        detail: String,
    },
    /// The function's concurrency limit is reached (432). The message is SCF's.
    #[error("Function [ {name} ] concurrency exceeded reserved quota {quota_mb} MB")]
    ConcurrencyLimit {
        /// The function name.
        name: String,
        /// The limit in invocations.
        limit: u32,
        /// The limit in MB (invocations × memory size), as SCF words it.
        quota_mb: u64,
    },
    /// The async queue is full; the event was not accepted (432).
    #[error("the async event queue is full ({capacity} events waiting): the event was not accepted, try again later")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The invoker is shutting down and accepts no new invocations (402).
    #[error("the invoker is shutting down and accepts no new invocations")]
    ShuttingDown,
    /// The async queue cannot be written (its store is unreachable or failing): the event
    /// was not accepted (500).
    #[error(
        "the async event was not accepted: the queue cannot be written, try again later ({0})"
    )]
    Store(#[from] StoreError),
    /// Something inside the invoker failed (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl InvokeError {
    /// The SCF function status of the refusal.
    pub fn status(&self) -> FunctionStatus {
        match self {
            InvokeError::FunctionNotFound { .. } => FunctionStatus::FunctionNotFound,
            InvokeError::QualifierNotFound { .. } => FunctionStatus::QualifierNotFound,
            InvokeError::RequestTooLarge { .. } => FunctionStatus::RequestTooLarge,
            InvokeError::InvalidEvent { .. } => FunctionStatus::InvalidParameterValue,
            InvokeError::ConcurrencyLimit { .. } | InvokeError::QueueFull { .. } => {
                FunctionStatus::ResourceLimitReached
            }
            InvokeError::ShuttingDown => FunctionStatus::ServiceSuspended,
            InvokeError::Store(_) | InvokeError::Internal(_) => FunctionStatus::InternalError,
        }
    }
}

/// Why [`Invoker::terminate`](crate::Invoker::terminate) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsyncEventError {
    /// No async event of this function has that `InvokeRequestId`.
    #[error("no async event with InvokeRequestId {invoke_request_id:?} for function {function_name:?} in namespace {namespace:?}")]
    NotFound {
        /// The id asked for.
        invoke_request_id: String,
        /// The function asked for.
        function_name: String,
        /// The namespace asked for.
        namespace: String,
    },
    /// The event has already ended and cannot be terminated.
    #[error("async event {invoke_request_id:?} has already ended with status {status}")]
    AlreadyEnded {
        /// The id asked for.
        invoke_request_id: String,
        /// Its final status.
        status: AsyncStatus,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something inside the invoker failed.
    #[error("internal error: {0}")]
    Internal(String),
}
