//! Several nodes on one database: each node is a store of its own (its own pool and
//! writer) on the same schema.

use std::collections::HashSet;
use std::time::Duration;

use scf_logs::LogRecord;
use scf_store::{AsyncEvent, AsyncQueue, AttemptEnd, FunctionRef, LogStore};
use time::OffsetDateTime;

use crate::common::TestDb;

#[test]
fn a_timer_tick_is_claimed_by_one_node_only() {
    let Some(db) = TestDb::new() else { return };
    let nodes: Vec<_> = (0..3).map(|_| db.open()).collect();
    let tick = time::macros::datetime!(2026-11-25 12:00 UTC);
    let won: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = nodes
            .iter()
            .map(|n| s.spawn(move || n.claim_tick("every-minute", tick).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}

#[test]
fn events_accepted_by_any_node_run_once_across_nodes_claiming_at_once() {
    let Some(db) = TestDb::new() else { return };
    let nodes: Vec<_> = (0..3).map(|_| db.open()).collect();
    let now = OffsetDateTime::now_utc();
    for i in 0..300 {
        let ev = AsyncEvent::new(
            format!("ev-{i}"),
            "f",
            "default",
            "$LATEST",
            "OTHERS",
            now,
            "{}",
        );
        nodes[i % 3].enqueue(&ev).unwrap();
    }
    let f = [FunctionRef::new("default", "f")];
    let claimed: Vec<Vec<String>> = std::thread::scope(|s| {
        let hs: Vec<_> = nodes
            .iter()
            .enumerate()
            .flat_map(|(n, node)| (0..2).map(move |t| (n, t, node)))
            .map(|(n, t, node)| {
                let f = &f;
                s.spawn(move || {
                    let worker = format!("node-{n}-{t}");
                    let mut mine = Vec::new();
                    loop {
                        let claims = node
                            .claim(&worker, Duration::from_secs(60), 7, f, now)
                            .unwrap();
                        if claims.is_empty() {
                            return mine;
                        }
                        for c in claims {
                            let id = c.event.invoke_request_id;
                            let end = AttemptEnd::Finished { status_code: 200 };
                            node.end_attempt(&id, &worker, end, now).unwrap();
                            mine.push(id);
                        }
                    }
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<&String> = claimed.iter().flatten().collect();
    let unique: HashSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), 300, "each event claimed exactly once");
    assert_eq!(unique.len(), 300);
    assert!(nodes[0].unfinished().unwrap().is_empty());
}

#[test]
fn records_written_by_one_node_are_read_by_another() {
    let Some(db) = TestDb::new() else { return };
    let (a, b) = (db.open(), db.open());
    // Stores keep microseconds.
    let t = OffsetDateTime::now_utc()
        .replace_nanosecond(123_000)
        .unwrap();
    let mut r = LogRecord::new("f", "default", "$LATEST", "req", t);
    a.put(r.clone()).unwrap();
    a.flush().unwrap();
    assert_eq!(b.get("req").unwrap(), [r.clone()]);
    // The other node closes the attempt (as a node that claims an interrupted event does).
    r.ret_code = 3;
    b.put(r.clone()).unwrap();
    b.flush().unwrap();
    assert_eq!(a.get("req").unwrap(), [r]);
}
