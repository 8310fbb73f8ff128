//! Retention of the SQLite store: log records older than `log_retention` and async events
//! that ended longer ago than `async_retention` are deleted (with their request-id keys),
//! by the writer every `purge_interval` or at once by `SqliteStore::purge`; what is newer,
//! and async events still running, stay.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{count_of, with_msg};
use scf_logs::LogRecord;
use scf_store::{AsyncEvent, AsyncQueue, AsyncStatus, AttemptEnd, Ended, FunctionRef};
use scf_store::{LogQuery, LogStore};
use scf_store_sqlite::{PurgeReport, SqliteStore, SqliteStoreConfig};
use time::OffsetDateTime;

const HOUR: Duration = Duration::from_secs(3600);

/// A finished record of function `f` that started `ago` before now.
fn started_ago(request_id: &str, retry_num: u32, ago: Duration) -> LogRecord {
    let mut r = with_msg(request_id, 0, "ok");
    r.start_time = OffsetDateTime::now_utc() - ago;
    r.retry_num = retry_num;
    r
}

fn config(log: Option<Duration>, asynchronous: Option<Duration>) -> SqliteStoreConfig {
    let mut cfg = SqliteStoreConfig::default();
    cfg.log_retention = log;
    cfg.async_retention = asynchronous;
    // Only the explicit purge runs within a test, unless a test says otherwise.
    cfg.purge_interval = Duration::from_secs(3600);
    cfg
}

fn key_rows(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM logs_key_new) + (SELECT COUNT(*) FROM logs_key)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn total(store: &dyn LogStore) -> u64 {
    store.query(&LogQuery::default()).unwrap().total_count
}

/// An accepted event `id` that started at `started`, of a function of its own (`id`), so
/// that [`end_at`] claims it alone.
fn event(id: &str, started: OffsetDateTime) -> AsyncEvent {
    AsyncEvent::new(id, id, "default", "$LATEST", "OTHERS", started, "{}")
}

/// Ends the event `id` (made by [`event`]) with `end` at `at`: a worker claims it at `at`
/// and ends the attempt at once.
fn end_at(store: &SqliteStore, id: &str, end: AttemptEnd, at: OffsetDateTime) {
    let runs = [FunctionRef::new("default", id)];
    let claims = store
        .claim("retention-test", Duration::from_secs(30), 1, &runs, at)
        .unwrap();
    assert_eq!(claims.len(), 1, "`{id}` is not due at {at}");
    let ended = store.end_attempt(id, "retention-test", end, at).unwrap();
    assert!(matches!(ended, Ended::Now(_)), "`{id}`: {ended:?}");
}

#[test]
fn log_records_past_the_retention_are_deleted_with_their_keys_and_newer_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    let mut cfg = config(Some(HOUR), None);
    // Small enough that some keys are merged into the large key table before the purge.
    cfg.key_merge_rows = 4;
    let store = SqliteStore::open_with(&db, cfg).unwrap();
    for i in 0..10 {
        store
            .put(started_ago(&format!("old-{i}"), 0, 2 * HOUR))
            .unwrap();
        store.flush().unwrap();
    }
    // An async request whose first attempt is past the retention and whose retry is not:
    // each attempt is its own record.
    store.put(started_ago("both", 0, 2 * HOUR)).unwrap();
    store.put(started_ago("both", 1, HOUR / 2)).unwrap();
    for i in 0..5 {
        store
            .put(started_ago(&format!("new-{i}"), 0, HOUR / 2))
            .unwrap();
    }
    store.flush().unwrap();
    assert_eq!(total(&store), 17);
    assert_eq!(key_rows(&db), 17);

    let report = store.purge().unwrap();

    assert_eq!(report.log_records, 11);
    assert_eq!(report.async_events, 0);
    assert_eq!(total(&store), 6);
    assert_eq!(key_rows(&db), 6, "each deleted record's key is gone too");
    assert!(store.get("old-3").unwrap().is_empty());
    let both = store.get("both").unwrap();
    assert_eq!(both.len(), 1);
    assert_eq!(both[0].retry_num, 1);
    assert_eq!(count_of(&store, "new-4"), 1);
    // A deleted request id can be recorded again (no key points at a deleted row).
    store.put(started_ago("old-3", 0, Duration::ZERO)).unwrap();
    store.flush().unwrap();
    assert_eq!(store.get("old-3").unwrap().len(), 1);
    assert_eq!(store.purge().unwrap(), PurgeReport::default());
}

#[test]
fn a_backlog_is_deleted_a_batch_at_a_time_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(Some(HOUR), None);
    cfg.purge_batch = 3;
    let store = SqliteStore::open_with(dir.path().join("logs.db"), cfg).unwrap();
    let records = (0..10)
        .map(|i| started_ago(&format!("old-{i}"), 0, 2 * HOUR))
        .collect();
    store.put_batch(records).unwrap();

    assert_eq!(store.purge().unwrap().log_records, 10);
    assert_eq!(total(&store), 0);
}

#[test]
fn ended_async_events_past_the_retention_are_deleted_and_running_ones_never() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        SqliteStore::open_with(dir.path().join("logs.db"), config(None, Some(HOUR))).unwrap();
    let now = OffsetDateTime::now_utc();
    for id in [
        "finished-long-ago",
        "failed-long-ago",
        "aborted-long-ago",
        // Started long ago, ended recently: the retention counts from the end.
        "ended-recently",
        // Accepted long ago and never finished (a crash): kept for `recover`.
        "still-running",
    ] {
        store.enqueue(&event(id, now - 3 * HOUR)).unwrap();
    }
    let finished = AttemptEnd::Finished { status_code: 200 };
    end_at(&store, "finished-long-ago", finished, now - 2 * HOUR);
    let failed = AttemptEnd::Failed { status_code: 430 };
    end_at(&store, "failed-long-ago", failed, now - 2 * HOUR);
    store
        .terminate("aborted-long-ago", 0, now - 2 * HOUR)
        .unwrap();
    end_at(&store, "ended-recently", finished, now - HOUR / 2);
    // Log records have no retention here.
    store.put(started_ago("old-record", 0, 2 * HOUR)).unwrap();

    let report = store.purge().unwrap();

    assert_eq!(report.async_events, 3);
    assert_eq!(report.log_records, 0);
    for gone in ["finished-long-ago", "failed-long-ago", "aborted-long-ago"] {
        assert_eq!(store.get_async(gone).unwrap(), None, "{gone}");
    }
    assert!(store.get_async("ended-recently").unwrap().is_some());
    let running = store.get_async("still-running").unwrap().unwrap();
    assert_eq!(running.status, AsyncStatus::Running);
    assert_eq!(store.unfinished().unwrap().len(), 1);
    assert_eq!(count_of(&store, "old-record"), 1);
}

#[test]
fn the_writer_purges_by_itself_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(Some(HOUR), None);
    cfg.purge_interval = Duration::from_millis(20);
    let store = SqliteStore::open_with(dir.path().join("logs.db"), cfg).unwrap();
    store.put(started_ago("new", 0, Duration::ZERO)).unwrap();
    store.put(started_ago("old", 0, 2 * HOUR)).unwrap();
    store.flush().unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while count_of(&store, "old") > 0 {
        assert!(Instant::now() < deadline, "the old record is still there");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(count_of(&store, "new"), 1);
}

#[test]
fn a_store_opened_after_a_pause_deletes_what_expired_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    {
        let store = SqliteStore::open(&db).unwrap();
        store.put(started_ago("old", 0, 2 * HOUR)).unwrap();
        store.flush().unwrap();
    }
    let store = SqliteStore::open_with(&db, config(Some(HOUR), None)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_of(&store, "old") > 0 {
        assert!(Instant::now() < deadline, "the old record is still there");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn without_a_retention_nothing_is_deleted() {
    let (_dir, store) = common::sqlite();
    store.put(started_ago("old", 0, 1000 * HOUR)).unwrap();
    let long_ago = OffsetDateTime::now_utc() - 1000 * HOUR;
    store.enqueue(&event("ev", long_ago)).unwrap();
    let finished = AttemptEnd::Finished { status_code: 200 };
    end_at(&store, "ev", finished, long_ago + HOUR);

    assert_eq!(store.purge().unwrap(), PurgeReport::default());
    assert_eq!(count_of(&store, "old"), 1);
    assert!(store.get_async("ev").unwrap().is_some());
}

#[test]
fn a_retention_or_interval_longer_than_the_clock_reaches_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(Some(Duration::MAX), Some(Duration::MAX));
    cfg.purge_interval = Duration::MAX;
    let store = SqliteStore::open_with(dir.path().join("logs.db"), cfg).unwrap();
    store.put(started_ago("old", 0, 1000 * HOUR)).unwrap();
    assert_eq!(store.purge().unwrap(), PurgeReport::default());
    assert_eq!(count_of(&store, "old"), 1);
}
