//! Logs and the async event queue for scf-rs, the Rust implementation of
//! Tencent Cloud SCF (Serverless Cloud Function).
//!
//! What this crate is for:
//!
//! - [`record`]: [`LogRecord`], one invocation attempt's log record, and its
//!   two JSON shapes (API 3.0 `FunctionLog` and the camelCase console view).
//! - [`framing`]: SCF's platform log lines (`START`, `Response`/`ERROR`, `END`,
//!   `Report`, `Init Report`) and the user line format, with the 8 KB line cap
//!   and the 4 KB `LogType: Tail`.
//! - [`capture`](mod@capture): per-invocation capture of what a handler logs through
//!   `tracing` or `log`, even with many invocations running at once.
//! - [`store`]: [`LogStore`], with [`MemoryStore`] and [`SqliteStore`]; it
//!   answers `GetFunctionLogs` and keeps the accepted async events
//!   (`ListAsyncEvents`) so they survive a crash. The SQLite store deletes what is
//!   past its configured retention ([`SqliteStoreConfig::log_retention`],
//!   [`SqliteStoreConfig::async_retention`]); by default it keeps everything.
//!
//! Who depends on it: `scf-invoker` (captures, frames and stores each attempt;
//! enqueues async events) and `scf-http` (serves the queries). It depends on
//! no other scf crate and pulls in no async runtime: background writes use a
//! std thread, and store methods block (call them with `spawn_blocking`).
//!
//! Why each dependency is here:
//!
//! - `serde`, `serde_json`: the JSON shapes of [`LogRecord`].
//! - `time`: record and event timestamps and their API formats.
//! - `thiserror`: [`StoreError`] and [`ParseValueError`].
//! - `rusqlite` (bundled SQLite): the durable [`SqliteStore`].
//! - `tracing`, `tracing-subscriber` (registry only): [`CaptureLayer`].
//! - `log`: [`CaptureLogger`].
//!
//! # Example
//!
//! ```
//! use scf_logs::{LogBuffer, LogRecord, LogStore, MemoryStore, LogQuery};
//! use time::OffsetDateTime;
//!
//! let buffer = LogBuffer::new("req-1");
//! buffer.in_scope(|| {
//!     // With `scf_logs::capture::install()` done, `tracing::info!` and
//!     // `log::info!` land here too.
//!     LogBuffer::current().unwrap().push_line("INFO", "hello");
//! });
//! assert!(buffer.text().ends_with("\treq-1\t[INFO]\thello"));
//!
//! let store = MemoryStore::new(1000);
//! let mut record = LogRecord::new("fn", "default", "$LATEST", "req-1", OffsetDateTime::now_utc());
//! record.ret_code = scf_logs::record::RET_CODE_SUCCESS;
//! record.status_code = 200;
//! record.log = buffer.text();
//! store.put(record)?;
//! let page = store.query(&LogQuery { function_name: Some("fn".into()), ..LogQuery::default() })?;
//! assert_eq!(page.total_count, 1);
//! assert_eq!(page.records[0].to_api()["RetCode"], 0);
//! # Ok::<(), scf_logs::StoreError>(())
//! ```

pub mod capture;
pub mod error;
pub mod framing;
pub mod record;
pub mod store;

pub use capture::{capture, install, CaptureLayer, CaptureLogger, Captured, LogBuffer};
pub use error::{ParseValueError, StoreError};
pub use record::{InvocationType, LogRecord};
pub use store::{
    AsyncEvent, AsyncQuery, AsyncStatus, LogPage, LogQuery, LogStore, MemoryStore, Order, OrderBy,
    PurgeReport, RetCodeFilter, SqliteStore, SqliteStoreConfig, SCF_ASYNC_RETENTION,
};
