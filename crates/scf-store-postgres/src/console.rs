//! [`ConsoleStore`] for [`PgStore`]: per-minute aggregates in one SQL statement over
//! `logs_fn_time` (one function) or `logs_time` (a namespace), and the `test_events`
//! table (schema version 4), whose saves count a function's events under an advisory
//! lock of that function, so that nodes saving at once never keep more than five.

use scf_store::sql::{minute_stats_sql, Dialect};
use scf_store::{
    ConsoleStore, MinuteStats, StatsQuery, StoreError, TestEvent, MAX_TEST_EVENTS_PER_FUNCTION,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::convert::{from_micros, read_err, to_micros, write_err};
use crate::store::{connection, PgStore};

const LOCK_FUNCTION: &str =
    "SELECT pg_advisory_xact_lock(hashtext('scf-store-postgres test events ' || $1 || '/' || $2))";

fn row_to_stats(row: &Row) -> Result<MinuteStats, StoreError> {
    let err = |e: tokio_postgres::Error| read_err("minute stats row", &e);
    let count = |i: usize| -> Result<u64, StoreError> {
        let n: Option<i64> = row.try_get(i).map_err(err)?;
        Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    };
    let ms = |i: usize| -> Result<f64, StoreError> {
        let v: Option<f64> = row.try_get(i).map_err(err)?;
        Ok(v.unwrap_or(0.0))
    };
    let minute: i64 = row.try_get(0).map_err(err)?;
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

impl ConsoleStore for PgStore {
    fn minute_stats(&self, q: &StatsQuery) -> Result<Vec<MinuteStats>, StoreError> {
        q.validate()?;
        let (ns, start, end) = (q.namespace.clone(), to_micros(q.start), to_micros(q.end));
        let function = q.function_name.clone();
        let by_function = if function.is_some() {
            "function_name = $4 AND "
        } else {
            ""
        };
        // SUM over bigint is numeric in PostgreSQL: the counts are cast back.
        let source = format!(
            "SELECT start_time AS t, duration_ms AS d, ret_code AS rc, status_code AS sc, \
             mem_usage_bytes AS mem FROM logs WHERE {by_function}start_time >= $2 \
             AND start_time < $3 AND namespace = $1 AND ret_code <> 2"
        );
        let sql = format!(
            "SELECT m, n::bigint, errors::bigint, s432::bigint, s433::bigint, s434::bigint, \
             mem::bigint, p50, p95, p99, c::bigint FROM ({}) s",
            minute_stats_sql(Dialect::Postgres, &source)
        );
        let pool = self.shared.pool.clone();
        self.call_read("minute stats", async move {
            let what = "minute stats";
            let client = connection(&pool, what, false).await?;
            let st = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| read_err(what, &e))?;
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&ns, &start, &end];
            if let Some(f) = &function {
                params.push(f);
            }
            let rows = client
                .query(&st, &params)
                .await
                .map_err(|e| read_err(what, &e))?;
            rows.iter().map(row_to_stats).collect()
        })
    }

    fn save_test_event(&self, event: &TestEvent) -> Result<(), StoreError> {
        event.validate()?;
        let ev = event.clone();
        let pool = self.shared.pool.clone();
        let what = format!("saving test event {:?}", ev.name);
        let w = what.clone();
        self.call_write(&w, async move {
            let err = |e: tokio_postgres::Error| write_err(what.clone(), &e);
            let mut client = connection(&pool, &what, true).await?;
            let tx = client.transaction().await.map_err(err)?;
            tx.execute(LOCK_FUNCTION, &[&ev.namespace, &ev.function_name])
                .await
                .map_err(err)?;
            let row = tx
                .query_one(
                    "SELECT count(*), count(*) FILTER (WHERE name = $3) FROM test_events \
                     WHERE namespace = $1 AND function_name = $2",
                    &[&ev.namespace, &ev.function_name, &ev.name],
                )
                .await
                .map_err(err)?;
            let (n, same): (i64, i64) = (row.get(0), row.get(1));
            if same == 0 && n >= MAX_TEST_EVENTS_PER_FUNCTION as i64 {
                return Err(StoreError::TestEventsFull {
                    namespace: ev.namespace,
                    function_name: ev.function_name,
                    max: MAX_TEST_EVENTS_PER_FUNCTION,
                });
            }
            tx.execute(
                "INSERT INTO test_events (namespace, function_name, name, event) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (namespace, function_name, name) \
                 DO UPDATE SET event = EXCLUDED.event",
                &[&ev.namespace, &ev.function_name, &ev.name, &ev.event],
            )
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
            Ok(())
        })
    }

    fn list_test_events(
        &self,
        namespace: &str,
        function_name: &str,
    ) -> Result<Vec<TestEvent>, StoreError> {
        let (ns, f) = (namespace.to_owned(), function_name.to_owned());
        let pool = self.shared.pool.clone();
        self.call_read("test events", async move {
            let what = "test events";
            let client = connection(&pool, what, false).await?;
            let rows = client
                .query(
                    "SELECT namespace, function_name, name, event FROM test_events \
                     WHERE namespace = $1 AND function_name = $2 ORDER BY name",
                    &[&ns, &f],
                )
                .await
                .map_err(|e| read_err(what, &e))?;
            Ok(rows
                .iter()
                .map(|r| {
                    TestEvent::new(
                        r.get::<_, String>(0),
                        r.get::<_, String>(1),
                        r.get::<_, String>(2),
                        r.get::<_, String>(3),
                    )
                })
                .collect())
        })
    }

    fn delete_test_event(
        &self,
        namespace: &str,
        function_name: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let (ns, f, n) = (
            namespace.to_owned(),
            function_name.to_owned(),
            name.to_owned(),
        );
        let pool = self.shared.pool.clone();
        let what = format!("deleting test event {name:?}");
        let w = what.clone();
        self.call_write(&w, async move {
            let err = |e: tokio_postgres::Error| write_err(what.clone(), &e);
            let client = connection(&pool, &what, true).await?;
            let deleted = client
                .execute(
                    "DELETE FROM test_events WHERE namespace = $1 AND function_name = $2 \
                     AND name = $3",
                    &[&ns, &f, &n],
                )
                .await
                .map_err(err)?;
            Ok(deleted > 0)
        })
    }
}
