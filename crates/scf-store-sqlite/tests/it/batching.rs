//! How the writer gathers puts into batches: records put one at a time wait for the batch
//! interval and commit together, while anything a caller waits on (a flush, a queue
//! write) or the store's drop ends the gathering at once.

use std::time::{Duration, Instant};

use crate::common::{numbered, t};
use scf_store::{AsyncEvent, AsyncQueue, LogStore};
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig};

/// A store whose writer gathers puts for `interval` before it commits them.
fn gathering(interval: Duration) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SqliteStoreConfig::default();
    cfg.batch_interval = interval;
    let store = SqliteStore::open_with(dir.path().join("logs.db"), cfg).unwrap();
    (dir, store)
}

/// Puts record 0 and waits until the writer has taken it (it is then gathering).
fn put_first(store: &SqliteStore) {
    store.put(numbered(0)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn records_put_one_at_a_time_commit_together_after_the_batch_interval() {
    let (_dir, store) = gathering(Duration::from_secs(2));
    let started = Instant::now();
    for i in 0..5 {
        store.put(numbered(i)).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    // The batch's deadline is 2 s after the writer took record 0: nothing is committed yet.
    assert!(
        store.get("r0").unwrap().is_empty(),
        "committed before the interval"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.get("r0").unwrap().is_empty() {
        assert!(Instant::now() < deadline, "record 0 never committed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "committed after {:?}, before the interval",
        started.elapsed()
    );
    // Committed in the same transaction as record 0.
    for i in 1..5 {
        assert_eq!(store.get(&format!("r{i}")).unwrap().len(), 1, "r{i}");
    }
}

#[test]
fn a_flush_while_the_writer_gathers_commits_at_once() {
    let (_dir, store) = gathering(Duration::from_secs(30));
    put_first(&store);
    store.put(numbered(1)).unwrap();
    let started = Instant::now();
    store.flush().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "flush waited {:?} for the 30 s batch interval",
        started.elapsed()
    );
    assert_eq!(store.get("r0").unwrap().len(), 1);
    assert_eq!(store.get("r1").unwrap().len(), 1);
}

#[test]
fn a_queue_write_while_the_writer_gathers_commits_at_once() {
    let (_dir, store) = gathering(Duration::from_secs(30));
    put_first(&store);
    let ev = AsyncEvent::new("ev-1", "f", "default", "$LATEST", "OTHERS", t(0), "{}");
    let started = Instant::now();
    store.enqueue(&ev).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "enqueue waited {:?} for the 30 s batch interval",
        started.elapsed()
    );
    // The put before it was committed in the same transaction.
    assert_eq!(store.get("r0").unwrap().len(), 1);
}

#[test]
fn dropping_the_store_while_the_writer_gathers_commits_at_once() {
    let (dir, store) = gathering(Duration::from_secs(30));
    put_first(&store);
    store.put(numbered(1)).unwrap();
    let started = Instant::now();
    drop(store);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "drop waited {:?} for the 30 s batch interval",
        started.elapsed()
    );
    let store = SqliteStore::open(dir.path().join("logs.db")).unwrap();
    assert_eq!(store.get("r0").unwrap().len(), 1);
    assert_eq!(store.get("r1").unwrap().len(), 1);
}

#[test]
fn a_full_channel_wakes_the_gathering_writer() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SqliteStoreConfig::default();
    cfg.batch_interval = Duration::from_secs(30);
    cfg.channel_capacity = 4;
    let store = SqliteStore::open_with(dir.path().join("logs.db"), cfg).unwrap();
    put_first(&store);
    // Four fit in the channel; the fifth finds it full and wakes the writer, which takes
    // them without waiting out its interval.
    let started = Instant::now();
    for i in 1..=12 {
        store.put(numbered(i)).unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "puts into a full channel waited {:?} for the 30 s batch interval",
        started.elapsed()
    );
    store.flush().unwrap();
    for i in 0..=12 {
        assert_eq!(store.get(&format!("r{i}")).unwrap().len(), 1, "r{i}");
    }
}
