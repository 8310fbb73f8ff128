//! How the writer gathers puts into batches: records put one at a time wait for the batch
//! interval and are written by one `INSERT`, while a flush, a buffer filling up, or the
//! store's drop ends the gathering at once.

use std::time::{Duration, Instant};

use crate::common::TestDb;
use scf_store::conformance::records::invoker_record;
use scf_store::LogStore;
use scf_store_postgres::PgStore;

/// A store whose writer gathers puts for `interval` before it writes them.
fn gathering(db: &TestDb, interval: Duration, buffer: usize) -> PgStore {
    let mut cfg = db.config();
    cfg.batch_interval = interval;
    cfg.buffer_capacity = buffer;
    PgStore::open_with(cfg).unwrap()
}

fn id(i: u64) -> String {
    invoker_record(i).request_id.clone()
}

/// How many transactions wrote the records `0..n` (rows one statement inserts share `xmin`).
fn transactions(db: &TestDb, n: u64) -> i64 {
    let ids: Vec<String> = (0..n).map(|i| format!("'{}'", id(i))).collect();
    let rows = db.sql(&format!(
        "SELECT count(DISTINCT xmin::text) FROM logs WHERE request_id IN ({})",
        ids.join(",")
    ));
    rows[0].get(0)
}

#[test]
fn records_put_one_at_a_time_are_written_by_one_insert_after_the_batch_interval() {
    let Some(db) = TestDb::new() else { return };
    let store = gathering(&db, Duration::from_secs(2), 1024);
    let started = Instant::now();
    for i in 0..5 {
        store.put(invoker_record(i)).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        store.get(&id(0)).unwrap().is_empty(),
        "written before the interval"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.get(&id(0)).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "record 0 never written");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "written after {:?}, before the interval",
        started.elapsed()
    );
    for i in 0..5 {
        assert_eq!(store.get(&id(i)).unwrap().len(), 1, "record {i}");
    }
    assert_eq!(
        transactions(&db, 5),
        1,
        "the five records took several INSERTs"
    );
}

#[test]
fn a_flush_while_the_writer_gathers_writes_at_once() {
    let Some(db) = TestDb::new() else { return };
    // The interval is longer than flush's own timeout (10 s): a flush that waited for it
    // would fail.
    let store = gathering(&db, Duration::from_secs(60), 1024);
    store.put(invoker_record(0)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    store.put(invoker_record(1)).unwrap();
    store.flush().unwrap();
    assert_eq!(store.get(&id(0)).unwrap().len(), 1);
    assert_eq!(store.get(&id(1)).unwrap().len(), 1);
}

#[test]
fn a_buffer_filling_up_while_the_writer_gathers_loses_nothing() {
    let Some(db) = TestDb::new() else { return };
    // Eight records fit; a writer that slept out its minute would leave the ninth put
    // `Full`.
    let store = gathering(&db, Duration::from_secs(60), 8);
    for i in 0..24 {
        store
            .put(invoker_record(i))
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
        std::thread::sleep(Duration::from_millis(20));
    }
    store.flush().unwrap();
    assert_eq!(store.lost_records(), 0);
    for i in 0..24 {
        assert_eq!(store.get(&id(i)).unwrap().len(), 1, "record {i}");
    }
}

#[test]
fn dropping_the_store_while_the_writer_gathers_writes_what_it_holds() {
    let Some(db) = TestDb::new() else { return };
    // The interval is longer than the drop's close timeout (5 s): a drop that waited for
    // it would count the records as lost and leave them unwritten.
    let store = gathering(&db, Duration::from_secs(60), 1024);
    store.put(invoker_record(0)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    store.put(invoker_record(1)).unwrap();
    drop(store);
    let store = db.open();
    assert_eq!(store.get(&id(0)).unwrap().len(), 1);
    assert_eq!(store.get(&id(1)).unwrap().len(), 1);
}
