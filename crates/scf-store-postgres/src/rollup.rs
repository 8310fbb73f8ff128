//! The per-minute rollup ([`scf_store::rollup`]) in the `minute_rollup` table (schema
//! version 5): merged into by each writer batch in the transaction of its upsert (the
//! records it stored finished: those whose key held no finished row before), and by
//! throttles; rebuilt from `logs` by the migration; forgotten with each day partition
//! retention drops; read by [`ConsoleStore::minute_stats`](scf_store::ConsoleStore::minute_stats).
//!
//! Several writer connections (and nodes) merge at once: a merge first inserts the rows
//! it lacks (`ON CONFLICT DO NOTHING`), then locks its rows (`FOR UPDATE`), both in key
//! order, so that two merges wait for each other instead of losing a count (and
//! PostgreSQL's deadlock check, a transient failure the writer retries, backs that up).

use std::collections::HashSet;

use scf_store::rollup::{
    minute_range, stats_from_rows, Rollup, RollupKey, RollupRow, MINUTE_MICROS,
};
use scf_store::{MinuteStats, StatsQuery, StoreError};
use tokio_postgres::{GenericClient, Row};

use crate::convert::{read_err, write_err};
use crate::writer::Columns;
use scf_logs::record::RET_CODE_RUNNING;

/// Schema version 5: the rollup table (`minute` is unix µs / 60,000,000; `histogram` is
/// [`RollupRow::encode_histogram`]'s).
pub(crate) const V5: &str = r#"
CREATE TABLE minute_rollup (
    namespace     text   COLLATE "C" NOT NULL,
    function_name text   COLLATE "C" NOT NULL,
    minute        bigint NOT NULL,
    invocations   bigint NOT NULL DEFAULT 0,
    errors        bigint NOT NULL DEFAULT 0,
    status_432    bigint NOT NULL DEFAULT 0,
    status_433    bigint NOT NULL DEFAULT 0,
    status_434    bigint NOT NULL DEFAULT 0,
    throttles     bigint NOT NULL DEFAULT 0,
    max_mem       bigint NOT NULL DEFAULT 0,
    busy_micros   bigint NOT NULL DEFAULT 0,
    min_micros    bigint NOT NULL DEFAULT 0,
    max_micros    bigint NOT NULL DEFAULT 0,
    histogram     bytea  NOT NULL DEFAULT '',
    PRIMARY KEY (namespace, function_name, minute)
);
"#;

const COLS: &str = "namespace, function_name, minute, invocations, errors, status_432, \
    status_433, status_434, throttles, max_mem, busy_micros, min_micros, max_micros, histogram";

const KEYS: &str =
    "unnest($1::text[], $2::text[], $3::int8[]) AS k(namespace, function_name, minute)";

fn count(row: &Row, i: usize) -> Result<u64, tokio_postgres::Error> {
    Ok(u64::try_from(row.try_get::<_, i64>(i)?).unwrap_or(0))
}

fn row_of(row: &Row) -> Result<(RollupKey, RollupRow), String> {
    let e = |e: tokio_postgres::Error| e.to_string();
    let bytes: Vec<u8> = row.try_get(13).map_err(e)?;
    let histogram = RollupRow::decode_histogram(&bytes)
        .ok_or_else(|| format!("not a rollup histogram ({} bytes)", bytes.len()))?;
    Ok((
        (
            row.try_get(0).map_err(e)?,
            row.try_get(1).map_err(e)?,
            row.try_get(2).map_err(e)?,
        ),
        RollupRow {
            invocations: count(row, 3).map_err(e)?,
            errors: count(row, 4).map_err(e)?,
            status_432: count(row, 5).map_err(e)?,
            status_433: count(row, 6).map_err(e)?,
            status_434: count(row, 7).map_err(e)?,
            throttles: count(row, 8).map_err(e)?,
            max_mem_usage_bytes: count(row, 9).map_err(e)?,
            busy_micros: count(row, 10).map_err(e)?,
            min_micros: count(row, 11).map_err(e)?,
            max_micros: count(row, 12).map_err(e)?,
            histogram,
        },
    ))
}

fn sat(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Merges `rollup` into the table within the caller's transaction `tx`.
pub(crate) async fn merge(
    tx: &impl GenericClient,
    rollup: &Rollup,
) -> Result<(), tokio_postgres::Error> {
    if rollup.is_empty() {
        return Ok(());
    }
    // `rows` is a BTreeMap: its keys come sorted, the order every merge locks in.
    let ns: Vec<&str> = rollup.rows.keys().map(|k| k.0.as_str()).collect();
    let f: Vec<&str> = rollup.rows.keys().map(|k| k.1.as_str()).collect();
    let m: Vec<i64> = rollup.rows.keys().map(|k| k.2).collect();
    tx.execute(
        &format!(
            "INSERT INTO minute_rollup (namespace, function_name, minute) \
             SELECT * FROM {KEYS} ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING"
        ),
        &[&ns, &f, &m],
    )
    .await?;
    let held = tx
        .query(
            &format!(
                "SELECT {COLS} FROM minute_rollup WHERE (namespace, function_name, minute) IN \
                 (SELECT * FROM {KEYS}) ORDER BY 1, 2, 3 FOR UPDATE"
            ),
            &[&ns, &f, &m],
        )
        .await?;
    let mut merged = Rollup::new();
    for row in &held {
        // A row that does not decode is replaced by what this merge adds.
        if let Ok((k, r)) = row_of(row) {
            merged.rows.insert(k, r);
        }
    }
    merged.merge(rollup);
    let rows: Vec<(&RollupKey, &RollupRow)> = merged
        .rows
        .iter()
        .filter(|(k, _)| rollup.rows.contains_key(*k))
        .collect();
    let col = |get: fn(&RollupRow) -> u64| -> Vec<i64> {
        rows.iter().map(|(_, r)| sat(get(r))).collect()
    };
    let hist: Vec<Vec<u8>> = rows.iter().map(|(_, r)| r.encode_histogram()).collect();
    tx.execute(
        "UPDATE minute_rollup AS r SET invocations = u.invocations, errors = u.errors, \
         status_432 = u.s432, status_433 = u.s433, status_434 = u.s434, \
         throttles = u.throttles, max_mem = u.max_mem, busy_micros = u.busy, \
         min_micros = u.min_us, max_micros = u.max_us, histogram = u.hist \
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], \
         $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], \
         $13::int8[], $14::bytea[]) AS u(namespace, function_name, minute, invocations, \
         errors, s432, s433, s434, throttles, max_mem, busy, min_us, max_us, hist) \
         WHERE r.namespace = u.namespace AND r.function_name = u.function_name \
         AND r.minute = u.minute",
        &[
            &rows.iter().map(|(k, _)| k.0.as_str()).collect::<Vec<_>>(),
            &rows.iter().map(|(k, _)| k.1.as_str()).collect::<Vec<_>>(),
            &rows.iter().map(|(k, _)| k.2).collect::<Vec<_>>(),
            &col(|r| r.invocations),
            &col(|r| r.errors),
            &col(|r| r.status_432),
            &col(|r| r.status_433),
            &col(|r| r.status_434),
            &col(|r| r.throttles),
            &col(|r| r.max_mem_usage_bytes),
            &col(|r| r.busy_micros),
            &col(|r| r.min_micros),
            &col(|r| r.max_micros),
            &hist,
        ],
    )
    .await?;
    Ok(())
}

/// The keys `(request_id, retry_num, start_time)` among the given ones whose row is
/// stored finished already (their records are not counted again).
pub(crate) async fn finished_keys(
    tx: &impl GenericClient,
    request_id: &[&str],
    retry_num: &[i64],
    start_time: &[i64],
) -> Result<HashSet<(String, i64, i64)>, tokio_postgres::Error> {
    if request_id.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = tx
        .query(
            "SELECT l.request_id, l.retry_num, l.start_time FROM logs l \
             JOIN unnest($1::text[], $2::int8[], $3::int8[]) AS k(request_id, retry_num, start_time) \
             ON l.request_id = k.request_id AND l.retry_num = k.retry_num \
             AND l.start_time = k.start_time WHERE l.ret_code <> 2",
            &[&request_id, &retry_num, &start_time],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// What one writer batch adds to the rollup: its finished records whose key held no
/// finished row before the batch's upsert.
pub(crate) struct BatchRollup(Rollup);

impl BatchRollup {
    /// Reads, in the batch's transaction and before its upsert, which of `c`'s finished
    /// records are stored finished already, and counts the others.
    pub(crate) async fn before(
        tx: &impl GenericClient,
        c: &Columns,
    ) -> Result<Self, tokio_postgres::Error> {
        let finished: Vec<usize> = (0..c.ret_code.len())
            .filter(|&i| c.ret_code[i] != RET_CODE_RUNNING)
            .collect();
        let held = finished_keys(
            tx,
            &finished
                .iter()
                .map(|&i| c.request_id[i].as_str())
                .collect::<Vec<_>>(),
            &finished.iter().map(|&i| c.retry_num[i]).collect::<Vec<_>>(),
            &finished
                .iter()
                .map(|&i| c.start_time[i])
                .collect::<Vec<_>>(),
        )
        .await?;
        let mut rollup = Rollup::new();
        for i in finished {
            let key = (c.request_id[i].clone(), c.retry_num[i], c.start_time[i]);
            if !held.contains(&key) {
                rollup.add(
                    &c.namespace[i],
                    &c.function_name[i],
                    c.start_time[i],
                    c.duration_ms[i],
                    c.ret_code[i],
                    u16::try_from(c.status_code[i]).unwrap_or(0),
                    c.mem_usage_bytes[i] as u64,
                );
            }
        }
        Ok(BatchRollup(rollup))
    }

    /// Merges the counts, in the batch's transaction after its upsert.
    pub(crate) async fn merge(&self, tx: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
        merge(tx, &self.0).await
    }
}

/// The migration to schema 5, after [`V5`] made the table: every finished record of
/// `logs` counted, read through a portal 10,000 rows at a time.
pub(crate) async fn build(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(), tokio_postgres::Error> {
    let st = tx
        .prepare(
            "SELECT namespace, function_name, start_time, duration_ms, ret_code, status_code, \
             mem_usage_bytes FROM logs WHERE ret_code <> 2",
        )
        .await?;
    let portal = tx.bind(&st, &[]).await?;
    let mut rollup = Rollup::new();
    loop {
        let rows = tx.query_portal(&portal, 10_000).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let status: i32 = r.try_get(5)?;
            let mem: i64 = r.try_get(6)?;
            rollup.add(
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                u16::try_from(status).unwrap_or(0),
                mem as u64,
            );
        }
    }
    merge(tx, &rollup).await
}

/// Retention: forgets the minutes of `day` and before, in the transaction that drops
/// that day's partition.
pub(crate) async fn purge_through_day(
    tx: &impl GenericClient,
    day: i64,
) -> Result<(), tokio_postgres::Error> {
    let first_kept = (day + 1).saturating_mul(86_400_000_000) / MINUTE_MICROS;
    tx.execute(
        "DELETE FROM minute_rollup WHERE minute < $1",
        &[&first_kept],
    )
    .await?;
    Ok(())
}

/// Counts a throttle in its own transaction.
pub(crate) async fn throttle(
    client: &mut deadpool_postgres::Object,
    namespace: &str,
    function_name: &str,
    at_us: i64,
) -> Result<(), StoreError> {
    let err = |e: tokio_postgres::Error| write_err("counting a throttle", &e);
    let mut add = Rollup::new();
    add.add_throttle(namespace, function_name, at_us);
    let tx = client.transaction().await.map_err(err)?;
    merge(&*tx, &add).await.map_err(err)?;
    tx.commit().await.map_err(err)
}

/// The minute stats of `q` from the table.
pub(crate) async fn read(
    client: &impl GenericClient,
    q: &StatsQuery,
) -> Result<Vec<MinuteStats>, StoreError> {
    let what = "minute stats";
    let (first, last) = minute_range(q);
    let rows = match &q.function_name {
        Some(f) => {
            client
                .query(
                    &format!(
                        "SELECT {COLS} FROM minute_rollup WHERE namespace = $1 \
                         AND function_name = $4 AND minute BETWEEN $2 AND $3"
                    ),
                    &[&q.namespace, &first, &last, f],
                )
                .await
        }
        None => {
            client
                .query(
                    &format!(
                        "SELECT {COLS} FROM minute_rollup WHERE namespace = $1 \
                         AND minute BETWEEN $2 AND $3"
                    ),
                    &[&q.namespace, &first, &last],
                )
                .await
        }
    }
    .map_err(|e| read_err(what, &e))?;
    let mut got = Vec::with_capacity(rows.len());
    for row in &rows {
        got.push(row_of(row).map_err(|detail| StoreError::Read {
            what: "minute rollup row".into(),
            detail,
        })?);
    }
    Ok(stats_from_rows(q, got.iter().map(|(k, r)| (k, r))))
}
