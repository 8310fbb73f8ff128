//! Conversions between the store's values and columns, and errors as [`StoreError`]s.

use scf_store::StoreError;
use time::OffsetDateTime;

/// Unix microseconds of `t` (saturating at the ends of `i64`).
pub(crate) fn to_micros(t: OffsetDateTime) -> i64 {
    let us = t.unix_timestamp_nanos() / 1000;
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

/// The time `us` unix microseconds, or a corrupt-row error naming the row and column.
pub(crate) fn from_micros(us: i64, id: &str, column: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).map_err(|e| {
        StoreError::CorruptRow {
            request_id: id.to_owned(),
            detail: format!("{column} {us} µs is out of range: {e}"),
        }
    })
}

/// `e` with its server-side detail (tokio-postgres's `Display` says only "db error").
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(": ");
                s.push_str(d);
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        }
    }
}

pub(crate) fn read_err(what: impl Into<String>, e: &tokio_postgres::Error) -> StoreError {
    StoreError::Read {
        what: what.into(),
        detail: describe(e),
    }
}

pub(crate) fn write_err(what: impl Into<String>, e: &tokio_postgres::Error) -> StoreError {
    StoreError::Write {
        what: what.into(),
        detail: describe(e),
    }
}

/// Whether `e` is the database or the connection going away (or a conflict worth trying
/// again), rather than something wrong with what was written: the writer keeps a batch
/// that failed so and writes it once the database is back.
pub(crate) fn is_transient(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        None => true, // I/O, a closed connection, a timeout: not the data
        Some(code) => {
            let c = code.code();
            c.starts_with("08") // connection exception
                || c.starts_with("53") // insufficient resources
                || c.starts_with("57") // operator intervention: shutdown, crash
                || c == "40001" // serialization failure
                || c == "40P01" // deadlock
                || c == "55P03" // lock not available (lock_timeout)
        }
    }
}

/// Text PostgreSQL accepts: `text` cannot hold NUL, which is replaced by U+FFFD.
pub(crate) fn pg_text(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s.to_owned()
    }
}
