//! [`ConcurrencySlots`] for [`PgStore`]: deployment-wide concurrency slots in the
//! `concurrency_slots` table (schema version 3).
//!
//! Taking a slot counts the function's live slots and inserts one, in one transaction
//! that first takes an advisory lock of that function (`pg_advisory_xact_lock` on a hash
//! of its namespace and name): acquires of one function, from any node, run one at a
//! time, so two callers never both take the last slot; acquires of different functions
//! do not wait for each other. Expired slots of the function are deleted on the way.

use std::time::Duration;

use scf_store::{ConcurrencySlots, FunctionRef, Lease, SlotId, StoreError};
use time::OffsetDateTime;

use crate::convert::{read_err, to_micros, write_err};
use crate::store::{connection, PgStore};

const LOCK_FUNCTION: &str =
    "SELECT pg_advisory_xact_lock(hashtext('scf-store-postgres slots ' || $1 || '/' || $2))";

/// Deletes the slots of the function ($1, $2) whose lease ran out at $3.
const DROP_EXPIRED: &str = "DELETE FROM concurrency_slots \
    WHERE namespace = $1 AND function_name = $2 AND lease_until <= $3";

/// The slots of the function ($1, $2) live at $3.
const LIVE: &str = "SELECT count(*) FROM concurrency_slots \
    WHERE namespace = $1 AND function_name = $2 AND lease_until > $3";

const INSERT: &str = "INSERT INTO concurrency_slots (namespace, function_name, holder, \
    lease_until) VALUES ($1, $2, $3, $4) RETURNING id";

/// Renews the slots $1 of holder $2 live at $3 until $4; returns those renewed.
const RENEW: &str = "UPDATE concurrency_slots SET lease_until = $4 \
    WHERE id = ANY($1) AND holder = $2 AND lease_until > $3 RETURNING id";

const RELEASE: &str = "DELETE FROM concurrency_slots WHERE id = $1";

impl ConcurrencySlots for PgStore {
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
        let (ns, name, holder) = (
            function.namespace.clone(),
            function.name.clone(),
            holder.to_owned(),
        );
        let until = to_micros(Lease::end(now, lease));
        let now = to_micros(now);
        let pool = self.shared.pool.clone();
        let what = format!("taking a concurrency slot of {}", function.name);
        let w = what.clone();
        self.call_write(&w, async move {
            let err = |e: tokio_postgres::Error| write_err(what.clone(), &e);
            let mut client = connection(&pool, &what, true).await?;
            let tx = client.transaction().await.map_err(err)?;
            tx.execute(LOCK_FUNCTION, &[&ns, &name])
                .await
                .map_err(err)?;
            let st = tx.prepare_cached(DROP_EXPIRED).await.map_err(err)?;
            tx.execute(&st, &[&ns, &name, &now]).await.map_err(err)?;
            let st = tx.prepare_cached(LIVE).await.map_err(err)?;
            let live: i64 = tx
                .query_one(&st, &[&ns, &name, &now])
                .await
                .map_err(err)?
                .get(0);
            if live >= i64::from(limit) {
                tx.commit().await.map_err(err)?;
                return Ok(None);
            }
            let st = tx.prepare_cached(INSERT).await.map_err(err)?;
            let id: i64 = tx
                .query_one(&st, &[&ns, &name, &holder, &until])
                .await
                .map_err(err)?
                .get(0);
            tx.commit().await.map_err(err)?;
            Ok(Some(SlotId(id)))
        })
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
        let holder = holder.to_owned();
        let ids: Vec<i64> = slots.iter().map(|s| s.0).collect();
        let until = to_micros(Lease::end(now, lease));
        let now = to_micros(now);
        let pool = self.shared.pool.clone();
        let what = format!("renewing {} concurrency slots of {holder}", ids.len());
        let w = what.clone();
        self.call_write(&w, async move {
            let err = |e: tokio_postgres::Error| write_err(what.clone(), &e);
            let client = connection(&pool, &what, true).await?;
            let st = client.prepare_cached(RENEW).await.map_err(err)?;
            let renewed: std::collections::HashSet<i64> = client
                .query(&st, &[&ids, &holder, &now, &until])
                .await
                .map_err(err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(ids
                .into_iter()
                .filter(|id| !renewed.contains(id))
                .map(SlotId)
                .collect())
        })
    }

    fn release_slot(&self, slot: SlotId) -> Result<(), StoreError> {
        let pool = self.shared.pool.clone();
        let what = format!("releasing concurrency slot {}", slot.0);
        let w = what.clone();
        self.call_write(&w, async move {
            let err = |e: tokio_postgres::Error| write_err(what.clone(), &e);
            let client = connection(&pool, &what, true).await?;
            let st = client.prepare_cached(RELEASE).await.map_err(err)?;
            client.execute(&st, &[&slot.0]).await.map_err(err)?;
            Ok(())
        })
    }

    fn held_slots(&self, function: &FunctionRef, now: OffsetDateTime) -> Result<u32, StoreError> {
        let (ns, name) = (function.namespace.clone(), function.name.clone());
        let now = to_micros(now);
        let pool = self.shared.pool.clone();
        self.call_read("held concurrency slots", async move {
            let what = "held concurrency slots";
            let client = connection(&pool, what, false).await?;
            let st = client
                .prepare_cached(LIVE)
                .await
                .map_err(|e| read_err(what, &e))?;
            let n: i64 = client
                .query_one(&st, &[&ns, &name, &now])
                .await
                .map_err(|e| read_err(what, &e))?
                .get(0);
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }
}
