//! Retention drops whole day partitions of the log (the table is never rewritten), and
//! deletes ended async events and old timer ticks; a `RUNNING` event is kept.

use std::time::Duration;

use scf_logs::LogRecord;
use scf_store::{AsyncEvent, AsyncQueue, AttemptEnd, FunctionRef, LogStore};
use scf_store_postgres::PgStore;
use time::OffsetDateTime;

use crate::common::TestDb;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn partitions(db: &TestDb) -> Vec<String> {
    db.sql(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'logs'::regclass ORDER BY 1",
    )
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn record(id: &str, t: OffsetDateTime) -> LogRecord {
    let mut r = LogRecord::new("f", "default", "$LATEST", id, t);
    r.ret_code = 0;
    r
}

#[test]
fn records_go_to_the_partition_of_their_day() {
    let Some(db) = TestDb::new() else { return };
    let store = db.open();
    let t = time::macros::datetime!(2026-11-25 23:59:59.999999 UTC);
    store.put(record("a", t)).unwrap();
    store
        .put(record("b", t + time::Duration::microseconds(1)))
        .unwrap();
    store
        .put(record("c", time::macros::datetime!(0900-01-01 0:00 UTC)))
        .unwrap();
    store.flush().unwrap();
    assert_eq!(
        partitions(&db),
        ["logs_20261125", "logs_20261126", "logs_other"]
    );
    let count = |p: &str| db.sql(&format!("SELECT count(*) FROM {p}"))[0].get::<_, i64>(0);
    assert_eq!(count("logs_20261125"), 1);
    assert_eq!(count("logs_20261126"), 1);
    assert_eq!(count("logs_other"), 1, "a start time outside 1000-9999");
}

#[test]
fn log_retention_drops_the_partitions_of_expired_days_only() {
    let Some(db) = TestDb::new() else { return };
    let now = OffsetDateTime::now_utc();
    {
        let store = db.open();
        store.put(record("three-days", now - 3 * DAY)).unwrap();
        store.put(record("two-days", now - 2 * DAY)).unwrap();
        store.put(record("now", now)).unwrap();
        store.flush().unwrap();
    }
    assert_eq!(partitions(&db).len(), 4);
    let mut cfg = db.config();
    cfg.log_retention = Some(DAY);
    // Opening applies the retention once.
    let store = PgStore::open_with(cfg).unwrap();
    assert!(store.get("three-days").unwrap().is_empty());
    assert!(store.get("two-days").unwrap().is_empty());
    assert_eq!(store.get("now").unwrap().len(), 1);
    assert_eq!(partitions(&db).len(), 2, "{:?}", partitions(&db));
    // Nothing more is expired: a purge drops nothing.
    assert_eq!(store.purge().unwrap().log_partitions, 0);
    // A record of a dropped day written again gets its partition back.
    store.put(record("late", now - 3 * DAY)).unwrap();
    store.flush().unwrap();
    assert_eq!(store.get("late").unwrap().len(), 1);
    assert_eq!(store.purge().unwrap().log_partitions, 1);
}

#[test]
fn async_retention_deletes_ended_events_and_old_ticks_and_keeps_running_ones() {
    let Some(db) = TestDb::new() else { return };
    let mut cfg = db.config();
    cfg.async_retention = Some(3 * DAY);
    let store = PgStore::open_with(cfg).unwrap();
    let now = OffsetDateTime::now_utc();
    let old = now - 10 * DAY;
    let f = [FunctionRef::new("default", "f")];
    for id in ["ended", "running"] {
        let ev = AsyncEvent::new(id, "f", "default", "$LATEST", "OTHERS", old, "{}");
        store.enqueue(&ev).unwrap();
    }
    let claims = store
        .claim("w", Duration::from_secs(5), 1, &f, old)
        .unwrap();
    assert_eq!(claims[0].event.invoke_request_id, "ended");
    let end = AttemptEnd::Finished { status_code: 200 };
    store.end_attempt("ended", "w", end, old).unwrap();
    assert!(store.claim_tick("timer", old).unwrap());
    assert!(store.claim_tick("timer", now).unwrap());
    let report = store.purge().unwrap();
    assert_eq!((report.async_events, report.timer_ticks), (1, 1));
    assert!(store.get_async("ended").unwrap().is_none());
    assert!(store.get_async("running").unwrap().is_some());
    assert!(
        !store.claim_tick("timer", now).unwrap(),
        "the recent tick is kept"
    );
}
