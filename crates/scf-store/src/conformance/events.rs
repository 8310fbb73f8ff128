//! Checks of [`LogStore`]'s async events: `enqueue_async`, `update_async`,
//! `unfinished_async`, and every `ListAsyncEvents` ([`AsyncQuery`]) parameter.

use super::t;
use crate::{AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncStatus, LogStore, Order, StoreError};
use crate::{TimeInterval, MAX_ASYNC_LIMIT};

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

#[track_caller]
fn enqueue(s: &dyn LogStore, e: &AsyncEvent) {
    if let Err(err) = s.enqueue_async(e) {
        panic!(
            "LogStore::enqueue_async of `{}` failed: {err}",
            e.invoke_request_id
        );
    }
}

#[track_caller]
fn update(s: &dyn LogStore, id: &str, status: AsyncStatus, code: i64, secs: i64, attempts: u32) {
    if let Err(err) = s.update_async(id, status, code, Some(t(secs)), attempts) {
        panic!("LogStore::update_async of `{id}` to {status} failed: {err}");
    }
}

#[track_caller]
fn get(s: &dyn LogStore, id: &str) -> Option<AsyncEvent> {
    s.get_async(id)
        .unwrap_or_else(|e| panic!("LogStore::get_async(`{id}`) failed: {e}"))
}

/// e1..e5; e2 finished at t(100), e3 failed at t(50), e5 aborted at t(200).
#[track_caller]
fn seed(s: &dyn LogStore) {
    enqueue(s, &ev("e1", "a", "OTHERS", 0));
    enqueue(s, &ev("e2", "a", "TRIGGER_TIMER", 10));
    enqueue(s, &ev("e3", "a", "COS", 20));
    let mut e4 = ev("e4", "b", "OTHERS", 30);
    e4.namespace = "prod".into();
    e4.qualifier = "2".into();
    enqueue(s, &e4);
    enqueue(s, &ev("e5", "a", "OTHERS", 40));
    update(s, "e2", AsyncStatus::Finished, 200, 100, 1);
    update(s, "e3", AsyncStatus::Failed, 430, 50, 3);
    update(s, "e5", AsyncStatus::Aborted, 0, 200, 1);
}

#[track_caller]
fn list(s: &dyn LogStore, q: AsyncQuery) -> (u64, Vec<String>) {
    let (n, evs) = s
        .list_async(&q)
        .unwrap_or_else(|e| panic!("LogStore::list_async failed: {e} (query {q:?})"));
    (n, evs.into_iter().map(|e| e.invoke_request_id).collect())
}

/// An enqueued event reads back equal; an unknown id reads as `None`.
pub fn enqueued_event_round_trips(s: &dyn LogStore) {
    let e = ev("e1", "a", "OTHERS", 0);
    enqueue(s, &e);
    assert_eq!(get(s, "e1"), Some(e), "the enqueued event read back");
    assert_eq!(get(s, "nope"), None, "get_async of an unknown id");
}

/// `update_async` sets status, status code, end time and attempts, and keeps the event text.
pub fn update_sets_status_code_end_time_and_attempts(s: &dyn LogStore) {
    enqueue(s, &ev("e1", "a", "OTHERS", 0));
    update(s, "e1", AsyncStatus::Failed, 433, 9, 3);
    let got = get(s, "e1").expect("the updated event is gone");
    assert_eq!(got.status, AsyncStatus::Failed, "status after update");
    assert_eq!(got.status_code, 433, "status code after update");
    assert_eq!(got.end_time, Some(t(9)), "end time after update");
    assert_eq!(got.attempts, 3, "attempts after update");
    assert_eq!(got.event, "{\"id\":\"e1\"}", "event text after update");
}

/// `update_async` of an unknown id is `AsyncEventNotFound`.
pub fn update_of_an_unknown_event_is_not_found(s: &dyn LogStore) {
    let result = s.update_async("ghost", AsyncStatus::Finished, 200, None, 1);
    let Err(err) = result else {
        panic!("update_async of an unknown id succeeded");
    };
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "update_async of an unknown id: {err}"
    );
}

/// `unfinished_async` returns only the `RUNNING` events, oldest first.
pub fn unfinished_returns_only_running_events_oldest_first(s: &dyn LogStore) {
    seed(s);
    let ids: Vec<_> = s
        .unfinished_async()
        .unwrap_or_else(|e| panic!("LogStore::unfinished_async failed: {e}"))
        .into_iter()
        .map(|e| e.invoke_request_id)
        .collect();
    assert_eq!(ids, ["e1", "e4"], "unfinished events");
}

/// `ListAsyncEvents` lists newest first by default, with the total count.
pub fn list_defaults_to_newest_first(s: &dyn LogStore) {
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
pub fn list_filters_by_function_namespace_and_qualifier(s: &dyn LogStore) {
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
pub fn list_filters_by_invoke_type_and_status_lists(s: &dyn LogStore) {
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
pub fn start_time_interval_is_left_closed_right_open(s: &dyn LogStore) {
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
pub fn end_time_interval_skips_running_events(s: &dyn LogStore) {
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
pub fn order_by_end_time(s: &dyn LogStore) {
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
pub fn offset_and_limit_page_with_total_count(s: &dyn LogStore) {
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
pub fn limit_over_100_is_rejected(s: &dyn LogStore) {
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

/// `enqueue_async` of a known id replaces the event.
pub fn enqueue_of_a_known_id_replaces_it(s: &dyn LogStore) {
    enqueue(s, &ev("e1", "a", "OTHERS", 0));
    let mut again = ev("e1", "a", "COS", 5);
    again.attempts = 2;
    enqueue(s, &again);
    assert_eq!(get(s, "e1"), Some(again), "the replacing event");
    assert_eq!(
        list(s, AsyncQuery::default()).0,
        1,
        "TotalCount after replacing"
    );
}
