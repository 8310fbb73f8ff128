//! A [`LogStore`] in a SQLite file, with batched background writes.
//!
//! Design: one writer connection lives on a dedicated std thread. [`put`](LogStore::put)
//! sends the record over a bounded channel and returns; the writer commits in
//! transactions of up to `batch_size` records, or after `batch_interval` when
//! fewer arrive. Anything that must be durable on return ([`flush`](LogStore::flush),
//! [`enqueue_async`](LogStore::enqueue_async), [`update_async`](LogStore::update_async),
//! [`SqliteStore::put_batch`]) goes through the same channel with a reply
//! channel, so the writer commits it (with whatever puts precede it) before
//! answering; there is one writer, so writes never contend with each other.
//! Reads use a second connection; WAL mode lets them run while the writer commits.
//!
//! Durability: WAL with `synchronous=NORMAL`: a committed transaction survives
//! a crash or kill of the process; after a power loss the last few commits may
//! be lost (SQLite's documented trade-off for this mode).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row, Transaction, TransactionBehavior};
use time::OffsetDateTime;

use super::query::{
    AsyncEvent, AsyncOrderBy, AsyncQuery, AsyncStatus, LogPage, LogQuery, OrderBy, RetCodeFilter,
};
use super::LogStore;
use crate::error::StoreError;
use crate::record::{InvocationType, LogRecord, RET_CODE_RUNNING};

const SCHEMA_VERSION: i64 = 4;

/// The `logs` table of schema version 4. `id` is the insertion order (appends go to the end
/// of the table's B-tree); `rkey` is [`request_key`] of `request_id`, an 8-byte integer that
/// stands for the request id text in the key tables ([`KEY_TABLES`]). `coll` is 0 except on
/// the (astronomically rare) row whose request id shares its `rkey` with another's: the
/// writer gives that row the next free `coll`, so `(rkey, retry_num, coll)` is unique.
/// Lookups always compare `request_id` too. Both stay in the row, so the key tables can be
/// rebuilt from it.
const LOGS_TABLE: &str = "
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
    invocation_type  TEXT    NOT NULL
);
";

const LOGS_INDEXES: &str = "
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
const KEY_TABLES: &str = concat!(
    "CREATE TABLE IF NOT EXISTS logs_key_new",
    key_table_columns!(),
    "CREATE TABLE IF NOT EXISTS logs_key",
    key_table_columns!(),
    "CREATE TABLE IF NOT EXISTS key_merges (n INTEGER NOT NULL);
INSERT INTO key_merges (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM key_merges);
",
);

/// The ids of the rows with this `rkey` (?1), in either key table.
const IDS_BY_KEY: &str = "SELECT id FROM logs_key_new WHERE rkey = ?1 \
    UNION ALL SELECT id FROM logs_key WHERE rkey = ?1";

const ASYNC_SCHEMA: &str = "
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
    attempts          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS async_fn_ns_time ON async_events (function_name, namespace, start_time);
CREATE INDEX IF NOT EXISTS async_status ON async_events (status, start_time);
";

/// The 64-bit key of a request id stored in `logs.rkey`: FNV-1a, then a SplitMix64
/// finaliser. It is persisted, so it must never change (that would need a schema version).
pub(crate) fn request_key(request_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in request_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    i64::from_ne_bytes(h.to_ne_bytes())
}

const LOG_COLS: &str = "request_id, retry_num, function_name, namespace, qualifier, start_time, \
    ret_code, status_code, invoke_finished, ret_msg, duration_ms, bill_duration_ms, \
    mem_usage_bytes, log, level, source, invocation_type";

/// The rows holding `(rkey, retry_num)` (?1, ?2) in each key table: usually none.
const FIND_NEW_KEY: &str = "SELECT id, coll FROM logs_key_new WHERE rkey = ?1 AND retry_num = ?2";
const FIND_OLD_KEY: &str = "SELECT id, coll FROM logs_key WHERE rkey = ?1 AND retry_num = ?2";
/// The request id and return code of a row found by key.
const KEYED_ROW: &str = "SELECT request_id, ret_code FROM logs WHERE id = ?1";

const INSERT_LOG: &str = "INSERT INTO logs (rkey, request_id, retry_num, function_name, \
    namespace, qualifier, start_time, ret_code, status_code, invoke_finished, ret_msg, \
    duration_ms, bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type, coll) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

const INSERT_KEY: &str =
    "INSERT INTO logs_key_new (rkey, retry_num, coll, id) VALUES (?1, ?2, ?3, ?4)";

/// Replaces the row of the same request id and retry (its key columns stay as they are).
const UPDATE_LOG: &str = "UPDATE logs SET function_name = ?4, namespace = ?5, \
    qualifier = ?6, start_time = ?7, ret_code = ?8, status_code = ?9, invoke_finished = ?10, \
    ret_msg = ?11, duration_ms = ?12, bill_duration_ms = ?13, mem_usage_bytes = ?14, \
    log = ?15, level = ?16, source = ?17, invocation_type = ?18 WHERE id = ?19";

/// Moves the keys in `[?1, ?2]` from `logs_key_new` into `logs_key`, in key order.
const MERGE_KEYS: &str = "INSERT INTO logs_key (rkey, retry_num, coll, id) \
    SELECT rkey, retry_num, coll, id FROM logs_key_new WHERE rkey BETWEEN ?1 AND ?2 \
    ORDER BY rkey, retry_num, coll";
const DROP_MERGED_KEYS: &str = "DELETE FROM logs_key_new WHERE rkey BETWEEN ?1 AND ?2";
const NEW_KEYS_IN: &str = "SELECT rkey FROM logs_key_new WHERE rkey BETWEEN ?1 AND ?2";
/// Retention: the oldest log rows that started before ?1 (unix µs), at most ?2, with keys.
const EXPIRED_LOGS: &str = "SELECT id, rkey, retry_num, coll FROM logs WHERE start_time < ?1 \
    ORDER BY start_time LIMIT ?2";
const DROP_NEW_KEY: &str =
    "DELETE FROM logs_key_new WHERE rkey = ?1 AND retry_num = ?2 AND coll = ?3";
const DROP_OLD_KEY: &str = "DELETE FROM logs_key WHERE rkey = ?1 AND retry_num = ?2 AND coll = ?3";
const DROP_LOG: &str = "DELETE FROM logs WHERE id = ?1";
/// Retention: up to ?2 async events that ended before ?1 (unix µs); never a running one.
const PURGE_ASYNC: &str = "DELETE FROM async_events WHERE id IN (\
    SELECT id FROM async_events WHERE status <> 'RUNNING' AND end_time < ?1 LIMIT ?2)";

const ASYNC_COLS: &str = "invoke_request_id, function_name, namespace, qualifier, invoke_type, \
    status, status_code, start_time, end_time, event, attempts";

const UPSERT_ASYNC: &str = "INSERT INTO async_events (invoke_request_id, function_name, \
    namespace, qualifier, invoke_type, status, status_code, start_time, end_time, event, attempts) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
    ON CONFLICT (invoke_request_id) DO UPDATE SET function_name = excluded.function_name, \
    namespace = excluded.namespace, qualifier = excluded.qualifier, \
    invoke_type = excluded.invoke_type, status = excluded.status, \
    status_code = excluded.status_code, start_time = excluded.start_time, \
    end_time = excluded.end_time, event = excluded.event, attempts = excluded.attempts";

/// Tuning for [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteStoreConfig {
    /// Most records committed in one transaction (default 65536).
    pub batch_size: usize,
    /// Longest a put waits for more records before its batch is committed (default 5 ms).
    pub batch_interval: Duration,
    /// Records that may wait in the channel; `put` blocks when it is full (default 65536).
    pub channel_capacity: usize,
    /// How long a connection waits for a lock held by another process (default 5 s).
    pub busy_timeout: Duration,
    /// Least time between two WAL checkpoints (default 250 ms). Checkpoints run on their
    /// own thread and connection, after a commit, so the writer never copies pages
    /// back into the database file itself.
    pub checkpoint_interval: Duration,
    /// WAL length, in pages, past which the checkpointer restarts the WAL from its
    /// beginning (default 16384: 64 MiB of 4 KiB pages). Passive checkpoints alone never
    /// let a WAL under sustained appends start over, so without this it would only grow.
    pub wal_restart_pages: u32,
    /// Request-id keys the small key table (`logs_key_new`) may hold before the writer
    /// moves them into the large one (`logs_key`), in key order (default 262144). Random
    /// request ids make every insert into a large B-tree rewrite one of its pages; new
    /// keys go to the small table, whose pages a commit rewrites a few times over, and
    /// the merge rewrites each page of the large one once per many keys. Larger: fewer
    /// rewrites of the large table's pages per record, more of the small one's per commit.
    pub key_merge_rows: u64,
    /// Log records that started longer ago than this are deleted, with their request-id
    /// keys (default `None`: kept for ever). The writer deletes them when the store opens
    /// (before any write) and then every `purge_interval`.
    pub log_retention: Option<Duration>,
    /// Async events that ended (`FINISHED`, `FAILED`, `ABORTED`) longer ago than this are
    /// deleted; a `RUNNING` event never is (default `None`: kept for ever). SCF keeps them
    /// 3 days: [`SCF_ASYNC_RETENTION`].
    pub async_retention: Option<Duration>,
    /// How often the writer deletes what is past its retention (default 60 s).
    pub purge_interval: Duration,
    /// Most rows of one kind deleted in one transaction (default 10000): appends wait for
    /// at most one such transaction, and a long backlog is deleted a batch at a time
    /// between appends.
    pub purge_batch: usize,
}

/// How long SCF keeps an async event's status after it ended: 3 days.
pub const SCF_ASYNC_RETENTION: Duration = Duration::from_secs(3 * 24 * 3600);

/// What a purge deleted ([`SqliteStore::purge`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Log records (attempts) deleted.
    pub log_records: u64,
    /// Async events deleted.
    pub async_events: u64,
}

impl Default for SqliteStoreConfig {
    fn default() -> Self {
        SqliteStoreConfig {
            batch_size: 65536,
            batch_interval: Duration::from_millis(5),
            channel_capacity: 65536,
            busy_timeout: Duration::from_secs(5),
            checkpoint_interval: Duration::from_millis(250),
            wal_restart_pages: 16384,
            key_merge_rows: 262_144,
            log_retention: None,
            async_retention: None,
            purge_interval: Duration::from_secs(60),
            purge_batch: 10_000,
        }
    }
}

type Reply = SyncSender<Result<(), StoreError>>;

enum AsyncOp {
    Enqueue(AsyncEvent),
    Update {
        id: String,
        status: AsyncStatus,
        status_code: i64,
        end_time: Option<OffsetDateTime>,
        attempts: u32,
    },
}

enum Msg {
    Put(LogRecord),
    PutBatch(Vec<LogRecord>, Reply),
    Async(AsyncOp, Reply),
    Flush(Reply),
    Purge(SyncSender<Result<PurgeReport, StoreError>>),
}

impl Msg {
    fn puts(&self) -> usize {
        match self {
            Msg::Put(_) => 1,
            Msg::PutBatch(v, _) => v.len(),
            _ => 0,
        }
    }

    fn waits(&self) -> bool {
        !matches!(self, Msg::Put(_))
    }
}

/// A [`LogStore`] in a SQLite file (see the module docs for the write path).
pub struct SqliteStore {
    path: PathBuf,
    tx: Option<SyncSender<Msg>>,
    writer: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    reader: Mutex<Connection>,
    /// A background write failure not yet reported (by the next `flush` or `put`).
    failed: Arc<Mutex<Option<StoreError>>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("writer_running", &self.tx.is_some())
            .finish_non_exhaustive()
    }
}

fn open_err(path: &Path, e: impl fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

fn write_err(what: impl Into<String>, e: impl fmt::Display) -> StoreError {
    StoreError::Write {
        what: what.into(),
        detail: e.to_string(),
    }
}

fn read_err(what: impl Into<String>, e: impl fmt::Display) -> StoreError {
    StoreError::Read {
        what: what.into(),
        detail: e.to_string(),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn to_micros(t: OffsetDateTime) -> i64 {
    // OffsetDateTime spans ±9999 years, about ±3.2e17 µs: always fits in i64.
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn from_micros(us: i64, request_id: &str, field: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).map_err(|e| {
        StoreError::CorruptRow {
            request_id: request_id.to_owned(),
            detail: format!("{field} {us} µs: {e}"),
        }
    })
}

fn sat_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn configure(conn: &Connection, cfg: &SqliteStoreConfig, path: &Path) -> Result<(), StoreError> {
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
    // 64 MiB page cache: keeps the indexes hot so inserts with random request
    // ids do not keep re-reading pages once the table is large.
    conn.pragma_update(None, "cache_size", -65536)
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

fn init_schema(conn: &mut Connection) -> Result<(), StoreError> {
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
            tx.execute_batch(ASYNC_SCHEMA).map_err(schema)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(schema)?;
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v @ 1..=3) => {
            let step = match v {
                1 => migrate_v1(&tx).and_then(|()| set_colliding_colls(&tx)),
                2 => migrate_v2(&tx).and_then(|()| set_colliding_colls(&tx)),
                _ => migrate_v3(&tx),
            };
            step.and_then(|()| finish_migration(&tx)).map_err(|e| {
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
fn migrate_v1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DROP INDEX IF EXISTS logs_fn_time;
         DROP INDEX IF EXISTS logs_fn_ret;
         DROP INDEX IF EXISTS logs_time;
         ALTER TABLE logs RENAME TO logs_v1;",
    )?;
    tx.execute_batch(LOGS_TABLE)?;
    tx.execute_batch(&format!(
        "INSERT INTO logs (id, rkey, {LOG_COLS}) SELECT id, 0, {LOG_COLS} FROM logs_v1 ORDER BY id;
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
fn migrate_v2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE logs ADD COLUMN coll INTEGER NOT NULL DEFAULT 0;
         DROP INDEX IF EXISTS logs_rkey;",
    )
}

/// For schemas 1 and 2, which allowed it: rows whose `(rkey, retry_num)` an earlier row
/// already has (request ids whose keys collide) get their own `id` as `coll`, so that
/// every key is unique.
fn set_colliding_colls(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "UPDATE logs SET coll = id
         WHERE id NOT IN (SELECT MIN(id) FROM logs GROUP BY rkey, retry_num);",
    )
}

/// Schema 3 kept the keys in a unique index on `logs`; [`finish_migration`] moves them
/// into `logs_key`.
fn migrate_v3(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("DROP INDEX IF EXISTS logs_key;")
}

/// The steps every migration ends with: the indexes, the key tables (every row's key in
/// `logs_key`, inserted in key order), the async table, and the version.
fn finish_migration(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("DROP INDEX IF EXISTS logs_fn_ret;")?;
    tx.execute_batch(LOGS_INDEXES)?;
    tx.execute_batch(KEY_TABLES)?;
    tx.execute_batch(
        "INSERT INTO logs_key (rkey, retry_num, coll, id)
         SELECT rkey, retry_num, coll, id FROM logs ORDER BY rkey, retry_num, coll;",
    )?;
    tx.execute_batch(ASYNC_SCHEMA)?;
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

impl SqliteStore {
    /// Opens (or creates) the store at `path` with the default [`SqliteStoreConfig`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteStoreConfig::default())
    }

    /// Opens (or creates) the store at `path`, creating parent directories,
    /// the schema (WAL mode, `synchronous=NORMAL`) and the writer thread.
    pub fn open_with(
        path: impl AsRef<Path>,
        config: SqliteStoreConfig,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| open_err(&path, format!("creating {}: {e}", parent.display())))?;
            }
        }
        let mut writer = Connection::open(&path).map_err(|e| open_err(&path, e))?;
        configure(&writer, &config, &path)?;
        // A safety net for when the checkpoint thread gets no CPU: past twice the restart
        // length, the writer checkpoints by itself after a commit, as SQLite does by default.
        writer
            .pragma_update(
                None,
                "wal_autocheckpoint",
                u64::from(config.wal_restart_pages).saturating_mul(2),
            )
            .map_err(|e| open_err(&path, format!("setting wal_autocheckpoint: {e}")))?;
        init_schema(&mut writer)?;
        let reader = Connection::open(&path).map_err(|e| open_err(&path, e))?;
        configure(&reader, &config, &path)?;

        let checkpoint_conn = Connection::open(&path).map_err(|e| open_err(&path, e))?;
        configure(&checkpoint_conn, &config, &path)?;

        let failed = Arc::new(Mutex::new(None));
        let (tick_tx, tick_rx) = mpsc::sync_channel(1);
        let interval = config.checkpoint_interval;
        let restart_pages = i64::from(config.wal_restart_pages);
        let restart_due = Arc::new(AtomicBool::new(false));
        let writer_restart_due = Arc::clone(&restart_due);
        let ckpt_failed = Arc::clone(&failed);
        let checkpointer = std::thread::Builder::new()
            .name("scf-logs-checkpoint".into())
            .spawn(move || {
                checkpointer_loop(
                    &checkpoint_conn,
                    &tick_rx,
                    interval,
                    restart_pages,
                    &restart_due,
                    &ckpt_failed,
                );
            })
            .map_err(|e| open_err(&path, format!("starting checkpoint thread: {e}")))?;
        let (tx, rx) = mpsc::sync_channel(config.channel_capacity.max(1));
        let thread_failed = Arc::clone(&failed);
        let handle = std::thread::Builder::new()
            .name("scf-logs-writer".into())
            .spawn(move || {
                writer_loop(
                    writer,
                    rx,
                    &tick_tx,
                    &writer_restart_due,
                    config,
                    thread_failed,
                );
            })
            .map_err(|e| open_err(&path, format!("starting writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            tx: Some(tx),
            writer: Some(handle),
            checkpointer: Some(checkpointer),
            reader: Mutex::new(reader),
            failed,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, msg: Msg) -> Result<(), StoreError> {
        let tx = self.tx.as_ref().ok_or(StoreError::WriterStopped)?;
        tx.send(msg).map_err(|_| StoreError::WriterStopped)
    }

    fn request(&self, make: impl FnOnce(Reply) -> Msg) -> Result<(), StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(make(reply))?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// Upserts many records in one transaction; durable when it returns (a fast bulk path).
    pub fn put_batch(&self, records: Vec<LogRecord>) -> Result<(), StoreError> {
        self.request(|r| Msg::PutBatch(records, r))
    }

    /// Deletes now, to the end, what is past the configured retention
    /// ([`SqliteStoreConfig::log_retention`], [`SqliteStoreConfig::async_retention`]),
    /// as the writer otherwise does every `purge_interval`; what it deleted. With no
    /// retention configured it deletes nothing.
    pub fn purge(&self) -> Result<PurgeReport, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Msg::Purge(reply))?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    fn take_failure(&self) -> Option<StoreError> {
        lock(&self.failed).take()
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the channel makes the writer commit what is queued and exit.
        self.tx = None;
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
        // The writer's exit closed the checkpointer's channel: it runs a last checkpoint.
        if let Some(h) = self.checkpointer.take() {
            let _ = h.join();
        }
    }
}

/// How a `PRAGMA wal_checkpoint` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpoint {
    /// Finished; the WAL is this many frames long.
    Done(i64),
    /// Another connection's checkpoint holds the checkpoint lock: nothing was done.
    LockHeld,
    /// Started but could not finish (a reader still uses the WAL), or failed.
    Unfinished,
}

/// Runs `PRAGMA wal_checkpoint(mode)`. A failure other than a busy database is also
/// reported through `failed` (it loses nothing: the pages stay in the WAL).
fn wal_checkpoint(conn: &Connection, mode: &str, failed: &Mutex<Option<StoreError>>) -> Checkpoint {
    let res: rusqlite::Result<(i64, i64, i64)> =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        });
    match res {
        Ok((0, wal_frames, _copied)) => Checkpoint::Done(wal_frames),
        // SQLite answers -1 frames when it could not take the checkpoint lock at all.
        Ok((_busy, -1, _)) => Checkpoint::LockHeld,
        Ok(_) => Checkpoint::Unfinished,
        Err(e) => {
            if e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy) {
                let mut slot = lock(failed);
                if slot.is_none() {
                    *slot = Some(write_err(format!("WAL checkpoint ({mode})"), e));
                }
            }
            Checkpoint::Unfinished
        }
    }
}

/// Copies committed WAL pages back into the database file, off the writer's thread:
/// after a commit (the writer's tick), at most once per `interval`, and once more when
/// the writer stops. PASSIVE checkpoints never block the writer or readers.
///
/// A passive checkpoint cannot let the WAL start again from its beginning: that needs
/// every frame copied with no commit in between, which sustained appends never leave time
/// for, so the WAL would only grow. When it is `restart_pages` long, this sets
/// `restart_due`, and the writer runs a RESTART checkpoint between two of its own
/// transactions (`writer_loop`): it copies only the frames written since the passive one
/// and lets the next commit reuse the file from its start.
fn checkpointer_loop(
    conn: &Connection,
    ticks: &Receiver<()>,
    interval: Duration,
    restart_pages: i64,
    restart_due: &AtomicBool,
    failed: &Mutex<Option<StoreError>>,
) {
    let checkpoint = || {
        if let Checkpoint::Done(frames) = wal_checkpoint(conn, "PASSIVE", failed) {
            if frames >= restart_pages {
                restart_due.store(true, Ordering::Release);
            }
        }
    };
    let mut due = Instant::now();
    while ticks.recv().is_ok() {
        // Let more commits gather in the WAL until the interval is over; ticks that come
        // meanwhile are absorbed, and a stopping writer ends the wait.
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            match ticks.recv_timeout(due - now) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    checkpoint();
                    return;
                }
            }
        }
        checkpoint();
        due = Instant::now() + interval;
    }
    checkpoint();
}

fn writer_loop(
    mut conn: Connection,
    rx: Receiver<Msg>,
    ticks: &SyncSender<()>,
    restart_due: &AtomicBool,
    cfg: SqliteStoreConfig,
    failed: Arc<Mutex<Option<StoreError>>>,
) {
    let mut keys = match KeyMerge::open(&mut conn, cfg.key_merge_rows) {
        Ok(k) => k,
        Err(e) => {
            // The schema was checked at open, so this is an I/O failure: report it; the
            // merge counts from zero and every lookup reads the large key table.
            lock(&failed).get_or_insert_with(|| write_err("reading request-id keys", e));
            KeyMerge::open_empty(cfg.key_merge_rows)
        }
    };
    let mut purge = Purge::new(&cfg);
    if purge.enabled() {
        // At open, before any write: a store reopened after a pause catches up first.
        purge.step(&mut conn, &mut keys, &failed);
    }
    loop {
        let first = if purge.enabled() {
            match rx.recv_timeout(purge.due.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            }
        };
        if let Some(first) = first {
            write_batch(&mut conn, &rx, first, &cfg, &mut keys, &mut purge, &failed);
            if restart_due.load(Ordering::Acquire) && restart_wal(&conn, &cfg, &failed) {
                restart_due.store(false, Ordering::Release);
            }
            // A full channel means a checkpoint is already due.
            let _ = ticks.try_send(());
        }
        if purge.enabled() && Instant::now() >= purge.due {
            purge.step(&mut conn, &mut keys, &failed);
            let _ = ticks.try_send(());
        }
    }
}

/// Collects a batch of messages, starting with `first`, and commits it; then runs the
/// purges it asked for ([`SqliteStore::purge`]), each after the writes sent before it.
fn write_batch(
    conn: &mut Connection,
    rx: &Receiver<Msg>,
    first: Msg,
    cfg: &SqliteStoreConfig,
    keys: &mut KeyMerge,
    purge: &mut Purge,
    failed: &Mutex<Option<StoreError>>,
) {
    let batch_size = cfg.batch_size.max(1);
    let mut urgent = first.waits();
    let mut puts = first.puts();
    let mut batch = Vec::new();
    let mut asked = Vec::new();
    let mut keep = |msg: Msg| match msg {
        Msg::Purge(reply) => asked.push(reply),
        msg => batch.push(msg),
    };
    keep(first);
    let deadline = Instant::now() + cfg.batch_interval;
    while puts < batch_size {
        let next = if urgent {
            match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        } else {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match rx.recv_timeout(deadline - now) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        };
        urgent |= next.waits();
        puts += next.puts();
        keep(next);
    }
    commit_batch(conn, batch, keys, failed);
    keys.run(conn, failed);
    for reply in asked {
        let _ = reply.send(purge.all(conn, keys));
    }
}

/// The writer's retention purge: when it is due, and one step of it.
#[derive(Debug)]
struct Purge {
    log_retention: Option<Duration>,
    async_retention: Option<Duration>,
    interval: Duration,
    batch: usize,
    /// When the next step runs.
    due: Instant,
}

impl Purge {
    fn new(cfg: &SqliteStoreConfig) -> Self {
        Purge {
            log_retention: cfg.log_retention,
            async_retention: cfg.async_retention,
            interval: cfg.purge_interval,
            batch: cfg.purge_batch.max(1),
            due: Instant::now(),
        }
    }

    /// Whether any retention is configured.
    fn enabled(&self) -> bool {
        self.log_retention.is_some() || self.async_retention.is_some()
    }

    /// One batch of each kind; the next step is due at once while a batch came back
    /// full (a backlog, deleted between appends), else after the interval. A failure is
    /// reported once through `failed` and tried again after the interval.
    fn step(
        &mut self,
        conn: &mut Connection,
        keys: &mut KeyMerge,
        failed: &Mutex<Option<StoreError>>,
    ) {
        let more = match self.once(conn, keys) {
            Ok(report) => {
                report.log_records >= self.batch as u64 || report.async_events >= self.batch as u64
            }
            Err(e) => {
                lock(failed).get_or_insert(e);
                false
            }
        };
        self.due = if more { Instant::now() } else { self.later() };
    }

    /// When the next step is due after a complete one: an interval too long for the
    /// clock waits for ever (for an explicit purge or the next write).
    fn later(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.interval)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
    }

    /// Every batch until nothing is left past the retention.
    fn all(
        &mut self,
        conn: &mut Connection,
        keys: &mut KeyMerge,
    ) -> Result<PurgeReport, StoreError> {
        let mut total = PurgeReport::default();
        loop {
            let report = self.once(conn, keys)?;
            total.log_records += report.log_records;
            total.async_events += report.async_events;
            if report.log_records < self.batch as u64 && report.async_events < self.batch as u64 {
                self.due = self.later();
                return Ok(total);
            }
        }
    }

    fn once(&self, conn: &mut Connection, keys: &mut KeyMerge) -> Result<PurgeReport, StoreError> {
        let now = OffsetDateTime::now_utc();
        // A retention longer than the calendar reaches back keeps everything.
        let cutoff = |keep: Duration| {
            time::Duration::try_from(keep)
                .ok()
                .and_then(|keep| now.checked_sub(keep))
                .map_or(i64::MIN, to_micros)
        };
        let mut report = PurgeReport::default();
        if let Some(keep) = self.log_retention {
            let (records, new_keys) = purge_logs(conn, cutoff(keep), self.batch)
                .map_err(|e| write_err("deleting expired log records", e))?;
            report.log_records = records;
            // The merge counts the small key table's rows; these left it.
            keys.new_rows = keys.new_rows.saturating_sub(new_keys);
        }
        if let Some(keep) = self.async_retention {
            report.async_events = conn
                .prepare_cached(PURGE_ASYNC)
                .and_then(|mut st| st.execute(params![cutoff(keep), sat_i64(self.batch as u64)]))
                .map_err(|e| write_err("deleting expired async events", e))?
                as u64;
        }
        Ok(report)
    }
}

/// Deletes, in one transaction, up to `limit` log records that started before
/// `cutoff_us` (oldest first, through the `logs_time` index) and their keys; how many
/// records, and how many of their keys were in the small key table.
fn purge_logs(conn: &mut Connection, cutoff_us: i64, limit: usize) -> rusqlite::Result<(u64, u64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows: Vec<(i64, i64, i64, i64)> = tx
        .prepare_cached(EXPIRED_LOGS)?
        .query_map(params![cutoff_us, sat_i64(limit as u64)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut new_keys = 0;
    {
        let mut drop_new = tx.prepare_cached(DROP_NEW_KEY)?;
        let mut drop_old = tx.prepare_cached(DROP_OLD_KEY)?;
        let mut drop_row = tx.prepare_cached(DROP_LOG)?;
        for (id, rkey, retry_num, coll) in &rows {
            // Every key is in exactly one of the two tables. The writer's Bloom filter
            // of the large one keeps a deleted key: a false positive, one lookup more.
            if drop_new.execute(params![rkey, retry_num, coll])? > 0 {
                new_keys += 1;
            } else {
                drop_old.execute(params![rkey, retry_num, coll])?;
            }
            drop_row.execute([id])?;
        }
    }
    tx.commit()?;
    Ok((rows.len() as u64, new_keys))
}

/// The writer's RESTART checkpoint, between two of its transactions (so it never waits for
/// itself; see `checkpointer_loop`); true when the WAL will start over. While the checkpoint
/// thread's own checkpoint holds the lock, it waits for that one to end (up to the busy
/// timeout): the WAL cannot grow meanwhile, which is what keeps it bounded. It never waits
/// for readers (perhaps another process's open transaction): without a busy timeout it
/// gives up at once and is tried again after the next commit, so the writer never stalls.
fn restart_wal(
    conn: &Connection,
    cfg: &SqliteStoreConfig,
    failed: &Mutex<Option<StoreError>>,
) -> bool {
    let _ = conn.busy_timeout(Duration::ZERO);
    let give_up = Instant::now() + cfg.busy_timeout;
    let outcome = loop {
        match wal_checkpoint(conn, "RESTART", failed) {
            Checkpoint::LockHeld if Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(1));
            }
            other => break other,
        }
    };
    let _ = conn.busy_timeout(cfg.busy_timeout);
    matches!(outcome, Checkpoint::Done(_))
}

/// The writer's prepared log statements for one transaction; the rare paths prepare
/// theirs when needed.
struct LogStatements<'c> {
    tx: &'c Transaction<'c>,
    find_new: rusqlite::CachedStatement<'c>,
    find_old: rusqlite::CachedStatement<'c>,
    insert: rusqlite::CachedStatement<'c>,
    insert_key: rusqlite::CachedStatement<'c>,
    merged: &'c MergedKeys,
    /// Keys added to `logs_key_new` by this transaction.
    new_keys: u64,
}

impl<'c> LogStatements<'c> {
    fn prepare(tx: &'c Transaction<'c>, merged: &'c MergedKeys) -> rusqlite::Result<Self> {
        Ok(LogStatements {
            tx,
            merged,
            find_new: tx.prepare_cached(FIND_NEW_KEY)?,
            find_old: tx.prepare_cached(FIND_OLD_KEY)?,
            insert: tx.prepare_cached(INSERT_LOG)?,
            insert_key: tx.prepare_cached(INSERT_KEY)?,
            new_keys: 0,
        })
    }

    /// Upserts by `(request_id, retry_num)`; a running record never replaces a finished one.
    fn upsert(&mut self, r: &LogRecord) -> rusqlite::Result<()> {
        let rkey = request_key(&r.request_id);
        // The rows holding this key: usually none; more than one only when request ids'
        // keys collide, each then with its own `coll`.
        let mut held: Vec<(i64, i64)> = Vec::new();
        let finds = if self.merged.may_contain(rkey) {
            [Some(&mut self.find_new), Some(&mut self.find_old)]
        } else {
            [Some(&mut self.find_new), None]
        };
        for find in finds.into_iter().flatten() {
            let mut rows = find.query(params![rkey, r.retry_num])?;
            while let Some(row) = rows.next()? {
                held.push((row.get(0)?, row.get(1)?));
            }
        }
        let mut next_coll = 0_i64;
        let mut mine: Option<(i64, i64)> = None;
        for (id, coll) in held {
            next_coll = next_coll.max(coll + 1);
            let mut row = self.tx.prepare_cached(KEYED_ROW)?;
            let (request_id, ret_code): (String, i64) =
                row.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            if request_id == r.request_id {
                mine = Some((id, ret_code));
            }
        }
        let values = params![
            rkey,
            r.request_id,
            r.retry_num,
            r.function_name,
            r.namespace,
            r.qualifier,
            to_micros(r.start_time),
            r.ret_code,
            r.status_code,
            r.invoke_finished,
            r.ret_msg,
            r.duration_ms,
            sat_i64(r.bill_duration_ms),
            sat_i64(r.mem_usage_bytes),
            r.log,
            r.level,
            r.source,
            r.invocation_type.as_str(),
        ];
        let mut all: Vec<&dyn rusqlite::ToSql> = values.to_vec();
        match mine {
            // A late running record never replaces a finished one.
            Some((_, old_ret_code)) if r.is_running() && old_ret_code != RET_CODE_RUNNING => {}
            Some((id, _)) => {
                all.push(&id);
                self.tx
                    .prepare_cached(UPDATE_LOG)?
                    .execute(all.as_slice())?;
            }
            None => {
                all.push(&next_coll);
                self.insert.execute(all.as_slice())?;
                let id = self.tx.last_insert_rowid();
                self.insert_key
                    .execute(params![rkey, r.retry_num, next_coll, id])?;
                self.new_keys += 1;
            }
        }
        Ok(())
    }
}

/// A Bloom filter of the `rkey`s in `logs_key`, kept by the writer: a new record's key (the
/// usual case) is then known to be absent from the large table without reading it, which
/// was a quarter of the writer's time once that table outgrew the page cache. It never
/// says no for a key the table has; about 1% of absent keys get a lookup anyway. It grows
/// by adding filters of twice the capacity, so it is never rebuilt while the store is
/// open (it is built from the table on open); 10 bits per key: 1.2 MiB per million merged
/// keys, up to twice that just after it grows.
#[derive(Debug)]
struct MergedKeys {
    /// Filters, each full at `capacity` keys; keys go into the last one.
    filters: Vec<Bloom>,
    /// False when the table could not be read at open: every key may be in it.
    known: bool,
}

#[derive(Debug)]
struct Bloom {
    bits: Vec<u64>,
    /// Number of bits (a multiple of 64).
    nbits: u64,
    capacity: u64,
    len: u64,
}

impl Bloom {
    const BITS_PER_KEY: u64 = 10;
    const PROBES: u64 = 4;

    fn new(capacity: u64) -> Self {
        let capacity = capacity.max(1 << 16);
        let words = capacity.saturating_mul(Self::BITS_PER_KEY).div_ceil(64);
        Bloom {
            bits: vec![0; usize::try_from(words).unwrap_or(usize::MAX)],
            nbits: words * 64,
            capacity,
            len: 0,
        }
    }

    /// The probed bits of a key, as (word, bit mask): `rkey` is already a well-mixed hash,
    /// so its two halves serve as the two hashes of double hashing, each mapped onto the
    /// bits by a multiply-shift (no power-of-two size needed).
    fn positions(nbits: u64, rkey: i64) -> impl Iterator<Item = (usize, u64)> {
        let h = u64::from_ne_bytes(rkey.to_ne_bytes());
        let (h1, h2) = (h, h.rotate_left(32) | 1);
        (0..Self::PROBES).map(move |i| {
            let mixed = h1.wrapping_add(i.wrapping_mul(h2));
            let pos = u64::try_from((u128::from(mixed) * u128::from(nbits)) >> 64).unwrap_or(0);
            (usize::try_from(pos / 64).unwrap_or(0), 1 << (pos % 64))
        })
    }

    fn insert(&mut self, rkey: i64) {
        for (w, b) in Self::positions(self.nbits, rkey) {
            if let Some(word) = self.bits.get_mut(w) {
                *word |= b;
            }
        }
        self.len += 1;
    }

    fn contains(&self, rkey: i64) -> bool {
        Self::positions(self.nbits, rkey)
            .all(|(w, b)| self.bits.get(w).is_some_and(|word| word & b != 0))
    }
}

impl MergedKeys {
    /// A filter sized for `expected` keys and a quarter more.
    fn new(expected: u64) -> Self {
        MergedKeys {
            filters: vec![Bloom::new(expected.saturating_add(expected / 4))],
            known: true,
        }
    }

    /// Nothing is known: every key may be in the table.
    fn unknown() -> Self {
        MergedKeys {
            filters: Vec::new(),
            known: false,
        }
    }

    fn insert(&mut self, rkey: i64) {
        if !self.known {
            return;
        }
        let full = self.filters.last().is_none_or(|f| f.len >= f.capacity);
        if full {
            let capacity = self
                .filters
                .last()
                .map_or(0, |f| f.capacity.saturating_mul(2));
            self.filters.push(Bloom::new(capacity));
        }
        if let Some(f) = self.filters.last_mut() {
            f.insert(rkey);
        }
    }

    fn may_contain(&self, rkey: i64) -> bool {
        !self.known || self.filters.iter().any(|f| f.contains(rkey))
    }
}

/// The writer's state of the key tables (see [`KEY_TABLES`]).
struct KeyMerge {
    /// Rows in `logs_key_new`.
    new_rows: u64,
    /// The keys in `logs_key`, approximately.
    merged: MergedKeys,
    /// `key_merges.n` when `merged` was last brought up to date.
    generation: i64,
    /// The sixteenth of the key space the next merge moves.
    next_slice: u64,
    threshold: u64,
}

impl KeyMerge {
    const SLICES: u64 = 16;

    fn open(conn: &mut Connection, threshold: u64) -> rusqlite::Result<Self> {
        let tx = conn.transaction()?;
        let n: i64 = tx.query_row("SELECT COUNT(*) FROM logs_key_new", [], |r| r.get(0))?;
        let mut keys = KeyMerge {
            new_rows: u64::try_from(n).unwrap_or(0),
            ..Self::open_empty(threshold)
        };
        keys.reload(&tx)?;
        tx.commit()?;
        Ok(keys)
    }

    fn open_empty(threshold: u64) -> Self {
        KeyMerge {
            new_rows: 0,
            merged: MergedKeys::unknown(),
            generation: -1,
            next_slice: 0,
            threshold: threshold.max(1),
        }
    }

    /// Rebuilds the filter from `logs_key` as `tx` sees it.
    fn reload(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let generation: i64 = tx.query_row("SELECT n FROM key_merges", [], |r| r.get(0))?;
        let merged_rows: i64 = tx.query_row("SELECT COUNT(*) FROM logs_key", [], |r| r.get(0))?;
        let mut merged = MergedKeys::new(u64::try_from(merged_rows).unwrap_or(0));
        let mut scan = tx.prepare("SELECT rkey FROM logs_key")?;
        let mut rows = scan.query([])?;
        while let Some(row) = rows.next()? {
            merged.insert(row.get(0)?);
        }
        self.merged = merged;
        self.generation = generation;
        Ok(())
    }

    /// At the start of each write transaction (which holds the write lock, so no merge can
    /// happen until it ends): if another connection merged keys since the filter was last
    /// brought up to date, rebuilds it, so that no key in `logs_key` is missed.
    fn sync(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let generation: i64 = tx
            .prepare_cached("SELECT n FROM key_merges")?
            .query_row([], |r| r.get(0))?;
        if generation != self.generation {
            self.reload(tx)?;
        }
        Ok(())
    }

    /// The `rkey` range of a slice: the keys whose top four bits (as unsigned) are `slice`.
    fn range(slice: u64) -> (i64, i64) {
        let lo = slice << 60;
        let hi = lo | ((1 << 60) - 1);
        (
            i64::from_ne_bytes(lo.to_ne_bytes()),
            i64::from_ne_bytes(hi.to_ne_bytes()),
        )
    }

    /// After a commit: while `logs_key_new` holds `threshold` keys, moves slices of it (at
    /// most all sixteen), each in its own transaction.
    fn run(&mut self, conn: &mut Connection, failed: &Mutex<Option<StoreError>>) {
        let mut moved_slices = 0;
        while self.new_rows >= self.threshold && moved_slices < Self::SLICES {
            let (lo, hi) = Self::range(self.next_slice);
            let moved = (|| -> rusqlite::Result<usize> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                self.sync(&tx)?;
                {
                    // Into the filter first: a key it has but the table lacks (if the
                    // transaction rolls back) costs a lookup; the other way would lose rows.
                    let mut slice = tx.prepare_cached(NEW_KEYS_IN)?;
                    let mut rows = slice.query(params![lo, hi])?;
                    while let Some(row) = rows.next()? {
                        self.merged.insert(row.get(0)?);
                    }
                }
                tx.prepare_cached(MERGE_KEYS)?.execute(params![lo, hi])?;
                let n = tx
                    .prepare_cached(DROP_MERGED_KEYS)?
                    .execute(params![lo, hi])?;
                tx.execute("UPDATE key_merges SET n = n + 1", [])?;
                tx.commit()?;
                // Ours is the only merge since `sync` (the write lock was held).
                self.generation += 1;
                Ok(n)
            })();
            match moved {
                Ok(n) => self.new_rows = self.new_rows.saturating_sub(n as u64),
                Err(e) => {
                    // Nothing moved (the transaction rolled back); appends go on, the
                    // failure is reported once, and the next commit tries again.
                    let mut slot = lock(failed);
                    slot.get_or_insert_with(|| write_err("merging request-id keys", e));
                    return;
                }
            }
            self.next_slice = (self.next_slice + 1) % Self::SLICES;
            moved_slices += 1;
        }
    }
}

fn apply_async(tx: &Transaction<'_>, op: &AsyncOp) -> Result<(), StoreError> {
    match op {
        AsyncOp::Enqueue(ev) => {
            let mut stmt = tx
                .prepare_cached(UPSERT_ASYNC)
                .map_err(|e| write_err(format!("async event {}", ev.invoke_request_id), e))?;
            stmt.execute(params![
                ev.invoke_request_id,
                ev.function_name,
                ev.namespace,
                ev.qualifier,
                ev.invoke_type,
                ev.status.as_str(),
                ev.status_code,
                to_micros(ev.start_time),
                ev.end_time.map(to_micros),
                ev.event,
                ev.attempts,
            ])
            .map_err(|e| write_err(format!("async event {}", ev.invoke_request_id), e))?;
            Ok(())
        }
        AsyncOp::Update {
            id,
            status,
            status_code,
            end_time,
            attempts,
        } => {
            let n = tx
                .execute(
                    "UPDATE async_events SET status = ?2, status_code = ?3, end_time = ?4, \
                     attempts = ?5 WHERE invoke_request_id = ?1",
                    params![
                        id,
                        status.as_str(),
                        status_code,
                        end_time.map(to_micros),
                        attempts
                    ],
                )
                .map_err(|e| write_err(format!("async event {id} update"), e))?;
            if n == 0 {
                return Err(StoreError::AsyncEventNotFound(id.clone()));
            }
            Ok(())
        }
    }
}

/// Commits one batch, counting the keys it added to `logs_key_new` in `keys`.
fn commit_batch(
    conn: &mut Connection,
    batch: Vec<Msg>,
    keys: &mut KeyMerge,
    failed: &Mutex<Option<StoreError>>,
) {
    // Everything runs in order in one transaction. A failed statement in SQLite
    // undoes only that statement, so one bad record or a missing async event
    // does not roll back the rest of the batch.
    let mut replies: Vec<(Reply, Result<(), StoreError>)> = Vec::new();
    let mut put_error: Option<StoreError> = None;
    let committed = (|| -> Result<u64, StoreError> {
        // Immediate: the write lock is taken at the start, waiting (busy timeout) for
        // another process's writer. A deferred transaction would start reading (each
        // record's key lookup) and could not become a writer if another process wrote
        // meanwhile ("database is locked" at once, no wait).
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| write_err("begin transaction", e))?;
        // Prepared once per batch: looking up the cached statement hashes the SQL text.
        let mut stmt = {
            keys.sync(&tx)
                .map_err(|e| write_err("reading request-id keys", e))?;
            LogStatements::prepare(&tx, &keys.merged)
                .map_err(|e| write_err("prepare log upsert", e))?
        };
        for msg in batch {
            match msg {
                Msg::Put(r) => {
                    if let Err(e) = stmt.upsert(&r) {
                        put_error.get_or_insert_with(|| {
                            write_err(format!("log record {}", r.request_id), e)
                        });
                    }
                }
                Msg::PutBatch(records, reply) => {
                    let mut res = Ok(());
                    for r in &records {
                        if let Err(e) = stmt.upsert(r) {
                            res = Err(write_err(format!("log record {}", r.request_id), e));
                            break;
                        }
                    }
                    replies.push((reply, res));
                }
                Msg::Async(op, reply) => replies.push((reply, apply_async(&tx, &op))),
                Msg::Flush(reply) => replies.push((reply, Ok(()))),
                // `write_batch` keeps purges out of the batch and runs them after it.
                Msg::Purge(reply) => {
                    let _ = reply.send(Ok(PurgeReport::default()));
                }
            }
        }
        let new_keys = stmt.new_keys;
        drop(stmt);
        tx.commit().map_err(|e| write_err("commit", e))?;
        Ok(new_keys)
    })();
    let commit_detail = committed.as_ref().err().map(ToString::to_string);
    if let Some(detail) = &commit_detail {
        put_error.get_or_insert_with(|| write_err("log records", detail));
    }
    if let Some(e) = put_error {
        let mut slot = lock(failed);
        if slot.is_none() {
            *slot = Some(e);
        }
    }
    for (reply, res) in replies {
        let res = match (&commit_detail, res) {
            (Some(detail), _) => Err(write_err("commit", detail)),
            // A durable write also reports an earlier background failure once.
            (None, Ok(())) => lock(failed).take().map_or(Ok(()), Err),
            (None, Err(e)) => Err(e),
        };
        let _ = reply.send(res);
    }
    keys.new_rows += committed.unwrap_or(0);
}

fn row_to_record(row: &Row<'_>) -> Result<LogRecord, StoreError> {
    let request_id: String = row.get(0).map_err(|e| read_err("log row", e))?;
    let corrupt = |detail: String| StoreError::CorruptRow {
        request_id: request_id.clone(),
        detail,
    };
    let get_err = |e: rusqlite::Error| corrupt(e.to_string());
    let start_us: i64 = row.get(5).map_err(get_err)?;
    let bill: i64 = row.get(11).map_err(get_err)?;
    let mem: i64 = row.get(12).map_err(get_err)?;
    let inv: String = row.get(16).map_err(get_err)?;
    Ok(LogRecord {
        retry_num: row.get(1).map_err(get_err)?,
        function_name: row.get(2).map_err(get_err)?,
        namespace: row.get(3).map_err(get_err)?,
        qualifier: row.get(4).map_err(get_err)?,
        start_time: from_micros(start_us, &request_id, "start_time")?,
        ret_code: row.get(6).map_err(get_err)?,
        status_code: row.get(7).map_err(get_err)?,
        invoke_finished: row.get(8).map_err(get_err)?,
        ret_msg: row.get(9).map_err(get_err)?,
        duration_ms: row.get(10).map_err(get_err)?,
        bill_duration_ms: u64::try_from(bill)
            .map_err(|_| corrupt(format!("negative bill_duration_ms {bill}")))?,
        mem_usage_bytes: u64::try_from(mem)
            .map_err(|_| corrupt(format!("negative mem_usage_bytes {mem}")))?,
        log: row.get(13).map_err(get_err)?,
        level: row.get(14).map_err(get_err)?,
        source: row.get(15).map_err(get_err)?,
        invocation_type: inv
            .parse::<InvocationType>()
            .map_err(|e| corrupt(e.to_string()))?,
        request_id: request_id.clone(),
    })
}

fn row_to_event(row: &Row<'_>) -> Result<AsyncEvent, StoreError> {
    let id: String = row.get(0).map_err(|e| read_err("async event row", e))?;
    let corrupt = |detail: String| StoreError::CorruptRow {
        request_id: id.clone(),
        detail,
    };
    let get_err = |e: rusqlite::Error| corrupt(e.to_string());
    let status: String = row.get(5).map_err(get_err)?;
    let start_us: i64 = row.get(7).map_err(get_err)?;
    let end_us: Option<i64> = row.get(8).map_err(get_err)?;
    Ok(AsyncEvent {
        function_name: row.get(1).map_err(get_err)?,
        namespace: row.get(2).map_err(get_err)?,
        qualifier: row.get(3).map_err(get_err)?,
        invoke_type: row.get(4).map_err(get_err)?,
        status: status
            .parse()
            .map_err(|e: crate::error::ParseValueError| corrupt(e.to_string()))?,
        status_code: row.get(6).map_err(get_err)?,
        start_time: from_micros(start_us, &id, "start_time")?,
        end_time: end_us
            .map(|us| from_micros(us, &id, "end_time"))
            .transpose()?,
        event: row.get(9).map_err(get_err)?,
        attempts: row.get(10).map_err(get_err)?,
        invoke_request_id: id.clone(),
    })
}

fn collect<T>(
    conn: &Connection,
    what: &str,
    sql: &str,
    params: &[Value],
    map: fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| read_err(what, e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(|e| read_err(what, e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| read_err(what, e))? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn count(conn: &Connection, what: &str, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0)))
        .map_err(|e| read_err(what, e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

impl LogStore for SqliteStore {
    fn put(&self, record: LogRecord) -> Result<(), StoreError> {
        if let Some(e) = self.take_failure() {
            // Report the earlier failure but still queue this record.
            self.send(Msg::Put(record))?;
            return Err(e);
        }
        self.send(Msg::Put(record))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.request(Msg::Flush)
    }

    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        let conn = lock(&self.reader);
        let sql = format!(
            "SELECT {LOG_COLS} FROM logs WHERE id IN ({IDS_BY_KEY}) AND request_id = ?2 \
             ORDER BY retry_num"
        );
        collect(
            &conn,
            "logs by request id",
            &sql,
            &[
                Value::Integer(request_key(request_id)),
                Value::Text(request_id.to_owned()),
            ],
            row_to_record,
        )
    }

    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError> {
        q.validate()?;
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        let mut eq = |col: &str, v: &Option<String>, conds: &mut Vec<String>| {
            if let Some(v) = v {
                params.push(Value::Text(v.clone()));
                conds.push(format!("{col} = ?{}", params.len()));
            }
        };
        eq("function_name", &q.function_name, &mut conds);
        eq("namespace", &q.namespace, &mut conds);
        eq("qualifier", &q.qualifier, &mut conds);
        eq("request_id", &q.request_id, &mut conds);
        if let Some(id) = &q.request_id {
            params.push(Value::Integer(request_key(id)));
            let key = format!("?{}", params.len());
            conds.push(format!("id IN ({})", IDS_BY_KEY.replace("?1", &key)));
        }
        if let Some(s) = q.start_time {
            params.push(Value::Integer(to_micros(s)));
            conds.push(format!("start_time >= ?{}", params.len()));
        }
        if let Some(e) = q.end_time {
            params.push(Value::Integer(to_micros(e)));
            conds.push(format!("start_time <= ?{}", params.len()));
        }
        if let Some(f) = q.ret_code {
            conds.push(
                match f {
                    // Exactly the partial index's condition, so that it applies.
                    RetCodeFilter::Not0 => "ret_code <> 0",
                    RetCodeFilter::Is0 => "ret_code = 0",
                    RetCodeFilter::TimeLimitExceeded => "status_code = 433",
                    RetCodeFilter::ResourceLimitExceeded => "status_code IN (432, 434)",
                    RetCodeFilter::UserCodeException => "status_code IN (430, 443)",
                }
                .to_owned(),
            );
        }
        let wh = where_clause(&conds);
        // Without statistics the planner may sort every match; pin the indexes
        // built for the GetFunctionLogs shapes when the function name is given.
        // A request id finds its few rows by key; pinning an index would scan instead.
        let by_function = q.function_name.is_some() && q.request_id.is_none();
        let count_from = match (by_function, q.ret_code) {
            (true, Some(RetCodeFilter::Not0)) => "logs INDEXED BY logs_fn_fail",
            (true, _) => "logs INDEXED BY logs_fn_time",
            (false, _) => "logs",
        };
        let page_from = if by_function && q.order_by == OrderBy::StartTime {
            "logs INDEXED BY logs_fn_time"
        } else {
            "logs"
        };
        let conn = lock(&self.reader);
        let total_count = count(
            &conn,
            "log count",
            &format!("SELECT COUNT(*) FROM {count_from}{wh}"),
            &params,
        )?;
        if q.limit == 0 || total_count <= u64::from(q.offset) {
            return Ok(LogPage {
                total_count,
                records: Vec::new(),
            });
        }
        let dir = q.order.sql();
        let n = params.len();
        let sql = format!(
            "SELECT {LOG_COLS} FROM {page_from}{wh} ORDER BY {col} {dir}, id {dir} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2,
            col = q.order_by.column(),
        );
        params.push(Value::Integer(i64::from(q.limit)));
        params.push(Value::Integer(i64::from(q.offset)));
        let records = collect(&conn, "log page", &sql, &params, row_to_record)?;
        Ok(LogPage {
            total_count,
            records,
        })
    }

    fn enqueue_async(&self, ev: &AsyncEvent) -> Result<(), StoreError> {
        self.request(|r| Msg::Async(AsyncOp::Enqueue(ev.clone()), r))
    }

    fn update_async(
        &self,
        invoke_request_id: &str,
        status: AsyncStatus,
        status_code: i64,
        end_time: Option<OffsetDateTime>,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let op = AsyncOp::Update {
            id: invoke_request_id.to_owned(),
            status,
            status_code,
            end_time,
            attempts,
        };
        self.request(|r| Msg::Async(op, r))
    }

    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError> {
        let conn = lock(&self.reader);
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
        let conn = lock(&self.reader);
        let total = count(
            &conn,
            "async event count",
            &format!("SELECT COUNT(*) FROM async_events{wh}"),
            &params,
        )?;
        let dir = q.order.sql();
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

    fn unfinished_async(&self) -> Result<Vec<AsyncEvent>, StoreError> {
        let conn = lock(&self.reader);
        let sql = format!(
            "SELECT {ASYNC_COLS} FROM async_events WHERE status = 'RUNNING' ORDER BY start_time, id"
        );
        collect(&conn, "unfinished async events", &sql, &[], row_to_event)
    }
}

#[cfg(test)]
mod tests {
    use super::{request_key, MergedKeys};

    #[test]
    fn merged_keys_filter_never_misses_a_key_and_rarely_claims_an_absent_one() {
        // Past the first filter's capacity (65536 × 2), so a second filter is added.
        let mut merged = MergedKeys::new(0);
        let keys: Vec<i64> = (0..300_000)
            .map(|i| request_key(&format!("in-{i}")))
            .collect();
        for &k in &keys {
            merged.insert(k);
        }
        assert!(merged.filters.len() >= 2);
        assert!(keys.iter().all(|&k| merged.may_contain(k)));
        let false_positives = (0..100_000)
            .filter(|i| merged.may_contain(request_key(&format!("out-{i}"))))
            .count();
        assert!(
            false_positives < 5_000,
            "{false_positives} of 100000 absent keys claimed"
        );
    }

    #[test]
    fn an_unknown_merged_key_set_may_contain_every_key() {
        let mut merged = MergedKeys::unknown();
        merged.insert(1);
        assert!(merged.may_contain(2));
    }
}
