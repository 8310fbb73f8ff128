//! [`ConcurrencySlots`] for [`SqliteStore`]: deployment-wide concurrency slots in the
//! `concurrency_slots` table (schema version 6).
//!
//! Acquiring, renewing and releasing run on the writer thread like the queue's writes
//! ([`SqliteStore::queue_write`]), inside a `BEGIN IMMEDIATE` transaction, so a count and
//! the insert that follows it see no other process's write in between: two processes
//! never both take the last slot. `held_slots` reads from the reader connection.

use std::time::Duration;

use rusqlite::{params, OptionalExtension, Transaction};
use time::OffsetDateTime;

use crate::convert::{read_err, to_micros, write_err};
use crate::store::SqliteStore;
use scf_store::{ConcurrencySlots, FunctionRef, Lease, SlotId, StoreError};

/// Deletes the slots of the function (?1, ?2) whose lease ran out at ?3.
const DROP_EXPIRED: &str = "DELETE FROM concurrency_slots \
    WHERE namespace = ?1 AND function_name = ?2 AND lease_until <= ?3";
/// The slots of the function (?1, ?2) live at ?3.
const LIVE: &str = "SELECT COUNT(*) FROM concurrency_slots \
    WHERE namespace = ?1 AND function_name = ?2 AND lease_until > ?3";
const INSERT: &str =
    "INSERT INTO concurrency_slots (namespace, function_name, holder, lease_until) \
    VALUES (?1, ?2, ?3, ?4)";
/// Renews slot ?1 of holder ?2 live at ?3 until ?4.
const RENEW: &str = "UPDATE concurrency_slots SET lease_until = ?4 \
    WHERE id = ?1 AND holder = ?2 AND lease_until > ?3";
const RELEASE: &str = "DELETE FROM concurrency_slots WHERE id = ?1";

fn acquire_in(
    tx: &Transaction<'_>,
    function: &FunctionRef,
    holder: &str,
    limit: u32,
    until: i64,
    now: i64,
) -> Result<Option<SlotId>, StoreError> {
    let what = || format!("taking a concurrency slot of {}", function.name);
    let ns = function.namespace.as_str();
    let name = function.name.as_str();
    tx.prepare_cached(DROP_EXPIRED)
        .and_then(|mut st| st.execute(params![ns, name, now]))
        .map_err(|e| write_err(what(), e))?;
    let live: i64 = tx
        .prepare_cached(LIVE)
        .and_then(|mut st| st.query_row(params![ns, name, now], |r| r.get(0)))
        .map_err(|e| write_err(what(), e))?;
    if live >= i64::from(limit) {
        return Ok(None);
    }
    tx.prepare_cached(INSERT)
        .and_then(|mut st| st.execute(params![ns, name, holder, until]))
        .map_err(|e| write_err(what(), e))?;
    Ok(Some(SlotId(tx.last_insert_rowid())))
}

impl ConcurrencySlots for SqliteStore {
    fn acquire_slot(
        &self,
        function: &FunctionRef,
        holder: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<SlotId>, StoreError> {
        if limit == 0 {
            return Ok(None);
        }
        let (function, holder) = (function.clone(), holder.to_owned());
        let until = to_micros(Lease::end(now, lease));
        let now = to_micros(now);
        self.queue_write(
            format!("taking a concurrency slot of {}", function.name),
            move |tx| acquire_in(tx, &function, &holder, limit, until, now),
        )
    }

    fn renew_slots(
        &self,
        holder: &str,
        slots: &[SlotId],
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Vec<SlotId>, StoreError> {
        if slots.is_empty() {
            return Ok(Vec::new());
        }
        let (holder, slots) = (holder.to_owned(), slots.to_vec());
        let until = to_micros(Lease::end(now, lease));
        let now = to_micros(now);
        self.queue_write(
            format!("renewing {} concurrency slots of {holder}", slots.len()),
            move |tx| {
                let mut st = tx
                    .prepare_cached(RENEW)
                    .map_err(|e| write_err("renewing concurrency slots", e))?;
                let mut lost = Vec::new();
                for slot in slots {
                    let n = st
                        .execute(params![slot.0, holder, now, until])
                        .map_err(|e| write_err("renewing concurrency slots", e))?;
                    if n == 0 {
                        lost.push(slot);
                    }
                }
                Ok(lost)
            },
        )
    }

    fn release_slot(&self, slot: SlotId) -> Result<(), StoreError> {
        self.queue_write(
            format!("releasing concurrency slot {}", slot.0),
            move |tx| {
                tx.prepare_cached(RELEASE)
                    .and_then(|mut st| st.execute([slot.0]))
                    .map(drop)
                    .map_err(|e| write_err(format!("releasing concurrency slot {}", slot.0), e))
            },
        )
    }

    fn held_slots(&self, function: &FunctionRef, now: OffsetDateTime) -> Result<u32, StoreError> {
        let n: Option<i64> = self
            .reader()
            .prepare_cached(LIVE)
            .and_then(|mut st| {
                st.query_row(
                    params![function.namespace, function.name, to_micros(now)],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(|e| read_err("held concurrency slots", e))?;
        Ok(u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX))
    }
}
