//! What a runtime's pushes mean: a response body becomes the return value, an error body
//! becomes a [`FunctionError`].
//!
//! Response: a body that is JSON is that value; any other body (the Bash sample answers
//! `Echoing request: '…'`) is a JSON string of its text.
//!
//! Error: SCF documents the body as free text (`parse event error`). A plain-text body is
//! a user error (430) of type `Error` with that text as its message. A JSON object in SCF's
//! error shape is read field by field, which is how the bundled bootstraps report:
//!
//! - `statusCode` (default 430): the status; an unknown code counts as 430.
//! - for 430: `errorType` (the exception's class name, default `Error`), `errorValue`
//!   (its message; default `errorMessage`) and `trace` (the traceback without its last
//!   `Type: message` line; default `stackTrace`), so that the SCF JSON the host writes
//!   ends in `Type: message` exactly once.
//! - for any other status (437 for a missing handler): `errorMessage` is the message and
//!   `stackTrace` the trace.

use bytes::Bytes;
use scf_handler::{FunctionError, FunctionStatus};
use serde::Deserialize;
use serde_json::Value;

/// The return value a response body stands for.
pub(crate) fn response_value(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    status_code: Option<u16>,
    error_message: Option<String>,
    stack_trace: Option<String>,
    error_type: Option<String>,
    error_value: Option<String>,
    trace: Option<String>,
}

/// The failure an error body stands for.
pub(crate) fn error_value(body: &Bytes) -> FunctionError {
    let text = String::from_utf8_lossy(body);
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .and_then(|v| serde_json::from_value::<ErrorBody>(v).ok())
        .filter(|e| e.status_code.is_some() || e.error_message.is_some());
    let Some(e) = parsed else {
        let message = text.trim_end();
        let message = if message.is_empty() {
            "the runtime reported an error without a message"
        } else {
            message
        };
        return FunctionError::new("Error", message);
    };
    let status = e
        .status_code
        .and_then(FunctionStatus::from_code)
        .filter(|s| !s.is_success())
        .unwrap_or(FunctionStatus::UserCodeException);
    let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    if status == FunctionStatus::UserCodeException {
        let message = e.error_value.or(e.error_message).unwrap_or_default();
        let error = FunctionError::new(
            non_empty(e.error_type).unwrap_or_else(|| "Error".into()),
            message,
        );
        match non_empty(e.trace).or_else(|| non_empty(e.stack_trace)) {
            Some(trace) => error.with_stack_trace(trace.trim_end()),
            None => error,
        }
    } else {
        let message = non_empty(e.error_message).unwrap_or_else(|| status.message().to_owned());
        let error = FunctionError::platform(status, message);
        match non_empty(e.stack_trace) {
            Some(trace) => error.with_stack_trace(trace.trim_end()),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_values_and_text_bodies_are_strings() {
        assert_eq!(response_value(br#"{"a":1}"#), serde_json::json!({"a": 1}));
        assert_eq!(
            response_value(br#""abctest""#),
            serde_json::json!("abctest")
        );
        assert_eq!(
            response_value(b"Echoing request: 'x'"),
            serde_json::json!("Echoing request: 'x'")
        );
        assert_eq!(response_value(b""), serde_json::json!(""));
    }

    #[test]
    fn text_error_is_a_user_error_with_that_message() {
        let e = error_value(&Bytes::from_static(b"parse event error\n"));
        assert_eq!(e.status().code(), 430);
        assert_eq!(e.message(), "parse event error");
    }

    #[test]
    fn python_error_keeps_type_value_and_trace() {
        let body = serde_json::json!({
            "errorCode": -1, "errorMessage": "user code exception caught",
            "stackTrace": "Traceback (most recent call last):\n  File \"index.py\", line 2, in h\nException: I failed!",
            "statusCode": 430, "errorType": "Exception", "errorValue": "I failed!",
            "trace": "Traceback (most recent call last):\n  File \"index.py\", line 2, in h\n"
        });
        let e = error_value(&Bytes::from(body.to_string()));
        assert_eq!(e.error_type(), "Exception");
        assert_eq!(e.message(), "I failed!");
        let json = e.to_scf_json("r");
        assert_eq!(
            json.stack_trace,
            "Traceback (most recent call last):\n  File \"index.py\", line 2, in h\nException: I failed!"
        );
    }

    #[test]
    fn handler_not_found_keeps_status_and_message() {
        let body = r#"{"errorCode":-1,"errorMessage":"'module' object has no attribute 'nope'","statusCode":437}"#;
        let e = error_value(&Bytes::from_static(body.as_bytes()));
        assert_eq!(e.status().code(), 437);
        assert_eq!(e.message(), "'module' object has no attribute 'nope'");
    }
}
