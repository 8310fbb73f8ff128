//! What a caller asks for (`Invoke`'s parameters) and what it gets back (`Invoke`'s `Result`).

use std::fmt;
use std::str::FromStr;

use scf_context::StreamHook;
use scf_handler::{FunctionError, FunctionStatus};
use scf_logs::{InvocationType, ParseValueError};
use serde_json::{json, Value};

use crate::error::InvokeError;
use crate::memory::MemSource;

/// The event of an invocation: JSON text as received (`ClientContext`), or a value
/// already parsed.
///
/// Text is size-checked and parsed by the invoker, so that oversized (406) and
/// malformed (400) events are refused exactly as SCF refuses them. A value is sized by
/// its compact JSON form.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum EventPayload {
    /// JSON text, unchecked.
    Text(Vec<u8>),
    /// A parsed JSON value.
    Value(Value),
}

impl Default for EventPayload {
    /// `{}`, the event of an `Invoke` without `ClientContext`.
    fn default() -> Self {
        EventPayload::Value(Value::Object(serde_json::Map::new()))
    }
}

impl fmt::Debug for EventPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventPayload::Text(bytes) => f
                .debug_tuple("Text")
                .field(&String::from_utf8_lossy(bytes))
                .finish(),
            EventPayload::Value(v) => f.debug_tuple("Value").field(v).finish(),
        }
    }
}

impl From<&str> for EventPayload {
    fn from(s: &str) -> Self {
        EventPayload::Text(s.as_bytes().to_vec())
    }
}

impl From<String> for EventPayload {
    fn from(s: String) -> Self {
        EventPayload::Text(s.into_bytes())
    }
}

impl From<Vec<u8>> for EventPayload {
    fn from(bytes: Vec<u8>) -> Self {
        EventPayload::Text(bytes)
    }
}

impl From<&[u8]> for EventPayload {
    fn from(bytes: &[u8]) -> Self {
        EventPayload::Text(bytes.to_vec())
    }
}

impl From<Value> for EventPayload {
    fn from(v: Value) -> Self {
        EventPayload::Value(v)
    }
}

/// Whether the caller wants the run log back (`LogType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LogType {
    /// No log in the response (`None`, the default).
    #[default]
    None,
    /// The last 4 KB of the log in the response's `Log` (`Tail`; sync only).
    Tail,
}

impl LogType {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::None => "None",
            LogType::Tail => "Tail",
        }
    }
}

impl FromStr for LogType {
    type Err = ParseValueError;

    /// Parses `None` or `Tail`, in any case (scf-cli sends `tail`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("none") {
            Ok(LogType::None)
        } else if s.eq_ignore_ascii_case("tail") {
            Ok(LogType::Tail)
        } else {
            Err(ParseValueError {
                field: "LogType",
                value: s.to_string(),
                expected: "None, Tail",
            })
        }
    }
}

impl fmt::Display for LogType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `Invoke` call.
///
/// ```
/// use scf_invoker::{InvokeRequest, LogType};
///
/// let sync = InvokeRequest::new("hello", r#"{"key":"abctest"}"#).with_log_type(LogType::Tail);
/// let timer = InvokeRequest::event("hello", "{}").with_invoke_type("TRIGGER_TIMER");
/// assert_eq!(sync.qualifier, "$LATEST");
/// assert_eq!(timer.namespace, "default");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvokeRequest {
    /// `FunctionName`.
    pub function_name: String,
    /// `Namespace`, `default` by default.
    pub namespace: String,
    /// `Qualifier`, `$LATEST` by default. `$DEFAULT` (the default of `InvokeFunction`)
    /// means `$LATEST` unless a version of that name is registered.
    pub qualifier: String,
    /// The event (`ClientContext` / `Event`).
    pub event: EventPayload,
    /// `RequestResponse` (sync, default) or `Event` (async).
    pub invocation_type: InvocationType,
    /// `LogType`; only sync calls return a log.
    pub log_type: LogType,
    /// What triggered an async event (`InvokeType` in `ListAsyncEvents`): `OTHERS` by
    /// default, `TRIGGER_TIMER`, `COS`…
    pub invoke_type: String,
    /// Where a sync invocation's handler may stream its HTTP response as it is produced
    /// (the gateway in front of a web function sets it; see
    /// [`Context::response_stream`](scf_context::Context::response_stream)). Ignored for
    /// async events.
    pub stream: Option<StreamHook>,
}

impl InvokeRequest {
    /// A sync (`RequestResponse`) invocation of `function_name` in `default` / `$LATEST`.
    pub fn new(function_name: impl Into<String>, event: impl Into<EventPayload>) -> Self {
        Self {
            function_name: function_name.into(),
            namespace: "default".into(),
            qualifier: "$LATEST".into(),
            event: event.into(),
            invocation_type: InvocationType::RequestResponse,
            log_type: LogType::None,
            invoke_type: "OTHERS".into(),
            stream: None,
        }
    }

    /// An async (`Event`) invocation of `function_name` in `default` / `$LATEST`.
    pub fn event(function_name: impl Into<String>, event: impl Into<EventPayload>) -> Self {
        Self::new(function_name, event).with_invocation_type(InvocationType::Event)
    }

    /// Sets the namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Sets the qualifier (version).
    pub fn with_qualifier(mut self, qualifier: impl Into<String>) -> Self {
        self.qualifier = qualifier.into();
        self
    }

    /// Sets sync or async.
    pub fn with_invocation_type(mut self, invocation_type: InvocationType) -> Self {
        self.invocation_type = invocation_type;
        self
    }

    /// Sets the log type.
    pub fn with_log_type(mut self, log_type: LogType) -> Self {
        self.log_type = log_type;
        self
    }

    /// Sets where the handler may stream its HTTP response (see [`stream`](Self::stream)).
    pub fn with_stream(mut self, stream: StreamHook) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Sets what triggered an async event.
    pub fn with_invoke_type(mut self, invoke_type: impl Into<String>) -> Self {
        self.invoke_type = invoke_type.into();
        self
    }
}

/// `InvokeResult` of a successful invocation (and of an accepted async event).
pub const INVOKE_RESULT_SUCCESS: i64 = 0;
/// `InvokeResult` of a failed invocation. SCF documents only "0 is correct"; third-party
/// clients treat 1 as a function error, so the invoker writes 1.
pub const INVOKE_RESULT_FAILURE: i64 = 1;

/// The outcome of an invocation that ran (or, for async, was accepted): `Invoke`'s
/// `Result` plus the function status.
///
/// A function's own failure (430 user error, 433 timeout, a panic, 407…) is an
/// `InvokeResponse` with [`status`](Self::status) not 200, [`invoke_result`](Self::invoke_result)
/// 1, and the SCF error JSON (`{"errorCode":-1,"errorMessage":…,"statusCode":…}`) as
/// both `ret_msg` and `err_msg`: SCF's docs say `ErrMsg` holds the error text and
/// third-party clients find the error JSON in the payload, so both carry it.
///
/// For an accepted async event only [`request_id`](Self::request_id) is filled; the run's
/// result is in the store under that id.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvokeResponse {
    /// `FunctionRequestId`: a fresh uuid v4 per invocation.
    pub request_id: String,
    /// The function status code (200 on success).
    pub status: FunctionStatus,
    /// `RetMsg`: the return value as JSON text, or the SCF error JSON on failure.
    pub ret_msg: String,
    /// On success, the return value itself (`ret_msg` is its JSON text), for a caller
    /// that needs it as a value (the API Gateway trigger) without parsing `ret_msg`
    /// again; `None` on failure and for an accepted async event.
    pub return_value: Option<Value>,
    /// `ErrMsg`: empty on success, the SCF error JSON on failure.
    pub err_msg: String,
    /// On failure, the failure itself, as fields: its status
    /// ([`FunctionError::status`]), error type ([`FunctionError::error_type`]: the Rust
    /// error's short type name, `panic`, `InvalidEvent`, `TimeLimitExceeded`…), message
    /// ([`FunctionError::message`]) and trace ([`FunctionError::stack_trace`]), so that a
    /// caller need not parse them back out of the SCF JSON in `err_msg`, which is made
    /// from it ([`FunctionError::to_scf_json`]). `None` on success and for an accepted
    /// async event.
    pub error: Option<FunctionError>,
    /// `Log`: the last 4 KB of the run log with `LogType::Tail`, else empty.
    pub log: String,
    /// `MemUsage` in bytes; see [`mem_source`](Self::mem_source) for how it was measured.
    pub mem_usage_bytes: u64,
    /// How `mem_usage_bytes` was measured.
    pub mem_source: MemSource,
    /// `Duration`: run time in ms, fractional.
    pub duration_ms: f64,
    /// `BillDuration`: billed ms, per the invoker's [`BillPolicy`](crate::BillPolicy).
    pub bill_duration_ms: u64,
    /// `InvokeResult`: [`INVOKE_RESULT_SUCCESS`] (0) or [`INVOKE_RESULT_FAILURE`] (1).
    pub invoke_result: i64,
    /// Sync or async.
    pub invocation_type: InvocationType,
}

impl InvokeResponse {
    pub(crate) fn accepted(request_id: String) -> Self {
        Self {
            request_id,
            status: FunctionStatus::Success,
            ret_msg: String::new(),
            return_value: None,
            err_msg: String::new(),
            error: None,
            log: String::new(),
            mem_usage_bytes: 0,
            mem_source: MemSource::Unavailable,
            duration_ms: 0.0,
            bill_duration_ms: 0,
            invoke_result: INVOKE_RESULT_SUCCESS,
            invocation_type: InvocationType::Event,
        }
    }

    /// Whether the function succeeded (status 200).
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// `Invoke`'s `Result` object: `Log`, `RetMsg`, `ErrMsg`, `MemUsage`, `Duration`,
    /// `BillDuration`, `FunctionRequestId`, `InvokeResult`.
    pub fn to_api(&self) -> Value {
        json!({
            "Log": self.log,
            "RetMsg": self.ret_msg,
            "ErrMsg": self.err_msg,
            "MemUsage": self.mem_usage_bytes,
            "Duration": self.duration_ms,
            "BillDuration": self.bill_duration_ms,
            "FunctionRequestId": self.request_id,
            "InvokeResult": self.invoke_result,
        })
    }
}

/// Checks the event's size and parses it; with `want_text`, also returns its JSON text
/// (to store an async event).
pub(crate) fn parse_event(
    payload: EventPayload,
    limit: usize,
    invocation_type: InvocationType,
    want_text: bool,
) -> Result<(Value, Option<String>), InvokeError> {
    match payload {
        EventPayload::Text(bytes) => {
            if bytes.len() > limit {
                return Err(InvokeError::RequestTooLarge {
                    size: bytes.len(),
                    limit,
                    invocation_type,
                });
            }
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|e| InvokeError::InvalidEvent {
                    detail: scf_handler::describe_json_error(&e),
                })?;
            let text = if want_text {
                // from_slice accepted it, so it is UTF-8.
                Some(
                    String::from_utf8(bytes).map_err(|e| InvokeError::InvalidEvent {
                        detail: e.to_string(),
                    })?,
                )
            } else {
                None
            };
            Ok((value, text))
        }
        EventPayload::Value(value) => {
            // Serialising the event to count its bytes costs an invocation more than the
            // rest of the check; a bound from one walk of the tree decides for any event
            // well under the limit, and only one near it is counted exactly.
            let size = if json_size_bound(&value) <= limit {
                0
            } else {
                json_size(&value)
            };
            if size > limit {
                return Err(InvokeError::RequestTooLarge {
                    size,
                    limit,
                    invocation_type,
                });
            }
            let text = want_text.then(|| value.to_string());
            Ok((value, text))
        }
    }
}

/// At least the bytes of `value`'s compact JSON text: a string's bytes count six times
/// (the longest escape, `\u001f`, stands for one byte), a 64-bit integer 20; any other
/// number is counted as written (it may be long with serde_json's
/// `arbitrary_precision`).
fn json_size_bound(value: &Value) -> usize {
    fn text(s: &str) -> usize {
        s.len().saturating_mul(6).saturating_add(2)
    }
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 20,
        Value::Number(_) => json_size(value),
        Value::String(s) => text(s),
        Value::Array(items) => items
            .iter()
            .fold(2 + items.len(), |n, v| n.saturating_add(json_size_bound(v))),
        Value::Object(map) => map.iter().fold(2 + 2 * map.len(), |n, (k, v)| {
            n.saturating_add(text(k)).saturating_add(json_size_bound(v))
        }),
    }
}

fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a Value to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_bound_is_never_below_the_serialised_size() {
        let values = [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(-1.797_693_134_862_315_7e308),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!("\u{1f}\u{0}\"\\ plain é 中"),
            serde_json::json!({"\u{1}key": ["a", 1, {"b": [null, false, 0.5]}], "": {}}),
            serde_json::json!([[], [[]], {}]),
        ];
        for value in &values {
            assert!(
                json_size_bound(value) >= json_size(value),
                "{value}: bound {} < size {}",
                json_size_bound(value),
                json_size(value)
            );
        }
    }

    #[test]
    fn an_event_over_the_limit_is_refused_with_its_exact_size() {
        let event = serde_json::json!({"body": "x".repeat(100)});
        let exact = json_size(&event);
        let refused = parse_event(
            EventPayload::Value(event.clone()),
            exact - 1,
            InvocationType::RequestResponse,
            false,
        );
        assert!(
            matches!(refused, Err(InvokeError::RequestTooLarge { size, .. }) if size == exact),
            "{refused:?}"
        );
        let accepted = parse_event(
            EventPayload::Value(event),
            exact,
            InvocationType::RequestResponse,
            false,
        );
        assert!(accepted.is_ok(), "{accepted:?}");
    }
}
