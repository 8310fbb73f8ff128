//! Log capture, SCF's log framing and log records for scf-rs, the Rust implementation of
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
//!
//! Where records are kept is the storage layer's concern: `scf-store` (the traits and a
//! store in memory) and `scf-store-sqlite`. Who depends on this crate: those, and
//! `scf-invoker` (captures and frames each attempt). It depends on no other scf crate,
//! has no storage and pulls in no async runtime.
//!
//! Why each dependency is here:
//!
//! - `serde`, `serde_json`: the JSON shapes of [`LogRecord`].
//! - `time`: record and event timestamps and their API formats.
//! - `thiserror`: [`ParseValueError`].
//! - `tracing`, `tracing-core` (for `span::Current`): the capture dispatcher, made current only inside a capture scope (see
//!   [`capture`](mod@capture): nothing global is installed).
//! - `log`: [`CaptureLogger`]; `tracing-log` (its `log` → `tracing` bridge only):
//!   [`capture_log_crate`], the opt-in for applications that do not bridge `log` themselves.
//!
//! # Example
//!
//! ```
//! use scf_logs::{LogBuffer, LogRecord};
//! use time::OffsetDateTime;
//!
//! let buffer = LogBuffer::new("req-1");
//! buffer.in_scope(|| {
//!     // `tracing` events land here with nothing installed (and still reach the
//!     // application's subscriber); `log` records too once they are bridged.
//!     tracing::info!("hello");
//! });
//! assert!(buffer.text().ends_with("\treq-1\t[INFO]\thello"));
//!
//! let mut record = LogRecord::new("fn", "default", "$LATEST", "req-1", OffsetDateTime::now_utc());
//! record.ret_code = scf_logs::record::RET_CODE_SUCCESS;
//! record.status_code = 200;
//! record.log = buffer.text();
//! assert_eq!(record.to_api()["RetCode"], 0);
//! assert_eq!(record.to_api()["RequestId"], "req-1");
//! ```

pub mod capture;
pub mod error;
pub mod framing;
pub mod record;

pub use capture::{capture, capture_log_crate, CaptureLogger, Captured, LogBuffer};
pub use error::ParseValueError;
pub use record::{InvocationType, LogRecord};

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
