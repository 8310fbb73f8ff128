//! The schema is versioned: a database left at any earlier version by an older build is
//! migrated to the current one at open, its data kept; a newer one is refused; a failed
//! migration is one error naming the step.

use scf_logs::LogRecord;
use scf_store::{AsyncEvent, AsyncQueue, FunctionRef, LogStore, StoreError};
use scf_store_postgres::PgStore;
use time::macros::datetime;

use crate::common::TestDb;

/// The version this build migrates to (`schema_version` after an open).
const LATEST: i32 = 5;

fn version(db: &TestDb) -> i32 {
    db.sql("SELECT version FROM schema_version")[0].get(0)
}

/// Rows an older build would have left at `version`.
fn fill(db: &TestDb, version: i32) {
    if version >= 1 {
        // The writer of that build made the day's partition before its first insert.
        db.sql(
            "CREATE TABLE logs_20261125 PARTITION OF logs \
             FOR VALUES FROM (1795564800000000) TO (1795651200000000)",
        );
        db.sql(
            "INSERT INTO logs (request_id, retry_num, function_name, namespace, qualifier, \
             start_time, ret_code, status_code, invoke_finished, ret_msg, duration_ms, \
             bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type) VALUES \
             ('old-req', 0, 'f', 'default', '$LATEST', 1795608000000000, 0, 200, true, \
             convert_to('\"ok\"', 'UTF8'), 1.5, 2, 4096, convert_to('START\n', 'UTF8'), '', '', \
             'RequestResponse')",
        );
    }
    if version >= 2 {
        db.sql(
            "INSERT INTO async_events (invoke_request_id, function_name, namespace, qualifier, \
             invoke_type, status, status_code, start_time, event, attempts, next_attempt_at) \
             VALUES ('old-ev', 'f', 'default', '$LATEST', 'OTHERS', 'RUNNING', 0, \
             1795608000000000, '{}', 0, 1795608000000000)",
        );
    }
}

#[test]
fn every_earlier_version_migrates_to_the_latest_keeping_its_rows() {
    for from in 0..LATEST {
        let Some(db) = TestDb::new() else { return };
        PgStore::create_schema_at(db.config(), from).unwrap();
        assert_eq!(version(&db), from, "the schema left at version {from}");
        fill(&db, from);
        let store = db.open();
        assert_eq!(
            version(&db),
            LATEST,
            "after opening a version {from} schema"
        );
        if from >= 1 {
            let kept = store.get("old-req").unwrap();
            assert_eq!(kept.len(), 1, "the version {from} log row");
            assert_eq!(kept[0].ret_msg, "\"ok\"");
            assert_eq!(kept[0].log, "START\n", "the text as it was");
            assert_eq!(kept[0].node, "", "no node on a row from before version 3");
        }
        if from >= 2 {
            assert_eq!(store.get_async("old-ev").unwrap().unwrap().node, "");
        }
        // Everything works at the latest version.
        let t = datetime!(2026-11-25 12:00 UTC);
        let mut r = LogRecord::new("f", "default", "$LATEST", "new-req", t);
        r.ret_code = 0;
        store.put(r).unwrap();
        store.flush().unwrap();
        assert_eq!(store.get("new-req").unwrap().len(), 1);
        let ev = AsyncEvent::new("new-ev", "f", "default", "$LATEST", "OTHERS", t, "{}");
        store.enqueue(&ev).unwrap();
        let claims = store
            .claim(
                "w",
                std::time::Duration::from_secs(10),
                10,
                &[FunctionRef::new("default", "f")],
                t,
            )
            .unwrap();
        assert!(claims.iter().any(|c| c.event.invoke_request_id == "new-ev"));
        drop(store);
        // Opening again at the latest version changes nothing.
        drop(db.open());
        assert_eq!(version(&db), LATEST);
    }
}

#[test]
fn a_schema_newer_than_this_build_is_refused_untouched() {
    let Some(db) = TestDb::new() else { return };
    drop(db.open());
    db.sql("UPDATE schema_version SET version = 99");
    let err = PgStore::open_with(db.config()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Schema(s) if s.contains("version 99") && s.contains("newer")),
        "{err}"
    );
    assert_eq!(version(&db), 99);
}

#[test]
fn a_failed_migration_names_its_step_and_leaves_the_old_version() {
    let Some(db) = TestDb::new() else { return };
    PgStore::create_schema_at(db.config(), 1).unwrap();
    // Something in the way of version 2's table.
    db.sql("CREATE TABLE async_events (x int)");
    let err = PgStore::open_with(db.config()).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, StoreError::Schema(_))
            && text.contains("migrating from version 1 to 2")
            && text.contains("async_events"),
        "{text}"
    );
    assert_eq!(version(&db), 1, "the failed step was rolled back");
}

#[test]
fn nodes_opening_a_new_schema_at_once_migrate_it_once() {
    let Some(db) = TestDb::new() else { return };
    let stores: Vec<PgStore> = std::thread::scope(|s| {
        let opens: Vec<_> = (0..4).map(|_| s.spawn(|| db.open())).collect();
        opens.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(version(&db), LATEST);
    assert_eq!(
        db.sql("SELECT count(*) FROM schema_version")[0].get::<_, i64>(0),
        1
    );
    drop(stores);
}

/// A version 3 schema (log text as it is) keeps its rows' text exactly, while records
/// written after the migration are packed (`log_form` 1) and read back exactly; a keyword
/// finds old and new alike; saved test events work.
#[test]
fn a_version_3_schema_keeps_its_log_text_and_packs_new_records() {
    use scf_store::conformance::records::invoker_record;
    use scf_store::{ConsoleStore, LogQuery, TestEvent};
    let Some(db) = TestDb::new() else { return };
    PgStore::create_schema_at(db.config(), 3).unwrap();
    fill(&db, 3);
    let store = db.open();
    assert_eq!(version(&db), LATEST);
    assert_eq!(store.get("old-req").unwrap()[0].log, "START\n");
    let new: Vec<LogRecord> = (0..20).map(invoker_record).collect();
    for r in &new {
        store.put(r.clone()).unwrap();
    }
    store.flush().unwrap();
    for r in &new {
        assert_eq!(store.get(&r.request_id).unwrap(), vec![r.clone()]);
    }
    let forms = db.sql("SELECT log_form, count(*) FROM logs GROUP BY log_form ORDER BY log_form");
    let forms: Vec<(i16, i64)> = forms.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        forms,
        vec![(0, 1), (1, 20)],
        "the old row as it was, new ones packed"
    );
    for (keyword, id) in [
        ("START\n".to_owned(), "old-req".to_owned()),
        (
            format!("END RequestId:{}", new[3].request_id),
            new[3].request_id.clone(),
        ),
    ] {
        let page = store
            .query(&LogQuery {
                keyword: Some(keyword.clone()),
                ..LogQuery::default()
            })
            .unwrap();
        let ids: Vec<&str> = page.records.iter().map(|r| r.request_id.as_str()).collect();
        assert!(ids.contains(&id.as_str()), "keyword {keyword:?}: {ids:?}");
    }
    store
        .save_test_event(&TestEvent::new("default", "f", "hello", "{}"))
        .unwrap();
    assert_eq!(store.list_test_events("default", "f").unwrap().len(), 1);
}

/// A version 4 schema (no per-minute rollup) gets the rollup built from its records at
/// open: the console's aggregates are the reference's over them, and records written
/// after count on top.
#[test]
fn a_version_4_schema_gets_its_rollup_built_from_the_records() {
    use scf_store::rollup::Rollup;
    use scf_store::{ConsoleStore, MinuteStats, StatsQuery};
    let Some(db) = TestDb::new() else { return };
    PgStore::create_schema_at(db.config(), 4).unwrap();
    fill(&db, 4);
    // More rows as a version 4 build wrote them: finished, running, failed, in two minutes.
    db.sql(
        "INSERT INTO logs (request_id, retry_num, function_name, namespace, qualifier, \
         start_time, ret_code, status_code, invoke_finished, ret_msg, duration_ms, \
         bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type) \
         SELECT 'v4-' || i, 0, 'f', 'default', '$LATEST', 1795608000000000 + i * 700000, \
         CASE WHEN i % 5 = 0 THEN 2 WHEN i % 7 = 0 THEN 1 ELSE 0 END, \
         CASE WHEN i % 7 = 0 THEN 433 ELSE 200 END, true, convert_to('', 'UTF8'), \
         (i * 37 % 5000)::float8, 1, i * 1000, convert_to('', 'UTF8'), '', '', \
         'RequestResponse' FROM generate_series(1, 150) AS i",
    );
    let store = db.open();
    assert_eq!(version(&db), LATEST);
    let q = StatsQuery {
        namespace: "default".into(),
        function_name: Some("f".into()),
        start: datetime!(2026-11-25 12:00 UTC),
        end: datetime!(2026-11-25 13:00 UTC),
    };
    let mut records = vec![store.get("old-req").unwrap().remove(0)];
    for i in 1..=150 {
        records.extend(store.get(&format!("v4-{i}")).unwrap());
    }
    let want = MinuteStats::compute(&q, &records, &Rollup::new());
    assert_eq!(
        want.iter().map(|m| m.invocations).sum::<u64>(),
        1 + 150 - 30
    );
    assert_eq!(store.minute_stats(&q).unwrap(), want);
    let mut r = LogRecord::new("f", "default", "$LATEST", "new-req", q.start);
    r.ret_code = 0;
    r.duration_ms = 3.0;
    store.put(r.clone()).unwrap();
    store.flush().unwrap();
    records.push(r);
    assert_eq!(
        store.minute_stats(&q).unwrap(),
        MinuteStats::compute(&q, &records, &Rollup::new())
    );
}
