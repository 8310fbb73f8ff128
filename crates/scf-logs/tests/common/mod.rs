//! Shared helpers: a fixed clock, record builders and store factories.
#![allow(dead_code, unreachable_pub)]

use scf_logs::{LogRecord, SqliteStore};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// 2026-11-25 12:00:00 UTC plus `secs`.
pub fn t(secs: i64) -> OffsetDateTime {
    datetime!(2026-11-25 12:00:00 UTC) + Duration::seconds(secs)
}

/// A finished record.
#[allow(clippy::too_many_arguments)]
pub fn rec(
    function: &str,
    namespace: &str,
    qualifier: &str,
    id: &str,
    secs: i64,
    ret_code: i64,
    status_code: u16,
    duration_ms: f64,
    mem: u64,
) -> LogRecord {
    let mut r = LogRecord::new(function, namespace, qualifier, id, t(secs));
    r.ret_code = ret_code;
    r.status_code = status_code;
    r.invoke_finished = ret_code != 2;
    r.duration_ms = duration_ms;
    r.bill_duration_ms = duration_ms.ceil() as u64;
    r.mem_usage_bytes = mem;
    r.ret_msg = format!("msg of {id}");
    r.log = format!("START RequestId:{id}\nEND RequestId:{id}\n");
    r
}

/// A SQLite store in a fresh temp dir (keep the dir alive as long as the store).
pub fn sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("logs.db")).expect("open store");
    (dir, store)
}

/// For each named generic check `fn name(store: &dyn LogStore)`, makes
/// `name::memory` and `name::sqlite` tests.
#[macro_export]
macro_rules! for_each_store {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn memory() {
                super::$name(&scf_logs::MemoryStore::new(100_000));
            }
            #[test]
            fn sqlite() {
                let (_dir, store) = $crate::common::sqlite();
                super::$name(&store);
            }
        }
    )*};
}
