//! [`ConsoleStore`] for [`PgStore`]: per-minute aggregates from the rollup table
//! (`crate::rollup`, schema version 5), and the `test_events`
//! table (schema version 4), whose saves count a function's events under an advisory
//! lock of that function, so that nodes saving at once never keep more than five.

use scf_store::{
    ConsoleStore, MinuteStats, StatsQuery, StoreError, TestEvent, MAX_TEST_EVENTS_PER_FUNCTION,
};

use crate::convert::{read_err, write_err};
use crate::store::{connection, PgStore};

const LOCK_FUNCTION: &str =
    "SELECT pg_advisory_xact_lock(hashtext('scf-store-postgres test events ' || $1 || '/' || $2))";

impl ConsoleStore for PgStore {
    fn minute_stats(&self, q: &StatsQuery) -> Result<Vec<MinuteStats>, StoreError> {
        q.validate()?;
        let q = q.clone();
        let pool = self.shared.pool.clone();
        self.call_read("minute stats", async move {
            let client = connection(&pool, "minute stats", false).await?;
            crate::rollup::read(&**client, &q).await
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
