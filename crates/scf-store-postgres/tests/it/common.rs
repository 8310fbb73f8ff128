//! What the tests share: a PostgreSQL server (the one `SCF_TEST_POSTGRES_URL` names, or a
//! private cluster the test starts) and a schema of the test's own on it.

use std::sync::atomic::{AtomicU32, Ordering};

use scf_store_postgres::{PgStore, PgStoreConfig};
use scf_testkit::PgCluster;

/// A test's place on a server: its own schema (dropped at the end) on the shared server,
/// or a private cluster (deleted at the end). Drop it after the store.
#[derive(Debug)]
pub(crate) struct TestDb {
    pub(crate) url: String,
    pub(crate) schema: String,
    /// The private cluster, when there is no shared server.
    pub(crate) cluster: Option<PgCluster>,
}

impl TestDb {
    /// A fresh schema name on the shared server, or a private cluster when none is set
    /// (fails the test when PostgreSQL is missing, unless skips are allowed: `None`).
    pub(crate) fn new() -> Option<Self> {
        static N: AtomicU32 = AtomicU32::new(0);
        if !scf_testkit::require(&scf_testkit::POSTGRES) {
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!(
            "t_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        match scf_testkit::test_postgres_url() {
            Some(url) => Some(TestDb {
                url,
                schema,
                cluster: None,
            }),
            None => Some(Self::private()),
        }
    }

    /// A private cluster of the test's own (for tests that stop or restart the server).
    pub(crate) fn private() -> Self {
        let cluster = PgCluster::start().unwrap();
        TestDb {
            url: cluster.url(),
            schema: "scf".into(),
            cluster: Some(cluster),
        }
    }

    pub(crate) fn config(&self) -> PgStoreConfig {
        PgStoreConfig::new(&self.url).with_schema(&self.schema)
    }

    pub(crate) fn open(&self) -> PgStore {
        PgStore::open_with(self.config()).unwrap()
    }

    /// Runs `sql` on a connection of the test's own, in the test's schema.
    pub(crate) fn sql(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute(&format!("SET search_path TO {}", self.schema))
                .await
                .unwrap();
            client.simple_query("SELECT 1").await.unwrap();
            match client.query(sql, &[]).await {
                Ok(rows) => rows,
                Err(e) if e.as_db_error().is_some() => {
                    panic!("{sql}: {}", e.as_db_error().unwrap().message())
                }
                Err(e) => panic!("{sql}: {e}"),
            }
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.cluster.is_none() && !std::thread::panicking() {
            let _ = self.sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// A fresh store in a schema of its own, with what must outlive it.
pub(crate) fn pg() -> (TestDb, PgStore) {
    let db = TestDb::new().unwrap_or_else(|| panic!("PostgreSQL is missing and skips are allowed"));
    let store = db.open();
    (db, store)
}
