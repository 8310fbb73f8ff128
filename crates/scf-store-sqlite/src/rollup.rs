//! The per-minute rollup ([`scf_store::rollup`]) in the `minute_rollup` table (schema
//! version 8): merged into by the writer in each batch's transaction (the records it
//! stored finished, and throttles), rebuilt from `logs` by the migration, forgotten a
//! whole minute at a time by retention, and read by
//! [`ConsoleStore::minute_stats`](scf_store::ConsoleStore::minute_stats).

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use crate::convert::{read_err, sat_i64, write_err};
use crate::rows::collect;
use scf_logs::LogRecord;
use scf_store::rollup::{
    minute_range, stats_from_rows, Rollup, RollupKey, RollupRow, MINUTE_MICROS,
};
use scf_store::{MinuteStats, StatsQuery, StoreError};

/// One row per `(namespace, function_name, minute)`; `minute` is unix µs / 60,000,000;
/// `histogram` is [`RollupRow::encode_histogram`]'s.
pub(crate) const ROLLUP_TABLE: &str = "
CREATE TABLE IF NOT EXISTS minute_rollup (
    namespace     TEXT    NOT NULL,
    function_name TEXT    NOT NULL,
    minute        INTEGER NOT NULL,
    invocations   INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    status_432    INTEGER NOT NULL,
    status_433    INTEGER NOT NULL,
    status_434    INTEGER NOT NULL,
    throttles     INTEGER NOT NULL,
    max_mem       INTEGER NOT NULL,
    busy_micros   INTEGER NOT NULL,
    min_micros    INTEGER NOT NULL,
    max_micros    INTEGER NOT NULL,
    histogram     BLOB    NOT NULL,
    PRIMARY KEY (namespace, function_name, minute)
) WITHOUT ROWID;
";

const COLS: &str = "namespace, function_name, minute, invocations, errors, status_432, \
    status_433, status_434, throttles, max_mem, busy_micros, min_micros, max_micros, histogram";

const GET_ROW: &str = "SELECT namespace, function_name, minute, invocations, errors, \
    status_432, status_433, status_434, throttles, max_mem, busy_micros, min_micros, \
    max_micros, histogram FROM minute_rollup WHERE namespace = ?1 AND function_name = ?2 \
    AND minute = ?3";

fn put_row_sql() -> String {
    format!(
        "INSERT OR REPLACE INTO minute_rollup ({COLS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    )
}

fn count(row: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
}

fn row_of(row: &Row<'_>) -> rusqlite::Result<(RollupKey, RollupRow)> {
    let bytes: Vec<u8> = row.get(13)?;
    let histogram = RollupRow::decode_histogram(&bytes).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            13,
            rusqlite::types::Type::Blob,
            format!("not a rollup histogram ({} bytes)", bytes.len()).into(),
        )
    })?;
    Ok((
        (row.get(0)?, row.get(1)?, row.get(2)?),
        RollupRow {
            invocations: count(row, 3)?,
            errors: count(row, 4)?,
            status_432: count(row, 5)?,
            status_433: count(row, 6)?,
            status_434: count(row, 7)?,
            throttles: count(row, 8)?,
            max_mem_usage_bytes: count(row, 9)?,
            busy_micros: count(row, 10)?,
            min_micros: count(row, 11)?,
            max_micros: count(row, 12)?,
            histogram,
        },
    ))
}

/// What one write batch adds to the rollup: the records its upserts stored finished.
#[derive(Debug, Default)]
pub(crate) struct BatchRollup(Rollup);

impl BatchRollup {
    /// Counts `r` when its upsert stored it finished for the first time (`counted`).
    pub(crate) fn counted(&mut self, r: &LogRecord, counted: bool) {
        if counted {
            self.0.add_record(r);
        }
    }

    /// Merges the batch's counts into the table in the batch's transaction (a failure
    /// fails the batch: the rollup never disagrees with the records).
    pub(crate) fn write(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        merge(tx, &self.0).map_err(|e| write_err("the per-minute rollup", e))
    }
}

/// Merges `rollup` into the table, in `tx` (the writer's batch transaction).
pub(crate) fn merge(tx: &Transaction<'_>, rollup: &Rollup) -> rusqlite::Result<()> {
    if rollup.is_empty() {
        return Ok(());
    }
    let mut get = tx.prepare_cached(GET_ROW)?;
    let mut put = tx.prepare_cached(&put_row_sql())?;
    for ((ns, f, minute), add) in &rollup.rows {
        let mut row = get
            .query_row(params![ns, f, minute], row_of)
            .optional()?
            .map(|(_, row)| row)
            .unwrap_or_default();
        row.merge(add);
        put.execute(params![
            ns,
            f,
            minute,
            sat_i64(row.invocations),
            sat_i64(row.errors),
            sat_i64(row.status_432),
            sat_i64(row.status_433),
            sat_i64(row.status_434),
            sat_i64(row.throttles),
            sat_i64(row.max_mem_usage_bytes),
            sat_i64(row.busy_micros),
            sat_i64(row.min_micros),
            sat_i64(row.max_micros),
            row.encode_histogram(),
        ])?;
    }
    Ok(())
}

/// The migration to schema 8: the table, filled from every finished record in `logs`.
pub(crate) fn build(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("DROP TABLE IF EXISTS minute_rollup;")?;
    tx.execute_batch(ROLLUP_TABLE)?;
    let mut rollup = Rollup::new();
    {
        let mut st = tx.prepare(
            "SELECT namespace, function_name, start_time, duration_ms, ret_code, status_code, \
             mem_usage_bytes FROM logs WHERE ret_code <> 2",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let ns: String = r.get(0)?;
            let f: String = r.get(1)?;
            rollup.add(
                &ns,
                &f,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                count(r, 6)?,
            );
        }
    }
    merge(tx, &rollup)
}

/// Retention: forgets the minutes wholly before `cutoff_us`'s minute (their records are
/// gone or going; the cutoff's own minute is kept whole until it is past).
pub(crate) fn purge(tx: &Transaction<'_>, cutoff_us: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM minute_rollup WHERE minute < ?1")?
        .execute([cutoff_us.div_euclid(MINUTE_MICROS)])?;
    Ok(())
}

/// A throttle, as a rollup of one.
pub(crate) fn throttle(namespace: &str, function_name: &str, at_us: i64) -> Rollup {
    let mut r = Rollup::new();
    r.add_throttle(namespace, function_name, at_us);
    r
}

/// The minute stats of `q` from the table: the query's minutes of its namespace (and
/// function), through the primary key.
pub(crate) fn read(conn: &Connection, q: &StatsQuery) -> Result<Vec<MinuteStats>, StoreError> {
    let (first, last) = minute_range(q);
    let mut params = vec![
        Value::Text(q.namespace.clone()),
        Value::Integer(first),
        Value::Integer(last),
    ];
    let by_function = match &q.function_name {
        Some(f) => {
            params.push(Value::Text(f.clone()));
            "AND function_name = ?4 "
        }
        None => "",
    };
    let sql = format!(
        "SELECT {COLS} FROM minute_rollup WHERE namespace = ?1 {by_function}\
         AND minute BETWEEN ?2 AND ?3"
    );
    let rows = collect(conn, "minute stats", &sql, &params, |row| {
        row_of(row).map_err(|e| read_err("minute rollup row", e))
    })?;
    Ok(stats_from_rows(q, rows.iter().map(|(k, r)| (k, r))))
}
