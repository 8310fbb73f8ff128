//! The schema (version 8): the tables and indexes, the connection settings, and the
//! migrations from every version that ever shipped (1 to 7).

use std::path::Path;

use rusqlite::{params, Connection, Transaction};

use crate::config::SqliteStoreConfig;
use crate::convert::open_err;
use crate::keys::request_key;
use crate::statements::LOG_COLS_V1;
use scf_store::StoreError;

pub(crate) const SCHEMA_VERSION: i64 = 8;

/// The `logs` table (version 6 added `node`, the node that ran the attempt; version 7
/// `log_form`: 1 when `log` holds the log text packed by [`scf_store::packing`], its
/// request id and return value stored once, 0 when it holds the text as it is, as every
/// row written before version 7 does). `id` is the insertion order (appends go to the end
/// of the table's B-tree); `rkey` is [`request_key`] of `request_id`, an 8-byte integer that
/// stands for the request id text in the key tables ([`KEY_TABLES`]). `coll` is 0 except on
/// the (astronomically rare) row whose request id shares its `rkey` with another's: the
/// writer gives that row the next free `coll`, so `(rkey, retry_num, coll)` is unique.
/// Lookups always compare `request_id` too. Both stay in the row, so the key tables can be
/// rebuilt from it.
pub(crate) const LOGS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS logs (
    id               INTEGER PRIMARY KEY,
    rkey             INTEGER NOT NULL, -- request_key(request_id)
    coll             INTEGER NOT NULL DEFAULT 0, -- see LOGS_TABLE's docs
    request_id       TEXT    NOT NULL,
    retry_num        INTEGER NOT NULL,
    function_name    TEXT    NOT NULL,
    namespace        TEXT    NOT NULL,
    qualifier        TEXT    NOT NULL,
    start_time       INTEGER NOT NULL, -- unix microseconds, UTC
    ret_code         INTEGER NOT NULL,
    status_code      INTEGER NOT NULL,
    invoke_finished  INTEGER NOT NULL,
    ret_msg          TEXT    NOT NULL,
    duration_ms      REAL    NOT NULL,
    bill_duration_ms INTEGER NOT NULL,
    mem_usage_bytes  INTEGER NOT NULL,
    log              TEXT    NOT NULL,
    level            TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    invocation_type  TEXT    NOT NULL,
    node             TEXT    NOT NULL DEFAULT '', -- the node that ran it ('' before version 6)
    log_form         INTEGER NOT NULL DEFAULT 0 -- 1: `log` is packed (version 7)
);
";

pub(crate) const LOGS_INDEXES: &str = "
-- GetFunctionLogs by function, newest first: walks this index backwards and
-- tests the RetCode filter on index columns, reading only the rows it returns.
CREATE INDEX IF NOT EXISTS logs_fn_time ON logs (function_name, start_time, ret_code, status_code);
-- TotalCount of the `not0` RetCode filter within a function: an index range count. Partial:
-- successful invocations (most of them) are not in it, so appending them skips this index.
CREATE INDEX IF NOT EXISTS logs_fn_fail ON logs (function_name, ret_code, status_code)
    WHERE ret_code <> 0;
-- Queries without a function name (time ranges, status codes).
CREATE INDEX IF NOT EXISTS logs_time ON logs (start_time);
";

/// The columns of both key tables (a literal, for `concat!`).
macro_rules! key_table_columns {
    () => {
        " (
    rkey      INTEGER NOT NULL,
    retry_num INTEGER NOT NULL,
    coll      INTEGER NOT NULL,
    id        INTEGER NOT NULL,
    PRIMARY KEY (rkey, retry_num, coll)
) WITHOUT ROWID;
"
    };
}

/// Where each row's `(rkey, retry_num, coll)` key is, for upserts and lookups by request id:
/// a two-level index (a small log-structured merge). Request ids are random, so a B-tree
/// keyed by them takes every insert at a random page; once that tree is much larger than a
/// commit, each commit rewrites about one page of it per record into the WAL (4 KiB for a
/// ~500-byte record, and growing with the table: appends fell from 117k to 25k records/s
/// over the first 5M records of one file). New keys go to `logs_key_new`, which stays small
/// enough that a commit rewrites few of its pages; the writer moves them into `logs_key`
/// in key order, a sixteenth of the key space at a time, whenever `logs_key_new` holds
/// `key_merge_rows` keys, so each page of the large tree is rewritten once per many keys.
/// Every key is in exactly one of the two tables. `key_merges` counts the merges, so that a
/// writer sees when another connection (another process on the same file) moved keys its
/// Bloom filter of `logs_key` does not hold ([`KeyMerge::sync`]).
pub(crate) const KEY_TABLES: &str = concat!(
    "CREATE TABLE IF NOT EXISTS logs_key_new",
    key_table_columns!(),
    "CREATE TABLE IF NOT EXISTS logs_key",
    key_table_columns!(),
    "CREATE TABLE IF NOT EXISTS key_merges (n INTEGER NOT NULL);
INSERT INTO key_merges (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM key_merges);
",
);

/// The async event queue (schema version 5, plus `node` in 6). `next_attempt_at` is when the event is next
/// due (µs; the start time until a retry is scheduled); a claim sets `lease_worker` and
/// `lease_until` (µs), which stay set while the worker holds the event and after its lease
/// ran out (so that the next claim knows an attempt was interrupted), and are cleared when
/// the attempt ends. `failures` counts failed attempts (a retry budget counts these).
/// `node` (version 6) is the node that accepted the event.
pub(crate) const ASYNC_TABLE: &str = "
CREATE TABLE IF NOT EXISTS async_events (
    id                INTEGER PRIMARY KEY,
    invoke_request_id TEXT    NOT NULL UNIQUE,
    function_name     TEXT    NOT NULL,
    namespace         TEXT    NOT NULL,
    qualifier         TEXT    NOT NULL,
    invoke_type       TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    status_code       INTEGER NOT NULL,
    start_time        INTEGER NOT NULL,
    end_time          INTEGER,
    event             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL DEFAULT 0, -- unix microseconds, UTC
    lease_worker      TEXT,
    lease_until       INTEGER, -- unix microseconds, UTC
    failures          INTEGER NOT NULL DEFAULT 0,
    node              TEXT    NOT NULL DEFAULT '' -- the accepting node ('' before version 6)
);
";

/// The columns schema version 5 added to `async_events`, as `ALTER TABLE` adds them.
pub(crate) const ASYNC_V5_COLUMNS: [(&str, &str); 4] = [
    ("next_attempt_at", "INTEGER NOT NULL DEFAULT 0"),
    ("lease_worker", "TEXT"),
    ("lease_until", "INTEGER"),
    ("failures", "INTEGER NOT NULL DEFAULT 0"),
];

/// The indexes of `async_events`. The claim reads due events from two small partial
/// indexes, so that neither held nor ended events are scanned to find them: events nobody
/// holds, in the claim's order (`async_due`), and events under a lease, by its end
/// (`async_leased`: the ones whose lease ran out are its first entries). Together they
/// hold exactly the `RUNNING` events, so they also serve `pending` and
/// `unfinished`; version 4's index on `(status, start_time)` is gone: every enqueue
/// and every end of an event wrote one or two more pages for it (ending events from 32
/// threads: 20-26k/s with it, 34-44k/s without). Listing by status alone (no function
/// name; `ListAsyncEvents` requires one) now reads the whole table.
pub(crate) const ASYNC_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS async_fn_ns_time ON async_events (function_name, namespace, start_time);
CREATE INDEX IF NOT EXISTS async_due ON async_events (next_attempt_at, start_time)
    WHERE status = 'RUNNING' AND lease_until IS NULL;
CREATE INDEX IF NOT EXISTS async_leased ON async_events (lease_until)
    WHERE status = 'RUNNING' AND lease_until IS NOT NULL;
";

/// The ticks of timer triggers already fired (`claim_tick`), by any process sharing the
/// file; `timer_ticks_time` is for retention.
pub(crate) const TICKS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS timer_ticks (
    trigger TEXT    NOT NULL,
    tick    INTEGER NOT NULL, -- unix microseconds, UTC
    PRIMARY KEY (trigger, tick)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timer_ticks_time ON timer_ticks (tick);
";

/// Deployment-wide concurrency slots (schema version 6; `scf_store::ConcurrencySlots`):
/// one row per held slot, under a lease. `AUTOINCREMENT`, so that an id is never handed
/// out twice (a node that lost a slot must not renew or release someone else's).
pub(crate) const SLOTS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS concurrency_slots (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace     TEXT    NOT NULL,
    function_name TEXT    NOT NULL,
    holder        TEXT    NOT NULL,
    lease_until   INTEGER NOT NULL -- unix microseconds, UTC
);
CREATE INDEX IF NOT EXISTS concurrency_slots_fn
    ON concurrency_slots (namespace, function_name, lease_until);
";

/// The console's saved test events (schema version 7; `scf_store::ConsoleStore`), at
/// most five per function (the writer counts before it inserts).
pub(crate) const TEST_EVENTS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS test_events (
    namespace     TEXT NOT NULL,
    function_name TEXT NOT NULL,
    name          TEXT NOT NULL,
    event         TEXT NOT NULL,
    PRIMARY KEY (namespace, function_name, name)
) WITHOUT ROWID;
";

/// The worker a migration from schema version 4 names as the holder of a `RUNNING` event
/// with attempts: a version 4 process may have stopped in the middle of its last attempt,
/// so the event's first claim reports that attempt as interrupted. The lease ran out at 0.
pub(crate) const V4_WORKER: &str = "scf-schema-v4";

pub(crate) fn configure(
    conn: &Connection,
    cfg: &SqliteStoreConfig,
    path: &Path,
) -> Result<(), StoreError> {
    conn.busy_timeout(cfg.busy_timeout)
        .map_err(|e| open_err(path, e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| open_err(path, format!("setting WAL mode: {e}")))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(open_err(
            path,
            format!("WAL mode not available (journal_mode={mode})"),
        ));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| open_err(path, format!("setting synchronous=NORMAL: {e}")))?;
    // A 16 MiB page cache: enough for the pages a batch of appends rewrites (the small
    // key table, the tails of the record and rollup tables) to stay hot. Pages read
    // come through the memory map below, not this cache; 64 MiB held the writer's
    // modified pages long after their commit and was most of `scf serve`'s resident
    // memory (docs/performance.md, "Out-of-process invoke, fifth pass").
    conn.pragma_update(None, "cache_size", -16384)
        .map_err(|e| open_err(path, format!("setting cache_size: {e}")))?;
    // No automatic checkpoints on any connection: the checkpointer thread runs
    // them (see `checkpointer_loop`), so the writer never copies pages itself.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(|e| open_err(path, format!("setting wal_autocheckpoint: {e}")))?;
    // Read pages through a 1 GiB memory map instead of read(2) into the page cache: a
    // page that fell out of `cache_size` is one page fault away, not a syscall and a copy,
    // and mapped pages are the kernel's page cache, shared, not this process's heap.
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)
        .map_err(|e| open_err(path, format!("setting mmap_size: {e}")))?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(|e| open_err(path, format!("setting temp_store: {e}")))?;
    Ok(())
}

pub(crate) fn init_schema(conn: &mut Connection) -> Result<(), StoreError> {
    let schema = |e: rusqlite::Error| StoreError::Schema(e.to_string());
    let tx = conn.transaction().map_err(schema)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
        .map_err(schema)?;
    let found: Option<i64> = tx
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .map_err(schema)?;
    match found {
        None => {
            tx.execute_batch(LOGS_TABLE).map_err(schema)?;
            tx.execute_batch(LOGS_INDEXES).map_err(schema)?;
            tx.execute_batch(KEY_TABLES).map_err(schema)?;
            tx.execute_batch(ASYNC_TABLE).map_err(schema)?;
            tx.execute_batch(ASYNC_INDEXES).map_err(schema)?;
            tx.execute_batch(TICKS_TABLE).map_err(schema)?;
            tx.execute_batch(SLOTS_TABLE).map_err(schema)?;
            tx.execute_batch(TEST_EVENTS_TABLE).map_err(schema)?;
            tx.execute_batch(crate::rollup::ROLLUP_TABLE)
                .map_err(schema)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(schema)?;
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v @ 1..=7) => {
            let step = match v {
                1 => migrate_v1(&tx)
                    .and_then(|()| set_colliding_colls(&tx))
                    .and_then(|()| move_keys(&tx)),
                2 => migrate_v2(&tx)
                    .and_then(|()| set_colliding_colls(&tx))
                    .and_then(|()| move_keys(&tx)),
                3 => migrate_v3(&tx).and_then(|()| move_keys(&tx)),
                _ => Ok(()),
            };
            let step = if v <= 4 {
                step.and_then(|()| migrate_v4(&tx))
            } else {
                step
            };
            let step = if v <= 5 {
                step.and_then(|()| migrate_v5(&tx))
            } else {
                step
            };
            let step = if v <= 6 {
                step.and_then(|()| migrate_v6(&tx))
            } else {
                step
            };
            // Schema 7 (and every earlier one) had no per-minute rollup.
            step.and_then(|()| crate::rollup::build(&tx))
                .and_then(|()| finish_migration(&tx))
                .map_err(|e| {
                    StoreError::Schema(format!(
                        "migrating the database from schema version {v} to {SCHEMA_VERSION}: {e}"
                    ))
                })?;
        }
        Some(v) => {
            return Err(StoreError::Schema(format!(
                "database schema version {v} is not the version this build uses ({SCHEMA_VERSION})"
            )))
        }
    }
    tx.commit().map_err(schema)
}

/// Schema 1 had a unique index on `(request_id, retry_num)` text and no `rkey`: rebuilds
/// `logs` in the current layout, keeping every row and its `id` (the insertion order).
pub(crate) fn migrate_v1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS logs_fn_time;
         DROP INDEX IF EXISTS logs_fn_ret;
         DROP INDEX IF EXISTS logs_time;
         ALTER TABLE logs RENAME TO logs_v1;",
    )?;
    tx.execute_batch(LOGS_TABLE)?;
    tx.execute_batch(&format!(
        "INSERT INTO logs (id, rkey, {LOG_COLS_V1}) SELECT id, 0, {LOG_COLS_V1} FROM logs_v1 ORDER BY id;
         DROP TABLE logs_v1;"
    ))?;
    {
        let mut read = tx.prepare("SELECT id, request_id FROM logs")?;
        let mut write = tx.prepare("UPDATE logs SET rkey = ?2 WHERE id = ?1")?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let request_id: String = row.get(1)?;
            write.execute(params![id, request_key(&request_id)])?;
        }
    }
    Ok(())
}

/// Schema 2 had no `coll` and a plain index on `rkey`: adds the column (0 everywhere) and
/// drops that index.
pub(crate) fn migrate_v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE logs ADD COLUMN coll INTEGER NOT NULL DEFAULT 0;
         DROP INDEX IF EXISTS logs_rkey;",
    )
}

/// For schemas 1 and 2, which allowed it: rows whose `(rkey, retry_num)` an earlier row
/// already has (request ids whose keys collide) get their own `id` as `coll`, so that
/// every key is unique.
pub(crate) fn set_colliding_colls(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "UPDATE logs SET coll = id
         WHERE id NOT IN (SELECT MIN(id) FROM logs GROUP BY rkey, retry_num);",
    )
}

/// Schema 3 kept the keys in a unique index on `logs`; [`finish_migration`] moves them
/// into `logs_key`.
pub(crate) fn migrate_v3(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("DROP INDEX IF EXISTS logs_key;")
}

/// The last step from schemas 1, 2 and 3 to the layout of version 4: the log indexes
/// and the key tables (every row's key in `logs_key`, inserted in key order).
pub(crate) fn move_keys(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("DROP INDEX IF EXISTS logs_fn_ret;")?;
    tx.execute_batch(LOGS_INDEXES)?;
    tx.execute_batch(KEY_TABLES)?;
    tx.execute_batch(
        "INSERT INTO logs_key (rkey, retry_num, coll, id)
         SELECT rkey, retry_num, coll, id FROM logs ORDER BY rkey, retry_num, coll;",
    )?;
    Ok(())
}

/// Schema 4 (and every earlier one) had no leases, retry times or timer ticks: adds the
/// columns, the ticks table and the indexes (and drops the index on status). A `RUNNING` event is due at once (at its
/// start time); one with attempts may have been mid-attempt when the old version stopped,
/// so it gets a lease of [`V4_WORKER`] that ran out at 0: its first claim reports the
/// attempt `attempts - 1` as interrupted and runs the next.
pub(crate) fn migrate_v4(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    // A file without the async table (none shipped so) gets the current one.
    tx.execute_batch(ASYNC_TABLE)?;
    let have: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info('async_events')")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for (column, decl) in ASYNC_V5_COLUMNS {
        if !have.iter().any(|c| c == column) {
            tx.execute_batch(&format!(
                "ALTER TABLE async_events ADD COLUMN {column} {decl};"
            ))?;
        }
    }
    tx.execute_batch("UPDATE async_events SET next_attempt_at = start_time;")?;
    tx.execute(
        "UPDATE async_events SET lease_worker = ?1, lease_until = 0 \
         WHERE status = 'RUNNING' AND attempts > 0",
        [V4_WORKER],
    )?;
    tx.execute_batch("DROP INDEX IF EXISTS async_status;")?;
    tx.execute_batch(ASYNC_INDEXES)?;
    tx.execute_batch(TICKS_TABLE)?;
    Ok(())
}

/// Schema 5 (and every earlier one) kept no node ids and had no concurrency slots: adds
/// `node` to `logs` and to `async_events`, `''` (unknown) for every row already there,
/// and the slots table. A migration from version 1
/// or a file without the async table already has them from the current table
/// definitions, so each is added only where missing.
pub(crate) fn migrate_v5(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for table in ["logs", "async_events"] {
        let have: Vec<String> = tx
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if !have.iter().any(|c| c == "node") {
            tx.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN node TEXT NOT NULL DEFAULT '';"
            ))?;
        }
    }
    tx.execute_batch(SLOTS_TABLE)
}

/// Schema 6 (and every earlier one) kept log text as it is and had no test events: adds
/// `log_form` (0, the text as it is, for every row already there: rows are not rewritten,
/// so that opening a large file stays quick; rows written from now on are packed) where
/// missing, and the test events table.
pub(crate) fn migrate_v6(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let have: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info('logs')")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if !have.iter().any(|c| c == "log_form") {
        tx.execute_batch("ALTER TABLE logs ADD COLUMN log_form INTEGER NOT NULL DEFAULT 0;")?;
    }
    tx.execute_batch(TEST_EVENTS_TABLE)
}

/// The step every migration ends with: the version.
pub(crate) fn finish_migration(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM schema_version WHERE version <> ?1",
        [SCHEMA_VERSION],
    )?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES (?1)",
        [SCHEMA_VERSION],
    )?;
    Ok(())
}
