//! Which worker gets which event: the functions a worker runs, how many events wait,
//! what a starting worker finds, and claims from several threads at once.

use std::collections::HashSet;

use super::{claim, claim_one, claimed, end, enqueue, pending, retry_at, terminate, LEASE};
use super::{FAILED, FINISHED};
use crate::conformance::events::ev;
use crate::conformance::t;
use crate::{AsyncQueue, AsyncStatus, AttemptEnd, Ended, FunctionRef};

/// `pending` counts the `RUNNING` events that wait for a worker: due, or between
/// attempts, but not held by a live lease.
pub fn pending_counts_events_waiting_for_a_worker(q: &dyn AsyncQueue) {
    assert_eq!(pending(q, 0), 0, "pending of an empty queue");
    for (id, secs) in [("e1", 0), ("e2", 1), ("e3", 2), ("e4", 3)] {
        enqueue(q, id, secs);
    }
    assert_eq!(pending(q, 5), 4, "pending of four waiting events");
    claimed(q, "w1", 4, 10);
    assert_eq!(pending(q, 11), 0, "pending of four held events");
    assert_eq!(pending(q, 40), 4, "pending once their leases ran out");
    end(q, "e1", "w1", retry_at(100), 11);
    end(q, "e2", "w1", AttemptEnd::Released, 11);
    assert_eq!(pending(q, 11), 2, "pending after a retry and a release");
    end(q, "e3", "w1", FINISHED, 12);
    assert_eq!(
        pending(q, 12),
        2,
        "pending after one finished (e4 still held)"
    );
    claim_one(q, "e2", "w1", 13);
    end(q, "e2", "w1", FAILED, 14);
    assert_eq!(
        pending(q, 14),
        1,
        "pending after one failed (e4 still held)"
    );
    terminate(q, "e4", 15);
    assert_eq!(pending(q, 15), 1, "pending after one terminated");
    terminate(q, "e1", 16);
    assert_eq!(pending(q, 16), 0, "pending when all ended");
}

/// `claim` leaves the events of functions the worker does not run for a worker that
/// runs them.
pub fn claim_takes_only_events_of_the_functions_the_worker_runs(q: &dyn AsyncQueue) {
    enqueue(q, "mine", 0);
    let other = ev("theirs", "g", "OTHERS", 0);
    q.enqueue(&other)
        .unwrap_or_else(|e| panic!("AsyncQueue::enqueue of `theirs` failed: {e}"));
    assert_eq!(claimed(q, "w1", 10, 5), ["mine"], "a worker that runs f");
    let runs_g = [FunctionRef::new("default", "g")];
    let elsewhere = [FunctionRef::new("other-namespace", "g")];
    let got = q
        .claim("w2", LEASE, 10, &elsewhere, t(5))
        .unwrap_or_else(|e| panic!("AsyncQueue::claim failed: {e}"));
    assert!(
        got.is_empty(),
        "g of another namespace is another function: {got:?}"
    );
    let got = q
        .claim("w3", LEASE, 10, &runs_g, t(5))
        .unwrap_or_else(|e| panic!("AsyncQueue::claim failed: {e}"));
    let ids: Vec<&str> = got
        .iter()
        .map(|c| c.event.invoke_request_id.as_str())
        .collect();
    assert_eq!(ids, ["theirs"], "a worker that runs g");
    let none = q
        .claim("w4", LEASE, 10, &[], t(5))
        .unwrap_or_else(|e| panic!("AsyncQueue::claim failed: {e}"));
    assert!(none.is_empty(), "a worker that runs nothing claims nothing");
}

/// `unfinished` lists every `RUNNING` event, held or not, oldest accepted first, and no
/// ended one.
pub fn unfinished_lists_running_events_oldest_first(q: &dyn AsyncQueue) {
    for (id, secs) in [("e2", 2), ("e1", 1), ("e3", 3), ("e4", 4)] {
        enqueue(q, id, secs);
    }
    assert_eq!(claimed(q, "w1", 1, 10), ["e1"], "the oldest due first");
    end(q, "e1", "w1", FINISHED, 11);
    assert_eq!(claimed(q, "w1", 1, 12), ["e2"], "the oldest due first");
    terminate(q, "e4", 13);
    let got = q
        .unfinished()
        .unwrap_or_else(|e| panic!("AsyncQueue::unfinished failed: {e}"));
    let ids: Vec<&str> = got.iter().map(|e| e.invoke_request_id.as_str()).collect();
    assert_eq!(ids, ["e2", "e3"], "the RUNNING events, oldest first");
}

/// Workers on 4 threads claiming (and finishing) 2000 events at once each get a
/// different event, and every event once.
pub fn concurrent_claims_never_hand_an_event_to_two_workers(q: &dyn AsyncQueue) {
    const THREADS: usize = 4;
    const EVENTS: usize = THREADS * 500;
    for i in 0..EVENTS {
        enqueue(q, &format!("e{i}"), 0);
    }
    let per_worker: Vec<Vec<String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|n| {
                scope.spawn(move || {
                    let worker = format!("w{n}");
                    let mut got = Vec::new();
                    loop {
                        let claims = claim(q, &worker, 16, 10);
                        if claims.is_empty() {
                            return got;
                        }
                        for c in claims {
                            let id = c.event.invoke_request_id;
                            assert_eq!(
                                (c.retry_num, c.interrupted),
                                (0, None),
                                "`{id}` claimed by {worker} was claimed before"
                            );
                            let ended = end(q, &id, &worker, FINISHED, 11);
                            assert_eq!(ended, Ended::Now(AsyncStatus::Finished), "end of `{id}`");
                            got.push(id);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut seen = HashSet::new();
    for (n, ids) in per_worker.iter().enumerate() {
        for id in ids {
            assert!(
                seen.insert(id.as_str()),
                "`{id}` was handed to two workers (one is w{n})"
            );
        }
    }
    assert_eq!(
        seen.len(),
        EVENTS,
        "events claimed by the {THREADS} workers"
    );
    assert_eq!(pending(q, 11), 0, "pending after every event finished");
}
