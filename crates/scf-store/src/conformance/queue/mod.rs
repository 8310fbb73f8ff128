//! Checks of [`AsyncQueue`]: one per rule of its docs and of its methods' docs (claims,
//! leases, renewals, attempt ends, terminate, `next_due`, `pending`, timer ticks), and
//! claims from several threads at once.

use std::time::Duration;

use super::events::ev;
use super::t;
use crate::{
    AsyncEvent, AsyncQuery, AsyncQueue, AsyncStatus, AttemptEnd, Claim, Ended, FunctionRef,
};
use crate::{Lease, Renewal, StoreError, Termination};

mod workers;

pub use workers::{
    claim_takes_only_events_of_the_functions_the_worker_runs,
    concurrent_claims_never_hand_an_event_to_two_workers,
    pending_counts_events_waiting_for_a_worker, unfinished_lists_running_events_oldest_first,
};

/// The lease of every claim: 30 s.
const LEASE: Duration = Duration::from_secs(30);
/// The status code `terminate` is given.
const ABORT_CODE: i64 = 499;
/// A failed attempt's status code.
const FAIL_CODE: i64 = 430;

#[track_caller]
fn enqueue(q: &dyn AsyncQueue, id: &str, secs: i64) -> AsyncEvent {
    let e = ev(id, "f", "OTHERS", secs);
    if let Err(err) = q.enqueue(&e) {
        panic!("AsyncQueue::enqueue of `{id}` failed: {err}");
    }
    e
}

/// The functions every worker of these checks runs: `f`, whose events [`enqueue`] makes.
fn runs_f() -> [FunctionRef; 1] {
    [FunctionRef::new("default", "f")]
}

#[track_caller]
fn claim(q: &dyn AsyncQueue, worker: &str, limit: usize, secs: i64) -> Vec<Claim> {
    q.claim(worker, LEASE, limit, &runs_f(), t(secs))
        .unwrap_or_else(|e| {
            panic!("AsyncQueue::claim by {worker} (limit {limit}) at t({secs}) failed: {e}")
        })
}

#[track_caller]
fn claimed(q: &dyn AsyncQueue, worker: &str, limit: usize, secs: i64) -> Vec<String> {
    let claims = claim(q, worker, limit, secs);
    claims
        .into_iter()
        .map(|c| c.event.invoke_request_id)
        .collect()
}

/// The one event `worker` claims at `t(secs)`, which must be `id`.
#[track_caller]
fn claim_one(q: &dyn AsyncQueue, id: &str, worker: &str, secs: i64) -> Claim {
    let mut claims = claim(q, worker, 10, secs);
    let got: Vec<&str> = claims
        .iter()
        .map(|c| c.event.invoke_request_id.as_str())
        .collect();
    assert_eq!(got, [id], "what {worker} claims at t({secs})");
    claims.remove(0)
}

#[track_caller]
fn renew(q: &dyn AsyncQueue, id: &str, worker: &str, secs: i64) -> Renewal {
    q.renew(id, worker, LEASE, t(secs))
        .unwrap_or_else(|e| panic!("AsyncQueue::renew of `{id}` by {worker} failed: {e}"))
}

#[track_caller]
fn end(q: &dyn AsyncQueue, id: &str, worker: &str, how: AttemptEnd, secs: i64) -> Ended {
    q.end_attempt(id, worker, how, t(secs)).unwrap_or_else(|e| {
        panic!("AsyncQueue::end_attempt of `{id}` by {worker} ({how:?}) failed: {e}")
    })
}

#[track_caller]
fn terminate(q: &dyn AsyncQueue, id: &str, secs: i64) -> Termination {
    q.terminate(id, ABORT_CODE, t(secs))
        .unwrap_or_else(|e| panic!("AsyncQueue::terminate of `{id}` failed: {e}"))
}

#[track_caller]
fn get(q: &dyn AsyncQueue, id: &str) -> AsyncEvent {
    q.get_async(id)
        .unwrap_or_else(|e| panic!("AsyncQueue::get_async(`{id}`) failed: {e}"))
        .unwrap_or_else(|| panic!("event `{id}` is gone from the queue"))
}

#[track_caller]
fn pending(q: &dyn AsyncQueue, secs: i64) -> u64 {
    q.pending(t(secs))
        .unwrap_or_else(|e| panic!("AsyncQueue::pending at t({secs}) failed: {e}"))
}

#[track_caller]
fn next_due(q: &dyn AsyncQueue) -> Option<time::OffsetDateTime> {
    q.next_due()
        .unwrap_or_else(|e| panic!("AsyncQueue::next_due failed: {e}"))
}

fn retry_at(secs: i64) -> AttemptEnd {
    AttemptEnd::Retry {
        status_code: FAIL_CODE,
        at: t(secs),
    }
}

const FINISHED: AttemptEnd = AttemptEnd::Finished { status_code: 200 };
const FAILED: AttemptEnd = AttemptEnd::Failed {
    status_code: FAIL_CODE,
};

/// The error of `result`, which must have failed.
#[track_caller]
fn error_of<T: std::fmt::Debug>(result: Result<T, StoreError>, call: &str) -> StoreError {
    match result {
        Ok(v) => panic!("{call} succeeded ({v:?}) where it must fail"),
        Err(e) => e,
    }
}

/// `enqueue` stores the event `RUNNING` with no attempt, seen by `get_async` and `list_async`.
pub fn enqueue_is_visible_to_get_and_list(q: &dyn AsyncQueue) {
    let e = enqueue(q, "e1", 0);
    assert_eq!(get(q, "e1"), e, "the enqueued event read back");
    assert_eq!(e.status, AsyncStatus::Running);
    assert_eq!(e.attempts, 0);
    let by_id = AsyncQuery {
        invoke_request_id: Some("e1".into()),
        ..AsyncQuery::default()
    };
    let listed = q
        .list_async(&by_id)
        .unwrap_or_else(|e| panic!("AsyncQueue::list_async failed: {e}"));
    assert_eq!(listed, (1, vec![e]), "list_async of the enqueued event");
    let unknown = q
        .get_async("nope")
        .unwrap_or_else(|e| panic!("AsyncQueue::get_async failed: {e}"));
    assert_eq!(unknown, None, "get_async of an unknown id");
}

/// `enqueue` of a known id is `AsyncEventExists` and leaves the stored event as it was.
pub fn enqueue_of_a_known_id_is_refused(q: &dyn AsyncQueue) {
    let first = enqueue(q, "e1", 0);
    let again = ev("e1", "other", "COS", 5);
    let err = error_of(q.enqueue(&again), "enqueue of a known id");
    assert!(
        matches!(&err, StoreError::AsyncEventExists(id) if id == "e1"),
        "enqueue of a known id: {err}"
    );
    assert_eq!(get(q, "e1"), first, "a refused enqueue changed the event");
    claim_one(q, "e1", "w1", 0);
    end(q, "e1", "w1", FINISHED, 1);
    let ended = get(q, "e1");
    let err = error_of(q.enqueue(&again), "enqueue of an ended event's id");
    assert!(
        matches!(&err, StoreError::AsyncEventExists(id) if id == "e1"),
        "enqueue of an ended event's id: {err}"
    );
    assert_eq!(get(q, "e1"), ended, "a refused enqueue changed the event");
}

/// `claim` takes a due event under a lease of `now + lease`, counts an attempt and
/// returns `retry_num` = the attempts before the claim.
pub fn claim_takes_a_due_event_under_a_lease_and_counts_an_attempt(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    let c = claim_one(q, "e1", "w1", 5);
    assert_eq!(c.retry_num, 0, "RetryNum of the first claim");
    assert_eq!(c.failures, 0, "failures of the first claim");
    assert_eq!(c.interrupted, None, "interrupted of the first claim");
    let lease = Lease {
        worker: "w1".into(),
        until: t(35),
    };
    assert_eq!(c.lease, lease, "the lease of a claim at t(5) for 30 s");
    assert_eq!(c.event.attempts, 1, "the claim's event counts the attempt");
    assert_eq!(
        c.event.status,
        AsyncStatus::Running,
        "a claimed event's status"
    );
    assert_eq!(get(q, "e1"), c.event, "the claim's event is as stored");
}

/// `claim` takes only due events: not one held under a live lease, waiting for its
/// retry, or ended.
pub fn claim_takes_only_due_events(q: &dyn AsyncQueue) {
    for (id, secs) in [("held", 0), ("waiting", 1), ("finished", 2), ("aborted", 3)] {
        enqueue(q, id, secs);
    }
    assert_eq!(claimed(q, "w1", 4, 10).len(), 4, "claim of four due events");
    end(q, "waiting", "w1", retry_at(100), 11);
    end(q, "finished", "w1", FINISHED, 11);
    terminate(q, "aborted", 11);
    enqueue(q, "due", 4);
    assert_eq!(
        claimed(q, "w2", 10, 20),
        ["due"],
        "the only due event at t(20)"
    );
    assert!(
        claimed(q, "w2", 10, 21).is_empty(),
        "nothing is due at t(21)"
    );
}

/// `claim` takes the events due longest first, at most `limit` of them.
pub fn claim_takes_oldest_due_first_and_at_most_limit(q: &dyn AsyncQueue) {
    for (id, secs) in [("e1", 0), ("e2", 10), ("e3", 20), ("e4", 30)] {
        enqueue(q, id, secs);
    }
    assert_eq!(claimed(q, "w1", 1, 40), ["e1"], "limit 1 takes the oldest");
    // e1 is due again at t(100), after the others.
    end(q, "e1", "w1", retry_at(100), 41);
    assert!(claimed(q, "w1", 0, 200).is_empty(), "limit 0 takes nothing");
    assert_eq!(
        claimed(q, "w1", 2, 200),
        ["e2", "e3"],
        "limit 2 takes the two due longest"
    );
    assert_eq!(
        claimed(q, "w1", 10, 200),
        ["e4", "e1"],
        "the rest, oldest due first"
    );
    assert!(claimed(q, "w1", 10, 200).is_empty(), "nothing is left");
}

/// An event under a live lease is claimed by no worker, its holder included.
pub fn a_live_lease_is_not_claimed_again(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    assert!(
        claimed(q, "w2", 10, 29).is_empty(),
        "w2 claimed a live lease"
    );
    assert!(
        claimed(q, "w1", 10, 29).is_empty(),
        "w1 claimed its own lease"
    );
    assert_eq!(get(q, "e1").attempts, 1, "attempts under a live lease");
}

/// Once a lease ran out (at its `until`), another worker claims the event with
/// `interrupted` = the previous `retry_num` and runs the next one.
pub fn an_expired_lease_is_claimed_by_another_worker_as_interrupted(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    let c = claim_one(q, "e1", "w2", 30);
    assert_eq!(c.interrupted, Some(0), "the attempt w1 lost");
    assert_eq!(c.retry_num, 1, "RetryNum after an interrupted attempt");
    assert_eq!(c.failures, 0, "an interrupted attempt is not a failure");
    assert_eq!(c.event.attempts, 2, "attempts after the second claim");
    assert_eq!(c.lease.worker, "w2", "the new holder");
    let c = claim_one(q, "e1", "w3", 61);
    assert_eq!(c.interrupted, Some(1), "the attempt w2 lost");
    assert_eq!(c.retry_num, 2, "RetryNum after two interrupted attempts");
}

/// `renew` by the holder extends its lease to `now + lease`.
pub fn renew_by_the_holder_extends_the_lease(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    assert_eq!(
        renew(q, "e1", "w1", 20),
        Renewal::Held(t(50)),
        "renewal at t(20)"
    );
    assert!(
        claimed(q, "w2", 10, 40).is_empty(),
        "w2 claimed a renewed lease before its end"
    );
    let c = claim_one(q, "e1", "w2", 50);
    assert_eq!(c.interrupted, Some(0), "the renewed lease ran out at t(50)");
}

/// `renew` after the lease ran out, while no other worker claimed the event, still holds.
pub fn renew_after_the_lease_ran_out_unclaimed_still_holds(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    assert_eq!(
        renew(q, "e1", "w1", 40),
        Renewal::Held(t(70)),
        "renewal of a lease that ran out, unclaimed"
    );
    assert!(
        claimed(q, "w2", 10, 60).is_empty(),
        "w2 claimed a renewed lease"
    );
}

/// `renew` by a worker that does not hold the event (never did, or lost it to another
/// claim) is `Lost`, and leaves the holder's lease alone.
pub fn renew_by_another_worker_is_lost(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    assert_eq!(renew(q, "e1", "w2", 10), Renewal::Lost, "renewal by w2");
    assert_eq!(
        renew(q, "e1", "w1", 10),
        Renewal::Held(t(40)),
        "w1 still holds"
    );
    claim_one(q, "e1", "w2", 40);
    assert_eq!(
        renew(q, "e1", "w1", 41),
        Renewal::Lost,
        "renewal by w1 after w2 claimed"
    );
    assert_eq!(renew(q, "e1", "w2", 41), Renewal::Held(t(71)), "w2 holds");
}

/// `renew` after the event was terminated is `Terminated`.
pub fn renew_after_terminate_is_terminated(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    terminate(q, "e1", 5);
    assert_eq!(
        renew(q, "e1", "w1", 6),
        Renewal::Terminated,
        "renewal after terminate"
    );
}

/// Ends `e1`'s first attempt with `how` and checks the event ended with `status` and `code`.
#[track_caller]
fn ends_the_event(q: &dyn AsyncQueue, how: AttemptEnd, status: AsyncStatus, code: i64) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    assert_eq!(
        end(q, "e1", "w1", how, 7),
        Ended::Now(status),
        "end {how:?}"
    );
    let e = get(q, "e1");
    assert_eq!(e.status, status, "status after {how:?}");
    assert_eq!(e.status_code, code, "status code after {how:?}");
    assert_eq!(e.end_time, Some(t(7)), "end time after {how:?}");
    assert_eq!(e.attempts, 1, "attempts after {how:?}");
    assert!(
        claimed(q, "w2", 10, 1000).is_empty(),
        "an ended event was claimed"
    );
}

/// `end_attempt` `Finished` makes the event `FINISHED` with its status code and end time.
pub fn end_finished_ends_the_event(q: &dyn AsyncQueue) {
    ends_the_event(q, FINISHED, AsyncStatus::Finished, 200);
}

/// `end_attempt` `Failed` makes the event `FAILED` with its status code and end time.
pub fn end_failed_ends_the_event(q: &dyn AsyncQueue) {
    ends_the_event(q, FAILED, AsyncStatus::Failed, FAIL_CODE);
}

/// `end_attempt` `Retry` keeps the event `RUNNING` with the status code, not due before
/// `at` and due at `at`, with the failure counted.
pub fn end_retry_keeps_running_until_due_at_at(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    let ended = end(q, "e1", "w1", retry_at(100), 5);
    assert_eq!(ended, Ended::Now(AsyncStatus::Running), "end Retry");
    let e = get(q, "e1");
    assert_eq!(e.status, AsyncStatus::Running, "status after Retry");
    assert_eq!(e.status_code, FAIL_CODE, "status code after Retry");
    assert_eq!(e.end_time, None, "end time after Retry");
    assert!(
        claimed(q, "w2", 10, 99).is_empty(),
        "claimed before its retry time"
    );
    let c = claim_one(q, "e1", "w2", 100);
    assert_eq!(c.retry_num, 1, "RetryNum of the retry");
    assert_eq!(c.failures, 1, "failures after one Retry");
    assert_eq!(c.interrupted, None, "a retry is not an interrupted attempt");
    assert_eq!(c.event.attempts, 2, "attempts of the retry");
    end(q, "e1", "w2", retry_at(200), 101);
    let c = claim_one(q, "e1", "w1", 200);
    assert_eq!(
        (c.retry_num, c.failures),
        (2, 2),
        "RetryNum, failures after two"
    );
}

/// `end_attempt` `Released` uncounts the attempt: the event is due at once with the same
/// `retry_num`.
pub fn end_released_is_due_at_once_with_the_same_retry_num(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    let ended = end(q, "e1", "w1", AttemptEnd::Released, 5);
    assert_eq!(ended, Ended::Now(AsyncStatus::Running), "end Released");
    let e = get(q, "e1");
    assert_eq!(e.status, AsyncStatus::Running, "status after Released");
    assert_eq!(e.attempts, 0, "a released attempt is not counted");
    let c = claim_one(q, "e1", "w2", 5);
    assert_eq!(c.retry_num, 0, "RetryNum after a release");
    assert_eq!(c.failures, 0, "a released attempt is not a failure");
    assert_eq!(c.interrupted, None, "a released attempt is not interrupted");
    assert_eq!(
        c.event.attempts, 1,
        "attempts after the claim that follows a release"
    );
}

/// `end_attempt` by a worker that does not hold the event is `Ignored` and changes nothing.
pub fn end_by_a_worker_not_holding_is_ignored(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 1);
    claim_one(q, "e1", "w1", 1);
    let held = get(q, "e1");
    for how in [FINISHED, FAILED, retry_at(9), AttemptEnd::Released] {
        assert_eq!(end(q, "e1", "w2", how, 5), Ended::Ignored, "{how:?} by w2");
    }
    assert_eq!(get(q, "e1"), held, "an end by w2 changed the event");
    assert_eq!(
        renew(q, "e1", "w1", 5),
        Renewal::Held(t(35)),
        "w1 still holds"
    );
    claim_one(q, "e1", "w2", 35);
    let ended = end(q, "e1", "w1", FINISHED, 36);
    assert_eq!(ended, Ended::Ignored, "end by w1 after w2 claimed");
    assert_eq!(
        get(q, "e1").status,
        AsyncStatus::Running,
        "status after w1's end"
    );
    let ended = end(q, "e1", "w2", FINISHED, 37);
    assert_eq!(
        ended,
        Ended::Now(AsyncStatus::Finished),
        "end by w2, the holder"
    );
    enqueue(q, "never", 40);
    let unclaimed = get(q, "never");
    let ended = end(q, "never", "w1", FINISHED, 41);
    assert_eq!(ended, Ended::Ignored, "end of an unclaimed event");
    assert_eq!(
        get(q, "never"),
        unclaimed,
        "an ignored end changed the event"
    );
}

/// `end_attempt` by the holder after `terminate` is `Ignored`: the event stays `ABORTED`.
pub fn end_after_terminate_is_ignored(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    terminate(q, "e1", 5);
    let aborted = get(q, "e1");
    assert_eq!(
        end(q, "e1", "w1", FINISHED, 6),
        Ended::Ignored,
        "end after terminate"
    );
    assert_eq!(
        get(q, "e1"),
        aborted,
        "an end after terminate changed the event"
    );
}

/// `end_attempt` of an unknown id is `AsyncEventNotFound`.
pub fn end_of_an_unknown_id_is_not_found(q: &dyn AsyncQueue) {
    let err = error_of(
        q.end_attempt("ghost", "w1", FINISHED, t(0)),
        "end_attempt of an unknown id",
    );
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "end_attempt of an unknown id: {err}"
    );
}

/// `terminate` of a held event makes it `ABORTED` (status code, end time) and names the
/// holder.
pub fn terminate_of_a_held_event_aborts_it_and_names_the_holder(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 0);
    let held_by = Some("w1".to_owned());
    assert_eq!(
        terminate(q, "e1", 5),
        Termination::Aborted { held_by },
        "terminate"
    );
    let e = get(q, "e1");
    assert_eq!(e.status, AsyncStatus::Aborted, "status after terminate");
    assert_eq!(e.status_code, ABORT_CODE, "status code after terminate");
    assert_eq!(e.end_time, Some(t(5)), "end time after terminate");
}

/// `terminate` of a `RUNNING` event nobody holds (never claimed, lease run out, waiting
/// for a retry) makes it `ABORTED` with no holder named.
pub fn terminate_of_an_unheld_running_event_aborts_it(q: &dyn AsyncQueue) {
    enqueue(q, "lapsed", 0);
    enqueue(q, "waiting", 1);
    claimed(q, "w1", 10, 2);
    end(q, "waiting", "w1", retry_at(100), 3);
    enqueue(q, "never", 4);
    for id in ["never", "lapsed", "waiting"] {
        let done = terminate(q, id, 40);
        assert_eq!(
            done,
            Termination::Aborted { held_by: None },
            "terminate `{id}`"
        );
        let e = get(q, id);
        assert_eq!(e.status, AsyncStatus::Aborted, "status of `{id}`");
        assert_eq!(e.status_code, ABORT_CODE, "status code of `{id}`");
        assert_eq!(e.end_time, Some(t(40)), "end time of `{id}`");
    }
}

/// Makes `id` ended with `status` (claimed by `w0`, then ended or terminated at t(9)).
#[track_caller]
fn ended(q: &dyn AsyncQueue, id: &str, status: AsyncStatus) -> AsyncEvent {
    enqueue(q, id, 0);
    claim_one(q, id, "w0", 1);
    match status {
        AsyncStatus::Finished => assert_eq!(end(q, id, "w0", FINISHED, 9), Ended::Now(status)),
        AsyncStatus::Failed => assert_eq!(end(q, id, "w0", FAILED, 9), Ended::Now(status)),
        _ => assert!(matches!(terminate(q, id, 9), Termination::Aborted { .. })),
    }
    let e = get(q, id);
    assert_eq!(e.status, status, "status of `{id}`");
    e
}

const ENDED: [AsyncStatus; 3] = [
    AsyncStatus::Finished,
    AsyncStatus::Failed,
    AsyncStatus::Aborted,
];

/// `terminate` of an ended event is `AlreadyEnded(status)` and changes nothing.
pub fn terminate_of_an_ended_event_is_already_ended(q: &dyn AsyncQueue) {
    for status in ENDED {
        let id = status.as_str();
        let before = ended(q, id, status);
        let done = terminate(q, id, 20);
        assert_eq!(
            done,
            Termination::AlreadyEnded(status),
            "terminate of a {status} event"
        );
        assert_eq!(get(q, id), before, "terminate changed a {status} event");
    }
}

/// `terminate` of an unknown id is `AsyncEventNotFound`.
pub fn terminate_of_an_unknown_id_is_not_found(q: &dyn AsyncQueue) {
    let err = error_of(
        q.terminate("ghost", ABORT_CODE, t(0)),
        "terminate of an unknown id",
    );
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "terminate of an unknown id: {err}"
    );
}

/// An ended event (`FINISHED`, `FAILED`, `ABORTED`) never changes again, whatever is called.
pub fn an_ended_event_never_changes_again(q: &dyn AsyncQueue) {
    for status in ENDED {
        let id = status.as_str();
        let before = ended(q, id, status);
        for worker in ["w0", "w1"] {
            assert!(
                claimed(q, worker, 10, 1000).is_empty(),
                "{worker} claimed a {status} event"
            );
            let renewal = renew(q, id, worker, 1000);
            let expected = match status {
                AsyncStatus::Aborted => Renewal::Terminated,
                _ => Renewal::Lost,
            };
            assert_eq!(renewal, expected, "renewal of a {status} event by {worker}");
            for how in [FINISHED, FAILED, retry_at(1001), AttemptEnd::Released] {
                let got = end(q, id, worker, how, 1000);
                assert_eq!(
                    got,
                    Ended::Ignored,
                    "{how:?} of a {status} event by {worker}"
                );
            }
        }
        let done = terminate(q, id, 1000);
        assert_eq!(
            done,
            Termination::AlreadyEnded(status),
            "terminate of a {status} event"
        );
        assert_eq!(get(q, id), before, "a {status} event changed");
    }
    assert_eq!(pending(q, 1000), 0, "pending with only ended events");
}

/// `next_due` is the earliest next-attempt time or lease end among `RUNNING` events, and
/// `None` when none is `RUNNING`.
pub fn next_due_is_the_earliest_attempt_or_lease_end(q: &dyn AsyncQueue) {
    assert_eq!(next_due(q), None, "next_due of an empty queue");
    enqueue(q, "e1", 5);
    enqueue(q, "e2", 6);
    // Due at once: no later than the start time (the store has no other time for it).
    let due = next_due(q);
    assert!(
        due.is_some_and(|d| d <= t(5)),
        "next_due of a new event: {due:?}"
    );
    let first = claim(q, "w1", 1, 10);
    assert_eq!(first.len(), 1, "w1's claim, limit 1");
    let long = q.claim("w2", 2 * LEASE, 10, &runs_f(), t(10));
    let long = long.unwrap_or_else(|e| panic!("AsyncQueue::claim failed: {e}"));
    assert_eq!(long.len(), 1, "w2's claim of the other event");
    assert_eq!(
        long[0].event.invoke_request_id, "e2",
        "e1 is due longer than e2"
    );
    assert_eq!(next_due(q), Some(t(40)), "the earlier of two lease ends");
    assert_eq!(renew(q, "e1", "w1", 20), Renewal::Held(t(50)));
    assert_eq!(next_due(q), Some(t(50)), "after renewing the earlier lease");
    end(q, "e1", "w1", retry_at(100), 25);
    assert_eq!(
        next_due(q),
        Some(t(70)),
        "w2's lease ends before e1's retry"
    );
    end(q, "e2", "w2", FINISHED, 30);
    assert_eq!(next_due(q), Some(t(100)), "e1's retry (e2 ended)");
    claim_one(q, "e1", "w1", 100);
    assert_eq!(next_due(q), Some(t(130)), "the retry's lease end");
    end(q, "e1", "w1", FINISHED, 110);
    assert_eq!(next_due(q), None, "next_due with nothing RUNNING");
}

/// `Abandoned` ends the event `FAILED` with its status code, and the claimed attempt is
/// not counted.
pub fn end_abandoned_fails_the_event_without_counting_the_attempt(q: &dyn AsyncQueue) {
    enqueue(q, "e1", 0);
    claim_one(q, "e1", "w1", 10);
    let got = end(
        q,
        "e1",
        "w1",
        AttemptEnd::Abandoned { status_code: 432 },
        11,
    );
    assert_eq!(got, Ended::Now(AsyncStatus::Failed));
    let e = get(q, "e1");
    assert_eq!(
        (e.status, e.status_code, e.end_time, e.attempts),
        (AsyncStatus::Failed, 432, Some(t(11)), 0),
        "an abandoned event"
    );
    assert!(
        claimed(q, "w2", 10, 100).is_empty(),
        "an abandoned event is not claimed"
    );
}

/// `claim_tick` is `true` for the first call with a `(trigger, tick)` and `false` after.
pub fn claim_tick_is_true_once_per_trigger_and_tick(q: &dyn AsyncQueue) {
    let tick = |trigger: &str, secs: i64| {
        q.claim_tick(trigger, t(secs))
            .unwrap_or_else(|e| panic!("AsyncQueue::claim_tick({trigger}, t({secs})) failed: {e}"))
    };
    assert!(tick("timer-a", 60), "first claim of timer-a at t(60)");
    assert!(!tick("timer-a", 60), "second claim of timer-a at t(60)");
    assert!(!tick("timer-a", 60), "third claim of timer-a at t(60)");
    assert!(tick("timer-a", 120), "first claim of timer-a at t(120)");
    assert!(tick("timer-b", 60), "first claim of timer-b at t(60)");
    assert!(!tick("timer-b", 60), "second claim of timer-b at t(60)");
}
