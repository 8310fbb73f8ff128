//! [`AsyncQueue`] for [`PgStore`]: claims under leases in `async_events` (schema version
//! 2), timer ticks in `timer_ticks`.
//!
//! A claim is one statement: it picks the due events (`FOR UPDATE SKIP LOCKED`, so that
//! claims by several nodes at once take different events instead of waiting for each
//! other) and takes their leases. A row a concurrent claim has just taken is either
//! locked (skipped) or, once that claim committed, re-checked against the `WHERE` clause
//! (no longer due): no event is handed to two workers. `renew`, `end_attempt` and
//! `terminate` lock the event's row (`FOR UPDATE`), decide in Rust with
//! [`AsyncStatus::can_become`] (the one transition rule) and update it, in one
//! transaction. Every write is committed when the call returns.

use std::time::Duration;

use scf_store::{
    AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncQueue, AsyncStatus, AttemptEnd, Claim, Ended,
    FunctionRef, Lease, Renewal, StoreError, Termination,
};
use time::OffsetDateTime;

use crate::convert::{from_micros, read_err, to_micros, write_err};
use crate::rows::{row_to_event, ASYNC_COLS};
use crate::store::{connection, refs, Param, PgStore};

const INSERT_EVENT: &str = "INSERT INTO async_events (invoke_request_id, function_name, \
    namespace, qualifier, invoke_type, status, status_code, start_time, end_time, event, \
    attempts, next_attempt_at, lease_worker, lease_until, failures, node) \
    VALUES ($1, $2, $3, $4, $5, 'RUNNING', $6, $7, NULL, $8, $9, $7, NULL, NULL, 0, $10) \
    ON CONFLICT (invoke_request_id) DO NOTHING";

/// The claim: at `$1` (µs), at most `$2` due events of the functions `($3[i], $4[i])`
/// (namespace, name), oldest due first, leased to `$5` until `$6`. Returns the events as
/// claimed ([`ASYNC_COLS`]), then the previous lease's worker, `failures`, and the order.
fn claim_sql() -> String {
    let cols = ASYNC_COLS
        .split(", ")
        .map(|c| format!("e.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH due AS (\
           SELECT id, lease_worker AS old_worker FROM async_events \
           WHERE status = 'RUNNING' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1) \
             AND (namespace, function_name) IN (SELECT * FROM unnest($3::text[], $4::text[])) \
           ORDER BY next_attempt_at, start_time, id \
           LIMIT $2 \
           FOR UPDATE SKIP LOCKED) \
         UPDATE async_events e SET attempts = LEAST(e.attempts + 1, 4294967295), \
           lease_worker = $5, lease_until = $6 \
         FROM due WHERE e.id = due.id \
         RETURNING {cols}, due.old_worker, e.failures, e.next_attempt_at, e.id"
    )
}

/// What `renew`, `end_attempt` and `terminate` read (and lock) of the event `$1`.
const LEASE_OF: &str = "SELECT id, status, lease_worker, lease_until, status_code, \
    next_attempt_at FROM async_events WHERE invoke_request_id = $1 FOR UPDATE";

const RENEW: &str = "UPDATE async_events SET lease_until = $2 WHERE id = $1";

/// `end_attempt` and `terminate`: the event's new state, its lease dropped.
const END_ATTEMPT: &str = "UPDATE async_events SET status = $2, status_code = $3, \
    end_time = $4, next_attempt_at = $5, failures = LEAST(failures + $6, 4294967295), \
    attempts = GREATEST(attempts - $7, 0), lease_worker = NULL, lease_until = NULL \
    WHERE id = $1";

/// `next_due`: of each `RUNNING` event, its lease's end when it has had one, else its
/// next attempt time; the earliest.
const NEXT_DUE: &str = "SELECT min(CASE WHEN lease_until IS NOT NULL THEN lease_until \
    ELSE next_attempt_at END) FROM async_events WHERE status = 'RUNNING'";

const PENDING: &str = "SELECT count(*) FROM async_events \
    WHERE status = 'RUNNING' AND (lease_until IS NULL OR lease_until <= $1)";

const CLAIM_TICK: &str = "INSERT INTO timer_ticks (trigger, tick) VALUES ($1, $2) \
    ON CONFLICT DO NOTHING";

/// What the lease-changing writes read of one event.
struct Held {
    row: i64,
    status: AsyncStatus,
    worker: Option<String>,
    until: Option<i64>,
    status_code: i64,
    next_attempt_at: i64,
}

async fn held(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    what: &str,
) -> Result<Held, StoreError> {
    let st = tx
        .prepare_cached(LEASE_OF)
        .await
        .map_err(|e| write_err(format!("{what} of async event {id}"), &e))?;
    let row = tx
        .query_opt(&st, &[&id])
        .await
        .map_err(|e| write_err(format!("{what} of async event {id}"), &e))?
        .ok_or_else(|| StoreError::AsyncEventNotFound(id.to_owned()))?;
    let status: String = row.get(1);
    let status = status
        .parse::<AsyncStatus>()
        .map_err(|e| StoreError::CorruptRow {
            request_id: id.to_owned(),
            detail: e.to_string(),
        })?;
    Ok(Held {
        row: row.get(0),
        status,
        worker: row.get(2),
        until: row.get(3),
        status_code: row.get(4),
        next_attempt_at: row.get(5),
    })
}

/// Runs `body` in a transaction on a pooled connection, committed when it succeeds.
macro_rules! in_transaction {
    ($store:expr, $what:expr, |$tx:ident| $body:expr) => {{
        let pool = $store.shared.pool.clone();
        let what: String = $what;
        let w = what.clone();
        $store.call_write(&w, async move {
            let mut client = connection(&pool, &what, true).await?;
            let $tx = client
                .transaction()
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            let out = $body;
            $tx.commit()
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            Ok(out)
        })
    }};
}

impl AsyncQueue for PgStore {
    fn enqueue(&self, ev: &AsyncEvent) -> Result<(), StoreError> {
        let ev = ev.clone();
        let pool = self.shared.pool.clone();
        let what = format!("enqueueing async event {}", ev.invoke_request_id);
        let w = what.clone();
        self.call_write(&w, async move {
            let client = connection(&pool, &what, true).await?;
            let st = client
                .prepare_cached(INSERT_EVENT)
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            let n = client
                .execute(
                    &st,
                    &[
                        &ev.invoke_request_id,
                        &ev.function_name,
                        &ev.namespace,
                        &ev.qualifier,
                        &ev.invoke_type,
                        &ev.status_code,
                        &to_micros(ev.start_time),
                        &ev.event,
                        &i64::from(ev.attempts),
                        &ev.node,
                    ],
                )
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            if n == 0 {
                return Err(StoreError::AsyncEventExists(ev.invoke_request_id.clone()));
            }
            Ok(())
        })
    }

    fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: usize,
        functions: &[FunctionRef],
        now: OffsetDateTime,
    ) -> Result<Vec<Claim>, StoreError> {
        if limit == 0 || functions.is_empty() {
            return Ok(Vec::new());
        }
        let worker = worker.to_owned();
        let namespaces: Vec<String> = functions.iter().map(|f| f.namespace.clone()).collect();
        let names: Vec<String> = functions.iter().map(|f| f.name.clone()).collect();
        let now_us = to_micros(now);
        let until = Lease::end(now, lease);
        let until_us = to_micros(until);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let pool = self.shared.pool.clone();
        let what = format!("claiming async events for {worker}");
        let w = what.clone();
        self.call_write(&w, async move {
            let client = connection(&pool, &what, true).await?;
            let st = client
                .prepare_cached(&claim_sql())
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            let rows = client
                .query(
                    &st,
                    &[&now_us, &limit, &namespaces, &names, &worker, &until_us],
                )
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            let until = from_micros(until_us, "(lease)", "lease_until")?;
            let mut claims = Vec::with_capacity(rows.len());
            for row in &rows {
                let event = row_to_event(row)?;
                let old_worker: Option<String> = row.get(12);
                let failures: i64 = row.get(13);
                let next_at: i64 = row.get(14);
                let id: i64 = row.get(15);
                let retry_num = event.attempts.saturating_sub(1);
                let interrupted = match old_worker {
                    Some(_) if retry_num > 0 => Some(retry_num - 1),
                    _ => None,
                };
                claims.push((
                    (next_at, event.start_time, id),
                    Claim {
                        event,
                        retry_num,
                        failures: u32::try_from(failures).unwrap_or(u32::MAX),
                        interrupted,
                        lease: Lease {
                            worker: worker.clone(),
                            until,
                        },
                    },
                ));
            }
            // RETURNING has no order of its own: the claim's order.
            claims.sort_by_key(|c| c.0);
            Ok(claims.into_iter().map(|(_, c)| c).collect())
        })
    }

    fn unfinished(&self) -> Result<Vec<AsyncEvent>, StoreError> {
        let sql = format!(
            "SELECT {ASYNC_COLS} FROM async_events WHERE status = 'RUNNING' ORDER BY start_time, id"
        );
        self.read_events("unfinished async events", sql, Vec::new())
    }

    fn next_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let pool = self.shared.pool.clone();
        self.call_read("the next due async event", async move {
            let what = "the next due async event";
            let client = connection(&pool, what, false).await?;
            let st = client
                .prepare_cached(NEXT_DUE)
                .await
                .map_err(|e| read_err(what, &e))?;
            let due: Option<i64> = client
                .query_one(&st, &[])
                .await
                .map_err(|e| read_err(what, &e))?
                .get(0);
            due.map(|us| from_micros(us, "(the next due async event)", "next_attempt_at"))
                .transpose()
        })
    }

    fn renew(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Renewal, StoreError> {
        let (id, worker) = (id.to_owned(), worker.to_owned());
        in_transaction!(
            self,
            format!("renewing the lease of async event {id}"),
            |tx| {
                let h = held(&tx, &id, "renewing the lease").await?;
                if h.status == AsyncStatus::Aborted {
                    Renewal::Terminated
                } else if h.status.has_ended() || h.worker.as_deref() != Some(worker.as_str()) {
                    Renewal::Lost
                } else {
                    let until_us = to_micros(Lease::end(now, lease));
                    tx.execute(RENEW, &[&h.row, &until_us]).await.map_err(|e| {
                        write_err(format!("renewing the lease of async event {id}"), &e)
                    })?;
                    Renewal::Held(from_micros(until_us, &id, "lease_until")?)
                }
            }
        )
    }

    fn end_attempt(
        &self,
        id: &str,
        worker: &str,
        end: AttemptEnd,
        now: OffsetDateTime,
    ) -> Result<Ended, StoreError> {
        let (id, worker) = (id.to_owned(), worker.to_owned());
        in_transaction!(
            self,
            format!("ending an attempt of async event {id}"),
            |tx| {
                let h = held(&tx, &id, "ending an attempt").await?;
                let now_us = to_micros(now);
                // (status, status code, end time, next attempt, failures added, attempts back)
                let (status, status_code, end_time, next_at, failed, released): (
                    AsyncStatus,
                    i64,
                    Option<i64>,
                    i64,
                    i64,
                    i64,
                ) = match end {
                    AttemptEnd::Finished { status_code } => (
                        AsyncStatus::Finished,
                        status_code,
                        Some(now_us),
                        h.next_attempt_at,
                        0,
                        0,
                    ),
                    AttemptEnd::Retry { status_code, at } => {
                        (AsyncStatus::Running, status_code, None, to_micros(at), 1, 0)
                    }
                    AttemptEnd::Failed { status_code } => (
                        AsyncStatus::Failed,
                        status_code,
                        Some(now_us),
                        h.next_attempt_at,
                        1,
                        0,
                    ),
                    AttemptEnd::Abandoned { status_code } => (
                        AsyncStatus::Failed,
                        status_code,
                        Some(now_us),
                        h.next_attempt_at,
                        0,
                        1,
                    ),
                    AttemptEnd::Released => {
                        (AsyncStatus::Running, h.status_code, None, now_us, 0, 1)
                    }
                };
                if !h.status.can_become(status) || h.worker.as_deref() != Some(worker.as_str()) {
                    Ended::Ignored
                } else {
                    tx.execute(
                        END_ATTEMPT,
                        &[
                            &h.row,
                            &status.as_str(),
                            &status_code,
                            &end_time,
                            &next_at,
                            &failed,
                            &released,
                        ],
                    )
                    .await
                    .map_err(|e| write_err(format!("ending an attempt of async event {id}"), &e))?;
                    Ended::Now(status)
                }
            }
        )
    }

    fn terminate(
        &self,
        id: &str,
        status_code: i64,
        now: OffsetDateTime,
    ) -> Result<Termination, StoreError> {
        let id = id.to_owned();
        in_transaction!(self, format!("terminating async event {id}"), |tx| {
            let h = held(&tx, &id, "terminating").await?;
            if !h.status.can_become(AsyncStatus::Aborted) {
                Termination::AlreadyEnded(h.status)
            } else {
                let now_us = to_micros(now);
                let held_by = match (h.worker, h.until) {
                    (Some(worker), Some(until)) if until > now_us => Some(worker),
                    _ => None,
                };
                let zero = 0i64;
                tx.execute(
                    END_ATTEMPT,
                    &[
                        &h.row,
                        &AsyncStatus::Aborted.as_str(),
                        &status_code,
                        &Some(now_us),
                        &h.next_attempt_at,
                        &zero,
                        &zero,
                    ],
                )
                .await
                .map_err(|e| write_err(format!("terminating async event {id}"), &e))?;
                Termination::Aborted { held_by }
            }
        })
    }

    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError> {
        let sql = format!("SELECT {ASYNC_COLS} FROM async_events WHERE invoke_request_id = $1");
        let found = self.read_events(
            "async event",
            sql,
            vec![Box::new(invoke_request_id.to_owned())],
        )?;
        Ok(found.into_iter().next())
    }

    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        q.validate()?;
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        for (col, v) in [
            ("function_name", &q.function_name),
            ("namespace", &q.namespace),
            ("qualifier", &q.qualifier),
            ("invoke_request_id", &q.invoke_request_id),
        ] {
            if let Some(v) = v {
                params.push(Box::new(v.clone()));
                conds.push(format!("{col} = ${}", params.len()));
            }
        }
        if !q.invoke_types.is_empty() {
            params.push(Box::new(q.invoke_types.clone()));
            conds.push(format!("invoke_type = ANY(${}::text[])", params.len()));
        }
        if !q.statuses.is_empty() {
            let statuses: Vec<String> = q.statuses.iter().map(|s| s.as_str().to_owned()).collect();
            params.push(Box::new(statuses));
            conds.push(format!("status = ANY(${}::text[])", params.len()));
        }
        for (col, interval) in [
            ("start_time", q.start_time_interval),
            ("end_time", q.end_time_interval),
        ] {
            if let Some(i) = interval {
                params.push(Box::new(to_micros(i.start)));
                let a = params.len();
                params.push(Box::new(to_micros(i.end)));
                conds.push(format!("{col} >= ${a} AND {col} < ${}", params.len()));
            }
        }
        let wh = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        // Running events (no end time) sort before every other in ascending order.
        let order = match (q.order_by, q.order) {
            (AsyncOrderBy::StartTime, scf_store::Order::Asc) => "start_time ASC, id ASC",
            (AsyncOrderBy::StartTime, scf_store::Order::Desc) => "start_time DESC, id DESC",
            (AsyncOrderBy::EndTime, scf_store::Order::Asc) => "end_time ASC NULLS FIRST, id ASC",
            (AsyncOrderBy::EndTime, scf_store::Order::Desc) => "end_time DESC NULLS LAST, id DESC",
        };
        let n = params.len();
        let count_sql = format!("SELECT count(*) FROM async_events{wh}");
        let page_sql = format!(
            "SELECT {ASYNC_COLS} FROM async_events{wh} ORDER BY {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let (limit, offset) = (i64::from(q.limit), i64::from(q.offset));
        let pool = self.shared.pool.clone();
        self.call_read("async event list", async move {
            let what = "async event list";
            let client = connection(&pool, what, false).await?;
            let st = client
                .prepare_cached(&count_sql)
                .await
                .map_err(|e| read_err(what, &e))?;
            let total: i64 = client
                .query_one(&st, &refs(&params))
                .await
                .map_err(|e| read_err(what, &e))?
                .get(0);
            params.push(Box::new(limit));
            params.push(Box::new(offset));
            let st = client
                .prepare_cached(&page_sql)
                .await
                .map_err(|e| read_err(what, &e))?;
            let rows = client
                .query(&st, &refs(&params))
                .await
                .map_err(|e| read_err(what, &e))?;
            let events = rows.iter().map(row_to_event).collect::<Result<_, _>>()?;
            Ok((u64::try_from(total).unwrap_or(0), events))
        })
    }

    fn pending(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let pool = self.shared.pool.clone();
        let now_us = to_micros(now);
        self.call_read("pending async events", async move {
            let what = "pending async events";
            let client = connection(&pool, what, false).await?;
            let st = client
                .prepare_cached(PENDING)
                .await
                .map_err(|e| read_err(what, &e))?;
            let n: i64 = client
                .query_one(&st, &[&now_us])
                .await
                .map_err(|e| read_err(what, &e))?
                .get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn claim_tick(&self, trigger: &str, tick: OffsetDateTime) -> Result<bool, StoreError> {
        let trigger = trigger.to_owned();
        let tick_us = to_micros(tick);
        let pool = self.shared.pool.clone();
        let what = format!("claiming tick {tick} of timer {trigger}");
        let w = what.clone();
        self.call_write(&w, async move {
            let client = connection(&pool, &what, true).await?;
            let st = client
                .prepare_cached(CLAIM_TICK)
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            let n = client
                .execute(&st, &[&trigger, &tick_us])
                .await
                .map_err(|e| write_err(what.clone(), &e))?;
            Ok(n == 1)
        })
    }
}

impl PgStore {
    /// The events `sql` selects ([`ASYNC_COLS`]) with `params`.
    fn read_events(
        &self,
        what: &'static str,
        sql: String,
        params: Vec<Param>,
    ) -> Result<Vec<AsyncEvent>, StoreError> {
        let pool = self.shared.pool.clone();
        self.call_read(what, async move {
            let client = connection(&pool, what, false).await?;
            let st = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| read_err(what, &e))?;
            let rows = client
                .query(&st, &refs(&params))
                .await
                .map_err(|e| read_err(what, &e))?;
            rows.iter().map(row_to_event).collect()
        })
    }
}
