//! A store of scf-rs's log records and async event queue in PostgreSQL, which several
//! nodes (`scf serve` processes on different machines) share as one deployment.
//!
//! [`PgStore`] implements `scf-store`'s [`LogStore`](scf_store::LogStore) (the `logs`
//! table, partitioned by day) and [`AsyncQueue`](scf_store::AsyncQueue) (the
//! `async_events` and `timer_ticks` tables): an async event accepted by any node runs
//! once, on whichever node claims it, and a timer tick fires once between them
//! ([`claim_tick`](scf_store::AsyncQueue::claim_tick) is an `INSERT … ON CONFLICT DO
//! NOTHING` on the tick's key). It is also a
//! [`ConcurrencySlots`](scf_store::ConcurrencySlots) (`concurrency_slots`), so that a
//! function's concurrency limit can hold across the nodes.
//!
//! Why each dependency is here:
//!
//! - `tokio-postgres`: the client. Maintained (the `rust-postgres` project), pure Rust,
//!   pipelined, prepared statements and binary array parameters (a batch of records is
//!   one `INSERT … SELECT FROM unnest($1, …)` with one array per column). sqlx would bring
//!   its macros, its own pool and many more crates for nothing this store uses.
//! - `deadpool-postgres`: the connection pool (small, on tokio-postgres; a connection
//!   found closed is replaced, so the pool reconnects by itself after the server
//!   restarts).
//! - `tokio`: the store's own runtime, on which all its database work runs (below).
//! - `tracing`: the log lines for lost records and a writer waiting for the database.
//! - `scf-store`: the traits and query types; `scf-logs`: the records; `time`: timestamps,
//!   stored as microseconds since the epoch (as the SQLite store does).
//!
//! # Design
//!
//! The traits are synchronous and are called from the invoker's tokio tasks and threads,
//! while tokio-postgres is async. So the store owns a small multi-threaded tokio runtime
//! (two threads named `scf-store-postgres`) and runs all its database work there; a call
//! hands its work to that runtime and waits for the answer on a std channel, at most
//! [`op_timeout`](PgStoreConfig::op_timeout), and then fails with an error naming what
//! timed out. A caller's thread never enters a runtime (no `block_on`, which panics inside
//! one), so calls may come from any thread or task, and never waits longer than that
//! timeout, whatever the database does. Dropping the store stops its runtime without
//! blocking on it (`shutdown_background`), so a store may be dropped in async code too.
//!
//! - [`put`](scf_store::LogStore::put) never waits: the record goes into a bounded
//!   buffer (a channel of [`buffer_capacity`](PgStoreConfig::buffer_capacity) records)
//!   that a writer task drains in batches of up to
//!   [`batch_size`](PgStoreConfig::batch_size), one prepared multi-row upsert each. While
//!   the database is away the writer keeps its batch and tries again (backing off up to
//!   2 s), records wait in the buffer and are written when it is back; a record put while
//!   the buffer is full is refused ([`StoreError::Full`](scf_store::StoreError::Full)),
//!   counted in [`PgStore::lost_records`] (a metric to export) and logged. Never silently.
//! - [`flush`](scf_store::LogStore::flush) waits until the writer has written every
//!   record put before it (or `op_timeout` passes) and reports a batch the database refused.
//! - Reads and every queue operation take a pooled connection; queue writes are committed
//!   when the call returns. Claims use `FOR UPDATE SKIP LOCKED` (see the `queue` module).
//!
//! Retention never rewrites the log: records are partitioned by the day of their start
//! time, and [`log_retention`](PgStoreConfig::log_retention) drops whole partitions once
//! their last day is past it (a record is kept at least the retention, at most a day
//! more). Ended async events past [`async_retention`](PgStoreConfig::async_retention) are
//! deleted (they are few, and a `RUNNING` one never is).
//!
//! An attempt's records (`request_id`, `retry_num`) are one row as long as they carry the
//! same start time, the attempt's: a unique index of a partitioned table must include its
//! partition key. The invoker's do (see `schema`).
//!
//! The schema is versioned (`schema_version`) and migrated at open, under an advisory
//! lock so that nodes starting together migrate once; a database at a newer version is
//! refused. Give each deployment its own database or
//! [`schema`](PgStoreConfig::schema). The user needs the right to create tables in it
//! (and the schema, if it does not exist).
//!
//! # Example
//!
//! ```no_run
//! use scf_logs::LogRecord;
//! use scf_store::{LogQuery, LogStore};
//! use scf_store_postgres::{PgStore, PgStoreConfig};
//! use time::OffsetDateTime;
//!
//! let cfg = PgStoreConfig::new("postgres://scf@127.0.0.1:5432/scf").with_schema("prod");
//! let store = PgStore::open_with(cfg)?;
//! let mut record = LogRecord::new("fn", "default", "$LATEST", "req-1", OffsetDateTime::now_utc());
//! record.status_code = 200;
//! record.ret_code = 0;
//! store.put(record)?;
//! store.flush()?; // written, and visible to reads
//! let page = store.query(&LogQuery { function_name: Some("fn".into()), ..LogQuery::default() })?;
//! assert_eq!(page.total_count, 1);
//! # Ok::<(), scf_store::StoreError>(())
//! ```

mod config;
mod console;
mod convert;
mod partitions;
mod queue;
mod rollup;
mod rows;
mod schema;
mod slots;
mod store;
mod writer;

pub use config::PgStoreConfig;
pub use store::PgStore;

/// What a purge removed ([`PgStore::purge`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Day partitions of log records dropped.
    pub log_partitions: u64,
    /// Ended async events deleted.
    pub async_events: u64,
    /// Timer ticks deleted.
    pub timer_ticks: u64,
}

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
