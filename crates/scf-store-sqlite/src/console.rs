//! [`ConsoleStore`] on SQLite: per-minute aggregates in SQL over the log indexes, and the
//! `test_events` table (written on the writer thread, durable on return).

use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension, Row};

use crate::convert::{from_micros, read_err, sat_i64, to_micros, write_err};
use crate::rows::collect;
use crate::store::SqliteStore;
use scf_store::sql::{minute_stats_sql, Dialect};
use scf_store::{
    ConsoleStore, MinuteStats, StatsQuery, StoreError, TestEvent, MAX_TEST_EVENTS_PER_FUNCTION,
};

/// A row of [`minute_stats_sql`] as [`MinuteStats`].
fn row_to_stats(row: &Row<'_>) -> Result<MinuteStats, StoreError> {
    let err = |e: rusqlite::Error| read_err("minute stats row", e);
    let count = |i: usize| -> Result<u64, StoreError> {
        let n: Option<i64> = row.get(i).map_err(err)?;
        Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    };
    let ms = |i: usize| -> Result<f64, StoreError> {
        let v: Option<f64> = row.get(i).map_err(err)?;
        Ok(v.unwrap_or(0.0))
    };
    let minute: i64 = row.get(0).map_err(err)?;
    let mut m = MinuteStats::new(from_micros(
        minute.saturating_mul(60_000_000),
        "(minute stats)",
        "minute",
    )?);
    m.invocations = count(1)?;
    m.errors = count(2)?;
    m.status_432 = count(3)?;
    m.status_433 = count(4)?;
    m.status_434 = count(5)?;
    m.max_mem_usage_bytes = count(6)?;
    m.duration_p50_ms = ms(7)?;
    m.duration_p95_ms = ms(8)?;
    m.duration_p99_ms = ms(9)?;
    m.max_concurrency = count(10)?;
    Ok(m)
}

fn row_to_test_event(row: &Row<'_>) -> Result<TestEvent, StoreError> {
    let err = |e: rusqlite::Error| read_err("test event row", e);
    Ok(TestEvent::new(
        row.get::<_, String>(0).map_err(err)?,
        row.get::<_, String>(1).map_err(err)?,
        row.get::<_, String>(2).map_err(err)?,
        row.get::<_, String>(3).map_err(err)?,
    ))
}

impl ConsoleStore for SqliteStore {
    fn minute_stats(&self, q: &StatsQuery) -> Result<Vec<MinuteStats>, StoreError> {
        q.validate()?;
        let mut params = vec![
            Value::Text(q.namespace.clone()),
            Value::Integer(to_micros(q.start)),
            Value::Integer(to_micros(q.end)),
        ];
        // One function: its range of `logs_fn_time`; the namespace: the range of
        // `logs_time`. Either reads each row in the range once.
        let from = match &q.function_name {
            Some(f) => {
                params.push(Value::Text(f.clone()));
                "logs INDEXED BY logs_fn_time WHERE function_name = ?4 AND"
            }
            None => "logs INDEXED BY logs_time WHERE",
        };
        let source = format!(
            "SELECT start_time AS t, duration_ms AS d, ret_code AS rc, status_code AS sc, \
             mem_usage_bytes AS mem FROM {from} start_time >= ?2 AND start_time < ?3 \
             AND namespace = ?1 AND ret_code <> 2"
        );
        let sql = minute_stats_sql(Dialect::Sqlite, &source);
        let conn = self.reader();
        collect(&conn, "minute stats", &sql, &params, row_to_stats)
    }

    fn save_test_event(&self, event: &TestEvent) -> Result<(), StoreError> {
        event.validate()?;
        let ev = event.clone();
        self.queue_write(format!("saving test event {:?}", ev.name), move |tx| {
            let what = "saving a test event";
            let exists = tx
                .query_row(
                    "SELECT 1 FROM test_events WHERE namespace = ?1 AND function_name = ?2 \
                     AND name = ?3",
                    params![ev.namespace, ev.function_name, ev.name],
                    |_| Ok(()),
                )
                .optional()
                .map_err(|e| write_err(what, e))?
                .is_some();
            if !exists {
                let n: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM test_events WHERE namespace = ?1 \
                         AND function_name = ?2",
                        params![ev.namespace, ev.function_name],
                        |r| r.get(0),
                    )
                    .map_err(|e| write_err(what, e))?;
                if n >= sat_i64(MAX_TEST_EVENTS_PER_FUNCTION as u64) {
                    return Err(StoreError::TestEventsFull {
                        namespace: ev.namespace,
                        function_name: ev.function_name,
                        max: MAX_TEST_EVENTS_PER_FUNCTION,
                    });
                }
            }
            tx.execute(
                "INSERT INTO test_events (namespace, function_name, name, event) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (namespace, function_name, name) \
                 DO UPDATE SET event = excluded.event",
                params![ev.namespace, ev.function_name, ev.name, ev.event],
            )
            .map_err(|e| write_err(what, e))?;
            Ok(())
        })
    }

    fn list_test_events(
        &self,
        namespace: &str,
        function_name: &str,
    ) -> Result<Vec<TestEvent>, StoreError> {
        let conn = self.reader();
        collect(
            &conn,
            "test events",
            "SELECT namespace, function_name, name, event FROM test_events \
             WHERE namespace = ?1 AND function_name = ?2 ORDER BY name",
            &[
                Value::Text(namespace.to_owned()),
                Value::Text(function_name.to_owned()),
            ],
            row_to_test_event,
        )
    }

    fn delete_test_event(
        &self,
        namespace: &str,
        function_name: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let key = (
            namespace.to_owned(),
            function_name.to_owned(),
            name.to_owned(),
        );
        self.queue_write(format!("deleting test event {name:?}"), move |tx| {
            let n = tx
                .execute(
                    "DELETE FROM test_events WHERE namespace = ?1 AND function_name = ?2 \
                     AND name = ?3",
                    params![key.0, key.1, key.2],
                )
                .map_err(|e| write_err("deleting a test event", e))?;
            Ok(n > 0)
        })
    }
}
