//! Databases written by older schema versions are migrated to version 8 on open, keeping
//! every record and its order: version 1 (a unique text index on `(request_id,
//! retry_num)`), version 2 (an integer key `rkey` without the `coll` column), version 3
//! (the keys in a unique index on `logs` instead of the key tables) and version 4 (async
//! events without leases, retry times or failure counts, and no timer ticks): their
//! `RUNNING` events are due at once, and one that had attempts reports the last of them
//! interrupted when it is first claimed. Version 5 kept no node ids: its records and
//! events read back with an empty `node`, and new ones keep theirs. Version 7 had no
//! per-minute rollup: the migration builds it from the records.

use crate::common;

use common::{count_of, rows, with_msg};
use scf_logs::LogRecord;
use scf_store::{AsyncQueue, AsyncStatus, FunctionRef, LogQuery, LogStore};
use scf_store_sqlite::SqliteStore;

const V1_SCHEMA: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE logs (
    id               INTEGER PRIMARY KEY,
    request_id       TEXT    NOT NULL,
    retry_num        INTEGER NOT NULL,
    function_name    TEXT    NOT NULL,
    namespace        TEXT    NOT NULL,
    qualifier        TEXT    NOT NULL,
    start_time       INTEGER NOT NULL,
    ret_code         INTEGER NOT NULL,
    status_code      INTEGER NOT NULL,
    invoke_finished  INTEGER NOT NULL,
    ret_msg          TEXT    NOT NULL,
    duration_ms      REAL    NOT NULL,
    bill_duration_ms INTEGER NOT NULL,
    mem_usage_bytes  INTEGER NOT NULL,
    log              TEXT    NOT NULL,
    level            TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    invocation_type  TEXT    NOT NULL,
    UNIQUE (request_id, retry_num)
);
CREATE INDEX logs_fn_time ON logs (function_name, start_time, ret_code, status_code);
CREATE INDEX logs_fn_ret ON logs (function_name, ret_code, status_code);
CREATE INDEX logs_time ON logs (start_time);
CREATE TABLE async_events (
    id                INTEGER PRIMARY KEY,
    invoke_request_id TEXT    NOT NULL UNIQUE,
    function_name     TEXT    NOT NULL,
    namespace         TEXT    NOT NULL,
    qualifier         TEXT    NOT NULL,
    invoke_type       TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    status_code       INTEGER NOT NULL,
    start_time        INTEGER NOT NULL,
    end_time          INTEGER,
    event             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL
);
CREATE INDEX async_fn_ns_time ON async_events (function_name, namespace, start_time);
CREATE INDEX async_status ON async_events (status, start_time);
";

fn v1_row(conn: &rusqlite::Connection, request_id: &str, retry: u32, ret_code: i64) {
    conn.execute(
        "INSERT INTO logs (request_id, retry_num, function_name, namespace, qualifier, \
         start_time, ret_code, status_code, invoke_finished, ret_msg, duration_ms, \
         bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type) \
         VALUES (?1, ?2, 'f', 'default', '$LATEST', 1000000, ?3, 200, 1, '\"ok\"', 1.5, 2, 3, \
         'log', '', '', 'RequestResponse')",
        rusqlite::params![request_id, retry, ret_code],
    )
    .unwrap();
}

#[test]
fn a_version_1_database_is_migrated_keeping_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        v1_row(&conn, "req-b", 0, 0);
        v1_row(&conn, "req-a", 0, 1);
        v1_row(&conn, "req-a", 1, 0);
    }
    let store = SqliteStore::open(&db).unwrap();
    let a = store.get("req-a").unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].retry_num, a[0].ret_code), (0, 1));
    assert_eq!((a[1].retry_num, a[1].ret_code), (1, 0));
    assert_eq!(a[0].duration_ms, 1.5);
    assert_eq!(count_of(&store, "req-b"), 1);
    // Upserts still find the migrated rows: a running record does not replace a finished one,
    // a finished one does.
    let mut running = a[0].clone();
    running.ret_code = scf_logs::record::RET_CODE_RUNNING;
    store.put(running).unwrap();
    let mut replaced: LogRecord = a[1].clone();
    replaced.ret_msg = "\"again\"".into();
    store.put(replaced).unwrap();
    store.flush().unwrap();
    let a2 = store.get("req-a").unwrap();
    assert_eq!(a2[0], a[0]);
    assert_eq!(a2[1].ret_msg, "\"again\"");
    assert_eq!(store.query(&LogQuery::default()).unwrap().total_count, 3);
    drop(store);

    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
    assert_keys_match_rows(&conn);
    // The insertion order (the id) is kept.
    let ids: Vec<(i64, String)> = rows(&conn, "SELECT id, request_id FROM logs ORDER BY id", |r| {
        Ok((r.get(0)?, r.get(1)?))
    });
    assert_eq!(
        ids,
        [
            (1, "req-b".into()),
            (2, "req-a".into()),
            (3, "req-a".into())
        ]
    );
}

#[test]
fn a_version_3_database_is_migrated_with_its_keys_in_the_key_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v3.db");
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put(finished("req-a", "\"a\"")).unwrap();
        store.put(with_msg("req-b", 2, "")).unwrap();
        store.flush().unwrap();
    }
    {
        // Back to the version 3 layout: the keys in a unique index on logs.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "ALTER TABLE logs DROP COLUMN node;
             ALTER TABLE async_events DROP COLUMN node;
             DROP TABLE logs_key;
             DROP TABLE logs_key_new;
             CREATE UNIQUE INDEX logs_key ON logs (rkey, retry_num, coll);
             UPDATE schema_version SET version = 3;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.get("req-a").unwrap()[0].ret_msg, "\"a\"");
    // The migrated key still finds req-b's running row: its finished record replaces it.
    store.put(finished("req-b", "\"b\"")).unwrap();
    store.flush().unwrap();
    let b = store.get("req-b").unwrap();
    assert_eq!((b.len(), b[0].ret_msg.as_str()), (1, "\"b\""));
    assert_eq!(store.query(&LogQuery::default()).unwrap().total_count, 2);
    drop(store);

    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
    assert_keys_match_rows(&conn);
    let index: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'logs_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 0, "the version 3 index is gone");
}

/// Every row's key is in exactly one of the two key tables, pointing at that row.
fn assert_keys_match_rows(conn: &rusqlite::Connection) {
    let keys: Vec<(i64, i64, i64, i64)> = rows(
        conn,
        "SELECT rkey, retry_num, coll, id FROM logs_key \
         UNION ALL SELECT rkey, retry_num, coll, id FROM logs_key_new ORDER BY 4",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    );
    let from_rows: Vec<(i64, i64, i64, i64)> = rows(
        conn,
        "SELECT rkey, retry_num, coll, id FROM logs ORDER BY id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    );
    assert_eq!(keys, from_rows);
}

fn schema_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .unwrap()
}

fn finished(request_id: &str, ret_msg: &str) -> LogRecord {
    with_msg(request_id, 0, ret_msg)
}

#[test]
fn a_version_2_database_is_migrated_even_with_colliding_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v2.db");
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put(finished("req-a", "\"a\"")).unwrap();
        store.put(finished("req-b", "\"b\"")).unwrap();
        store.flush().unwrap();
    }
    {
        // Back to the version 2 layout, plus a row whose key collides with req-b's
        // (version 2 allowed it: its index on rkey was not unique).
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "ALTER TABLE logs DROP COLUMN node;
             ALTER TABLE async_events DROP COLUMN node;
             DROP TABLE logs_key;
             DROP TABLE logs_key_new;
             ALTER TABLE logs DROP COLUMN coll;
             CREATE INDEX logs_rkey ON logs (rkey);
             UPDATE schema_version SET version = 2;
             INSERT INTO logs (rkey, request_id, retry_num, function_name, namespace, qualifier,
                 start_time, ret_code, status_code, invoke_finished, ret_msg, duration_ms,
                 bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type)
             SELECT rkey, 'req-x', retry_num, function_name, namespace, qualifier, start_time,
                 ret_code, status_code, invoke_finished, '\"x\"', duration_ms, bill_duration_ms,
                 mem_usage_bytes, log, level, source, invocation_type
             FROM logs WHERE request_id = 'req-b';",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.get("req-a").unwrap()[0].ret_msg, "\"a\"");
    assert_eq!(store.get("req-b").unwrap()[0].ret_msg, "\"b\"");
    // req-b's row is still the one its key finds first, so an upsert replaces it.
    store.put(finished("req-b", "\"b2\"")).unwrap();
    store.flush().unwrap();
    assert_eq!(store.get("req-b").unwrap()[0].ret_msg, "\"b2\"");
    assert_eq!(store.query(&LogQuery::default()).unwrap().total_count, 3);
    drop(store);

    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
    assert_keys_match_rows(&conn);
    let rows: Vec<(i64, String, i64, String)> = rows(
        &conn,
        "SELECT id, request_id, coll, ret_msg FROM logs ORDER BY id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    );
    assert_eq!(
        rows,
        [
            (1, "req-a".into(), 0, "\"a\"".into()),
            (2, "req-b".into(), 0, "\"b2\"".into()),
            // The later of the two colliding rows is set apart by its own id.
            (3, "req-x".into(), 3, "\"x\"".into()),
        ]
    );
}

/// Inserts an async event row as versions 1 to 4 stored it.
fn old_event(conn: &rusqlite::Connection, id: &str, status: &str, start_secs: i64, attempts: u32) {
    conn.execute(
        "INSERT INTO async_events (invoke_request_id, function_name, namespace, qualifier, \
         invoke_type, status, status_code, start_time, end_time, event, attempts) \
         VALUES (?1, 'f', 'default', '$LATEST', 'OTHERS', ?2, 0, ?3, NULL, '{}', ?4)",
        rusqlite::params![
            id,
            status,
            common::t(start_secs).unix_timestamp() * 1_000_000,
            attempts
        ],
    )
    .unwrap();
}

/// The claims of a migrated file: `started` (attempts 2, due first: it started first)
/// reports its attempt 1 interrupted and runs 2; `fresh` runs 0; `done` is never due.
fn assert_migrated_events_claim(store: &SqliteStore) {
    assert_eq!(store.pending(common::t(100)).unwrap(), 2);
    let due = store.next_due().unwrap().unwrap();
    assert!(due <= common::t(0), "due at once: {due}");
    let claims = store
        .claim(
            "w",
            std::time::Duration::from_secs(30),
            10,
            &[FunctionRef::new("default", "f")],
            common::t(100),
        )
        .unwrap();
    let got: Vec<(&str, u32, Option<u32>, u32)> = claims
        .iter()
        .map(|c| {
            (
                c.event.invoke_request_id.as_str(),
                c.retry_num,
                c.interrupted,
                c.failures,
            )
        })
        .collect();
    assert_eq!(got, [("started", 2, Some(1), 0), ("fresh", 0, None, 0)]);
    assert_eq!(claims[0].event.attempts, 3);
    let done = store.get_async("done").unwrap().unwrap();
    assert_eq!(done.status, AsyncStatus::Finished);
    assert!(store.claim_tick("timer", common::t(0)).unwrap());
}

#[test]
fn a_version_4_database_is_migrated_with_running_events_due_and_started_ones_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v4.db");
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put(finished("req-a", "\"a\"")).unwrap();
        store.flush().unwrap();
    }
    {
        // Back to the version 4 layout.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "ALTER TABLE logs DROP COLUMN node;
             ALTER TABLE async_events DROP COLUMN node;
             DROP INDEX async_due;
             DROP INDEX async_leased;
             DROP TABLE timer_ticks;
             ALTER TABLE async_events DROP COLUMN next_attempt_at;
             ALTER TABLE async_events DROP COLUMN lease_worker;
             ALTER TABLE async_events DROP COLUMN lease_until;
             ALTER TABLE async_events DROP COLUMN failures;
             UPDATE schema_version SET version = 4;",
        )
        .unwrap();
        old_event(&conn, "fresh", "RUNNING", 10, 0);
        old_event(&conn, "started", "RUNNING", 0, 2);
        old_event(&conn, "done", "FINISHED", 0, 1);
    }
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.get("req-a").unwrap()[0].ret_msg, "\"a\"");
    let unfinished: Vec<String> = store
        .unfinished()
        .unwrap()
        .into_iter()
        .map(|e| e.invoke_request_id)
        .collect();
    assert_eq!(unfinished, ["started", "fresh"]);
    assert_migrated_events_claim(&store);
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
    assert_keys_match_rows(&conn);
    let index: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'async_status'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 0, "the version 4 index on status is gone");
}

#[test]
fn a_version_1_database_is_migrated_with_its_async_events_claimable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        v1_row(&conn, "req-a", 0, 0);
        old_event(&conn, "fresh", "RUNNING", 10, 0);
        old_event(&conn, "started", "RUNNING", 0, 2);
        old_event(&conn, "done", "FINISHED", 0, 1);
    }
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(count_of(&store, "req-a"), 1);
    assert_migrated_events_claim(&store);
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
    assert_keys_match_rows(&conn);
}

#[test]
fn a_version_5_database_is_migrated_with_unknown_nodes_and_keeps_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v5.db");
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put(finished("req-a", "\"a\"")).unwrap();
        store.flush().unwrap();
    }
    {
        // Back to the version 5 layout: no node columns.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "ALTER TABLE logs DROP COLUMN node;
             ALTER TABLE async_events DROP COLUMN node;
             UPDATE schema_version SET version = 5;",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO async_events (invoke_request_id, function_name, namespace, qualifier, \
             invoke_type, status, status_code, start_time, end_time, event, attempts, \
             next_attempt_at) VALUES ('old', 'f', 'default', '$LATEST', 'OTHERS', 'RUNNING', 0, \
             ?1, NULL, '{}', 0, ?1)",
            [common::t(0).unix_timestamp() * 1_000_000],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    let a = store.get("req-a").unwrap();
    assert_eq!((a[0].ret_msg.as_str(), a[0].node.as_str()), ("\"a\"", ""));
    assert_eq!(store.get_async("old").unwrap().unwrap().node, "");
    // The migrated event is still claimable, and new rows keep their node.
    let claims = store
        .claim(
            "w",
            std::time::Duration::from_secs(30),
            10,
            &[FunctionRef::new("default", "f")],
            common::t(100),
        )
        .unwrap();
    assert_eq!(claims.len(), 1);
    let mut b = finished("req-b", "\"b\"");
    b.node = "host-b-7".into();
    store.put(b).unwrap();
    store.flush().unwrap();
    assert_eq!(store.get("req-b").unwrap()[0].node, "host-b-7");
    let mut e = scf_store::AsyncEvent::new(
        "new",
        "f",
        "default",
        "$LATEST",
        "OTHERS",
        common::t(1),
        "{}",
    );
    e.node = "host-b-7".into();
    store.enqueue(&e).unwrap();
    assert_eq!(store.get_async("new").unwrap().unwrap().node, "host-b-7");
    // Version 6's concurrency slots are there.
    let f = FunctionRef::new("default", "f");
    let lease = std::time::Duration::from_secs(10);
    use scf_store::ConcurrencySlots;
    assert!(store
        .acquire_slot(&f, "n", 1, lease, common::t(0))
        .unwrap()
        .is_some());
    assert_eq!(
        store.acquire_slot(&f, "n", 1, lease, common::t(0)).unwrap(),
        None
    );
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
    assert_keys_match_rows(&conn);
}

/// A version 7 file (no per-minute rollup) opens as version 8 with the rollup built from
/// its records: the console's aggregates are the reference's over them, and records
/// written after count on top.
#[test]
fn a_version_7_database_is_migrated_with_its_rollup_built_from_the_records() {
    use scf_store::{ConsoleStore, MinuteStats, StatsQuery};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v7.db");
    let mut old = Vec::new();
    for i in 0..300i64 {
        let (ret, status) = [(0, 200), (1, 433), (2, 0), (1, 432)][(i % 4) as usize];
        let f = ["a", "b"][(i % 2) as usize];
        old.push(common::rec(
            f,
            "default",
            "$LATEST",
            &format!("m{i}"),
            i * 7 % 600,
            ret,
            status,
            (i * 37 % 5000) as f64,
            (i as u64) * 1000,
        ));
    }
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put_batch(old.clone()).unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DROP TABLE minute_rollup;
             UPDATE schema_version SET version = 7;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    let q = |f: Option<&str>| StatsQuery {
        namespace: "default".into(),
        function_name: f.map(str::to_owned),
        start: common::t(0),
        end: common::t(3600),
    };
    let none = scf_store::rollup::Rollup::new();
    for f in [None, Some("a"), Some("b")] {
        let want = MinuteStats::compute(&q(f), &old, &none);
        assert!(!want.is_empty());
        assert_eq!(store.minute_stats(&q(f)).unwrap(), want, "function {f:?}");
    }
    let new = common::rec("a", "default", "$LATEST", "n1", 5, 0, 200, 1.0, 1);
    store.put(new.clone()).unwrap();
    store.flush().unwrap();
    old.push(new);
    assert_eq!(
        store.minute_stats(&q(None)).unwrap(),
        MinuteStats::compute(&q(None), &old, &none)
    );
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(schema_version(&conn), 8);
}
