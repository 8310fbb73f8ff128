//! Under sustained appends the WAL stays bounded: once it passes `wal_restart_pages` the
//! writer restarts it, so the `-wal` file does not grow with everything written; and a
//! reader holding the WAL never stalls the writer.

use crate::common;

use std::time::Duration;

use common::rec;
use scf_store::LogStore;
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig};

#[test]
fn the_wal_stays_near_its_restart_size_under_sustained_appends() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    let wal = dir.path().join("logs.db-wal");
    let mut config = SqliteStoreConfig::default();
    config.checkpoint_interval = Duration::from_millis(1);
    config.wal_restart_pages = 256; // 1 MiB of 4 KiB pages
    let store = SqliteStore::open_with(&db, config).unwrap();

    let log = "x".repeat(1000);
    let mut largest_wal = 0;
    for round in 0..60_u32 {
        for i in 0..500_u32 {
            let id = format!("req-{round}-{i}");
            let mut r = rec("f", "default", "$LATEST", &id, 1, 0, 200, 1.0, 0);
            r.log.clone_from(&log);
            store.put(r).unwrap();
        }
        store.flush().unwrap();
        largest_wal = largest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    drop(store);

    let db_size = std::fs::metadata(&db).unwrap().len();
    assert!(
        db_size > 30 << 20,
        "30,000 records of 1 KB: {db_size} bytes"
    );
    // Without the restart the WAL holds everything written (64 MB seen); with it, the
    // restart length plus what is written while one checkpoint runs (3-4 MB seen). A third
    // of the total leaves room for a slow machine and still fails a WAL that keeps growing.
    assert!(
        largest_wal < db_size / 3,
        "the WAL reached {largest_wal} bytes while {db_size} were written"
    );
}

#[test]
fn a_reader_holding_the_wal_does_not_stall_appends() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("logs.db");
    let mut config = SqliteStoreConfig::default();
    config.checkpoint_interval = Duration::from_millis(1);
    config.wal_restart_pages = 64;
    let store = SqliteStore::open_with(&db, config).unwrap();
    store
        .put(rec("f", "default", "$LATEST", "first", 1, 0, 200, 1.0, 0))
        .unwrap();
    store.flush().unwrap();
    // Another process's open read transaction keeps the WAL from starting over: the
    // writer's restart must give up at once each time, not wait out its 5 s busy timeout.
    let reader = rusqlite::Connection::open(&db).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT COUNT(*) FROM logs", [], |r| r.get(0))
        .unwrap();

    let started = std::time::Instant::now();
    let log = "x".repeat(1000);
    for round in 0..20_u32 {
        for i in 0..200_u32 {
            let mut r = rec(
                "f",
                "default",
                "$LATEST",
                &format!("r{round}-{i}"),
                1,
                0,
                200,
                1.0,
                0,
            );
            r.log.clone_from(&log);
            store.put(r).unwrap();
        }
        store.flush().unwrap();
    }
    // Each stalled restart would cost the 5 s busy timeout, 100 s over these 20 commits.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "20 commits took {took:?}");
    reader.execute_batch("COMMIT").unwrap();
    assert_eq!(common::count_all(&store), 4001);
}
