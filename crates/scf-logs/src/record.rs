//! One invocation attempt's log record and its two JSON shapes.
//!
//! [`LogRecord`] is what the invoker writes to a store (`scf_store::LogStore`)
//! when an attempt starts (a running record) and again when it ends (the finished
//! record replaces the running one, keyed by `(request_id, retry_num)`).

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::error::ParseValueError;

/// `FunctionLog.RetCode` for a successful invocation.
pub const RET_CODE_SUCCESS: i64 = 0;
/// `FunctionLog.RetCode` for a failed invocation.
///
/// SCF documents only "other = failure"; its own example response shows `1`,
/// so this crate always writes `1` for failures.
pub const RET_CODE_FAILURE: i64 = 1;
/// `FunctionLog.RetCode` for an invocation that is still running.
pub const RET_CODE_RUNNING: i64 = 2;
/// `FunctionLog.RetCode` for an invocation that was interrupted (aborted).
pub const RET_CODE_INTERRUPTED: i64 = 3;

/// The API 3.0 date-time format: `2017-05-16 20:00:00` (UTC, no fraction).
pub const API_DATETIME_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Formats a time as the API's `YYYY-MM-DD HH:MM:SS`, in UTC.
pub fn format_api_datetime(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(API_DATETIME_FORMAT)
        // Formatting a valid OffsetDateTime with numeric components cannot fail;
        // fall back to RFC 3339-ish text instead of panicking anyway.
        .unwrap_or_else(|_| t.to_string())
}

/// How an invocation was requested (`InvocationType` of `Invoke`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum InvocationType {
    /// Synchronous call: the caller waits for the result.
    #[default]
    RequestResponse,
    /// Asynchronous call: the event is queued and the caller gets a request id.
    Event,
}

impl InvocationType {
    /// The API spelling: `RequestResponse` or `Event`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
        }
    }
}

impl fmt::Display for InvocationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvocationType {
    type Err = ParseValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RequestResponse" => Ok(InvocationType::RequestResponse),
            "Event" => Ok(InvocationType::Event),
            _ => Err(ParseValueError::new(
                "InvocationType",
                s,
                "RequestResponse, Event",
            )),
        }
    }
}

/// One invocation attempt's log record (one row of `GetFunctionLogs`).
///
/// `ret_code` follows `FunctionLog.RetCode`: [`RET_CODE_SUCCESS`] (0),
/// [`RET_CODE_FAILURE`] (1; SCF says "other = failure" and its example shows 1),
/// [`RET_CODE_RUNNING`] (2) and [`RET_CODE_INTERRUPTED`] (3, aborted).
/// `status_code` is the SCF function status code (200, 430, 432, 433, 434, 439…)
/// that the `RetCode` filters `TimeLimitExceeded`, `ResourceLimitExceeded` and
/// `UserCodeException` look at.
///
/// The struct is deliberately exhaustive so callers can build it with a struct
/// literal and `..LogRecord::default()`; use [`LogRecord::new`] for the usual start.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Function name (`FunctionName`).
    pub function_name: String,
    /// Namespace, e.g. `default`.
    pub namespace: String,
    /// Version or alias that ran, e.g. `$LATEST`.
    pub qualifier: String,
    /// The execution's request id (`RequestId`).
    pub request_id: String,
    /// When the attempt started (UTC).
    pub start_time: OffsetDateTime,
    /// `FunctionLog.RetCode`: 0 success, 1 failure, 2 running, 3 interrupted.
    pub ret_code: i64,
    /// SCF function status code (200 success, 430 user code exception, 433 timeout…).
    pub status_code: u16,
    /// Whether the call finished normally (`InvokeFinished` 1) or not (0).
    pub invoke_finished: bool,
    /// The return value text, or the error text (`RetMsg`).
    pub ret_msg: String,
    /// Run time in milliseconds (`Duration`).
    pub duration_ms: f64,
    /// Billed time in milliseconds (`BillDuration`).
    pub bill_duration_ms: u64,
    /// Memory used, in bytes (`MemUsage`).
    pub mem_usage_bytes: u64,
    /// The framed log text of the attempt (`Log`).
    pub log: String,
    /// Log level (`Level`); empty when not set.
    pub level: String,
    /// Log source (`Source`); empty when not set.
    pub source: String,
    /// Which attempt this is: 0 for the first, 1 for the first retry… (`RetryNum`).
    pub retry_num: u32,
    /// Whether the call was synchronous or asynchronous.
    pub invocation_type: InvocationType,
    /// The node that ran the attempt (`InvokerConfig::node_id`, e.g. `myhost-12345`), so
    /// that a deployment of several nodes sharing one store can tell whose record it is;
    /// empty when unknown (records stored before stores kept it). Not part of the API's
    /// `FunctionLog`.
    pub node: String,
}

impl Default for LogRecord {
    fn default() -> Self {
        LogRecord {
            function_name: String::new(),
            namespace: String::new(),
            qualifier: String::new(),
            request_id: String::new(),
            start_time: OffsetDateTime::UNIX_EPOCH,
            ret_code: RET_CODE_RUNNING,
            status_code: 0,
            invoke_finished: false,
            ret_msg: String::new(),
            duration_ms: 0.0,
            bill_duration_ms: 0,
            mem_usage_bytes: 0,
            log: String::new(),
            level: String::new(),
            source: String::new(),
            retry_num: 0,
            invocation_type: InvocationType::RequestResponse,
            node: String::new(),
        }
    }
}

impl LogRecord {
    /// A running record (`RetCode` 2, not finished) for an attempt that starts now-ish.
    pub fn new(
        function_name: impl Into<String>,
        namespace: impl Into<String>,
        qualifier: impl Into<String>,
        request_id: impl Into<String>,
        start_time: OffsetDateTime,
    ) -> Self {
        LogRecord {
            function_name: function_name.into(),
            namespace: namespace.into(),
            qualifier: qualifier.into(),
            request_id: request_id.into(),
            start_time: start_time.to_offset(time::UtcOffset::UTC),
            ..LogRecord::default()
        }
    }

    /// Whether this record is still running (`ret_code == 2`).
    pub fn is_running(&self) -> bool {
        self.ret_code == RET_CODE_RUNNING
    }

    /// The API 3.0 `FunctionLog` object (`FunctionName`, `RetMsg`, `RequestId`,
    /// `StartTime`, `RetCode`, `InvokeFinished`, `Duration`, `BillDuration`,
    /// `MemUsage`, `Log`, `Level`, `Source`, `RetryNum`).
    pub fn to_api(&self) -> Value {
        json!({
            "FunctionName": self.function_name,
            "RetMsg": self.ret_msg,
            "RequestId": self.request_id,
            "StartTime": format_api_datetime(self.start_time),
            "RetCode": self.ret_code,
            "InvokeFinished": i64::from(self.invoke_finished),
            "Duration": self.duration_ms,
            "BillDuration": self.bill_duration_ms,
            "MemUsage": self.mem_usage_bytes,
            "Log": self.log,
            "Level": self.level,
            "Source": self.source,
            "RetryNum": self.retry_num,
        })
    }

    /// The console / log view in camelCase (`functionName`, `retMsg`, `requestId`,
    /// `startTime`, `retCode`, `invokeFinished`, `duration`, `billDuration`,
    /// `memUsage`, `log`), with the same value formats as [`to_api`](Self::to_api).
    pub fn to_console(&self) -> Value {
        json!({
            "functionName": self.function_name,
            "retMsg": self.ret_msg,
            "requestId": self.request_id,
            "startTime": format_api_datetime(self.start_time),
            "retCode": self.ret_code,
            "invokeFinished": i64::from(self.invoke_finished),
            "duration": self.duration_ms,
            "billDuration": self.bill_duration_ms,
            "memUsage": self.mem_usage_bytes,
            "log": self.log,
        })
    }
}
