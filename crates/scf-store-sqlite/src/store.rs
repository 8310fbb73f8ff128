//! [`SqliteStore`]: opening a file, the writer and checkpoint threads, and the
//! [`LogStore`] methods on top of them (its [`AsyncQueue`](scf_store::AsyncQueue) methods,
//! the async events' writes and reads, are in [`crate::queue`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::types::Value;
use rusqlite::{Connection, Transaction};

use crate::checkpoint::{checkpointer_loop, Ticks};
use crate::config::{PurgeReport, SqliteStoreConfig};
use crate::convert::{lock, open_err, to_micros, write_err};
use crate::keys::request_key;
use crate::rows::{collect, count, order_column, order_sql, row_to_record, where_clause};
use crate::schema::{configure, init_schema};
use crate::statements::{IDS_BY_KEY, LOG_COLS};
use crate::writer::{writer_loop, Job, Msg, Reply, WriterTx};
use scf_logs::LogRecord;
use scf_store::{LogPage, LogQuery, LogStore, OrderBy, RetCodeFilter, StoreError};

/// A [`LogStore`] and [`AsyncQueue`](scf_store::AsyncQueue) in a SQLite file (see the
/// crate docs for the write path).
pub struct SqliteStore {
    path: PathBuf,
    tx: Option<WriterTx>,
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
        let (ticks, tick_rx, tick_pending) = Ticks::new();
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
                    &tick_pending,
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
                    &ticks,
                    &writer_restart_due,
                    config,
                    thread_failed,
                );
            })
            .map_err(|e| open_err(&path, format!("starting writer thread: {e}")))?;
        let tx = WriterTx::new(tx, handle.thread().clone());
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
        self.tx.as_ref().ok_or(StoreError::WriterStopped)?.send(msg)
    }

    fn request(&self, make: impl FnOnce(Reply) -> Msg) -> Result<(), StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(make(reply))?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// Runs `work` on the writer thread, in its next transaction, and returns its result
    /// once that transaction committed (an error naming `what` if it did not): how the
    /// async queue writes ([`crate::queue`]).
    pub(crate) fn queue_write<T, F>(&self, what: String, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Msg::Queue(Box::new(Job::new(what, work, reply))))?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// The reader connection.
    pub(crate) fn reader(&self) -> MutexGuard<'_, Connection> {
        lock(&self.reader)
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
        if let Some(tx) = self.tx.take() {
            tx.close();
        }
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
        // The writer's exit closed the checkpointer's channel: it runs a last checkpoint.
        if let Some(h) = self.checkpointer.take() {
            let _ = h.join();
        }
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

    fn throttled(&self, namespace: &str, function_name: &str, at: time::OffsetDateTime) {
        // Merged in the writer's next transaction; no one waits for the answer.
        let add = crate::rollup::throttle(namespace, function_name, to_micros(at));
        let (reply, _) = std::sync::mpsc::sync_channel(1);
        let work = move |tx: &Transaction<'_>| {
            crate::rollup::merge(tx, &add).map_err(|e| write_err("counting a throttle", e))
        };
        let _ = self.send(Msg::Queue(Box::new(Job::new(
            "counting a throttle".into(),
            work,
            reply,
        ))));
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
            conds.push(match (f, f.status_codes()) {
                (_, Some(codes)) => {
                    let codes: Vec<String> = codes.iter().map(|c| c.code().to_string()).collect();
                    format!("status_code IN ({})", codes.join(", "))
                }
                // Exactly the partial index's condition, so that it applies.
                (RetCodeFilter::Is0, None) => "ret_code = 0".to_owned(),
                (_, None) => "ret_code <> 0".to_owned(),
            });
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
        if let Some(k) = &q.keyword {
            return crate::search::keyword_page(&conn, q, k, page_from, &wh, params);
        }
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
                total_is_lower_bound: false,
            });
        }
        let dir = order_sql(q.order);
        let n = params.len();
        let sql = format!(
            "SELECT {LOG_COLS} FROM {page_from}{wh} ORDER BY {col} {dir}, id {dir} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2,
            col = order_column(q.order_by),
        );
        params.push(Value::Integer(i64::from(q.limit)));
        params.push(Value::Integer(i64::from(q.offset)));
        let records = collect(&conn, "log page", &sql, &params, row_to_record)?;
        Ok(LogPage {
            total_count,
            records,
            total_is_lower_bound: false,
        })
    }
}
