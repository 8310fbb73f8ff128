//! The error a function returns, and its SCF JSON form.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::status::FunctionStatus;

/// A failed invocation: what went wrong, as SCF reports it.
///
/// A handler returns its own error types; any `std::error::Error` converts into a
/// `FunctionError` with `?`, keeping the error's short type name (as the seed's
/// `UserNameAlreadyExistsException` keeps its class name), its message and its
/// `source()` chain as the stack trace. Like `anyhow::Error`, it does not implement
/// `std::error::Error` itself, so that the blanket conversion can exist.
///
/// It serializes to the SCF unhandled-error JSON with [`FunctionError::to_scf_json`].
#[derive(Clone, PartialEq, Eq)]
pub struct FunctionError {
    status: FunctionStatus,
    error_type: String,
    message: String,
    stack_trace: Option<String>,
}

/// The SCF unhandled-error JSON (scf-spec 4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScfErrorJson {
    /// Always -1 for a failed invocation.
    pub error_code: i64,
    /// `user code exception caught` for a user error, else the failure's message (`time out`).
    pub error_message: String,
    /// The invocation's request id.
    pub request_id: String,
    /// The trace, ending in a `Type: message` line as a Python traceback does.
    pub stack_trace: String,
    /// The function status code.
    pub status_code: u16,
}

/// The short name of a type: the last path segment, without generic arguments.
pub fn short_type_name(full: &str) -> &str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// The message of a caught panic (`panic!("…")` gives a `&str` or a `String` payload).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the handler panicked with a non-string payload".to_string()
    }
}

impl FunctionError {
    /// A user error (status 430) with a type name and message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: FunctionStatus::UserCodeException,
            error_type: error_type.into(),
            message: message.into(),
            stack_trace: None,
        }
    }

    /// A user error (status 430) from any error value: its short type name, its message,
    /// and its `source()` chain as the trace.
    pub fn from_error<E: std::error::Error + ?Sized>(error: &E) -> Self {
        let mut chain = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push(format!("Caused by: {cause}"));
            source = cause.source();
        }
        Self {
            status: FunctionStatus::UserCodeException,
            error_type: short_type_name(std::any::type_name::<E>()).to_string(),
            message: error.to_string(),
            stack_trace: (!chain.is_empty()).then(|| chain.join("\n")),
        }
    }

    /// A failure the platform reports with `status` and a message (a timeout is
    /// `FunctionError::platform(FunctionStatus::TimeLimitReached, "time out")`).
    pub fn platform(status: FunctionStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type: status.name().to_string(),
            message: message.into(),
            stack_trace: None,
        }
    }

    /// A failed invocation from a caught panic's payload: type `panic`, the panic message.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        Self::new("panic", panic_message(payload))
    }

    /// Replaces the trace.
    pub fn with_stack_trace(mut self, trace: impl Into<String>) -> Self {
        self.stack_trace = Some(trace.into());
        self
    }

    /// Replaces the type name.
    pub fn with_type(mut self, error_type: impl Into<String>) -> Self {
        self.error_type = error_type.into();
        self
    }

    /// Replaces the status.
    pub fn with_status(mut self, status: FunctionStatus) -> Self {
        self.status = status;
        self
    }

    /// The function status this failure ends the invocation with.
    pub fn status(&self) -> FunctionStatus {
        self.status
    }

    /// The error's short type name (`UserNameAlreadyExistsException`).
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The trace, where there is one.
    pub fn stack_trace(&self) -> Option<&str> {
        self.stack_trace.as_deref()
    }

    /// The SCF unhandled-error JSON for this failure in invocation `request_id`.
    ///
    /// For a user error (430) `errorMessage` is the platform's `user code exception caught`
    /// and `stackTrace` ends in `Type: message`; for a platform failure (a timeout, 433)
    /// `errorMessage` is the failure's own message (`time out`).
    pub fn to_scf_json(&self, request_id: &str) -> ScfErrorJson {
        let last_line = format!("{}: {}", self.error_type, self.message);
        let (error_message, stack_trace) = match self.status {
            FunctionStatus::UserCodeException => (
                "user code exception caught".to_string(),
                match &self.stack_trace {
                    Some(trace) => format!("{trace}\n{last_line}"),
                    None => last_line,
                },
            ),
            _ => (
                self.message.clone(),
                self.stack_trace.clone().unwrap_or_default(),
            ),
        };
        ScfErrorJson {
            error_code: -1,
            error_message,
            request_id: request_id.to_string(),
            stack_trace,
            status_code: self.status.code(),
        }
    }
}

impl fmt::Debug for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionError")
            .field("status", &self.status.code())
            .field("error_type", &self.error_type)
            .field("message", &self.message)
            .field("stack_trace", &self.stack_trace)
            .finish()
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl<E: std::error::Error> From<E> for FunctionError {
    fn from(error: E) -> Self {
        Self::from_error(&error)
    }
}
