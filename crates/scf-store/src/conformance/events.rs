//! Checks of [`AsyncQueue`]'s reads: `get_async`, `unfinished`, and every
//! `ListAsyncEvents` ([`AsyncQuery`]) parameter, over events the queue's own operations
//! ended at chosen times (`claim` and `end_attempt`, `terminate`).

use std::time::Duration;

use super::t;
use crate::{AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncQueue, AsyncStatus, AttemptEnd, Ended};
use crate::{FunctionRef, Order, StoreError, TimeInterval, MAX_ASYNC_LIMIT};

/// A fresh event `id` of `function` at `t(secs)`.
pub(super) fn ev(id: &str, function: &str, invoke_type: &str, secs: i64) -> AsyncEvent {
    AsyncEvent::new(
        id,
        function,
        "default",
        "$LATEST",
        invoke_type,
        t(secs),
        format!("{{\"id\":\"{id}\"}}"),
    )
}

/// The worker that ends the events of [`seed`].
const WORKER: &str = "seeder";

#[track_caller]
fn enqueue(q: &dyn AsyncQueue, e: &AsyncEvent) {
    if let Err(err) = q.enqueue(e) {
        panic!(
            "AsyncQueue::enqueue of `{}` failed: {err}",
            e.invoke_request_id
        );
    }
}

/// Ends `id` at `t(secs)` with `end` (`Finished` or `Failed`): [`WORKER`] claims every
/// due event at `t(secs)`, ends `id`'s attempt and releases the others unrun (a release
/// leaves an event as it was before the claim).
#[track_caller]
fn end_at(q: &dyn AsyncQueue, id: &str, end: AttemptEnd, secs: i64) {
    let functions = [
        FunctionRef::new("default", "a"),
        FunctionRef::new("prod", "b"),
    ];
    let claims = q
        .claim(WORKER, Duration::from_secs(30), 100, &functions, t(secs))
        .unwrap_or_else(|e| panic!("AsyncQueue::claim at t({secs}) failed: {e}"));
    assert!(
        claims.iter().any(|c| c.event.invoke_request_id == id),
        "`{id}` was not claimed at t({secs})"
    );
    for c in claims {
        let other = c.event.invoke_request_id;
        let how = if other == id {
            end
        } else {
            AttemptEnd::Released
        };
        let ended = q
            .end_attempt(&other, WORKER, how, t(secs))
            .unwrap_or_else(|e| {
                panic!("AsyncQueue::end_attempt of `{other}` ({how:?}) failed: {e}")
            });
        assert!(
            matches!(ended, Ended::Now(_)),
            "end_attempt of `{other}` ({how:?}) at t({secs}) was ignored"
        );
    }
}

#[track_caller]
fn get(q: &dyn AsyncQueue, id: &str) -> Option<AsyncEvent> {
    q.get_async(id)
        .unwrap_or_else(|e| panic!("AsyncQueue::get_async(`{id}`) failed: {e}"))
}

/// e1..e5; e2 finished at t(100), e3 failed at t(50), e5 aborted at t(200).
#[track_caller]
fn seed(q: &dyn AsyncQueue) {
    enqueue(q, &ev("e1", "a", "OTHERS", 0));
    enqueue(q, &ev("e2", "a", "TRIGGER_TIMER", 10));
    enqueue(q, &ev("e3", "a", "COS", 20));
    let mut e4 = ev("e4", "b", "OTHERS", 30);
    e4.namespace = "prod".into();
    e4.qualifier = "2".into();
    enqueue(q, &e4);
    enqueue(q, &ev("e5", "a", "OTHERS", 40));
    end_at(q, "e3", AttemptEnd::Failed { status_code: 430 }, 50);
    end_at(q, "e2", AttemptEnd::Finished { status_code: 200 }, 100);
    if let Err(err) = q.terminate("e5", 0, t(200)) {
        panic!("AsyncQueue::terminate of `e5` failed: {err}");
    }
    let ended = [
        ("e2", AsyncStatus::Finished, 200, 100),
        ("e3", AsyncStatus::Failed, 430, 50),
        ("e5", AsyncStatus::Aborted, 0, 200),
    ];
    for (id, status, status_code, secs) in ended {
        let got = get(q, id).unwrap_or_else(|| panic!("the seeded event `{id}` is gone"));
        assert_eq!(
            (got.status, got.status_code, got.end_time),
            (status, status_code, Some(t(secs))),
            "the seeded event `{id}` (status, status code, end time)"
        );
    }
}

#[track_caller]
fn list(q: &dyn AsyncQueue, query: AsyncQuery) -> (u64, Vec<String>) {
    let (n, evs) = q
        .list_async(&query)
        .unwrap_or_else(|e| panic!("AsyncQueue::list_async failed: {e} (query {query:?})"));
    (n, evs.into_iter().map(|e| e.invoke_request_id).collect())
}

/// An enqueued event reads back equal, every field (one of another namespace and
/// qualifier); an unknown id reads as `None`.
pub fn enqueued_event_round_trips(s: &dyn AsyncQueue) {
    let mut e = ev("e1", "b", "COS", 7);
    e.namespace = "prod".into();
    e.qualifier = "2".into();
    e.node = "host-a-12345".into();
    enqueue(s, &e);
    assert_eq!(get(s, "e1"), Some(e), "the enqueued event read back");
    assert_eq!(get(s, "nope"), None, "get_async of an unknown id");
}

/// The node that accepted an event is kept through claims and attempt ends, and read
/// back by `get_async`, `unfinished` and `list_async` alike.
pub fn accepting_node_round_trips_through_every_read(s: &dyn AsyncQueue) {
    let mut a = ev("n1", "a", "OTHERS", 1);
    a.node = "host-a-1".into();
    let mut b = ev("n2", "a", "OTHERS", 2);
    b.node = "host-b-2".into();
    enqueue(s, &a);
    enqueue(s, &b);
    end_at(s, "n1", AttemptEnd::Finished { status_code: 200 }, 3);
    assert_eq!(
        get(s, "n1").map(|e| e.node),
        Some("host-a-1".into()),
        "get_async"
    );
    let unfinished: Vec<String> = s
        .unfinished()
        .unwrap_or_else(|e| panic!("AsyncQueue::unfinished failed: {e}"))
        .into_iter()
        .map(|e| e.node)
        .collect();
    assert_eq!(unfinished, ["host-b-2"], "unfinished");
    let (_, listed) = s
        .list_async(&AsyncQuery {
            function_name: Some("a".into()),
            order: Order::Asc,
            ..AsyncQuery::default()
        })
        .unwrap_or_else(|e| panic!("AsyncQueue::list_async failed: {e}"));
    let nodes: Vec<String> = listed.into_iter().map(|e| e.node).collect();
    assert_eq!(nodes, ["host-a-1", "host-b-2"], "list_async");
}

/// `unfinished` returns only the `RUNNING` events, oldest first.
pub fn unfinished_returns_only_running_events_oldest_first(s: &dyn AsyncQueue) {
    seed(s);
    let ids: Vec<_> = s
        .unfinished()
        .unwrap_or_else(|e| panic!("AsyncQueue::unfinished failed: {e}"))
        .into_iter()
        .map(|e| e.invoke_request_id)
        .collect();
    assert_eq!(ids, ["e1", "e4"], "unfinished events");
}

/// `ListAsyncEvents` lists newest first by default, with the total count.
pub fn list_defaults_to_newest_first(s: &dyn AsyncQueue) {
    seed(s);
    assert_eq!(
        list(s, AsyncQuery::default()),
        (
            5,
            vec![
                "e5".into(),
                "e4".into(),
                "e3".into(),
                "e2".into(),
                "e1".into()
            ]
        ),
        "the default ListAsyncEvents"
    );
}

/// `FunctionName`, `Namespace`, `Qualifier` and `InvokeRequestId` each filter.
pub fn list_filters_by_function_namespace_and_qualifier(s: &dyn AsyncQueue) {
    seed(s);
    let by = |q: AsyncQuery| list(s, q).1;
    assert_eq!(
        by(AsyncQuery {
            function_name: Some("b".into()),
            ..AsyncQuery::default()
        }),
        ["e4"],
        "FunctionName b"
    );
    assert_eq!(
        by(AsyncQuery {
            namespace: Some("prod".into()),
            ..AsyncQuery::default()
        }),
        ["e4"],
        "Namespace prod"
    );
    assert_eq!(
        by(AsyncQuery {
            qualifier: Some("2".into()),
            ..AsyncQuery::default()
        }),
        ["e4"],
        "Qualifier 2"
    );
    assert_eq!(
        by(AsyncQuery {
            invoke_request_id: Some("e3".into()),
            ..AsyncQuery::default()
        }),
        ["e3"],
        "InvokeRequestId e3"
    );
}

/// `InvokeType` and `Status` keep events matching any value of their list.
pub fn list_filters_by_invoke_type_and_status_lists(s: &dyn AsyncQueue) {
    seed(s);
    let q = AsyncQuery {
        invoke_types: vec!["COS".into(), "TRIGGER_TIMER".into()],
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(
        list(s, q).1,
        ["e2", "e3"],
        "InvokeType COS or TRIGGER_TIMER"
    );
    let q = AsyncQuery {
        statuses: vec![AsyncStatus::Running, AsyncStatus::Aborted],
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(
        list(s, q).1,
        ["e1", "e4", "e5"],
        "Status RUNNING or ABORTED"
    );
}

/// `StartTimeInterval` is `[start, end)`.
pub fn start_time_interval_is_left_closed_right_open(s: &dyn AsyncQueue) {
    seed(s);
    let q = AsyncQuery {
        start_time_interval: Some(TimeInterval {
            start: t(10),
            end: t(30),
        }),
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(
        list(s, q),
        (2, vec!["e2".into(), "e3".into()]),
        "StartTimeInterval [t(10), t(30))"
    );
}

/// `EndTimeInterval` never matches a running event (it has no end time).
pub fn end_time_interval_skips_running_events(s: &dyn AsyncQueue) {
    seed(s);
    let q = AsyncQuery {
        end_time_interval: Some(TimeInterval {
            start: t(0),
            end: t(200),
        }),
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q).1, ["e2", "e3"], "EndTimeInterval [t(0), t(200))");
}

/// `Orderby` `EndTime` sorts by end time.
pub fn order_by_end_time(s: &dyn AsyncQueue) {
    seed(s);
    let q = AsyncQuery {
        statuses: vec![
            AsyncStatus::Finished,
            AsyncStatus::Failed,
            AsyncStatus::Aborted,
        ],
        order_by: AsyncOrderBy::EndTime,
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q).1, ["e3", "e2", "e5"], "Orderby EndTime ASC");
}

/// `Offset` and `Limit` cut a page while the total counts every match.
pub fn offset_and_limit_page_with_total_count(s: &dyn AsyncQueue) {
    seed(s);
    let q = AsyncQuery {
        offset: 1,
        limit: 2,
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(
        list(s, q),
        (5, vec!["e2".into(), "e3".into()]),
        "Offset 1, Limit 2"
    );
}

/// `Limit` over 100 is refused with `InvalidQuery`; exactly 100 is not.
pub fn limit_over_100_is_rejected(s: &dyn AsyncQueue) {
    let result = s.list_async(&AsyncQuery {
        limit: MAX_ASYNC_LIMIT + 1,
        ..AsyncQuery::default()
    });
    let Err(err) = result else {
        panic!("Limit 101 was accepted");
    };
    assert!(
        matches!(err, StoreError::InvalidQuery { field: "Limit", .. }),
        "Limit 101: {err}"
    );
    let at_most = s.list_async(&AsyncQuery {
        limit: MAX_ASYNC_LIMIT,
        ..AsyncQuery::default()
    });
    assert!(at_most.is_ok(), "Limit 100 was refused: {at_most:?}");
}
