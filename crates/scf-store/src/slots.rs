//! A function's concurrency limit counted for a whole deployment: every node that shares
//! the store takes a slot before it runs an invocation and gives it back after, so that
//! the limit holds across nodes, not per node.
//!
//! Each slot is held under a lease, as async events are: its node renews the leases of
//! the slots it holds every so often ([`ConcurrencySlots::renew_slots`]), and a slot
//! whose lease ran out (its node died, or stalled past the lease) counts no more, so a
//! dead node's slots come back within one lease. Times are passed in (`now`), as for
//! [`AsyncQueue`](crate::AsyncQueue).

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::StoreError;
use crate::queue::FunctionRef;

/// One held place in a function's deployment-wide concurrency, as the store numbers it
/// (unique within the store while it is held).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub i64);

/// Where the slots of deployment-wide concurrency limits are counted. Methods block, as
/// [`LogStore`](crate::LogStore)'s do.
pub trait ConcurrencySlots: Send + Sync + std::fmt::Debug {
    /// Takes one of `function`'s `limit` slots for `holder` (a node id) under a lease of
    /// `lease` from `now`: `Some` when fewer than `limit` slots of the function are held
    /// by leases live at `now`, `None` when all are taken. Two callers never both get the
    /// last slot. A slot whose lease ran out counts no more (the store may delete it).
    fn acquire_slot(
        &self,
        function: &FunctionRef,
        holder: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<SlotId>, StoreError>;

    /// Extends the leases of `slots`, held by `holder`, to `now + lease`; returns those it
    /// could not extend (their lease had run out at `now`, they were released, or another
    /// holder has them): the caller holds those no more.
    fn renew_slots(
        &self,
        holder: &str,
        slots: &[SlotId],
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<SlotId>, StoreError>;

    /// Gives a slot back. Releasing a slot that is not held (released already, or its lease
    /// ran out and it was deleted) does nothing.
    fn release_slot(&self, slot: SlotId) -> Result<(), StoreError>;

    /// How many slots of `function` leases live at `now` hold.
    fn held_slots(&self, function: &FunctionRef, now: OffsetDateTime) -> Result<u32, StoreError>;
}
