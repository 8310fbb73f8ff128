//! Under sustained appends the WAL stays bounded: the checkpointer restarts it once it
//! passes `wal_restart_pages`, so the `-wal` file does not grow with everything written.

mod common;

use std::time::Duration;

use common::rec;
use scf_logs::{LogStore, SqliteStore, SqliteStoreConfig};

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
    for round in 0..40_u32 {
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
        db_size > 20 << 20,
        "20,000 records of 1 KB: {db_size} bytes"
    );
    assert!(
        largest_wal < 8 << 20,
        "the WAL reached {largest_wal} bytes while {db_size} were written"
    );
}
