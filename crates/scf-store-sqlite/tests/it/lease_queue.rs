//! `AsyncQueue` on a SQLite file: claims under leases, renewals, attempt ends, terminate,
//! timer ticks, and several stores (and processes) sharing one file.

use crate::common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::t;
use scf_store::{
    AsyncEvent, AsyncQueue, AsyncStatus, AttemptEnd, Claim, Ended, FunctionRef, Renewal,
    StoreError, Termination,
};
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig};

const LEASE: Duration = Duration::from_secs(30);

fn ev(id: &str, secs: i64) -> AsyncEvent {
    AsyncEvent::new(
        id,
        "f",
        "default",
        "$LATEST",
        "OTHERS",
        t(secs),
        format!("{{\"id\":\"{id}\"}}"),
    )
}

fn ids(claims: &[Claim]) -> Vec<&str> {
    claims
        .iter()
        .map(|c| c.event.invoke_request_id.as_str())
        .collect()
}

/// What every worker here runs: `f`, the function of [`ev`]'s events.
fn runs_f() -> [FunctionRef; 1] {
    [FunctionRef::new("default", "f")]
}

fn claim(s: &SqliteStore, worker: &str, limit: usize, secs: i64) -> Vec<Claim> {
    s.claim(worker, LEASE, limit, &runs_f(), t(secs)).unwrap()
}

fn status(s: &SqliteStore, id: &str) -> AsyncStatus {
    s.get_async(id).unwrap().unwrap().status
}

/// The `failures` column of `id`, read from the file.
fn failures(db: &Path, id: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT failures FROM async_events WHERE invoke_request_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

fn db_of(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("logs.db")
}

#[test]
fn an_enqueued_event_is_running_due_at_its_start_time_and_durable_on_return() {
    let (dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 5)).unwrap();
    assert_eq!(s.next_due().unwrap(), Some(t(5)));
    assert_eq!(s.pending(t(5)).unwrap(), 1);
    // Another store on the file (as another process) sees it at once: it is committed.
    let other = SqliteStore::open(db_of(&dir)).unwrap();
    assert_eq!(other.get_async("e1").unwrap(), Some(ev("e1", 5)));
    assert!(claim(&s, "w", 10, 4).is_empty(), "not due before its start");
    assert_eq!(ids(&claim(&s, "w", 10, 5)), ["e1"]);
}

#[test]
fn enqueueing_a_taken_invoke_request_id_is_refused_and_keeps_the_first_event() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    let mut again = ev("e1", 9);
    again.event = "{}".into();
    let err = s.enqueue(&again).unwrap_err();
    assert!(
        matches!(&err, StoreError::AsyncEventExists(id) if id == "e1"),
        "{err}"
    );
    assert_eq!(s.get_async("e1").unwrap(), Some(ev("e1", 0)));
}

#[test]
fn a_claim_takes_due_events_oldest_first_up_to_the_limit_and_counts_an_attempt() {
    let (_dir, s) = common::sqlite();
    for (id, secs) in [("a", 0), ("b", 10), ("c", 5), ("later", 100)] {
        s.enqueue(&ev(id, secs)).unwrap();
    }
    let got = claim(&s, "w1", 2, 50);
    assert_eq!(ids(&got), ["a", "c"]);
    let c = &got[1];
    assert_eq!((c.retry_num, c.failures, c.interrupted), (0, 0, None));
    assert_eq!(c.event.attempts, 1);
    assert_eq!(c.event.status, AsyncStatus::Running);
    assert_eq!(c.lease.worker, "w1");
    assert_eq!(c.lease.until, t(50) + LEASE);
    // The claimed event is stored as the claim returned it.
    assert_eq!(s.get_async("c").unwrap().as_ref(), Some(&c.event));
    // Held events are not due again while their leases live; `later` is not due yet.
    assert_eq!(ids(&claim(&s, "w2", 10, 51)), ["b"]);
    assert!(claim(&s, "w2", 10, 60).is_empty());
    assert_eq!(
        s.pending(t(60)).unwrap(),
        1,
        "only `later` waits for a worker"
    );
    assert_eq!(
        s.pending(t(1000)).unwrap(),
        4,
        "all four once the leases ran out"
    );
}

#[test]
fn a_claim_with_limit_zero_or_an_endless_lease_does_not_fail() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    assert!(s.claim("w", LEASE, 0, &runs_f(), t(1)).unwrap().is_empty());
    let got = s
        .claim("w", Duration::MAX, usize::MAX, &runs_f(), t(1))
        .unwrap();
    assert_eq!(ids(&got), ["e1"]);
    assert!(got[0].lease.until > t(1_000_000_000));
    assert_eq!(
        s.renew("e1", "w", Duration::MAX, t(2)).unwrap(),
        Renewal::Held(got[0].lease.until)
    );
}

#[test]
fn a_lease_that_ran_out_is_claimed_by_another_worker_with_the_interrupted_attempt_and_the_next_retry_num(
) {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    let first = claim(&s, "w1", 1, 0);
    assert_eq!(first[0].retry_num, 0);
    assert!(
        claim(&s, "w2", 1, 29).is_empty(),
        "the lease lives until 30 s"
    );
    let second = claim(&s, "w2", 1, 30);
    assert_eq!(ids(&second), ["e1"]);
    let c = &second[0];
    assert_eq!((c.retry_num, c.interrupted, c.failures), (1, Some(0), 0));
    assert_eq!(c.event.attempts, 2);
    assert_eq!(c.lease.worker, "w2");
    // The first worker has lost it.
    assert_eq!(s.renew("e1", "w1", LEASE, t(31)).unwrap(), Renewal::Lost);
    let end = AttemptEnd::Finished { status_code: 200 };
    assert_eq!(
        s.end_attempt("e1", "w1", end, t(31)).unwrap(),
        Ended::Ignored
    );
    assert_eq!(
        s.end_attempt("e1", "w2", end, t(32)).unwrap(),
        Ended::Now(AsyncStatus::Finished)
    );
}

#[test]
fn the_next_due_time_is_the_earliest_next_attempt_or_lease_end_and_none_when_nothing_runs() {
    let (_dir, s) = common::sqlite();
    assert_eq!(s.next_due().unwrap(), None);
    s.enqueue(&ev("a", 10)).unwrap();
    s.enqueue(&ev("b", 20)).unwrap();
    assert_eq!(s.next_due().unwrap(), Some(t(10)));
    claim(&s, "w", 1, 12); // a, held until 42
    assert_eq!(s.next_due().unwrap(), Some(t(20)));
    claim(&s, "w", 1, 20); // b, held until 50
    assert_eq!(s.next_due().unwrap(), Some(t(42)));
    let retry = AttemptEnd::Retry {
        status_code: 500,
        at: t(100),
    };
    s.end_attempt("a", "w", retry, t(13)).unwrap();
    assert_eq!(s.next_due().unwrap(), Some(t(50)));
    let done = AttemptEnd::Finished { status_code: 200 };
    s.end_attempt("b", "w", done, t(21)).unwrap();
    assert_eq!(s.next_due().unwrap(), Some(t(100)));
    s.terminate("a", 0, t(22)).unwrap();
    assert_eq!(s.next_due().unwrap(), None);
}

#[test]
fn renewing_extends_the_lease_of_its_holder_only() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    claim(&s, "w1", 1, 0);
    assert_eq!(
        s.renew("e1", "w1", LEASE, t(20)).unwrap(),
        Renewal::Held(t(50))
    );
    assert!(claim(&s, "w2", 1, 40).is_empty(), "renewed until 50 s");
    assert_eq!(s.next_due().unwrap(), Some(t(50)));
    assert_eq!(s.renew("e1", "w2", LEASE, t(41)).unwrap(), Renewal::Lost);
    let err = s.renew("ghost", "w1", LEASE, t(41)).unwrap_err();
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "{err}"
    );
    // An event nobody holds cannot be renewed.
    s.enqueue(&ev("e2", 0)).unwrap();
    assert_eq!(s.renew("e2", "w1", LEASE, t(41)).unwrap(), Renewal::Lost);
}

#[test]
fn a_finished_attempt_ends_the_event_with_its_status_code_and_end_time() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    claim(&s, "w", 1, 1);
    let end = AttemptEnd::Finished { status_code: 200 };
    assert_eq!(
        s.end_attempt("e1", "w", end, t(3)).unwrap(),
        Ended::Now(AsyncStatus::Finished)
    );
    let got = s.get_async("e1").unwrap().unwrap();
    assert_eq!(got.status, AsyncStatus::Finished);
    assert_eq!(got.status_code, 200);
    assert_eq!(got.end_time, Some(t(3)));
    assert_eq!(got.attempts, 1);
    assert_eq!(s.pending(t(10_000)).unwrap(), 0);
    assert_eq!(s.next_due().unwrap(), None);
}

#[test]
fn a_retry_is_not_claimed_before_its_time_and_is_then_the_next_retry_num_with_a_failure() {
    let (dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    claim(&s, "w1", 1, 0);
    let retry = AttemptEnd::Retry {
        status_code: 500,
        at: t(60),
    };
    assert_eq!(
        s.end_attempt("e1", "w1", retry, t(2)).unwrap(),
        Ended::Now(AsyncStatus::Running)
    );
    let got = s.get_async("e1").unwrap().unwrap();
    assert_eq!(
        (got.status, got.status_code, got.end_time),
        (AsyncStatus::Running, 500, None)
    );
    assert_eq!(failures(&db_of(&dir), "e1"), 1);
    assert!(claim(&s, "w2", 1, 59).is_empty());
    let c = &claim(&s, "w2", 1, 60)[0];
    assert_eq!((c.retry_num, c.failures, c.interrupted), (1, 1, None));
    assert_eq!(c.event.attempts, 2);
}

#[test]
fn a_retry_scheduled_at_t_is_claimed_at_t_after_the_store_is_dropped_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    {
        let s = SqliteStore::open(&db).unwrap();
        s.enqueue(&ev("e1", 0)).unwrap();
        claim(&s, "w1", 1, 0);
        let retry = AttemptEnd::Retry {
            status_code: 433,
            at: t(3600),
        };
        s.end_attempt("e1", "w1", retry, t(1)).unwrap();
    }
    let s = SqliteStore::open(&db).unwrap();
    assert_eq!(s.next_due().unwrap(), Some(t(3600)));
    assert!(claim(&s, "w2", 10, 3599).is_empty());
    let got = claim(&s, "w2", 10, 3600);
    assert_eq!(ids(&got), ["e1"]);
    assert_eq!((got[0].retry_num, got[0].failures), (1, 1));
}

#[test]
fn a_failed_attempt_ends_the_event_failed_and_counts_a_failure() {
    let (dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    claim(&s, "w", 1, 0);
    let end = AttemptEnd::Failed { status_code: 433 };
    assert_eq!(
        s.end_attempt("e1", "w", end, t(5)).unwrap(),
        Ended::Now(AsyncStatus::Failed)
    );
    let got = s.get_async("e1").unwrap().unwrap();
    assert_eq!(
        (got.status, got.status_code, got.end_time),
        (AsyncStatus::Failed, 433, Some(t(5)))
    );
    assert_eq!(failures(&db_of(&dir), "e1"), 1);
    assert!(claim(&s, "w", 1, 100).is_empty());
}

#[test]
fn a_released_attempt_is_not_counted_and_the_event_is_due_at_once_with_the_same_retry_num() {
    let (dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    claim(&s, "w1", 1, 0);
    assert_eq!(
        s.end_attempt("e1", "w1", AttemptEnd::Released, t(4))
            .unwrap(),
        Ended::Now(AsyncStatus::Running)
    );
    assert_eq!(s.get_async("e1").unwrap().unwrap().attempts, 0);
    assert_eq!(s.next_due().unwrap(), Some(t(4)));
    let c = &claim(&s, "w2", 1, 4)[0];
    assert_eq!((c.retry_num, c.failures, c.interrupted), (0, 0, None));
    assert_eq!(failures(&db_of(&dir), "e1"), 0);
}

#[test]
fn an_attempt_end_from_a_worker_that_does_not_hold_the_event_is_ignored() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    let end = AttemptEnd::Finished { status_code: 200 };
    assert_eq!(
        s.end_attempt("e1", "w1", end, t(1)).unwrap(),
        Ended::Ignored
    );
    claim(&s, "w1", 1, 1);
    assert_eq!(
        s.end_attempt("e1", "w2", end, t(2)).unwrap(),
        Ended::Ignored
    );
    assert_eq!(status(&s, "e1"), AsyncStatus::Running);
    let err = s.end_attempt("ghost", "w1", end, t(2)).unwrap_err();
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "{err}"
    );
}

#[test]
fn terminating_a_held_event_names_its_holder_whose_renew_says_terminated_and_end_is_ignored() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    claim(&s, "w1", 1, 0);
    assert_eq!(
        s.terminate("e1", 0, t(10)).unwrap(),
        Termination::Aborted {
            held_by: Some("w1".into())
        }
    );
    let got = s.get_async("e1").unwrap().unwrap();
    assert_eq!(
        (got.status, got.status_code, got.end_time),
        (AsyncStatus::Aborted, 0, Some(t(10)))
    );
    assert_eq!(
        s.renew("e1", "w1", LEASE, t(11)).unwrap(),
        Renewal::Terminated
    );
    let end = AttemptEnd::Finished { status_code: 200 };
    assert_eq!(
        s.end_attempt("e1", "w1", end, t(12)).unwrap(),
        Ended::Ignored
    );
    assert_eq!(status(&s, "e1"), AsyncStatus::Aborted);
    assert_eq!(s.pending(t(10_000)).unwrap(), 0);
}

#[test]
fn terminating_an_event_nobody_holds_names_no_holder() {
    let (_dir, s) = common::sqlite();
    s.enqueue(&ev("waiting", 0)).unwrap();
    s.enqueue(&ev("expired", 0)).unwrap();
    assert_eq!(
        s.terminate("waiting", 7, t(1)).unwrap(),
        Termination::Aborted { held_by: None }
    );
    claim(&s, "w1", 1, 2);
    // Its lease ran out at 32 s: nobody runs it any more.
    assert_eq!(
        s.terminate("expired", 7, t(32)).unwrap(),
        Termination::Aborted { held_by: None }
    );
    let err = s.terminate("ghost", 0, t(1)).unwrap_err();
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "{err}"
    );
}

#[test]
fn an_ended_event_never_changes_whatever_is_called() {
    let (_dir, s) = common::sqlite();
    for (id, end) in [
        ("finished", AttemptEnd::Finished { status_code: 200 }),
        ("failed", AttemptEnd::Failed { status_code: 500 }),
    ] {
        s.enqueue(&ev(id, 0)).unwrap();
        claim(&s, "w", 1, 0);
        s.end_attempt(id, "w", end, t(1)).unwrap();
    }
    s.enqueue(&ev("aborted", 0)).unwrap();
    claim(&s, "w", 1, 0);
    s.terminate("aborted", 0, t(1)).unwrap();
    for (id, ended) in [
        ("finished", AsyncStatus::Finished),
        ("failed", AsyncStatus::Failed),
        ("aborted", AsyncStatus::Aborted),
    ] {
        let before = s.get_async(id).unwrap().unwrap();
        assert_eq!(before.status, ended);
        assert!(claim(&s, "w", 10, 1_000).is_empty(), "{id} claimed");
        for end in [
            AttemptEnd::Finished { status_code: 201 },
            AttemptEnd::Retry {
                status_code: 502,
                at: t(2),
            },
            AttemptEnd::Failed { status_code: 503 },
            AttemptEnd::Released,
        ] {
            assert_eq!(
                s.end_attempt(id, "w", end, t(2)).unwrap(),
                Ended::Ignored,
                "{id}: {end:?}"
            );
        }
        let renewal = s.renew(id, "w", LEASE, t(2)).unwrap();
        let expected = if ended == AsyncStatus::Aborted {
            Renewal::Terminated
        } else {
            Renewal::Lost
        };
        assert_eq!(renewal, expected, "{id}");
        assert_eq!(
            s.terminate(id, 9, t(3)).unwrap(),
            Termination::AlreadyEnded(ended)
        );
        assert_eq!(s.get_async(id).unwrap().unwrap(), before);
    }
    assert_eq!(s.pending(t(10_000)).unwrap(), 0);
    assert_eq!(s.next_due().unwrap(), None);
}

#[test]
fn pending_counts_running_events_waiting_or_between_attempts_not_held() {
    let (_dir, s) = common::sqlite();
    for id in ["a", "b", "c", "d"] {
        s.enqueue(&ev(id, 0)).unwrap();
    }
    claim(&s, "w", 3, 0); // a, b, c held; d waiting
    let retry = AttemptEnd::Retry {
        status_code: 500,
        at: t(99),
    };
    s.end_attempt("a", "w", retry, t(1)).unwrap();
    let done = AttemptEnd::Finished { status_code: 200 };
    s.end_attempt("b", "w", done, t(1)).unwrap();
    assert_eq!(
        s.pending(t(1)).unwrap(),
        2,
        "a (between attempts) and d; c is held"
    );
    assert_eq!(s.pending(t(31)).unwrap(), 3, "and c once its lease ran out");
}

#[test]
fn a_timer_tick_is_claimed_once_across_stores_sharing_the_file() {
    let (dir, s) = common::sqlite();
    let other = SqliteStore::open(db_of(&dir)).unwrap();
    assert!(s.claim_tick("fn/timer", t(60)).unwrap());
    assert!(!s.claim_tick("fn/timer", t(60)).unwrap());
    assert!(!other.claim_tick("fn/timer", t(60)).unwrap());
    assert!(other.claim_tick("fn/timer", t(120)).unwrap());
    assert!(s.claim_tick("fn/other", t(60)).unwrap());
}

#[test]
fn retention_deletes_timer_ticks_older_than_the_async_retention() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SqliteStoreConfig::default();
    cfg.async_retention = Some(Duration::from_secs(24 * 3600));
    let s = SqliteStore::open_with(dir.path().join("q.db"), cfg).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let old = now - time::Duration::days(2);
    assert!(s.claim_tick("timer", old).unwrap());
    assert!(s.claim_tick("timer", now).unwrap());
    let report = s.purge().unwrap();
    assert_eq!(report.timer_ticks, 1);
    assert!(
        !s.claim_tick("timer", now).unwrap(),
        "a recent tick is kept"
    );
    assert!(
        s.claim_tick("timer", old).unwrap(),
        "the old tick was deleted"
    );
}

#[test]
fn a_claim_waits_for_another_connection_holding_the_write_lock() {
    let (dir, s) = common::sqlite();
    s.enqueue(&ev("e1", 0)).unwrap();
    let blocker = rusqlite::Connection::open(db_of(&dir)).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    std::thread::scope(|sc| {
        sc.spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            blocker.execute_batch("COMMIT").unwrap();
        });
        let got = claim(&s, "w", 1, 1);
        assert_eq!(ids(&got), ["e1"]);
    });
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn a_claim_that_cannot_get_the_write_lock_within_the_busy_timeout_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    let mut cfg = SqliteStoreConfig::default();
    cfg.busy_timeout = Duration::from_millis(50);
    let s = SqliteStore::open_with(&db, cfg).unwrap();
    s.enqueue(&ev("e1", 0)).unwrap();
    let blocker = rusqlite::Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = s.claim("w", LEASE, 1, &runs_f(), t(1)).unwrap_err();
    match &err {
        StoreError::Write { what, detail } => {
            assert_eq!(what, "claiming async events for w");
            assert!(detail.contains("locked"), "{detail}");
        }
        other => panic!("not a write error: {other}"),
    }
    blocker.execute_batch("COMMIT").unwrap();
    // Nothing of the failed claim was kept: the event is claimed as new.
    let c = &claim(&s, "w", 1, 2)[0];
    assert_eq!((c.retry_num, c.interrupted), (0, None));
}

#[test]
fn a_failed_queue_write_is_an_error_naming_the_event() {
    let (dir, s) = common::sqlite();
    rusqlite::Connection::open(db_of(&dir))
        .unwrap()
        .execute_batch("DROP TABLE async_events;")
        .unwrap();
    let err = s.enqueue(&ev("e1", 0)).unwrap_err();
    assert!(
        matches!(&err, StoreError::Write { what, .. } if what == "enqueueing async event e1"),
        "{err}"
    );
    // The writer goes on: a write to another table works.
    assert!(s.claim_tick("timer", t(0)).unwrap());
}

/// Claims (limit `batch`) and finishes events from `store` until a claim finds none;
/// the ids it claimed.
fn drain(store: &SqliteStore, worker: &str, batch: usize) -> Vec<String> {
    let mut mine = Vec::new();
    loop {
        let got = store.claim(worker, LEASE, batch, &runs_f(), t(1)).unwrap();
        if got.is_empty() {
            return mine;
        }
        for c in got {
            let id = c.event.invoke_request_id;
            let end = AttemptEnd::Finished { status_code: 200 };
            assert_eq!(
                store.end_attempt(&id, worker, end, t(2)).unwrap(),
                Ended::Now(AsyncStatus::Finished)
            );
            mine.push(id);
        }
    }
}

/// Every id claimed exactly once, all `n` of them.
fn assert_each_claimed_once(claimed: Vec<String>, n: usize) {
    let total = claimed.len();
    let unique: HashSet<String> = claimed.into_iter().collect();
    assert_eq!(total, unique.len(), "an event was claimed twice");
    assert_eq!(unique.len(), n);
}

#[test]
fn two_stores_on_one_file_claiming_from_many_threads_never_claim_an_event_twice() {
    const N: usize = 600;
    let (dir, a) = common::sqlite();
    let b = SqliteStore::open(db_of(&dir)).unwrap();
    for i in 0..N {
        a.enqueue(&ev(&format!("e{i}"), 0)).unwrap();
    }
    let claimed: Vec<String> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = if i % 2 == 0 { &a } else { &b };
                sc.spawn(move || drain(store, &format!("w{i}"), 7))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_each_claimed_once(claimed, N);
    assert_eq!(a.pending(t(10_000)).unwrap(), 0);
    assert_eq!(b.pending(t(10_000)).unwrap(), 0);
}

const CHILD_ENV: &str = "SCF_STORE_QUEUE_CHILD_DB";
const CHILD_TEST: &str = "lease_queue::child_process_claims_until_the_queue_is_empty";
const CLAIMED: &str = "CLAIMED ";

/// Not a test: a process of `two_processes_claiming_from_one_file_never_claim_an_event_twice`,
/// run as `<test binary> --exact CHILD_TEST --ignored` with `CHILD_ENV` naming the file.
#[test]
#[ignore = "a helper process, started by two_processes_claiming_from_one_file_never_claim_an_event_twice"]
fn child_process_claims_until_the_queue_is_empty() {
    let path = std::env::var(CHILD_ENV).unwrap_or_else(|_| {
        panic!("{CHILD_TEST} is the helper process of a queue test, not a test: it runs only with {CHILD_ENV} set")
    });
    let store = SqliteStore::open(&path).unwrap();
    let worker = format!("pid-{}", std::process::id());
    for id in drain(&store, &worker, 5) {
        println!("{CLAIMED}{id}");
    }
}

#[test]
fn two_processes_claiming_from_one_file_never_claim_an_event_twice() {
    const N: usize = 1000;
    let (dir, s) = common::sqlite();
    for i in 0..N {
        s.enqueue(&ev(&format!("e{i}"), 0)).unwrap();
    }
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", CHILD_TEST, "--ignored", "--nocapture"])
                .args(["--test-threads=1"])
                .env(CHILD_ENV, db_of(&dir))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // This process claims too, while they do.
    let mut claimed = drain(&s, "parent", 5);
    let mut per_child = Vec::new();
    for mut child in children {
        let out = BufReader::new(child.stdout.take().unwrap());
        let mine: Vec<String> = out
            .lines()
            .map(Result::unwrap)
            // libtest may start the first line with `test NAME ... `.
            .filter_map(|l| l.split_once(CLAIMED).map(|(_, id)| id.to_owned()))
            .collect();
        assert!(child.wait().unwrap().success(), "a child process failed");
        per_child.push(mine.len());
        claimed.extend(mine);
    }
    assert_each_claimed_once(claimed, N);
    assert_eq!(s.pending(t(10_000)).unwrap(), 0);
    eprintln!("claims per child process: {per_child:?}");
}
