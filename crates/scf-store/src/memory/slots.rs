//! [`ConcurrencySlots`] for [`MemoryStore`]: the held slots in a map behind their own lock.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::MemoryStore;
use crate::{ConcurrencySlots, FunctionRef, Lease, SlotId, StoreError};

/// One held slot.
#[derive(Debug)]
struct Held {
    function: FunctionRef,
    holder: String,
    until: OffsetDateTime,
}

/// The held slots, by id; ids are never reused.
#[derive(Debug, Default)]
pub(super) struct Slots {
    next: i64,
    held: HashMap<SlotId, Held>,
}

impl MemoryStore {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ConcurrencySlots for MemoryStore {
    fn acquire_slot(
        &self,
        function: &FunctionRef,
        holder: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<SlotId>, StoreError> {
        let mut slots = self.slots();
        // Slots whose lease ran out are gone (their node died or stalled).
        slots.held.retain(|_, h| h.until > now);
        let live = slots
            .held
            .values()
            .filter(|h| h.function == *function)
            .count();
        if live >= limit as usize {
            return Ok(None);
        }
        slots.next += 1;
        let id = SlotId(slots.next);
        slots.held.insert(
            id,
            Held {
                function: function.clone(),
                holder: holder.to_owned(),
                until: Lease::end(now, lease),
            },
        );
        Ok(Some(id))
    }

    fn renew_slots(
        &self,
        holder: &str,
        ids: &[SlotId],
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<SlotId>, StoreError> {
        let mut slots = self.slots();
        let until = Lease::end(now, lease);
        let mut lost = Vec::new();
        for id in ids {
            match slots.held.get_mut(id) {
                Some(h) if h.holder == holder && h.until > now => h.until = until,
                _ => lost.push(*id),
            }
        }
        Ok(lost)
    }

    fn release_slot(&self, slot: SlotId) -> Result<(), StoreError> {
        self.slots().held.remove(&slot);
        Ok(())
    }

    fn held_slots(&self, function: &FunctionRef, now: OffsetDateTime) -> Result<u32, StoreError> {
        let n = self
            .slots()
            .held
            .values()
            .filter(|h| h.function == *function && h.until > now)
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
