//! Two request ids whose 64-bit keys (`rkey`) collide still get a row each, and upserts
//! never touch the other id's row. A real collision cannot be found by search, so the test
//! makes one: it renames a stored row, leaving that row's key as the other id's key. Both
//! with the key in the small key table and after it moved into the large one.

use crate::common;

use common::{count_of, rows, sqlite, sqlite_merging, with_msg as record};
use scf_logs::record::RET_CODE_RUNNING;
use scf_store::{LogQuery, LogStore};
use scf_store_sqlite::SqliteStore;

#[test]
fn request_ids_with_colliding_keys_keep_separate_rows() {
    let (dir, store) = sqlite();
    colliding_keys_keep_separate_rows(&dir, &store);
}

#[test]
fn request_ids_with_colliding_merged_keys_keep_separate_rows() {
    let (dir, store) = sqlite_merging();
    colliding_keys_keep_separate_rows(&dir, &store);
}

fn colliding_keys_keep_separate_rows(dir: &tempfile::TempDir, store: &SqliteStore) {
    let db = dir.path().join("logs.db");
    store.put(record("req-b", 0, "\"first\"")).unwrap();
    store.flush().unwrap();
    // The row now belongs to req-x but keeps req-b's key: req-x "collides" with req-b.
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute(
        "UPDATE logs SET request_id = 'req-x', ret_msg = '\"x\"'",
        [],
    )
    .unwrap();

    // req-b's key is taken by req-x's row: req-b gets a row of its own.
    store.put(record("req-b", RET_CODE_RUNNING, "")).unwrap();
    store.flush().unwrap();
    assert!(store.get("req-b").unwrap()[0].is_running());
    // Its finished record replaces its running one; a late running one does not.
    store.put(record("req-b", 0, "\"done\"")).unwrap();
    store.put(record("req-b", RET_CODE_RUNNING, "")).unwrap();
    store.flush().unwrap();

    let b = store.get("req-b").unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].ret_code, b[0].ret_msg.as_str()), (0, "\"done\""));
    assert_eq!(count_of(store, "req-b"), 1);
    assert_eq!(store.query(&LogQuery::default()).unwrap().total_count, 2);
    let rows: Vec<(String, i64, String)> = rows(
        &raw,
        "SELECT request_id, coll, ret_msg FROM logs ORDER BY id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    );
    assert_eq!(
        rows,
        [
            ("req-x".into(), 0, "\"x\"".into()),
            ("req-b".into(), 1, "\"done\"".into()),
        ]
    );
}
