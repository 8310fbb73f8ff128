//! Shared helpers: a fixed clock, record builders and store factories.
#![allow(dead_code, unreachable_pub)]

use scf_logs::LogRecord;
use scf_store_sqlite::SqliteStore;

// The fixed clock and the record builder of the store conformance suite, which these
// tests check the same store against.
pub use scf_store::conformance::{rec, t};

/// Record number `i` of function `f`: request id `r{i}`, started `i` seconds after the fixed
/// clock's origin, successful.
pub fn numbered(i: i64) -> LogRecord {
    rec(
        "f",
        "default",
        "$LATEST",
        &format!("r{i}"),
        i,
        0,
        200,
        1.0,
        1,
    )
}

/// A SQLite store in a fresh temp dir (keep the dir alive as long as the store).
pub fn sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("logs.db")).expect("open store");
    (dir, store)
}

/// A SQLite store that moves every commit's request-id keys into its large key table
/// (`logs_key`) right away, so lookups and upserts go through that table, not the small one.
pub fn sqlite_merging() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = scf_store_sqlite::SqliteStoreConfig::default();
    cfg.key_merge_rows = 1;
    let store = SqliteStore::open_with(dir.path().join("logs.db"), cfg).expect("open store");
    (dir, store)
}

/// A record of function `f` with `ret_code` (2 is running) and `ret_msg`, for upsert tests.
pub fn with_msg(request_id: &str, ret_code: i64, ret_msg: &str) -> LogRecord {
    let mut r = rec(
        "f", "default", "$LATEST", request_id, 1, ret_code, 200, 1.0, 0,
    );
    r.ret_msg = ret_msg.into();
    r
}

/// Every row `sql` returns from the database at `conn`, mapped by `map`.
pub fn rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    conn.prepare(sql)
        .expect("a valid query")
        .query_map([], map)
        .expect("the query runs")
        .collect::<Result<_, _>>()
        .expect("rows of the expected types")
}

/// `TotalCount` of a `GetFunctionLogs` query for `request_id` alone.
pub fn count_of(store: &dyn scf_store::LogStore, request_id: &str) -> u64 {
    store
        .query(&scf_store::LogQuery {
            request_id: Some(request_id.into()),
            ..scf_store::LogQuery::default()
        })
        .expect("the query runs")
        .total_count
}

/// `TotalCount` of a `GetFunctionLogs` query with no filter.
pub fn count_all(store: &dyn scf_store::LogStore) -> u64 {
    store
        .query(&scf_store::LogQuery::default())
        .expect("the query runs")
        .total_count
}
