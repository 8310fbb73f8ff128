//! The storage layer of scf-rs: where log records and the async event queue are kept.
//!
//! - [`LogStore`]: the interface the invoker writes each attempt's [`LogRecord`] to,
//!   and that `GetFunctionLogs` ([`LogQuery`]) reads from.
//! - [`AsyncQueue`]: the async event queue, whose events are claimed under leases the
//!   same way by one process or by several sharing a store (see its docs for the rules),
//!   and that `ListAsyncEvents` ([`AsyncQuery`]) and `GetAsyncEventStatus` read from.
//!   It is a trait of its own: a store may be one or both, and a deployment may keep
//!   the log and the queue in different places.
//! - [`ConcurrencySlots`]: a function's concurrency limit counted for a whole deployment
//!   (several nodes sharing one store), in slots held under leases.
//! - [`ConsoleStore`]: what a console reads and keeps beyond the API: per-minute
//!   aggregates of the log records ([`StatsQuery`] → [`MinuteStats`]), computed by the
//!   store, and saved test events ([`TestEvent`]).
//! - [`MemoryStore`]: a bounded store in memory, nothing kept across restarts; what an
//!   embedder gets by default.
//! - [`packing`]: a record's log text packed for storage (the request id and return
//!   value that the framing repeats, stored once), for the durable stores.
//! - [`rollup`]: the per-minute rollup (counts and a duration histogram per function
//!   and minute) the durable stores keep beside the records, for [`ConsoleStore`].
//! - The query types ([`LogQuery`], [`RetCodeFilter`], [`AsyncQuery`], [`AsyncEvent`]
//!   …), validated as the API validates them, and [`StoreError`].
//!
//! - `conformance` (Cargo feature, off by default): the conformance suite, a public
//!   function per rule of `LogStore` and `AsyncQueue` and macros
//!   (`conformance_tests!`, `conformance_log_tests!`, `conformance_queue_tests!`) that
//!   stamp one `#[test]` per rule for a store. Store implementers turn it on in their
//!   dev-dependencies and run it over their store, so that every store (this crate's
//!   `MemoryStore`, `scf-store-sqlite`, any other) is held to the same behaviour.
//!
//! A durable store lives in a crate of its own (`scf-store-sqlite`), so that an embedder
//! who keeps logs in memory compiles no database. This crate has no C dependency and no
//! async runtime: methods block (call them with `spawn_blocking` from async code).
//!
//! Why each dependency is here:
//!
//! - `scf-logs`: [`LogRecord`], what is stored.
//! - `scf-handler`: [`FunctionStatus`](scf_handler::FunctionStatus), the one list of
//!   status codes that the `RetCode` filters name.
//! - `time`: timestamps of records, events and query ranges.
//! - `thiserror`: [`StoreError`].
//! - `serde_json`: a saved [`TestEvent`] must be JSON.
//!
//! # Example
//!
//! ```
//! use scf_logs::LogRecord;
//! use scf_store::{LogQuery, LogStore, MemoryStore, RetCodeFilter};
//! use time::OffsetDateTime;
//!
//! let store = MemoryStore::new(1000);
//! let mut record = LogRecord::new("fn", "default", "$LATEST", "req-1", OffsetDateTime::now_utc());
//! record.status_code = 433;
//! record.ret_code = 1;
//! store.put(record)?;
//! let q = LogQuery {
//!     function_name: Some("fn".into()),
//!     ret_code: Some(RetCodeFilter::TimeLimitExceeded),
//!     ..LogQuery::default()
//! };
//! let page = store.query(&q)?;
//! assert_eq!(page.total_count, 1);
//! assert_eq!(page.records[0].request_id, "req-1");
//! # Ok::<(), scf_store::StoreError>(())
//! ```

#[cfg(feature = "conformance")]
pub mod conformance;
mod console;
pub mod error;
mod memory;
pub mod packing;
mod query;
mod queue;
pub mod rollup;
mod slots;

pub use console::{
    duration_micros, minute_of, percentile_rank, ConsoleStore, MinuteStats, StatsQuery, TestEvent,
    MAX_STATS_RANGE, MAX_TEST_EVENTS_PER_FUNCTION, MAX_TEST_EVENT_BYTES, MAX_TEST_EVENT_NAME_CHARS,
};
pub use error::StoreError;
pub use memory::{MemoryStore, DEFAULT_ASYNC_CAPACITY, DEFAULT_LOG_CAPACITY};
pub use query::{
    AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncStatus, LogPage, LogQuery, Order, OrderBy,
    RetCodeFilter, TimeInterval, DEFAULT_KEYWORD_SCAN, MAX_ASYNC_LIMIT, MAX_KEYWORD_BYTES,
    MAX_OFFSET_PLUS_LIMIT,
};
pub use queue::{AsyncQueue, AttemptEnd, Claim, Ended, FunctionRef, Lease, Renewal, Termination};
pub use slots::{ConcurrencySlots, SlotId};

use scf_logs::LogRecord;

/// Where log records are kept: what the invoker writes each attempt's record to, and
/// what `GetFunctionLogs` reads. Async events are kept by an [`AsyncQueue`], a trait of
/// its own, so that a deployment may keep the log and the queue in different places.
pub trait LogStore: Send + Sync + std::fmt::Debug {
    /// Upserts `record` by `(request_id, retry_num)`: a running record is later
    /// replaced by the finished one. A running record never replaces a
    /// finished one (a late write of the running state is ignored). Every record of one
    /// attempt carries the same `start_time` (the invoker's do): a store may key the
    /// attempt on it too (the PostgreSQL store partitions its table by it, and a
    /// partitioned table's unique key must hold the partition key).
    ///
    /// May be buffered: the record is visible to reads after the next commit
    /// and durable after [`flush`](Self::flush).
    fn put(&self, record: LogRecord) -> Result<(), StoreError>;

    /// Returns when everything put before is durable (and visible to reads).
    /// Reports a background write failure that happened since the last call.
    fn flush(&self) -> Result<(), StoreError>;

    /// All attempts of `request_id`, ordered by `retry_num`.
    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError>;

    /// A page of records matching `q` (`GetFunctionLogs`), after [`LogQuery::validate`].
    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError>;

    /// Counts an invocation of `function_name` refused at `at` by the concurrency limit
    /// (status 432 before running): no record is written (SCF shows throttles in
    /// monitoring, not in the logs), but a store that keeps per-minute aggregates
    /// ([`ConsoleStore`]) counts it in [`MinuteStats::throttles`]. Best effort, never
    /// blocks on a commit: a failure is reported by the next [`flush`](Self::flush).
    /// The default counts nothing.
    fn throttled(&self, namespace: &str, function_name: &str, at: time::OffsetDateTime) {
        let _ = (namespace, function_name, at);
    }
}

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
