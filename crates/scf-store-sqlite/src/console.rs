//! [`ConsoleStore`] on SQLite: per-minute aggregates from the rollup table
//! ([`crate::rollup`]), and the `test_events` table (written on the writer thread,
//! durable on return).

use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension, Row};

use crate::convert::{read_err, sat_i64, write_err};
use crate::rows::collect;
use crate::store::SqliteStore;
use scf_store::{
    ConsoleStore, MinuteStats, StatsQuery, StoreError, TestEvent, MAX_TEST_EVENTS_PER_FUNCTION,
};

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
        let conn = self.reader();
        crate::rollup::read(&conn, q)
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
