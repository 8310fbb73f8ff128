//! Checks of [`ConcurrencySlots`]: a deployment-wide concurrency limit counted in slots
//! under leases.

use std::time::Duration;

use super::t;
use crate::{ConcurrencySlots, FunctionRef, SlotId};

const LEASE: Duration = Duration::from_secs(10);

fn f(name: &str) -> FunctionRef {
    FunctionRef::new("default", name)
}

#[track_caller]
fn acquire(
    s: &dyn ConcurrencySlots,
    function: &str,
    holder: &str,
    limit: u32,
    secs: i64,
) -> Option<SlotId> {
    s.acquire_slot(&f(function), holder, limit, LEASE, t(secs))
        .unwrap_or_else(|e| panic!("ConcurrencySlots::acquire_slot of `{function}` failed: {e}"))
}

#[track_caller]
fn held(s: &dyn ConcurrencySlots, function: &str, secs: i64) -> u32 {
    s.held_slots(&f(function), t(secs))
        .unwrap_or_else(|e| panic!("ConcurrencySlots::held_slots of `{function}` failed: {e}"))
}

#[track_caller]
fn release(s: &dyn ConcurrencySlots, slot: SlotId) {
    s.release_slot(slot)
        .unwrap_or_else(|e| panic!("ConcurrencySlots::release_slot({slot:?}) failed: {e}"));
}

/// Slots are handed out up to the limit, whoever asks; past it, none.
pub fn acquire_gives_slots_up_to_the_limit_then_none(s: &dyn ConcurrencySlots) {
    let a = acquire(s, "a", "node-1", 2, 0);
    let b = acquire(s, "a", "node-2", 2, 0);
    assert!(
        a.is_some() && b.is_some(),
        "two slots of a limit of 2: {a:?} {b:?}"
    );
    assert_ne!(a, b, "two held slots have different ids");
    assert_eq!(
        acquire(s, "a", "node-1", 2, 1),
        None,
        "a third slot of a limit of 2"
    );
    assert_eq!(
        acquire(s, "a", "node-3", 2, 1),
        None,
        "a third slot, from another node"
    );
    assert_eq!(held(s, "a", 1), 2, "held slots");
}

/// A released slot may be taken again; releasing it twice does nothing.
pub fn release_frees_a_slot_and_twice_is_harmless(s: &dyn ConcurrencySlots) {
    let a = acquire(s, "a", "node-1", 1, 0).unwrap_or_else(|| panic!("the first slot"));
    assert_eq!(acquire(s, "a", "node-2", 1, 0), None, "the limit is 1");
    release(s, a);
    release(s, a);
    assert_eq!(held(s, "a", 0), 0, "held slots after the release");
    assert!(
        acquire(s, "a", "node-2", 1, 0).is_some(),
        "the freed slot is taken again"
    );
    assert_eq!(held(s, "a", 0), 1, "held slots after taking it again");
}

/// A slot whose lease ran out (its node died) counts no more: another node takes it.
pub fn a_slot_whose_lease_ran_out_comes_back(s: &dyn ConcurrencySlots) {
    assert!(acquire(s, "a", "dead-node", 1, 0).is_some());
    assert_eq!(
        acquire(s, "a", "node-2", 1, 9),
        None,
        "the lease is live at t(9)"
    );
    assert_eq!(held(s, "a", 10), 0, "the lease ran out at t(10)");
    assert!(
        acquire(s, "a", "node-2", 1, 10).is_some(),
        "the dead node's slot is taken once its lease ran out"
    );
}

/// Renewing keeps a slot past its first lease; a slot whose lease ran out, one released
/// and one of another holder are reported lost.
pub fn renew_keeps_live_slots_and_reports_the_rest_lost(s: &dyn ConcurrencySlots) {
    let a = acquire(s, "a", "node-1", 5, 0).unwrap_or_else(|| panic!("slot a"));
    let b = acquire(s, "a", "node-1", 5, 0).unwrap_or_else(|| panic!("slot b"));
    let c = acquire(s, "a", "node-2", 5, 0).unwrap_or_else(|| panic!("slot c"));
    let d = acquire(s, "a", "node-1", 5, 0).unwrap_or_else(|| panic!("slot d"));
    release(s, b);
    let lost = s
        .renew_slots("node-1", &[a, b, c], LEASE, t(5))
        .unwrap_or_else(|e| panic!("ConcurrencySlots::renew_slots failed: {e}"));
    assert_eq!(
        lost,
        [b, c],
        "the released slot and node-2's are lost to node-1"
    );
    // At t(12): a was renewed until t(15); c and d ran out at t(10).
    assert_eq!(
        held(s, "a", 12),
        1,
        "only the renewed slot is held at t(12)"
    );
    let lost = s
        .renew_slots("node-1", &[a, d], LEASE, t(12))
        .unwrap_or_else(|e| panic!("ConcurrencySlots::renew_slots failed: {e}"));
    assert_eq!(lost, [d], "a slot whose lease ran out is lost");
    assert_eq!(held(s, "a", 21), 1, "a renewed again until t(22)");
}

/// Each function has its own limit.
pub fn functions_are_counted_apart(s: &dyn ConcurrencySlots) {
    assert!(acquire(s, "a", "node-1", 1, 0).is_some());
    assert!(
        acquire(s, "b", "node-1", 1, 0).is_some(),
        "b's limit is its own"
    );
    let other_ns = s
        .acquire_slot(&FunctionRef::new("prod", "a"), "node-1", 1, LEASE, t(0))
        .unwrap_or_else(|e| panic!("acquire_slot failed: {e}"));
    assert!(
        other_ns.is_some(),
        "a of another namespace is another function"
    );
    assert_eq!(acquire(s, "a", "node-1", 1, 0), None);
    assert_eq!((held(s, "a", 0), held(s, "b", 0)), (1, 1));
}

/// Threads racing for slots, as nodes do, never get more than the limit between them.
pub fn concurrent_acquires_never_exceed_the_limit(s: &dyn ConcurrencySlots) {
    const LIMIT: u32 = 5;
    let got: Vec<Option<SlotId>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                scope.spawn(move || {
                    s.acquire_slot(&f("a"), &format!("node-{i}"), LIMIT, LEASE, t(0))
                        .unwrap_or_else(|e| panic!("acquire_slot failed: {e}"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("an acquiring thread panicked"))
            })
            .collect()
    });
    let taken = got.iter().flatten().count();
    assert_eq!(
        taken, LIMIT as usize,
        "slots handed out to 16 racing callers"
    );
    assert_eq!(held(s, "a", 0), LIMIT);
}
