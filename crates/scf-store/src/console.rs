//! What a console reads and keeps beyond the API's queries: per-minute aggregates of the
//! log records ([`StatsQuery`] → [`MinuteStats`]) and saved test events ([`TestEvent`]),
//! behind the [`ConsoleStore`] trait.

use std::cmp::Ordering;

use time::{Duration, OffsetDateTime};

use scf_handler::FunctionStatus;
use scf_logs::LogRecord;

use crate::error::StoreError;

/// The longest range a [`StatsQuery`] may span: 7 days of minutes (10,080 minutes).
pub const MAX_STATS_RANGE: Duration = Duration::days(7);

/// At most this many saved test events per function (the console's limit, as on SCF).
pub const MAX_TEST_EVENTS_PER_FUNCTION: usize = 5;

/// Longest test event name, in characters.
pub const MAX_TEST_EVENT_NAME_CHARS: usize = 64;

/// Largest test event, in bytes of JSON text: a synchronous invocation's event limit (6 MB).
pub const MAX_TEST_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// Per-minute aggregates of the log records of one function, or of a whole namespace
/// (`function_name: None`), whose `start_time` is in `[start, end)`.
///
/// Only finished records count (running records, `RetCode` 2, are left out: their
/// duration and memory are not known yet). Minutes are UTC minutes of the records'
/// start times; minutes without a record are not returned.
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

    /// Whether `r` counts in this query's aggregates.
    pub fn matches(&self, r: &LogRecord) -> bool {
        !r.is_running()
            && r.namespace == self.namespace
            && self
                .function_name
                .as_deref()
                .is_none_or(|f| f == r.function_name)
            && r.start_time >= self.start
            && r.start_time < self.end
    }
}

/// The aggregates of one minute ([`ConsoleStore::minute_stats`]).
///
/// - `invocations`: finished records (attempts; each retry of an async event counts).
/// - `errors`: those that did not succeed (`RetCode` other than 0).
/// - `status_432`/`status_433`/`status_434`: those with that status code. Refusals
///   before running (a sync call over the concurrency limit: 432) are not log records
///   (they are neither recorded nor billed, as on SCF), so they are not counted here: a
///   console takes throttles from the invoker's counters (`/metrics`).
/// - `duration_p50_ms`/`p95`/`p99`: exact nearest-rank percentiles of the minute's
///   durations (the smallest duration with at least that share of the minute's records at
///   or below it), computed by the database.
/// - `max_mem_usage_bytes`: the peak memory used by one record. The limit is the
///   function's configuration (not kept in records): the console takes it from there.
/// - `max_concurrency`: the most records running at once at any record's start within
///   the minute, counting records of the query's range whose `[start_time, start_time +
///   duration)` holds that instant (an approximation: executions that started before the
///   range, or a minute in which none starts, are not seen).
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
    /// Median duration, ms.
    pub duration_p50_ms: f64,
    /// 95th percentile duration, ms.
    pub duration_p95_ms: f64,
    /// 99th percentile duration, ms.
    pub duration_p99_ms: f64,
    /// Peak memory used, bytes.
    pub max_mem_usage_bytes: u64,
    /// Most executions running at once (see the type's docs).
    pub max_concurrency: u64,
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
            duration_p50_ms: 0.0,
            duration_p95_ms: 0.0,
            duration_p99_ms: 0.0,
            max_mem_usage_bytes: 0,
            max_concurrency: 0,
        }
    }

    /// The aggregates of `records` (any order), one per minute that has one, oldest
    /// first: the reference every store's SQL is held to (`MemoryStore` uses it).
    pub fn compute<'a>(records: impl IntoIterator<Item = &'a LogRecord>) -> Vec<MinuteStats> {
        let mut recs: Vec<&LogRecord> = records.into_iter().collect();
        recs.sort_by_key(|r| r.start_time);
        // Execution intervals in µs, for concurrency: +1 at a start, -1 at an end; at the
        // same instant an end comes first (a run that ends as another starts does not overlap).
        let mut edges: Vec<(i128, i8)> = Vec::with_capacity(recs.len() * 2);
        for r in &recs {
            let s = micros(r.start_time);
            edges.push((s, 1));
            edges.push((s + duration_micros(r.duration_ms), -1));
        }
        edges.sort();
        let mut running: i64 = 0;
        let mut at_start: Vec<(i128, u64)> = Vec::with_capacity(recs.len());
        for (t, d) in edges {
            running += i64::from(d);
            if d > 0 {
                at_start.push((t, u64::try_from(running).unwrap_or(0)));
            }
        }
        let mut out: Vec<MinuteStats> = Vec::new();
        let mut durations: Vec<f64> = Vec::new();
        let mut i = 0;
        while i < recs.len() {
            let minute = minute_of(recs[i].start_time);
            let mut m = MinuteStats::new(minute);
            durations.clear();
            while i < recs.len() && minute_of(recs[i].start_time) == minute {
                let r = recs[i];
                m.invocations += 1;
                m.errors += u64::from(r.ret_code != 0);
                m.status_432 +=
                    u64::from(r.status_code == FunctionStatus::ResourceLimitReached.code());
                m.status_433 += u64::from(r.status_code == FunctionStatus::TimeLimitReached.code());
                m.status_434 +=
                    u64::from(r.status_code == FunctionStatus::MemoryLimitReached.code());
                m.max_mem_usage_bytes = m.max_mem_usage_bytes.max(r.mem_usage_bytes);
                durations.push(r.duration_ms);
                i += 1;
            }
            durations.sort_by(|a, b| a.total_cmp(b));
            m.duration_p50_ms = nearest_rank(&durations, 50);
            m.duration_p95_ms = nearest_rank(&durations, 95);
            m.duration_p99_ms = nearest_rank(&durations, 99);
            let (lo, hi) = (micros(minute), micros(minute) + 60_000_000);
            m.max_concurrency = at_start
                .iter()
                .filter(|(t, _)| *t >= lo && *t < hi)
                .map(|(_, n)| *n)
                .max()
                .unwrap_or(0);
            out.push(m);
        }
        out
    }
}

/// The 1-based rank of the `pct`th percentile of `n` sorted values (nearest rank:
/// `ceil(pct * n / 100)`, at least 1), which stores compute in SQL the same way.
pub fn percentile_rank(n: u64, pct: u64) -> u64 {
    (pct * n).div_ceil(100).max(1)
}

fn nearest_rank(sorted: &[f64], pct: u64) -> f64 {
    let rank = percentile_rank(sorted.len() as u64, pct);
    usize::try_from(rank - 1)
        .ok()
        .and_then(|i| sorted.get(i))
        .copied()
        .unwrap_or(0.0)
}

/// The UTC minute holding `t` (seconds and fraction cut).
pub fn minute_of(t: OffsetDateTime) -> OffsetDateTime {
    let secs = t.unix_timestamp().div_euclid(60) * 60;
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn micros(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos() / 1000
}

/// A duration in ms as whole µs, as the stores compute it (`CAST(duration_ms * 1000 AS
/// INTEGER)`: truncated toward zero; negative or NaN counts as 0).
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
    /// first, one per minute holding at least one finished record; the same numbers as
    /// [`MinuteStats::compute`] over the records `q` matches. Reflects records visible to
    /// reads (after the store's next commit or a `flush`).
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
