//! Schema version 7 stores a record's log text packed (`scf_store::packing`: the request
//! id and the return value that the framing repeats, stored once, `log_form` 1): `get` and
//! `query` return exactly the record that was put, whatever its text (a property over
//! records, with the marks, NUL and the request id inside the return value among them),
//! the keyword search sees the unpacked text, and a schema 6 file's rows (kept as they
//! are) read back unchanged beside new, packed ones.

use proptest::prelude::*;
use scf_logs::framing::{user_line, LogFramer, Report};
use scf_logs::LogRecord;
use scf_store::conformance::records::invoker_record;
use scf_store::{LogQuery, LogStore, Order};
use scf_store_sqlite::SqliteStore;

use crate::common::{self, rows};

/// Text for a log: framing words, marks, NUL, newlines and tabs are all likely.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("RequestId:".to_owned()),
            Just("\n".to_owned()),
            Just("\t".to_owned()),
            Just("\u{1}".to_owned()),
            Just("\u{2}".to_owned()),
            Just("\u{7}".to_owned()),
            Just("\0".to_owned()),
            Just(" Duration:".to_owned()),
            Just("ms Memory:".to_owned()),
            "[a-z\"{}:é]{0,6}",
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

/// A record framed as the invoker frames it from arbitrary parts, or arbitrary text.
fn record() -> impl Strategy<Value = LogRecord> {
    (
        "[a-f0-9-]{0,12}",
        text(),
        prop::collection::vec(text(), 0..3),
        any::<bool>(),
        any::<bool>(),
        text(),
    )
        .prop_map(|(id, ret, lines, ok, framed, raw)| {
            let mut r = common::rec(
                "f",
                "default",
                "$LATEST",
                &id,
                1,
                i64::from(!ok),
                200,
                1.5,
                3,
            );
            // Sometimes the request id is inside the return value (SCF's error JSON).
            r.ret_msg = if ret.len() % 3 == 0 {
                format!("{ret}{id}")
            } else {
                ret
            };
            r.log = if framed {
                let mut f = LogFramer::new(id.as_str());
                for l in &lines {
                    f.user_line(&user_line(r.start_time, &id, "INFO", l));
                }
                if ok {
                    f.response(&r.ret_msg);
                } else {
                    f.error(&r.ret_msg);
                }
                f.finish(&Report {
                    duration_ms: 1.5,
                    memory_mb: 128,
                    mem_usage_bytes: 3,
                })
            } else {
                raw
            };
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the records, `get` and `query` give back exactly what was put, and a
    /// keyword cut from a record's log text finds it.
    #[test]
    fn get_and_query_return_exactly_the_record_put(
        records in prop::collection::vec(record(), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let (_dir, store) = common::sqlite();
        let mut kept: Vec<LogRecord> = Vec::new();
        for (i, mut r) in records.into_iter().enumerate() {
            // Distinct attempts, whatever the request ids.
            r.retry_num = i as u32;
            kept.push(r);
        }
        store.put_batch(kept.clone()).unwrap();
        for r in &kept {
            let got = store.get(&r.request_id).unwrap();
            prop_assert!(got.contains(r), "get({:?}) = {got:?}, put {r:?}", r.request_id);
        }
        let page = store.query(&LogQuery { order: Order::Asc, limit: 100, ..LogQuery::default() }).unwrap();
        prop_assert_eq!(&page.records, &kept);
        let r = &kept[0];
        let chars: Vec<char> = r.log.chars().collect();
        let keyword: String = if chars.is_empty() {
            String::new()
        } else {
            chars[cut.index(chars.len())..].iter().take_while(|c| **c != '\0').take(20).collect()
        };
        if !keyword.is_empty() {
            let found = store.query(&LogQuery { keyword: Some(keyword.clone()), limit: 100, ..LogQuery::default() }).unwrap();
            prop_assert!(found.records.contains(r), "keyword {keyword:?} of {:?}", r.log);
            let want = kept.iter().filter(|k| k.log.contains(&keyword)).count() as u64;
            prop_assert_eq!(found.total_count, want, "keyword {:?}", keyword);
        }
    }
}

/// The invoker's records are stored packed (`log_form` 1) and at least 250 bytes
/// shorter than their log text.
#[test]
fn the_invokers_records_are_stored_packed() {
    let (dir, store) = common::sqlite();
    let records: Vec<LogRecord> = (0..200).map(invoker_record).collect();
    store.put_batch(records.clone()).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("logs.db")).unwrap();
    let stored: Vec<(String, i64, usize)> = rows(
        &conn,
        "SELECT request_id, log_form, length(CAST(log AS BLOB)) FROM logs ORDER BY id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as usize)),
    );
    for (r, (id, form, len)) in records.iter().zip(&stored) {
        assert_eq!((&r.request_id, *form), (id, 1), "packed");
        assert!(
            len + 250 <= r.log.len(),
            "{id}: {len} stored bytes for {} of text",
            r.log.len()
        );
    }
}

/// A schema 6 file (log text as it is, no `log_form`, no test events) opens as version 8
/// with every record read back unchanged and found by keyword; records written after are
/// packed and read back unchanged too.
#[test]
fn a_version_6_database_is_migrated_keeping_its_log_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v6.db");
    let old: Vec<LogRecord> = (0..50).map(invoker_record).collect();
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put_batch(old.clone()).unwrap();
    }
    {
        // Back to the version 6 layout: the text as it is, no log_form, no test events.
        let conn = rusqlite::Connection::open(&db).unwrap();
        for r in &old {
            conn.execute(
                "UPDATE logs SET log = ?1 WHERE request_id = ?2",
                rusqlite::params![r.log, r.request_id],
            )
            .unwrap();
        }
        conn.execute_batch(
            "ALTER TABLE logs DROP COLUMN log_form;
             DROP TABLE test_events;
             UPDATE schema_version SET version = 6;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&db).unwrap();
    for r in &old {
        assert_eq!(store.get(&r.request_id).unwrap(), vec![r.clone()]);
    }
    let new: Vec<LogRecord> = (1000..1050).map(invoker_record).collect();
    store.put_batch(new.clone()).unwrap();
    for r in &new {
        assert_eq!(store.get(&r.request_id).unwrap(), vec![r.clone()]);
    }
    // A keyword in the request id part of the text finds an old and a new record alike.
    for r in [&old[7], &new[7]] {
        let page = store
            .query(&LogQuery {
                keyword: Some(format!("END RequestId:{}", r.request_id)),
                ..LogQuery::default()
            })
            .unwrap();
        assert_eq!(page.records, vec![r.clone()]);
    }
    let page = store
        .query(&LogQuery {
            limit: 1000,
            order: Order::Asc,
            ..LogQuery::default()
        })
        .unwrap();
    let mut all = old.clone();
    all.extend(new.iter().cloned());
    all.sort_by_key(|r| r.start_time);
    let mut got = page.records;
    got.sort_by_key(|r| r.start_time);
    assert_eq!(got, all);
    // Test events work on the migrated file.
    use scf_store::ConsoleStore;
    store
        .save_test_event(&scf_store::TestEvent::new("default", "fn-1", "hello", "{}"))
        .unwrap();
    assert_eq!(store.list_test_events("default", "fn-1").unwrap().len(), 1);
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let forms: Vec<(i64, i64)> = rows(
        &conn,
        "SELECT log_form, COUNT(*) FROM logs GROUP BY log_form ORDER BY log_form",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(
        forms,
        vec![(0, 50), (1, 50)],
        "old rows as they were, new ones packed"
    );
    let version: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 8);
}
