//! What a console reads and keeps beyond the API's queries: per-minute aggregates of the
//! log records ([`StatsQuery`] → [`MinuteStats`]) and saved test events ([`TestEvent`]),
//! behind the [`ConsoleStore`] trait.

use std::cmp::Ordering;

use time::{Duration, OffsetDateTime};

use scf_logs::LogRecord;

use crate::error::StoreError;
use crate::rollup::{stats_from_rows, Rollup};

/// The longest range a [`StatsQuery`] may span: 7 days of minutes (10,080 minutes).
pub const MAX_STATS_RANGE: Duration = Duration::days(7);

/// At most this many saved test events per function (the console's limit, as on SCF).
pub const MAX_TEST_EVENTS_PER_FUNCTION: usize = 5;

/// Longest test event name, in characters.
pub const MAX_TEST_EVENT_NAME_CHARS: usize = 64;

/// Largest test event, in bytes of JSON text: a synchronous invocation's event limit (6 MB).
pub const MAX_TEST_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// Per-minute aggregates of one function, or of a whole namespace (`function_name:
/// None`), for every UTC minute that overlaps `[start, end)` (a minute counts whole).
///
/// Only finished records count (running records, `RetCode` 2, are left out: their
/// duration and memory are not known yet), in the minute of their start time; their
/// running time counts in each minute they ran in. Minutes in which nothing is counted
/// are not returned. The durable stores answer from their per-minute rollup
/// ([`crate::rollup`]), not from the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// The namespace (required: a deployment is a namespace).
    pub namespace: String,
    /// One function, or `None` for every function of the namespace.
    pub function_name: Option<String>,
    /// Inclusive start.
    pub start: OffsetDateTime,
    /// Exclusive end; at most [`MAX_STATS_RANGE`] after `start`.
    pub end: OffsetDateTime,
}

impl StatsQuery {
    /// Checks `start < end` and `end - start <= 7 days`.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.start >= self.end {
            return Err(StoreError::InvalidQuery {
                field: "StartTime",
                detail: format!(
                    "must be before EndTime, got StartTime {} and EndTime {}",
                    self.start, self.end
                ),
            });
        }
        let span = self.end - self.start;
        if span > MAX_STATS_RANGE {
            return Err(StoreError::InvalidQuery {
                field: "EndTime - StartTime",
                detail: format!(
                    "the range may span at most {} minutes (7 days), got {} minutes",
                    MAX_STATS_RANGE.whole_minutes(),
                    span.whole_minutes()
                ),
            });
        }
        Ok(())
    }

    /// Whether `r` is a record of this query's namespace and function that counts (a
    /// finished one); the minutes it counts in are the query's to pick.
    pub fn matches(&self, r: &LogRecord) -> bool {
        !r.is_running()
            && r.namespace == self.namespace
            && self
                .function_name
                .as_deref()
                .is_none_or(|f| f == r.function_name)
    }
}

/// The aggregates of one minute ([`ConsoleStore::minute_stats`]).
///
/// - `invocations`: finished records (attempts; each retry of an async event counts).
/// - `errors`: those that did not succeed (`RetCode` other than 0).
/// - `status_432`/`status_433`/`status_434`: those with that status code.
/// - `throttles`: invocations refused by the concurrency limit (432 before running:
///   neither recorded nor billed, as on SCF), counted by [`LogStore::throttled`](crate::LogStore::throttled).
/// - `duration_p50_ms`/`p95`/`p99`: nearest-rank percentiles of the minute's durations,
///   read from a histogram of log-scale buckets: within 3.2% of the exact value
///   ([`crate::rollup`] says how).
/// - `max_mem_usage_bytes`: the peak memory used by one record. The limit is the
///   function's configuration (not kept in records): the console takes it from there.
/// - `busy_micros`: the running time of executions within the minute (an execution that
///   runs across minutes counts in each, up to [`MAX_SPAN_MINUTES`](crate::rollup::MAX_SPAN_MINUTES));
///   [`concurrency`](Self::concurrency) is the mean number running.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MinuteStats {
    /// The minute (UTC, seconds 0).
    pub minute: OffsetDateTime,
    /// Finished records.
    pub invocations: u64,
    /// Records with `RetCode` other than 0.
    pub errors: u64,
    /// Records with status code 432 (resource limit reached).
    pub status_432: u64,
    /// Records with status code 433 (time limit reached).
    pub status_433: u64,
    /// Records with status code 434 (memory limit reached).
    pub status_434: u64,
    /// Invocations refused by the concurrency limit.
    pub throttles: u64,
    /// Median duration, ms.
    pub duration_p50_ms: f64,
    /// 95th percentile duration, ms.
    pub duration_p95_ms: f64,
    /// 99th percentile duration, ms.
    pub duration_p99_ms: f64,
    /// Peak memory used, bytes.
    pub max_mem_usage_bytes: u64,
    /// Running time of executions within the minute, µs.
    pub busy_micros: u64,
}

impl MinuteStats {
    /// A minute with nothing counted yet.
    pub fn new(minute: OffsetDateTime) -> Self {
        MinuteStats {
            minute,
            invocations: 0,
            errors: 0,
            status_432: 0,
            status_433: 0,
            status_434: 0,
            throttles: 0,
            duration_p50_ms: 0.0,
            duration_p95_ms: 0.0,
            duration_p99_ms: 0.0,
            max_mem_usage_bytes: 0,
            busy_micros: 0,
        }
    }

    /// The mean number of executions running during the minute (running time / 60 s).
    pub fn concurrency(&self) -> f64 {
        self.busy_micros as f64 / 60_000_000.0
    }

    /// The aggregates of `q` over `records` (any order, any records: those `q` does not
    /// match are left out) and `throttles`: the reference every store is held to
    /// (`MemoryStore` uses it).
    pub fn compute<'a>(
        q: &StatsQuery,
        records: impl IntoIterator<Item = &'a LogRecord>,
        throttles: &Rollup,
    ) -> Vec<MinuteStats> {
        let mut rollup = throttles.clone();
        for r in records.into_iter().filter(|r| q.matches(r)) {
            rollup.add_record(r);
        }
        stats_from_rows(q, &rollup.rows)
    }
}

/// The 1-based rank of the `pct`th percentile of `n` sorted values (nearest rank:
/// `ceil(pct * n / 100)`, at least 1).
pub fn percentile_rank(n: u64, pct: u64) -> u64 {
    (pct * n).div_ceil(100).max(1)
}

/// The UTC minute holding `t` (seconds and fraction cut).
pub fn minute_of(t: OffsetDateTime) -> OffsetDateTime {
    let secs = t.unix_timestamp().div_euclid(60) * 60;
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A duration in ms as whole µs (truncated toward zero; negative or NaN counts as 0).
pub fn duration_micros(ms: f64) -> i128 {
    let us = (ms * 1000.0).trunc();
    if us.is_finite() && us > 0.0 {
        us as i128
    } else {
        0
    }
}

/// A saved test event of the console: up to [`MAX_TEST_EVENTS_PER_FUNCTION`] per
/// function, keyed by `(namespace, function_name, name)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEvent {
    /// The function's namespace.
    pub namespace: String,
    /// The function's name.
    pub function_name: String,
    /// The event's name: 1 to 64 characters, no control characters.
    pub name: String,
    /// The event, JSON text (at most [`MAX_TEST_EVENT_BYTES`]).
    pub event: String,
}

impl TestEvent {
    /// A test event.
    pub fn new(
        namespace: impl Into<String>,
        function_name: impl Into<String>,
        name: impl Into<String>,
        event: impl Into<String>,
    ) -> Self {
        TestEvent {
            namespace: namespace.into(),
            function_name: function_name.into(),
            name: name.into(),
            event: event.into(),
        }
    }

    /// Checks the name (1–64 characters, no control characters), that the function is
    /// named, and that the event is JSON of at most [`MAX_TEST_EVENT_BYTES`].
    pub fn validate(&self) -> Result<(), StoreError> {
        let invalid = |field, detail: String| Err(StoreError::InvalidQuery { field, detail });
        if self.function_name.is_empty() {
            return invalid("FunctionName", "must not be empty".into());
        }
        let chars = self.name.chars().count();
        if chars == 0 || chars > MAX_TEST_EVENT_NAME_CHARS {
            return invalid(
                "TestEventName",
                format!("must be 1 to {MAX_TEST_EVENT_NAME_CHARS} characters, got {chars}"),
            );
        }
        if let Some(c) = self.name.chars().find(|c| c.is_control()) {
            return invalid(
                "TestEventName",
                format!(
                    "must not hold control characters, found {c:?} in {:?}",
                    self.name
                ),
            );
        }
        if self.event.len() > MAX_TEST_EVENT_BYTES {
            return invalid(
                "TestEvent",
                format!(
                    "may be at most {MAX_TEST_EVENT_BYTES} bytes, got {}",
                    self.event.len()
                ),
            );
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&self.event) {
            return invalid("TestEvent", format!("is not JSON: {e}"));
        }
        Ok(())
    }

    /// The order [`ConsoleStore::list_test_events`] returns events in: by name.
    pub fn compare(a: &TestEvent, b: &TestEvent) -> Ordering {
        a.name.cmp(&b.name)
    }
}

/// What a console needs from the store beyond [`LogStore`](crate::LogStore) and
/// [`AsyncQueue`](crate::AsyncQueue): per-minute aggregates computed by the store (in
/// the database, not by reading every record into memory) and saved test events. A
/// trait of its own, so that the stable core (`LogStore`) stays small.
pub trait ConsoleStore: Send + Sync + std::fmt::Debug {
    /// The per-minute aggregates of `q` (after [`StatsQuery::validate`]), oldest minute
    /// first, one per minute in which something is counted; the same numbers as
    /// [`MinuteStats::compute`] over the store's records and throttles. Reflects records
    /// visible to reads (after the store's next commit or a `flush`).
    fn minute_stats(&self, q: &StatsQuery) -> Result<Vec<MinuteStats>, StoreError>;

    /// Saves `event` (after [`TestEvent::validate`]), replacing the function's event of
    /// the same name. A new name when the function already has
    /// [`MAX_TEST_EVENTS_PER_FUNCTION`] is refused with [`StoreError::TestEventsFull`]. Durable on
    /// return.
    fn save_test_event(&self, event: &TestEvent) -> Result<(), StoreError>;

    /// The function's saved test events, by name.
    fn list_test_events(
        &self,
        namespace: &str,
        function_name: &str,
    ) -> Result<Vec<TestEvent>, StoreError>;

    /// Deletes the function's event `name`; whether there was one. Durable on return.
    fn delete_test_event(
        &self,
        namespace: &str,
        function_name: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
}
