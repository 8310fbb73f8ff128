//! A durable store of scf-rs's log records and async event queue in one SQLite file.
//!
//! [`SqliteStore`] implements `scf-store`'s [`LogStore`](scf_store::LogStore) (the
//! `logs` tables) and [`AsyncQueue`](scf_store::AsyncQueue) (the `async_events` and
//! `timer_ticks` tables, written and read only through the queue) and
//! [`ConcurrencySlots`](scf_store::ConcurrencySlots) (the `concurrency_slots` table, for
//! a concurrency limit counted across the processes sharing the file): what `scf serve`
//! keeps under `--data-dir`, and what an embedder takes when records and accepted async
//! events must survive a restart or a `kill -9`. It is a crate of its own
//! so that only those who want SQLite compile it (a C build: bundled SQLite).
//!
//! Why each dependency is here:
//!
//! - `rusqlite` (bundled SQLite): the database. Bundled, so that the store needs nothing
//!   from the machine and every user runs the same SQLite.
//! - `scf-store`: the traits and query types it implements; `scf-logs`: the records.
//! - `time`: timestamps, stored as microseconds since the epoch.
//!
//! # Design
//!
//! One writer connection lives on a dedicated std thread. [`put`](scf_store::LogStore::put)
//! sends the record over a bounded channel and returns; the writer commits in
//! transactions of up to `batch_size` records, or after `batch_interval` when
//! fewer arrive. While it gathers a batch the writer sleeps until the batch's deadline and
//! a put does not wake it, so records arriving one at a time cost one wake-up and one
//! commit per `batch_interval`, not one each. Anything that must be durable on return ([`flush`](scf_store::LogStore::flush),
//! [`SqliteStore::put_batch`], and every [`AsyncQueue`](scf_store::AsyncQueue) write:
//! [`enqueue`](scf_store::AsyncQueue::enqueue), claims, renewals, attempt ends,
//! [`terminate`](scf_store::AsyncQueue::terminate), timer ticks)
//! goes through the same channel with a reply channel and wakes the writer, so it commits it (with
//! whatever puts precede it) before answering; there is one writer, so writes never
//! contend with each other. Its transactions are `BEGIN IMMEDIATE`: processes sharing
//! the file take the write lock in turn (waiting up to
//! [`busy_timeout`](SqliteStoreConfig::busy_timeout)), so a claim of async events
//! reads and marks them while no one else can write, and no event is claimed twice.
//! Reads use a second connection; WAL mode lets them run while the writer commits.
//!
//! Durability: WAL with `synchronous=NORMAL`: a committed transaction survives
//! a crash or kill of the process; after a power loss the last few commits may
//! be lost (SQLite's documented trade-off for this mode).
//!
//! # Example
//!
//! ```
//! use scf_logs::LogRecord;
//! use scf_store::{LogQuery, LogStore};
//! use scf_store_sqlite::SqliteStore;
//! use time::OffsetDateTime;
//!
//! let dir = std::env::temp_dir().join(format!("scf-store-sqlite-doc-{}", std::process::id()));
//! let store = SqliteStore::open(dir.join("logs.sqlite"))?;
//! let mut record = LogRecord::new("fn", "default", "$LATEST", "req-1", OffsetDateTime::now_utc());
//! record.status_code = 200;
//! store.put(record)?;
//! store.flush()?; // durable, and visible to reads
//! assert_eq!(store.get("req-1")?.len(), 1);
//! let page = store.query(&LogQuery { function_name: Some("fn".into()), ..LogQuery::default() })?;
//! assert_eq!(page.total_count, 1);
//! drop(store);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), scf_store::StoreError>(())
//! ```

mod checkpoint;
mod config;
mod console;
mod convert;
mod keys;
mod queue;
mod retention;
mod rollup;
mod rows;
mod schema;
mod search;
mod slots;
mod statements;
mod store;
mod writer;

pub use config::{PurgeReport, SqliteStoreConfig, SCF_ASYNC_RETENTION};
pub use store::SqliteStore;

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
