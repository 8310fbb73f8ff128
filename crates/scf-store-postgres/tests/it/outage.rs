//! The database going away under load, with a real `pg_ctl stop` and start of a cluster
//! the test owns: nothing panics, appends wait in the bounded buffer and are written once
//! the server is back (the pool reconnects by itself), and appends that find the buffer
//! full are refused and counted as lost, never dropped silently.

use std::time::{Duration, Instant};

use scf_logs::LogRecord;
use scf_store::{AsyncEvent, AsyncQueue, LogQuery, LogStore, StoreError};
use scf_store_postgres::PgStore;
use time::OffsetDateTime;

use crate::common::TestDb;

fn record(i: u32, t: OffsetDateTime) -> LogRecord {
    let mut r = LogRecord::new("f", "default", "$LATEST", format!("req-{i}"), t);
    r.ret_code = 0;
    r.status_code = 200;
    r.log = format!("START RequestId:req-{i}\n");
    r
}

/// Flushes until it succeeds (the server is back and the writer caught up).
fn flush_when_back(store: &PgStore) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match store.flush() {
            Ok(()) => return,
            Err(e) if Instant::now() < deadline => {
                eprintln!("flush while the server comes back: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("the writer never caught up: {e}"),
        }
    }
}

fn total(store: &PgStore) -> u64 {
    let q = LogQuery {
        function_name: Some("f".into()),
        ..LogQuery::default()
    };
    store.query(&q).unwrap().total_count
}

#[test]
fn appends_during_a_restart_wait_in_the_buffer_and_are_written_when_the_server_is_back() {
    if !scf_testkit::require(&scf_testkit::POSTGRES) {
        return;
    }
    let db = TestDb::private();
    let cluster = db.cluster.as_ref().unwrap();
    let mut cfg = db.config();
    cfg.op_timeout = Duration::from_secs(2);
    let store = PgStore::open_with(cfg).unwrap();
    let t = OffsetDateTime::now_utc();
    for i in 0..2_000 {
        store.put(record(i, t)).unwrap();
    }
    store.flush().unwrap();

    cluster.stop().unwrap();
    // Appends go on while the server is down: none is refused, none lost.
    for i in 2_000..6_000 {
        store.put(record(i, t)).unwrap();
    }
    // Reads, queue writes and flush fail with errors (after at most op_timeout), not panics.
    let started = Instant::now();
    let ev = AsyncEvent::new("ev", "f", "default", "$LATEST", "OTHERS", t, "{}");
    assert!(matches!(store.enqueue(&ev), Err(StoreError::Write { .. })));
    assert!(matches!(store.get("req-1"), Err(StoreError::Read { .. })));
    let flushed = store.flush().unwrap_err().to_string();
    assert!(flushed.contains("unwritten"), "{flushed}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(store.buffered_records() > 0);

    cluster.start_again().unwrap();
    for i in 6_000..8_000 {
        store.put(record(i, t)).unwrap();
    }
    flush_when_back(&store);
    assert_eq!(
        total(&store),
        8_000,
        "every record put, before, during and after"
    );
    assert_eq!(store.lost_records(), 0);
    assert_eq!(store.buffered_records(), 0);
    // The pool reconnected for the queue too.
    store.enqueue(&ev).unwrap();
    assert!(store.get_async("ev").unwrap().is_some());
}

#[test]
fn appends_that_find_the_buffer_full_are_refused_and_counted_as_lost() {
    if !scf_testkit::require(&scf_testkit::POSTGRES) {
        return;
    }
    let db = TestDb::private();
    let cluster = db.cluster.as_ref().unwrap();
    let mut cfg = db.config();
    cfg.op_timeout = Duration::from_secs(2);
    cfg.buffer_capacity = 100;
    cfg.batch_size = 10;
    cfg.writers = 2;
    let store = PgStore::open_with(cfg).unwrap();
    let t = OffsetDateTime::now_utc();
    cluster.stop().unwrap();
    let mut refused = 0;
    for i in 0..500 {
        match store.put(record(i, t)) {
            Ok(()) => {}
            Err(StoreError::Full { capacity, .. }) => {
                assert_eq!(capacity, 100);
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // The buffer holds 100; the writer at most five batches of 10 more (one it is
    // handing over, and each of its two connections one it keeps trying and one waiting).
    assert!((350..=400).contains(&refused), "refused {refused}");
    assert_eq!(store.lost_records(), refused);
    cluster.start_again().unwrap();
    flush_when_back(&store);
    assert_eq!(
        total(&store),
        500 - refused,
        "what the buffer held was written"
    );
    assert_eq!(store.lost_records(), refused);
}

#[test]
fn a_store_dropped_while_the_server_is_down_returns_within_its_close_timeout() {
    if !scf_testkit::require(&scf_testkit::POSTGRES) {
        return;
    }
    let db = TestDb::private();
    let cluster = db.cluster.as_ref().unwrap();
    let mut cfg = db.config();
    cfg.close_timeout = Duration::from_millis(500);
    let store = PgStore::open_with(cfg).unwrap();
    cluster.stop().unwrap();
    let t = OffsetDateTime::now_utc();
    for i in 0..50 {
        store.put(record(i, t)).unwrap();
    }
    let started = Instant::now();
    // Dropped inside an async context: no panic, no wait past the close timeout.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async move { drop(store) });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
