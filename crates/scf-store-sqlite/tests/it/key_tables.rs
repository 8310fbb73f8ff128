//! The request-id keys live in two tables (a small one for new keys, a large one they are
//! merged into): whichever table holds a key, every record is found by its request id and
//! upserts replace the right row, across many commits and a reopen.

use crate::common;

use common::{count_of, rows, with_msg};
use scf_logs::record::RET_CODE_RUNNING;
use scf_store::{LogQuery, LogStore};
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig};

fn open(db: &std::path::Path, merge_rows: u64) -> SqliteStore {
    let mut cfg = SqliteStoreConfig::default();
    cfg.key_merge_rows = merge_rows;
    SqliteStore::open_with(db, cfg).unwrap()
}

fn key_counts(conn: &rusqlite::Connection) -> (i64, i64) {
    let n = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    (n("logs_key_new"), n("logs_key"))
}

#[test]
fn keys_merged_into_the_large_table_still_find_and_upsert_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    let ids: Vec<String> = (0..400).map(|i| format!("req-{i:04}")).collect();
    {
        let store = open(&db, 64);
        // Running records in 20 commits of 20.
        for chunk in ids.chunks(20) {
            for id in chunk {
                store.put(with_msg(id, RET_CODE_RUNNING, "")).unwrap();
            }
            store.flush().unwrap();
        }
    }
    {
        // The writer merges after it answers a flush; closing the store waits for it.
        let raw = rusqlite::Connection::open(&db).unwrap();
        let (new, merged) = key_counts(&raw);
        assert_eq!(new + merged, 400);
        assert!(
            new < 64,
            "{new} keys left unmerged, more than the threshold"
        );
        assert!(merged >= 400 - 64, "only {merged} keys merged");
    }
    // Reopened: the finished records replace the running ones wherever their keys are.
    let store = open(&db, 64);
    for id in &ids {
        store.put(with_msg(id, 0, &format!("\"{id}\""))).unwrap();
    }
    store.flush().unwrap();
    assert_eq!(store.query(&LogQuery::default()).unwrap().total_count, 400);
    for id in &ids {
        let got = store.get(id).unwrap();
        assert_eq!(got.len(), 1, "{id}");
        assert_eq!(got[0].ret_msg, format!("\"{id}\""));
        assert_eq!(count_of(&store, id), 1, "{id} by the RequestId filter");
    }
    // A late running record replaces none of them.
    store
        .put(with_msg("req-0007", RET_CODE_RUNNING, ""))
        .unwrap();
    store.flush().unwrap();
    assert_eq!(store.get("req-0007").unwrap()[0].ret_code, 0);
    drop(store);

    let raw = rusqlite::Connection::open(&db).unwrap();
    let keys: Vec<(i64, i64)> = rows(
        &raw,
        "SELECT id, rkey FROM logs_key UNION ALL SELECT id, rkey FROM logs_key_new ORDER BY 1",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    let from_rows: Vec<(i64, i64)> = rows(&raw, "SELECT id, rkey FROM logs ORDER BY id", |r| {
        Ok((r.get(0)?, r.get(1)?))
    });
    assert_eq!(
        keys, from_rows,
        "each row's key once, in one of the two tables"
    );
}

#[test]
fn keys_stay_in_the_small_table_below_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    {
        let store = open(&db, 1000);
        for i in 0..100 {
            store.put(with_msg(&format!("req-{i}"), 0, "")).unwrap();
        }
    }
    let raw = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(key_counts(&raw), (100, 0));
}

#[test]
fn keys_merged_by_another_writer_on_the_same_file_are_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    // Two stores on one file, as two processes would have: each its own writer and its
    // own filter of the merged keys.
    let a = open(&db, 1_000_000);
    a.put(with_msg("req-1", RET_CODE_RUNNING, "")).unwrap();
    a.flush().unwrap();
    // b counts req-1's key at open; its commit is followed by a merge of every key.
    let b = open(&db, 1);
    b.put(with_msg("req-2", 0, "\"2\"")).unwrap();
    drop(b);
    let raw = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(key_counts(&raw), (0, 2), "b merged both keys");

    // a's filter never saw req-1's key move; its finished record must still replace the
    // running one, not add a second row.
    a.put(with_msg("req-1", 0, "\"1\"")).unwrap();
    a.flush().unwrap();
    let got = a.get("req-1").unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].ret_code, got[0].ret_msg.as_str()), (0, "\"1\""));
    assert_eq!(a.query(&LogQuery::default()).unwrap().total_count, 2);
}
