//! Query parameters and the async event record.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use scf_handler::FunctionStatus;
use scf_logs::{LogRecord, ParseValueError};

use crate::error::StoreError;

/// `Offset + Limit` may not exceed this (`GetFunctionLogs`).
pub const MAX_OFFSET_PLUS_LIMIT: u64 = 10_000;

/// Longest [`LogQuery::keyword`], in bytes.
pub const MAX_KEYWORD_BYTES: usize = 128;

/// Largest `Limit` of `ListAsyncEvents`.
pub const MAX_ASYNC_LIMIT: u32 = 100;

/// `Filter.RetCode` of `GetFunctionLogs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetCodeFilter {
    /// `not0`: `RetCode != 0` (failures, and also running (2) and interrupted (3) records).
    Not0,
    /// `is0`: `RetCode == 0` (successes).
    Is0,
    /// `TimeLimitExceeded`: status code 433.
    TimeLimitExceeded,
    /// `ResourceLimitExceeded`: status code 432 or 434.
    ResourceLimitExceeded,
    /// `UserCodeException`: status code 430 or 443.
    UserCodeException,
}

impl RetCodeFilter {
    /// The API spelling (`not0`, `is0`, `TimeLimitExceeded`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RetCodeFilter::Not0 => "not0",
            RetCodeFilter::Is0 => "is0",
            RetCodeFilter::TimeLimitExceeded => "TimeLimitExceeded",
            RetCodeFilter::ResourceLimitExceeded => "ResourceLimitExceeded",
            RetCodeFilter::UserCodeException => "UserCodeException",
        }
    }

    /// The status codes a record must have to pass, for the filters that name a kind of
    /// failure (`None` for `not0` and `is0`, which look at the `RetCode`).
    pub fn status_codes(self) -> Option<&'static [FunctionStatus]> {
        match self {
            RetCodeFilter::Not0 | RetCodeFilter::Is0 => None,
            RetCodeFilter::TimeLimitExceeded => Some(&[FunctionStatus::TimeLimitReached]),
            RetCodeFilter::ResourceLimitExceeded => Some(&[
                FunctionStatus::ResourceLimitReached,
                FunctionStatus::MemoryLimitReached,
            ]),
            RetCodeFilter::UserCodeException => Some(&[
                FunctionStatus::UserCodeException,
                FunctionStatus::UserCodeError,
            ]),
        }
    }

    /// Whether `record` passes the filter.
    pub fn matches(self, record: &LogRecord) -> bool {
        match (self, self.status_codes()) {
            (_, Some(codes)) => codes
                .iter()
                .any(|status| status.code() == record.status_code),
            (RetCodeFilter::Is0, None) => record.ret_code == 0,
            (_, None) => record.ret_code != 0,
        }
    }
}

impl fmt::Display for RetCodeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RetCodeFilter {
    type Err = ParseValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "not0" => RetCodeFilter::Not0,
            "is0" => RetCodeFilter::Is0,
            "TimeLimitExceeded" => RetCodeFilter::TimeLimitExceeded,
            "ResourceLimitExceeded" => RetCodeFilter::ResourceLimitExceeded,
            "UserCodeException" => RetCodeFilter::UserCodeException,
            _ => {
                return Err(ParseValueError::new(
                    "Filter.RetCode",
                    s,
                    "not0, is0, TimeLimitExceeded, ResourceLimitExceeded, UserCodeException",
                ))
            }
        })
    }
}

/// Sort direction. Parses `asc`/`desc` in any case (`ASC`/`DESC` for async events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending (the default: newest first).
    #[default]
    Desc,
}

impl Order {
    pub(crate) fn apply(self, o: Ordering) -> Ordering {
        match self {
            Order::Asc => o,
            Order::Desc => o.reverse(),
        }
    }
}

impl FromStr for Order {
    type Err = ParseValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("asc") {
            Ok(Order::Asc)
        } else if s.eq_ignore_ascii_case("desc") {
            Ok(Order::Desc)
        } else {
            Err(ParseValueError::new("Order", s, "asc, desc"))
        }
    }
}

/// `OrderBy` of `GetFunctionLogs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
// Exhaustive: every store sorts by each of these, so a new one must break them all.
pub enum OrderBy {
    /// `function_name`.
    FunctionName,
    /// `duration`.
    Duration,
    /// `mem_usage`.
    MemUsage,
    /// `start_time` (the default).
    #[default]
    StartTime,
}

impl OrderBy {
    pub(crate) fn compare(self, a: &LogRecord, b: &LogRecord) -> Ordering {
        match self {
            OrderBy::FunctionName => a.function_name.cmp(&b.function_name),
            OrderBy::Duration => a.duration_ms.total_cmp(&b.duration_ms),
            OrderBy::MemUsage => a.mem_usage_bytes.cmp(&b.mem_usage_bytes),
            OrderBy::StartTime => a.start_time.cmp(&b.start_time),
        }
    }
}

impl FromStr for OrderBy {
    type Err = ParseValueError;

    /// Accepts `function_name`, `duration`, `mem_usage`, `start_time` and the
    /// old spellings `functionName`, `memUsage`, `startTime`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "function_name" | "functionName" => OrderBy::FunctionName,
            "duration" => OrderBy::Duration,
            "mem_usage" | "memUsage" => OrderBy::MemUsage,
            "start_time" | "startTime" => OrderBy::StartTime,
            _ => {
                return Err(ParseValueError::new(
                    "OrderBy",
                    s,
                    "function_name, duration, mem_usage, start_time",
                ))
            }
        })
    }
}

/// `GetFunctionLogs` parameters. `None` means "no filter".
///
/// Time bounds are inclusive on both ends (`StartTime` ≤ t ≤ `EndTime`), as the
/// API's `EndTime` example `20:59:59` suggests. Ties in the sort key are broken
/// by insertion order in the same direction. The default `limit` is 20.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery {
    /// `FunctionName`.
    pub function_name: Option<String>,
    /// `Namespace`.
    pub namespace: Option<String>,
    /// `Qualifier`.
    pub qualifier: Option<String>,
    /// `FunctionRequestId`.
    pub request_id: Option<String>,
    /// `StartTime` (inclusive).
    pub start_time: Option<OffsetDateTime>,
    /// `EndTime` (inclusive).
    pub end_time: Option<OffsetDateTime>,
    /// `Filter.RetCode`.
    pub ret_code: Option<RetCodeFilter>,
    /// `Order`.
    pub order: Order,
    /// `OrderBy`.
    pub order_by: OrderBy,
    /// `Offset`.
    pub offset: u32,
    /// `Limit`.
    pub limit: u32,
    /// A keyword the record's log text must contain (case-sensitive, as given; the
    /// console's search): 1 to [`MAX_KEYWORD_BYTES`] bytes. A search is bounded: the
    /// store reads the log text of the records the other filters keep in the query's
    /// order, at most [`keyword_scan`](Self::keyword_scan) of them, and stops once it
    /// found `offset + limit + 1` matches; `total_count` then counts the matches found,
    /// and [`LogPage::total_is_lower_bound`] says whether it stopped before the end (more
    /// may match).
    pub keyword: Option<String>,
    /// The most records a keyword search reads ([`DEFAULT_KEYWORD_SCAN`] by default).
    pub keyword_scan: u32,
}

/// The most records a keyword search reads by default: the newest 10,000 the other
/// filters keep (reading a record's text costs SQLite several µs, unpacking it in SQL:
/// 20,000 took 189 ms on the loaded reference machine, docs/performance.md).
pub const DEFAULT_KEYWORD_SCAN: u32 = 10_000;

impl Default for LogQuery {
    fn default() -> Self {
        LogQuery {
            function_name: None,
            namespace: None,
            qualifier: None,
            request_id: None,
            start_time: None,
            end_time: None,
            ret_code: None,
            order: Order::Desc,
            order_by: OrderBy::StartTime,
            offset: 0,
            limit: 20,
            keyword: None,
            keyword_scan: DEFAULT_KEYWORD_SCAN,
        }
    }
}

impl LogQuery {
    /// Checks `Offset + Limit <= 10000`, `StartTime <= EndTime` and the keyword's length.
    pub fn validate(&self) -> Result<(), StoreError> {
        let sum = u64::from(self.offset) + u64::from(self.limit);
        if sum > MAX_OFFSET_PLUS_LIMIT {
            return Err(StoreError::InvalidQuery {
                field: "Offset + Limit",
                detail: format!(
                    "must be at most {MAX_OFFSET_PLUS_LIMIT}, got {} + {} = {sum}",
                    self.offset, self.limit
                ),
            });
        }
        if let (Some(s), Some(e)) = (self.start_time, self.end_time) {
            if s > e {
                return Err(StoreError::InvalidQuery {
                    field: "StartTime",
                    detail: format!("StartTime {s} is after EndTime {e}"),
                });
            }
        }
        if let Some(k) = &self.keyword {
            if k.is_empty() || k.len() > MAX_KEYWORD_BYTES {
                return Err(StoreError::InvalidQuery {
                    field: "Keyword",
                    detail: format!("must be 1 to {MAX_KEYWORD_BYTES} bytes, got {}", k.len()),
                });
            }
        }
        Ok(())
    }

    /// Whether `r` passes every filter of the query.
    pub fn matches(&self, r: &LogRecord) -> bool {
        fn eq(f: &Option<String>, v: &str) -> bool {
            f.as_deref().is_none_or(|f| f == v)
        }
        eq(&self.function_name, &r.function_name)
            && eq(&self.namespace, &r.namespace)
            && eq(&self.qualifier, &r.qualifier)
            && eq(&self.request_id, &r.request_id)
            && self.start_time.is_none_or(|s| r.start_time >= s)
            && self.end_time.is_none_or(|e| r.start_time <= e)
            && self.ret_code.is_none_or(|f| f.matches(r))
            && self.keyword.as_deref().is_none_or(|k| r.log.contains(k))
    }

    pub(crate) fn compare(&self, a: &LogRecord, b: &LogRecord) -> Ordering {
        self.order.apply(self.order_by.compare(a, b))
    }
}

/// One page of `GetFunctionLogs`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogPage {
    /// How many records match, ignoring `Offset` and `Limit` (`TotalCount`); with a
    /// keyword, how many the bounded search found.
    pub total_count: u64,
    /// The records of this page (`Data`).
    pub records: Vec<LogRecord>,
    /// A keyword search stopped before reading every record the other filters keep
    /// (it found a page and one more, or read `keyword_scan` records): more may match,
    /// `total_count` is "at least".
    pub total_is_lower_bound: bool,
}

impl LogPage {
    /// The page of a bounded keyword search ([`LogQuery::keyword`]): `found` matches
    /// read (at most `offset + limit + 1`), `records` the page of them, and whether the
    /// search read `keyword_scan` records with more left (`scan_full`).
    pub fn of_search(
        q: &LogQuery,
        found: usize,
        records: Vec<LogRecord>,
        scan_full: bool,
    ) -> LogPage {
        let wanted = q.offset as usize + q.limit as usize + 1;
        LogPage {
            total_count: found as u64,
            records,
            total_is_lower_bound: scan_full || found >= wanted,
        }
    }
}

/// Status of an async event (`RUNNING`, `FINISHED`, `FAILED`, `ABORTED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AsyncStatus {
    /// `RUNNING`: accepted, not yet done (also while waiting for a retry).
    Running,
    /// `FINISHED`: succeeded.
    Finished,
    /// `FAILED`: failed after all retries.
    Failed,
    /// `ABORTED`: terminated (`TerminateAsyncEvent`).
    Aborted,
}

impl AsyncStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AsyncStatus::Running => "RUNNING",
            AsyncStatus::Finished => "FINISHED",
            AsyncStatus::Failed => "FAILED",
            AsyncStatus::Aborted => "ABORTED",
        }
    }
}

impl fmt::Display for AsyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AsyncStatus {
    type Err = ParseValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "RUNNING" => AsyncStatus::Running,
            "FINISHED" => AsyncStatus::Finished,
            "FAILED" => AsyncStatus::Failed,
            "ABORTED" => AsyncStatus::Aborted,
            _ => {
                return Err(ParseValueError::new(
                    "Status",
                    s,
                    "RUNNING, FINISHED, FAILED, ABORTED",
                ))
            }
        })
    }
}

/// One accepted async invocation (`ListAsyncEvents` → `AsyncEvent`), plus the
/// event text needed to re-run it after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncEvent {
    /// `InvokeRequestId`.
    pub invoke_request_id: String,
    /// Function name.
    pub function_name: String,
    /// Namespace.
    pub namespace: String,
    /// `Qualifier`.
    pub qualifier: String,
    /// `InvokeType`, e.g. `OTHERS`, `TRIGGER_TIMER`, `COS`.
    pub invoke_type: String,
    /// `Status`.
    pub status: AsyncStatus,
    /// `StatusCode` (0 while running, then the function status code, e.g. 200).
    pub status_code: i64,
    /// `StartTime`.
    pub start_time: OffsetDateTime,
    /// `EndTime`; `None` while running.
    pub end_time: Option<OffsetDateTime>,
    /// The event JSON text.
    pub event: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// The node that accepted the event (`InvokerConfig::node_id`); empty when unknown
    /// (events stored before stores kept it). Which node ran each attempt is in that
    /// attempt's log record ([`LogRecord::node`](scf_logs::LogRecord::node)). Not part of
    /// the API's answers.
    pub node: String,
}

impl AsyncEvent {
    /// A freshly accepted event: `RUNNING`, status code 0, no end time, 0 attempts.
    pub fn new(
        invoke_request_id: impl Into<String>,
        function_name: impl Into<String>,
        namespace: impl Into<String>,
        qualifier: impl Into<String>,
        invoke_type: impl Into<String>,
        start_time: OffsetDateTime,
        event: impl Into<String>,
    ) -> Self {
        AsyncEvent {
            invoke_request_id: invoke_request_id.into(),
            function_name: function_name.into(),
            namespace: namespace.into(),
            qualifier: qualifier.into(),
            invoke_type: invoke_type.into(),
            status: AsyncStatus::Running,
            status_code: 0,
            start_time,
            end_time: None,
            event: event.into(),
            attempts: 0,
            node: String::new(),
        }
    }
}

/// A left-closed, right-open time interval `[start, end)` (`TimeInterval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeInterval {
    /// Inclusive start.
    pub start: OffsetDateTime,
    /// Exclusive end.
    pub end: OffsetDateTime,
}

impl TimeInterval {
    /// Whether `t` is in `[start, end)`.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        t >= self.start && t < self.end
    }
}

/// `Orderby` of `ListAsyncEvents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
// Exhaustive: every store sorts by each of these, so a new one must break them all.
pub enum AsyncOrderBy {
    /// `StartTime` (the default).
    #[default]
    StartTime,
    /// `EndTime` (running events, with no end time, sort before all others).
    EndTime,
}

impl FromStr for AsyncOrderBy {
    type Err = ParseValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "StartTime" => Ok(AsyncOrderBy::StartTime),
            "EndTime" => Ok(AsyncOrderBy::EndTime),
            _ => Err(ParseValueError::new("Orderby", s, "StartTime, EndTime")),
        }
    }
}

/// `ListAsyncEvents` parameters. Empty lists and `None` mean "no filter".
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncQuery {
    /// `FunctionName`.
    pub function_name: Option<String>,
    /// `Namespace`.
    pub namespace: Option<String>,
    /// `Qualifier`.
    pub qualifier: Option<String>,
    /// `InvokeType`: any of these.
    pub invoke_types: Vec<String>,
    /// `Status`: any of these.
    pub statuses: Vec<AsyncStatus>,
    /// `StartTimeInterval`.
    pub start_time_interval: Option<TimeInterval>,
    /// `EndTimeInterval` (running events, with no end time, never match it).
    pub end_time_interval: Option<TimeInterval>,
    /// `Order` (default `DESC`).
    pub order: Order,
    /// `Orderby` (default `StartTime`).
    pub order_by: AsyncOrderBy,
    /// `Offset` (default 0).
    pub offset: u32,
    /// `Limit` (default 20, at most 100).
    pub limit: u32,
    /// `InvokeRequestId`.
    pub invoke_request_id: Option<String>,
}

impl Default for AsyncQuery {
    fn default() -> Self {
        AsyncQuery {
            function_name: None,
            namespace: None,
            qualifier: None,
            invoke_types: Vec::new(),
            statuses: Vec::new(),
            start_time_interval: None,
            end_time_interval: None,
            order: Order::Desc,
            order_by: AsyncOrderBy::StartTime,
            offset: 0,
            limit: 20,
            invoke_request_id: None,
        }
    }
}

impl AsyncQuery {
    /// Checks `Limit <= 100`.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.limit > MAX_ASYNC_LIMIT {
            return Err(StoreError::InvalidQuery {
                field: "Limit",
                detail: format!("must be at most {MAX_ASYNC_LIMIT}, got {}", self.limit),
            });
        }
        Ok(())
    }

    /// Whether `ev` passes every filter of the query.
    pub fn matches(&self, ev: &AsyncEvent) -> bool {
        fn eq(f: &Option<String>, v: &str) -> bool {
            f.as_deref().is_none_or(|f| f == v)
        }
        eq(&self.function_name, &ev.function_name)
            && eq(&self.namespace, &ev.namespace)
            && eq(&self.qualifier, &ev.qualifier)
            && eq(&self.invoke_request_id, &ev.invoke_request_id)
            && (self.invoke_types.is_empty() || self.invoke_types.contains(&ev.invoke_type))
            && (self.statuses.is_empty() || self.statuses.contains(&ev.status))
            && self
                .start_time_interval
                .is_none_or(|i| i.contains(ev.start_time))
            && self
                .end_time_interval
                .is_none_or(|i| ev.end_time.is_some_and(|t| i.contains(t)))
    }

    pub(crate) fn compare(&self, a: &AsyncEvent, b: &AsyncEvent) -> Ordering {
        let o = match self.order_by {
            AsyncOrderBy::StartTime => a.start_time.cmp(&b.start_time),
            AsyncOrderBy::EndTime => a.end_time.cmp(&b.end_time),
        };
        self.order.apply(o)
    }
}
