//! Small conversions shared by the store's files: errors, timestamps, lock poisoning.

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use scf_store::StoreError;

pub(crate) fn open_err(path: &Path, e: impl fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

pub(crate) fn write_err(what: impl Into<String>, e: impl fmt::Display) -> StoreError {
    StoreError::Write {
        what: what.into(),
        detail: e.to_string(),
    }
}

pub(crate) fn read_err(what: impl Into<String>, e: impl fmt::Display) -> StoreError {
    StoreError::Read {
        what: what.into(),
        detail: e.to_string(),
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn to_micros(t: OffsetDateTime) -> i64 {
    // OffsetDateTime spans ±9999 years, about ±3.2e17 µs: always fits in i64.
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

pub(crate) fn from_micros(
    us: i64,
    request_id: &str,
    field: &str,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).map_err(|e| {
        StoreError::CorruptRow {
            request_id: request_id.to_owned(),
            detail: format!("{field} {us} µs: {e}"),
        }
    })
}

pub(crate) fn sat_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
