//! `AsyncStatus` parsing and `MemoryStore`'s eviction of async events; `LogStore`'s
//! async-event methods (`ListAsyncEvents` and the rest) run over every store in the
//! conformance suite (`scf_store::conformance::events`, see `conformance.rs`).

use crate::common;

use common::t;
use scf_store::{AsyncEvent, AsyncStatus, LogStore, MemoryStore, StoreError};

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
