//! [`AsyncQueue`] for [`SqliteStore`]: claims under leases in the `async_events` table
//! (schema version 5; 6 added the accepting node), and timer ticks in `timer_ticks`.
//!
//! Every write runs on the writer thread ([`SqliteStore::queue_write`]) inside its
//! batch's `BEGIN IMMEDIATE` transaction and is answered once that transaction committed:
//! within one process writes never contend, and processes sharing the file take SQLite's
//! write lock in turn (waiting up to the busy timeout for it), so a claim reads and marks
//! its events while no other connection can write: two processes never claim one event.
//! Reads (`next_due`, `pending`, `unfinished`, `get_async`, and `list_async`, which
//! answers `ListAsyncEvents`) use the reader connection.
//!
//! Each write reads the row it changes and decides in Rust (with
//! [`AsyncStatus::can_become`], the one transition rule); its updates are a single
//! statement, except a claim's, which run inside a savepoint so that a failed claim
//! leaves nothing of itself in the batch.

use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension, Transaction};
use time::OffsetDateTime;

use crate::convert::{from_micros, read_err, to_micros, write_err};
use crate::rows::{collect, count, order_sql, row_to_event, where_clause};
use crate::statements::{ASYNC_COLS, UNFINISHED_ASYNC};
use crate::store::SqliteStore;
use scf_store::{
    AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncQueue, AsyncStatus, AttemptEnd, Claim, Ended,
    FunctionRef, Lease, Renewal, StoreError, Termination,
};

/// `enqueue`: a new event, `RUNNING` with no end time (whatever the event given says),
/// held by nobody and due at its start time (?7); nothing if the id is taken.
const INSERT_EVENT: &str = "INSERT INTO async_events (invoke_request_id, function_name, \
    namespace, qualifier, invoke_type, status, status_code, start_time, end_time, event, \
    attempts, next_attempt_at, lease_worker, lease_until, failures, node) \
    VALUES (?1, ?2, ?3, ?4, ?5, 'RUNNING', ?6, ?7, NULL, ?8, ?9, ?7, NULL, NULL, 0, ?10) \
    ON CONFLICT (invoke_request_id) DO NOTHING";

/// `claim`: the due events of the functions ?3 (a JSON array of `[namespace, name]`), at
/// most ?2 at ?1 (unix µs), oldest due first: those nobody holds (from `async_due`,
/// already in this order) and those whose lease ran out (from `async_leased`, its first
/// entries), merged. Columns: [`ASYNC_COLS`], then `id`, `lease_worker`,
/// `failures`, `next_attempt_at`.
static CLAIMABLE: LazyLock<String> = LazyLock::new(|| {
    let cols = format!("{ASYNC_COLS}, id, lease_worker, failures, next_attempt_at");
    format!(
        "SELECT {cols} FROM (\
           SELECT * FROM (SELECT {cols} FROM async_events INDEXED BY async_due \
             WHERE status = 'RUNNING' AND lease_until IS NULL AND next_attempt_at <= ?1 \
             AND {RUNS} ORDER BY next_attempt_at, start_time LIMIT ?2) \
           UNION ALL \
           SELECT * FROM (SELECT {cols} FROM async_events INDEXED BY async_leased \
             WHERE status = 'RUNNING' AND lease_until IS NOT NULL AND lease_until <= ?1 \
             AND next_attempt_at <= ?1 AND {RUNS} \
             ORDER BY next_attempt_at, start_time LIMIT ?2)) \
         ORDER BY next_attempt_at, start_time, id LIMIT ?2"
    )
});

/// `claim`: one claimed event (?1: its id) is held by ?2 until ?3 and counts an attempt.
const TAKE_LEASE: &str = "UPDATE async_events SET attempts = MIN(attempts + 1, 4294967295), \
    lease_worker = ?2, lease_until = ?3 WHERE id = ?1";

/// What `renew`, `end_attempt` and `terminate` read of the event ?1.
const LEASE_OF: &str = "SELECT id, status, lease_worker, lease_until, status_code, \
    next_attempt_at FROM async_events WHERE invoke_request_id = ?1";

const RENEW: &str = "UPDATE async_events SET lease_until = ?2 WHERE id = ?1";

/// `end_attempt` and `terminate`: the event's new state, its lease dropped.
const END_ATTEMPT: &str = "UPDATE async_events SET status = ?2, status_code = ?3, \
    end_time = ?4, next_attempt_at = ?5, failures = MIN(failures + ?6, 4294967295), \
    attempts = MAX(attempts - ?7, 0), lease_worker = NULL, lease_until = NULL WHERE id = ?1";

/// `next_due`: the earliest next-attempt time of the events nobody holds, and the
/// earliest lease end of those held (each the first entry of its partial index).
const NEXT_DUE: &str = "SELECT MIN(t) FROM (\
    SELECT MIN(next_attempt_at) AS t FROM async_events INDEXED BY async_due \
      WHERE status = 'RUNNING' AND lease_until IS NULL \
    UNION ALL \
    SELECT MIN(lease_until) AS t FROM async_events INDEXED BY async_leased \
      WHERE status = 'RUNNING' AND lease_until IS NOT NULL)";

/// `claim`: the event is of one of the functions ?3 runs.
const RUNS: &str = "(namespace, function_name) IN \
    (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?3))";

/// `pending` at ?1: the events that wait for a worker: nobody holds them, or their lease
/// ran out (each count from its partial index).
const PENDING: &str = "SELECT \
    (SELECT COUNT(*) FROM async_events INDEXED BY async_due \
      WHERE status = 'RUNNING' AND lease_until IS NULL) + \
    (SELECT COUNT(*) FROM async_events INDEXED BY async_leased \
      WHERE status = 'RUNNING' AND lease_until IS NOT NULL AND lease_until <= ?1)";

/// `functions` as the JSON array of `[namespace, name]` pairs that [`RUNS`] reads.
fn functions_json(functions: &[FunctionRef]) -> String {
    fn string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut out = String::from("[");
    for (i, f) in functions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        string(&mut out, &f.namespace);
        out.push(',');
        string(&mut out, &f.name);
        out.push(']');
    }
    out.push(']');
    out
}

const CLAIM_TICK: &str = "INSERT OR IGNORE INTO timer_ticks (trigger, tick) VALUES (?1, ?2)";

/// What the lease-changing writes read of one event.
struct Held {
    row: i64,
    status: AsyncStatus,
    worker: Option<String>,
    until: Option<i64>,
    status_code: i64,
    next_attempt_at: i64,
}

fn held(tx: &Transaction<'_>, id: &str, what: &str) -> Result<Held, StoreError> {
    let found = tx
        .prepare_cached(LEASE_OF)
        .and_then(|mut st| {
            st.query_row([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .optional()
        })
        .map_err(|e| write_err(format!("{what} of async event {id}"), e))?;
    let (row, status, worker, until, status_code, next_attempt_at) =
        found.ok_or_else(|| StoreError::AsyncEventNotFound(id.to_owned()))?;
    let status = status
        .parse::<AsyncStatus>()
        .map_err(|e| StoreError::CorruptRow {
            request_id: id.to_owned(),
            detail: e.to_string(),
        })?;
    Ok(Held {
        row,
        status,
        worker,
        until,
        status_code,
        next_attempt_at,
    })
}

fn enqueue_in(tx: &Transaction<'_>, ev: &AsyncEvent) -> Result<(), StoreError> {
    let n = tx
        .prepare_cached(INSERT_EVENT)
        .and_then(|mut st| {
            st.execute(params![
                ev.invoke_request_id,
                ev.function_name,
                ev.namespace,
                ev.qualifier,
                ev.invoke_type,
                ev.status_code,
                to_micros(ev.start_time),
                ev.event,
                ev.attempts,
                ev.node,
            ])
        })
        .map_err(|e| {
            write_err(
                format!("enqueueing async event {}", ev.invoke_request_id),
                e,
            )
        })?;
    if n == 0 {
        return Err(StoreError::AsyncEventExists(ev.invoke_request_id.clone()));
    }
    Ok(())
}

fn claim_in(
    tx: &Transaction<'_>,
    worker: &str,
    lease: Duration,
    limit: usize,
    functions: &str,
    now: OffsetDateTime,
) -> Result<Vec<Claim>, StoreError> {
    let now_us = to_micros(now);
    let until_us = to_micros(Lease::end(now, lease));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let what = || format!("claiming async events for {worker}");
    tx.execute_batch("SAVEPOINT scf_claim")
        .map_err(|e| write_err(what(), e))?;
    let claimed = (|| -> Result<Vec<Claim>, StoreError> {
        let mut found: Vec<(AsyncEvent, i64, Option<String>, u32)> = Vec::new();
        {
            let mut st = tx
                .prepare_cached(&CLAIMABLE)
                .map_err(|e| write_err(what(), e))?;
            let mut rows = st
                .query(params![now_us, limit, functions])
                .map_err(|e| write_err(what(), e))?;
            while let Some(row) = rows.next().map_err(|e| write_err(what(), e))? {
                let ev = row_to_event(row)?;
                let corrupt = |e: rusqlite::Error| StoreError::CorruptRow {
                    request_id: ev.invoke_request_id.clone(),
                    detail: e.to_string(),
                };
                let id: i64 = row.get(12).map_err(corrupt)?;
                let lease_worker: Option<String> = row.get(13).map_err(corrupt)?;
                let failures: u32 = row.get(14).map_err(corrupt)?;
                found.push((ev, id, lease_worker, failures));
            }
        }
        let until = from_micros(until_us, "(lease)", "lease_until")?;
        let mut take = tx
            .prepare_cached(TAKE_LEASE)
            .map_err(|e| write_err(what(), e))?;
        let mut claims = Vec::with_capacity(found.len());
        for (mut event, id, lease_worker, failures) in found {
            take.execute(params![id, worker, until_us])
                .map_err(|e| write_err(what(), e))?;
            let retry_num = event.attempts;
            event.attempts = event.attempts.saturating_add(1);
            let interrupted = match lease_worker {
                Some(_) if retry_num > 0 => Some(retry_num - 1),
                _ => None,
            };
            claims.push(Claim {
                event,
                retry_num,
                failures,
                interrupted,
                lease: Lease {
                    worker: worker.to_owned(),
                    until,
                },
            });
        }
        Ok(claims)
    })();
    let end = if claimed.is_ok() {
        "RELEASE scf_claim"
    } else {
        "ROLLBACK TO scf_claim; RELEASE scf_claim"
    };
    tx.execute_batch(end).map_err(|e| write_err(what(), e))?;
    claimed
}

fn renew_in(
    tx: &Transaction<'_>,
    id: &str,
    worker: &str,
    lease: Duration,
    now: OffsetDateTime,
) -> Result<Renewal, StoreError> {
    let h = held(tx, id, "renewing the lease")?;
    if h.status == AsyncStatus::Aborted {
        return Ok(Renewal::Terminated);
    }
    if h.status.has_ended() || h.worker.as_deref() != Some(worker) {
        return Ok(Renewal::Lost);
    }
    let until_us = to_micros(Lease::end(now, lease));
    tx.prepare_cached(RENEW)
        .and_then(|mut st| st.execute(params![h.row, until_us]))
        .map_err(|e| write_err(format!("renewing the lease of async event {id}"), e))?;
    Ok(Renewal::Held(from_micros(until_us, id, "lease_until")?))
}

fn end_attempt_in(
    tx: &Transaction<'_>,
    id: &str,
    worker: &str,
    end: AttemptEnd,
    now: OffsetDateTime,
) -> Result<Ended, StoreError> {
    let h = held(tx, id, "ending an attempt")?;
    let now_us = to_micros(now);
    // (status, status code, end time, next attempt, failures added, attempts taken back)
    let (status, status_code, end_time, next_at, failed, released) = match end {
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
        AttemptEnd::Released => (AsyncStatus::Running, h.status_code, None, now_us, 0, 1),
    };
    if !h.status.can_become(status) || h.worker.as_deref() != Some(worker) {
        return Ok(Ended::Ignored);
    }
    tx.prepare_cached(END_ATTEMPT)
        .and_then(|mut st| {
            st.execute(params![
                h.row,
                status.as_str(),
                status_code,
                end_time,
                next_at,
                failed,
                released
            ])
        })
        .map_err(|e| write_err(format!("ending an attempt of async event {id}"), e))?;
    Ok(Ended::Now(status))
}

fn terminate_in(
    tx: &Transaction<'_>,
    id: &str,
    status_code: i64,
    now: OffsetDateTime,
) -> Result<Termination, StoreError> {
    let h = held(tx, id, "terminating")?;
    if !h.status.can_become(AsyncStatus::Aborted) {
        return Ok(Termination::AlreadyEnded(h.status));
    }
    let now_us = to_micros(now);
    let held_by = match (h.worker, h.until) {
        (Some(worker), Some(until)) if until > now_us => Some(worker),
        _ => None,
    };
    tx.prepare_cached(END_ATTEMPT)
        .and_then(|mut st| {
            st.execute(params![
                h.row,
                AsyncStatus::Aborted.as_str(),
                status_code,
                now_us,
                h.next_attempt_at,
                0,
                0
            ])
        })
        .map_err(|e| write_err(format!("terminating async event {id}"), e))?;
    Ok(Termination::Aborted { held_by })
}

fn claim_tick_in(
    tx: &Transaction<'_>,
    trigger: &str,
    tick: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(CLAIM_TICK)
        .and_then(|mut st| st.execute(params![trigger, to_micros(tick)]))
        .map_err(|e| write_err(format!("claiming tick {tick} of timer {trigger}"), e))?;
    Ok(n > 0)
}

impl AsyncQueue for SqliteStore {
    fn enqueue(&self, ev: &AsyncEvent) -> Result<(), StoreError> {
        let ev = ev.clone();
        self.queue_write(
            format!("enqueueing async event {}", ev.invoke_request_id),
            move |tx| enqueue_in(tx, &ev),
        )
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
        let functions = functions_json(functions);
        self.queue_write(format!("claiming async events for {worker}"), move |tx| {
            claim_in(tx, &worker, lease, limit, &functions, now)
        })
    }

    fn unfinished(&self) -> Result<Vec<AsyncEvent>, StoreError> {
        let conn = self.reader();
        collect(
            &conn,
            "unfinished async events",
            UNFINISHED_ASYNC,
            &[],
            row_to_event,
        )
    }

    fn next_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let due: Option<i64> = self
            .reader()
            .prepare_cached(NEXT_DUE)
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(|e| read_err("the next due async event", e))?;
        due.map(|us| from_micros(us, "(the next due async event)", "next_attempt_at"))
            .transpose()
    }

    fn renew(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Renewal, StoreError> {
        let (id, worker) = (id.to_owned(), worker.to_owned());
        self.queue_write(
            format!("renewing the lease of async event {id}"),
            move |tx| renew_in(tx, &id, &worker, lease, now),
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
        self.queue_write(
            format!("ending an attempt of async event {id}"),
            move |tx| end_attempt_in(tx, &id, &worker, end, now),
        )
    }

    fn terminate(
        &self,
        id: &str,
        status_code: i64,
        now: OffsetDateTime,
    ) -> Result<Termination, StoreError> {
        let id = id.to_owned();
        self.queue_write(format!("terminating async event {id}"), move |tx| {
            terminate_in(tx, &id, status_code, now)
        })
    }

    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError> {
        let conn = self.reader();
        let sql = format!("SELECT {ASYNC_COLS} FROM async_events WHERE invoke_request_id = ?1");
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(|e| read_err("async event", e))?;
        let mut rows = stmt
            .query([invoke_request_id])
            .map_err(|e| read_err("async event", e))?;
        match rows.next().map_err(|e| read_err("async event", e))? {
            Some(row) => row_to_event(row).map(Some),
            None => Ok(None),
        }
    }

    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        q.validate()?;
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        let mut push =
            |v: Value, params_len_cond: &dyn Fn(usize) -> String, conds: &mut Vec<String>| {
                params.push(v);
                conds.push(params_len_cond(params.len()));
            };
        for (col, v) in [
            ("function_name", &q.function_name),
            ("namespace", &q.namespace),
            ("qualifier", &q.qualifier),
            ("invoke_request_id", &q.invoke_request_id),
        ] {
            if let Some(v) = v {
                push(
                    Value::Text(v.clone()),
                    &|i| format!("{col} = ?{i}"),
                    &mut conds,
                );
            }
        }
        let mut in_list = |col: &str, values: Vec<String>, conds: &mut Vec<String>| {
            if values.is_empty() {
                return;
            }
            let mut marks = Vec::new();
            for v in values {
                params.push(Value::Text(v));
                marks.push(format!("?{}", params.len()));
            }
            conds.push(format!("{col} IN ({})", marks.join(", ")));
        };
        in_list("invoke_type", q.invoke_types.clone(), &mut conds);
        in_list(
            "status",
            q.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
            &mut conds,
        );
        for (col, interval) in [
            ("start_time", q.start_time_interval),
            ("end_time", q.end_time_interval),
        ] {
            if let Some(i) = interval {
                params.push(Value::Integer(to_micros(i.start)));
                let a = params.len();
                params.push(Value::Integer(to_micros(i.end)));
                conds.push(format!("{col} >= ?{a} AND {col} < ?{}", params.len()));
            }
        }
        let wh = where_clause(&conds);
        let conn = self.reader();
        let total = count(
            &conn,
            "async event count",
            &format!("SELECT COUNT(*) FROM async_events{wh}"),
            &params,
        )?;
        let dir = order_sql(q.order);
        let col = match q.order_by {
            AsyncOrderBy::StartTime => "start_time",
            AsyncOrderBy::EndTime => "end_time",
        };
        let n = params.len();
        let sql = format!(
            "SELECT {ASYNC_COLS} FROM async_events{wh} ORDER BY {col} {dir}, id {dir} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        );
        params.push(Value::Integer(i64::from(q.limit)));
        params.push(Value::Integer(i64::from(q.offset)));
        let events = collect(&conn, "async event list", &sql, &params, row_to_event)?;
        Ok((total, events))
    }

    fn pending(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        count(
            &self.reader(),
            "pending async events",
            PENDING,
            &[Value::Integer(to_micros(now))],
        )
    }

    fn claim_tick(&self, trigger: &str, tick: OffsetDateTime) -> Result<bool, StoreError> {
        let trigger = trigger.to_owned();
        self.queue_write(
            format!("claiming tick {tick} of timer {trigger}"),
            move |tx| claim_tick_in(tx, &trigger, tick),
        )
    }
}
