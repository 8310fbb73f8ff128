//! `AsyncStatus` parsing and `MemoryStore`'s eviction of async events; the `AsyncQueue`
//! reads (`ListAsyncEvents` and the rest) and rules run over every store in the
//! conformance suite (`scf_store::conformance::events` and `::queue`, see
//! `conformance.rs`).

use crate::common;

use common::t;
use std::time::Duration;

use scf_store::{AsyncEvent, AsyncQueue, AsyncStatus, AttemptEnd, FunctionRef, MemoryStore};
use scf_store::{Ended, StoreError};

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
    s.enqueue(&ev("e1", "a", "OTHERS", 0)).unwrap();
    s.enqueue(&ev("e2", "b", "OTHERS", 1)).unwrap();
    let err = s.enqueue(&ev("e3", "a", "OTHERS", 2)).unwrap_err();
    assert!(matches!(err, StoreError::Full { capacity: 2, .. }), "{err}");
    let runs_b = [FunctionRef::new("default", "b")];
    let claims = s
        .claim("w", Duration::from_secs(30), 10, &runs_b, t(3))
        .unwrap();
    assert_eq!(claims.len(), 1);
    let finished = AttemptEnd::Finished { status_code: 200 };
    assert_eq!(
        s.end_attempt("e2", "w", finished, t(3)).unwrap(),
        Ended::Now(AsyncStatus::Finished)
    );
    s.enqueue(&ev("e3", "a", "OTHERS", 2)).unwrap();
    assert!(s.get_async("e2").unwrap().is_none());
    assert!(s.get_async("e1").unwrap().is_some());
}
