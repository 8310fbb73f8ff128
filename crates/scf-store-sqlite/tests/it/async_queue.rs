//! The async event queue (`ListAsyncEvents`, `GetAsyncEventStatus`), run against both stores.

use crate::common;

use common::t;
use scf_store::{AsyncEvent, AsyncQuery, AsyncStatus, LogStore, MemoryStore, Order, StoreError};
use scf_store::{AsyncOrderBy, TimeInterval};

fn ev(id: &str, function: &str, invoke_type: &str, secs: i64) -> AsyncEvent {
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

/// e1..e5; e2 finished at t(100), e3 failed at t(50), e5 aborted at t(200).
fn seed(s: &dyn LogStore) {
    s.enqueue_async(&ev("e1", "a", "OTHERS", 0)).unwrap();
    s.enqueue_async(&ev("e2", "a", "TRIGGER_TIMER", 10))
        .unwrap();
    s.enqueue_async(&ev("e3", "a", "COS", 20)).unwrap();
    let mut e4 = ev("e4", "b", "OTHERS", 30);
    e4.namespace = "prod".into();
    e4.qualifier = "2".into();
    s.enqueue_async(&e4).unwrap();
    s.enqueue_async(&ev("e5", "a", "OTHERS", 40)).unwrap();
    s.update_async("e2", AsyncStatus::Finished, 200, Some(t(100)), 1)
        .unwrap();
    s.update_async("e3", AsyncStatus::Failed, 430, Some(t(50)), 3)
        .unwrap();
    s.update_async("e5", AsyncStatus::Aborted, 0, Some(t(200)), 1)
        .unwrap();
}

fn list(s: &dyn LogStore, q: AsyncQuery) -> (u64, Vec<String>) {
    let (n, evs) = s.list_async(&q).unwrap();
    (n, evs.into_iter().map(|e| e.invoke_request_id).collect())
}

fn enqueued_event_round_trips(s: &dyn LogStore) {
    let e = ev("e1", "a", "OTHERS", 0);
    s.enqueue_async(&e).unwrap();
    assert_eq!(s.get_async("e1").unwrap(), Some(e));
    assert_eq!(s.get_async("nope").unwrap(), None);
}

fn update_sets_status_code_end_time_and_attempts(s: &dyn LogStore) {
    s.enqueue_async(&ev("e1", "a", "OTHERS", 0)).unwrap();
    s.update_async("e1", AsyncStatus::Failed, 433, Some(t(9)), 3)
        .unwrap();
    let got = s.get_async("e1").unwrap().unwrap();
    assert_eq!(got.status, AsyncStatus::Failed);
    assert_eq!(got.status_code, 433);
    assert_eq!(got.end_time, Some(t(9)));
    assert_eq!(got.attempts, 3);
    assert_eq!(got.event, "{\"id\":\"e1\"}");
}

fn update_of_an_unknown_event_is_not_found(s: &dyn LogStore) {
    let err = s
        .update_async("ghost", AsyncStatus::Finished, 200, None, 1)
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::AsyncEventNotFound(id) if id == "ghost"),
        "{err}"
    );
}

fn unfinished_returns_only_running_events_oldest_first(s: &dyn LogStore) {
    seed(s);
    let ids: Vec<_> = s
        .unfinished_async()
        .unwrap()
        .into_iter()
        .map(|e| e.invoke_request_id)
        .collect();
    assert_eq!(ids, ["e1", "e4"]);
}

fn list_defaults_to_newest_first(s: &dyn LogStore) {
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
        )
    );
}

fn list_filters_by_function_namespace_and_qualifier(s: &dyn LogStore) {
    seed(s);
    assert_eq!(
        list(
            s,
            AsyncQuery {
                function_name: Some("b".into()),
                ..AsyncQuery::default()
            }
        )
        .1,
        ["e4"]
    );
    assert_eq!(
        list(
            s,
            AsyncQuery {
                namespace: Some("prod".into()),
                ..AsyncQuery::default()
            }
        )
        .1,
        ["e4"]
    );
    assert_eq!(
        list(
            s,
            AsyncQuery {
                qualifier: Some("2".into()),
                ..AsyncQuery::default()
            }
        )
        .1,
        ["e4"]
    );
    assert_eq!(
        list(
            s,
            AsyncQuery {
                invoke_request_id: Some("e3".into()),
                ..AsyncQuery::default()
            }
        )
        .1,
        ["e3"]
    );
}

fn list_filters_by_invoke_type_and_status_lists(s: &dyn LogStore) {
    seed(s);
    let q = AsyncQuery {
        invoke_types: vec!["COS".into(), "TRIGGER_TIMER".into()],
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q).1, ["e2", "e3"]);
    let q = AsyncQuery {
        statuses: vec![AsyncStatus::Running, AsyncStatus::Aborted],
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q).1, ["e1", "e4", "e5"]);
}

fn start_time_interval_is_left_closed_right_open(s: &dyn LogStore) {
    seed(s);
    let q = AsyncQuery {
        start_time_interval: Some(TimeInterval {
            start: t(10),
            end: t(30),
        }),
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q), (2, vec!["e2".into(), "e3".into()]));
}

fn end_time_interval_skips_running_events(s: &dyn LogStore) {
    seed(s);
    let q = AsyncQuery {
        end_time_interval: Some(TimeInterval {
            start: t(0),
            end: t(200),
        }),
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q).1, ["e2", "e3"]);
}

fn order_by_end_time(s: &dyn LogStore) {
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
    assert_eq!(list(s, q).1, ["e3", "e2", "e5"]);
}

fn offset_and_limit_page_with_total_count(s: &dyn LogStore) {
    seed(s);
    let q = AsyncQuery {
        offset: 1,
        limit: 2,
        order: Order::Asc,
        ..AsyncQuery::default()
    };
    assert_eq!(list(s, q), (5, vec!["e2".into(), "e3".into()]));
}

fn limit_over_100_is_rejected(s: &dyn LogStore) {
    let err = s
        .list_async(&AsyncQuery {
            limit: 101,
            ..AsyncQuery::default()
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidQuery { field: "Limit", .. }),
        "{err}"
    );
    assert!(s
        .list_async(&AsyncQuery {
            limit: 100,
            ..AsyncQuery::default()
        })
        .is_ok());
}

fn enqueue_of_a_known_id_replaces_it(s: &dyn LogStore) {
    s.enqueue_async(&ev("e1", "a", "OTHERS", 0)).unwrap();
    let mut again = ev("e1", "a", "COS", 5);
    again.attempts = 2;
    s.enqueue_async(&again).unwrap();
    assert_eq!(s.get_async("e1").unwrap(), Some(again));
    assert_eq!(s.list_async(&AsyncQuery::default()).unwrap().0, 1);
}

crate::for_each_store!(
    enqueued_event_round_trips,
    update_sets_status_code_end_time_and_attempts,
    update_of_an_unknown_event_is_not_found,
    unfinished_returns_only_running_events_oldest_first,
    list_defaults_to_newest_first,
    list_filters_by_function_namespace_and_qualifier,
    list_filters_by_invoke_type_and_status_lists,
    start_time_interval_is_left_closed_right_open,
    end_time_interval_skips_running_events,
    order_by_end_time,
    offset_and_limit_page_with_total_count,
    limit_over_100_is_rejected,
    enqueue_of_a_known_id_replaces_it,
);

#[test]
fn async_status_displays_and_parses_the_api_strings() {
    for (s, st) in [
        ("RUNNING", AsyncStatus::Running),
        ("FINISHED", AsyncStatus::Finished),
        ("FAILED", AsyncStatus::Failed),
        ("ABORTED", AsyncStatus::Aborted),
    ] {
        assert_eq!(st.to_string(), s);
        assert_eq!(s.parse::<AsyncStatus>().unwrap(), st);
    }
    assert!("running"
        .parse::<AsyncStatus>()
        .unwrap_err()
        .to_string()
        .contains("`running`"));
}

#[test]
fn memory_store_evicts_finished_events_first_and_never_drops_running_ones() {
    let s = MemoryStore::with_capacity(10, 2);
    s.enqueue_async(&ev("e1", "a", "OTHERS", 0)).unwrap();
    s.enqueue_async(&ev("e2", "a", "OTHERS", 1)).unwrap();
    let err = s.enqueue_async(&ev("e3", "a", "OTHERS", 2)).unwrap_err();
    assert!(matches!(err, StoreError::Full { capacity: 2, .. }), "{err}");
    s.update_async("e2", AsyncStatus::Finished, 200, Some(t(3)), 1)
        .unwrap();
    s.enqueue_async(&ev("e3", "a", "OTHERS", 2)).unwrap();
    assert!(s.get_async("e2").unwrap().is_none());
    assert!(s.get_async("e1").unwrap().is_some());
}
