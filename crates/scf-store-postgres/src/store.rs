//! [`PgStore`]: opening (connecting, migrating), the runtime the store's work runs on,
//! and the [`LogStore`] implementation.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use scf_logs::LogRecord;
use scf_store::{LogPage, LogQuery, LogStore, Order, OrderBy, RetCodeFilter, StoreError};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

use crate::config::{redact, PgStoreConfig};
use crate::convert::{read_err, to_micros};
use crate::rows::{log_holds_sql, row_to_record, LOG_COLS};
use crate::schema::{migrate, SCHEMA_VERSION};
use crate::writer::{self, Shared};
use crate::{partitions, PurgeReport};

/// A [`LogStore`] and [`AsyncQueue`](scf_store::AsyncQueue) in PostgreSQL, which several
/// nodes may share (see the [crate docs](crate)).
#[derive(Debug)]
pub struct PgStore {
    pub(crate) shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    appends: Option<mpsc::Sender<LogRecord>>,
    writer_exit: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

/// A boxed query parameter.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// `params` as the slice `tokio-postgres` takes.
pub(crate) fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn open_err(cfg: &PgStoreConfig, detail: impl Into<String>) -> StoreError {
    StoreError::Open {
        path: redact(&cfg.url).into(),
        detail: detail.into(),
    }
}

/// The pool for `cfg`, its connections in `schema`.
fn pool(cfg: &PgStoreConfig, schema: &str) -> Result<Pool, StoreError> {
    let mut pg: tokio_postgres::Config = cfg
        .url
        .parse()
        .map_err(|e| open_err(cfg, format!("not a PostgreSQL connection URL: {e}")))?;
    pg.connect_timeout(cfg.connect_timeout);
    pg.options(format!("-c search_path={schema}"));
    pg.application_name("scf-store-postgres");
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(cfg.pool_size.max(cfg.writers.max(1) + 1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(cfg.op_timeout))
        .create_timeout(Some(cfg.connect_timeout))
        .recycle_timeout(Some(cfg.connect_timeout))
        .build()
        .map_err(|e| open_err(cfg, format!("building the connection pool: {e}")))
}

/// Runs `fut` on `runtime` and waits for its answer on this thread, at most `timeout`
/// (the future is cancelled then). Never enters a runtime on the calling thread, so it
/// may be called from anywhere, a tokio worker of another runtime included.
fn run_on<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    timeout: Duration,
    timed_out: impl FnOnce() -> StoreError,
    fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let answer = tokio::time::timeout(timeout, fut).await;
        let _ = tx.send(answer);
    });
    match rx.recv_timeout(timeout + Duration::from_secs(1)) {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) | Err(_) => Err(timed_out()),
    }
}

impl PgStore {
    /// Opens the store at `url` with the defaults ([`PgStoreConfig::new`]).
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(PgStoreConfig::new(url))
    }

    /// Connects, creates or migrates the schema to the current version, applies the
    /// retention once, and starts the writer. A wrong URL, an unreachable server, refused
    /// credentials or a failed migration is one error naming what failed.
    pub fn open_with(cfg: PgStoreConfig) -> Result<Self, StoreError> {
        Self::open_at(cfg, SCHEMA_VERSION)
    }

    fn open_at(cfg: PgStoreConfig, version: i32) -> Result<Self, StoreError> {
        let schema = cfg.schema_name()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("scf-store-postgres")
            .enable_all()
            .build()
            .map_err(|e| open_err(&cfg, format!("starting the store's runtime: {e}")))?;
        let pool = {
            let _in_runtime = runtime.enter();
            pool(&cfg, &schema)?
        };
        let wait = cfg.connect_timeout + cfg.op_timeout;
        {
            let (pool, schema, c) = (pool.clone(), schema.clone(), cfg.clone());
            let c2 = cfg.clone();
            run_on(
                runtime.handle(),
                wait,
                move || open_err(&c2, format!("no answer from the server within {wait:?}")),
                async move {
                    let mut client = pool
                        .get()
                        .await
                        .map_err(|e| open_err(&c, format!("connecting: {}", pool_error(&e))))?;
                    migrate(&mut client, &schema, version).await.map(drop)
                },
            )?;
        }
        if version < SCHEMA_VERSION {
            // Only `create_schema_at` stops short of the current version: no writer.
            return Err(StoreError::Schema(format!(
                "schema `{schema}` left at version {version}"
            )));
        }
        let shared = Arc::new(Shared::new(cfg.clone(), schema, pool));
        let (appends, rx) = mpsc::channel(cfg.buffer_capacity.max(1));
        let (exit_tx, writer_exit) = std::sync::mpsc::sync_channel(1);
        let w = Arc::clone(&shared);
        runtime.spawn(async move {
            writer::run(w, rx).await;
            let _ = exit_tx.send(());
        });
        let store = PgStore {
            shared,
            runtime: Some(runtime),
            appends: Some(appends),
            writer_exit: std::sync::Mutex::new(writer_exit),
        };
        if cfg.log_retention.is_some() || cfg.async_retention.is_some() {
            store.purge()?;
            let weak = Arc::downgrade(&store.shared);
            let every = cfg.purge_interval.max(Duration::from_millis(10));
            store.handle()?.spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let Some(shared) = weak.upgrade() else { return };
                    if let Err(error) = purge(&shared, OffsetDateTime::now_utc()).await {
                        tracing::warn!(%error, "scf-store-postgres: retention failed; trying again later");
                    }
                }
            });
        }
        Ok(store)
    }

    /// Creates (or migrates) the schema of `cfg` at `version` only, as a build of that
    /// version would have left it: for the migration tests.
    #[doc(hidden)]
    pub fn create_schema_at(cfg: PgStoreConfig, version: i32) -> Result<(), StoreError> {
        match Self::open_at(cfg, version) {
            Err(StoreError::Schema(s)) if s.ends_with(&format!("left at version {version}")) => {
                Ok(())
            }
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    /// The schema the tables are in.
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// Log records lost since the store opened: put when the append buffer was full (the
    /// database away or slower than the appends for longer than the buffer holds), or
    /// in a batch the database refused. Each loss is also logged (`tracing`, error level,
    /// at most once a second with the running total). For a metric.
    pub fn lost_records(&self) -> u64 {
        self.shared.lost.load(Ordering::Relaxed)
    }

    /// Log records put and not yet written (waiting in the buffer or being written).
    pub fn buffered_records(&self) -> u64 {
        let accepted = self.shared.accepted.load(Ordering::Acquire);
        accepted.saturating_sub(self.shared.progress().done)
    }

    /// Applies the retention now (it also runs at open and every `purge_interval`).
    pub fn purge(&self) -> Result<PurgeReport, StoreError> {
        let shared = Arc::clone(&self.shared);
        self.call_write("applying the retention", async move {
            purge(&shared, OffsetDateTime::now_utc()).await
        })
    }

    pub(crate) fn handle(&self) -> Result<&tokio::runtime::Handle, StoreError> {
        self.runtime
            .as_ref()
            .map(|r| r.handle())
            .ok_or(StoreError::WriterStopped)
    }

    /// Runs a read on the store's runtime; fails after `op_timeout`.
    pub(crate) fn call_read<T: Send + 'static>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let timeout = self.shared.cfg.op_timeout;
        let what = what.to_owned();
        run_on(
            self.handle()?,
            timeout,
            move || StoreError::Read {
                what,
                detail: format!("no answer from the database within {timeout:?}"),
            },
            fut,
        )
    }

    /// Runs a write on the store's runtime; fails after `op_timeout`.
    pub(crate) fn call_write<T: Send + 'static>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let timeout = self.shared.cfg.op_timeout;
        let what = what.to_owned();
        run_on(
            self.handle()?,
            timeout,
            move || StoreError::Write {
                what,
                detail: format!("no answer from the database within {timeout:?}"),
            },
            fut,
        )
    }
}

/// A pool error with its cause (deadpool's `Display` omits the server's message).
pub(crate) fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(pg) => crate::convert::describe(pg),
        other => other.to_string(),
    }
}

/// A pooled connection for `what`.
pub(crate) async fn connection(
    pool: &Pool,
    what: &str,
    write: bool,
) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| {
        let (what, detail) = (
            what.to_owned(),
            format!("no connection: {}", pool_error(&e)),
        );
        if write {
            StoreError::Write { what, detail }
        } else {
            StoreError::Read { what, detail }
        }
    })
}

async fn purge(shared: &Shared, now: OffsetDateTime) -> Result<PurgeReport, StoreError> {
    let mut report = PurgeReport::default();
    let mut client = connection(&shared.pool, "applying the retention", true).await?;
    if let Some(retention) = shared.cfg.log_retention {
        report.log_partitions =
            partitions::drop_expired(&mut client, &shared.schema, retention, now).await?;
    }
    if let Some(retention) = shared.cfg.async_retention {
        let cutoff =
            to_micros(now).saturating_sub(i64::try_from(retention.as_micros()).unwrap_or(i64::MAX));
        let fail = |e: tokio_postgres::Error| crate::convert::write_err("async retention", &e);
        report.async_events = client
            .execute(
                "DELETE FROM async_events WHERE status <> 'RUNNING' AND end_time < $1",
                &[&cutoff],
            )
            .await
            .map_err(fail)?;
        report.timer_ticks = client
            .execute("DELETE FROM timer_ticks WHERE tick < $1", &[&cutoff])
            .await
            .map_err(fail)?;
    }
    Ok(report)
}

impl Drop for PgStore {
    /// Writes what is buffered (waiting at most `close_timeout`; what is left then is
    /// counted as lost), then stops the runtime without blocking on its tasks, so that a
    /// store may be dropped anywhere, inside an async context too.
    fn drop(&mut self) {
        drop(self.appends.take());
        self.shared.write_now.notify_one();
        let close = self.shared.cfg.close_timeout;
        let exited = match self.writer_exit.get_mut() {
            Ok(rx) => rx.recv_timeout(close).is_ok(),
            Err(mut poisoned) => poisoned.get_mut().recv_timeout(close).is_ok(),
        };
        if !exited {
            let left = self.buffered_records();
            if left > 0 {
                self.shared.lose(
                    left,
                    &format!("the store closed with them unwritten after {close:?}"),
                );
            }
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl LogStore for PgStore {
    fn put(&self, record: LogRecord) -> Result<(), StoreError> {
        let Some(appends) = &self.appends else {
            return Err(StoreError::WriterStopped);
        };
        match appends.try_send(record) {
            Ok(()) => {
                self.shared.accepted.fetch_add(1, Ordering::AcqRel);
                // A buffer half full ends the writer's gathering, before it fills.
                if appends.capacity() * 2 < appends.max_capacity() {
                    self.shared.write_now.notify_one();
                }
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                let capacity = self.shared.cfg.buffer_capacity;
                self.shared.lose(
                    1,
                    &format!(
                        "the append buffer is full ({capacity} records waiting for the database)"
                    ),
                );
                Err(StoreError::Full {
                    what: "log append buffer (records waiting for the database)",
                    capacity,
                })
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(StoreError::WriterStopped),
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        let target = self.shared.accepted.load(Ordering::Acquire);
        self.shared.write_now.notify_one();
        let timeout = self.shared.cfg.op_timeout;
        let deadline = Instant::now() + timeout;
        let mut p = self.shared.progress();
        while p.done < target || p.throttles_pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let why = p
                    .stalled
                    .as_deref()
                    .map(|s| format!(" (the writer is waiting for the database: {s})"))
                    .unwrap_or_default();
                return Err(StoreError::Write {
                    what: "flushing log records".into(),
                    detail: format!(
                        "{} records still unwritten after {timeout:?}{why}; they stay buffered",
                        target.saturating_sub(p.done)
                    ),
                });
            }
            p = self
                .shared
                .written
                .wait_timeout(p, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        match p.failure.take() {
            Some(detail) => Err(StoreError::Write {
                what: "log records (a background write)".into(),
                detail,
            }),
            None => Ok(()),
        }
    }

    fn throttled(&self, namespace: &str, function_name: &str, at: OffsetDateTime) {
        let Ok(handle) = self.handle() else { return };
        let shared = Arc::clone(&self.shared);
        let (ns, f) = (namespace.to_owned(), function_name.to_owned());
        shared.progress().throttles_pending += 1;
        handle.spawn(async move {
            let res = match connection(&shared.pool, "counting a throttle", true).await {
                Ok(mut client) => {
                    crate::rollup::throttle(&mut client, &ns, &f, to_micros(at)).await
                }
                Err(e) => Err(e),
            };
            let mut p = shared.progress();
            p.throttles_pending -= 1;
            if let Err(e) = res {
                p.failure.get_or_insert(e.to_string());
            }
            drop(p);
            shared.written.notify_all();
        });
    }

    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        let pool = self.shared.pool.clone();
        let id = request_id.to_owned();
        self.call_read("log records by request id", async move {
            let client = connection(&pool, "log records by request id", false).await?;
            let sql = format!(
                "SELECT {LOG_COLS} FROM logs WHERE request_id = $1 ORDER BY retry_num, seq"
            );
            let st = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| read_err("log records by request id", &e))?;
            let rows = client
                .query(&st, &[&id])
                .await
                .map_err(|e| read_err("log records by request id", &e))?;
            rows.iter().map(row_to_record).collect()
        })
    }

    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError> {
        q.validate()?;
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        for (col, v) in [
            ("function_name", &q.function_name),
            ("namespace", &q.namespace),
            ("qualifier", &q.qualifier),
            ("request_id", &q.request_id),
        ] {
            if let Some(v) = v {
                params.push(Box::new(v.clone()));
                conds.push(format!("{col} = ${}", params.len()));
            }
        }
        if let Some(s) = q.start_time {
            params.push(Box::new(to_micros(s)));
            conds.push(format!("start_time >= ${}", params.len()));
        }
        if let Some(e) = q.end_time {
            params.push(Box::new(to_micros(e)));
            conds.push(format!("start_time <= ${}", params.len()));
        }
        if let Some(f) = q.ret_code {
            conds.push(match (f, f.status_codes()) {
                (_, Some(codes)) => {
                    let codes: Vec<String> = codes.iter().map(|c| c.code().to_string()).collect();
                    // The partial index's condition, so that it applies.
                    format!(
                        "status_code IN ({}) AND status_code <> 200",
                        codes.join(", ")
                    )
                }
                (RetCodeFilter::Is0, None) => "ret_code = 0".to_owned(),
                (_, None) => "ret_code <> 0".to_owned(),
            });
        }
        let wh = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let dir = match q.order {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        let col = match q.order_by {
            OrderBy::FunctionName => "function_name",
            OrderBy::Duration => "duration_ms",
            OrderBy::MemUsage => "mem_usage_bytes",
            OrderBy::StartTime => "start_time",
        };
        if let Some(k) = &q.keyword {
            return self.keyword_page(q, k, &wh, params, col, dir);
        }
        let n = params.len();
        let count_sql = format!("SELECT count(*) FROM logs{wh}");
        let page_sql = format!(
            "SELECT {LOG_COLS} FROM logs{wh} ORDER BY {col} {dir}, seq {dir} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let (limit, offset) = (i64::from(q.limit), i64::from(q.offset));
        let pool = self.shared.pool.clone();
        self.call_read("log query", async move {
            let client = connection(&pool, "log query", false).await?;
            let count_st = client
                .prepare_cached(&count_sql)
                .await
                .map_err(|e| read_err("log count", &e))?;
            let total: i64 = client
                .query_one(&count_st, &refs(&params))
                .await
                .map_err(|e| read_err("log count", &e))?
                .get(0);
            let total_count = u64::try_from(total).unwrap_or(0);
            if limit == 0 || total_count <= u64::try_from(offset).unwrap_or(0) {
                return Ok(LogPage {
                    total_count,
                    records: Vec::new(),
                    total_is_lower_bound: false,
                });
            }
            params.push(Box::new(limit));
            params.push(Box::new(offset));
            let page_st = client
                .prepare_cached(&page_sql)
                .await
                .map_err(|e| read_err("log page", &e))?;
            let rows = client
                .query(&page_st, &refs(&params))
                .await
                .map_err(|e| read_err("log page", &e))?;
            let records = rows.iter().map(row_to_record).collect::<Result<_, _>>()?;
            Ok(LogPage {
                total_count,
                records,
                total_is_lower_bound: false,
            })
        })
    }
}

impl PgStore {
    /// The bounded keyword search ([`LogQuery::keyword`]): the first `keyword_scan`
    /// records the other filters (`wh`, `params`) keep in the query's order, filtered by
    /// the keyword, until `offset + limit + 1` matched (the outer `ORDER BY` is the
    /// subquery's, so PostgreSQL sorts nothing and stops at the `LIMIT`).
    fn keyword_page(
        &self,
        q: &LogQuery,
        keyword: &str,
        wh: &str,
        params: Vec<Param>,
        col: &str,
        dir: &str,
    ) -> Result<LogPage, StoreError> {
        let n = params.len();
        let wanted = i64::from(q.offset) + i64::from(q.limit) + 1;
        let scan = i64::from(q.keyword_scan);
        let sql = format!(
            "SELECT {LOG_COLS} FROM (SELECT * FROM logs{wh} ORDER BY {col} {dir}, seq {dir} \
             LIMIT ${}) s WHERE {} ORDER BY {col} {dir}, seq {dir} LIMIT ${}",
            n + 1,
            log_holds_sql(n + 2, n + 3),
            n + 4,
        );
        let scanned_sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM logs{wh} LIMIT ${}) s",
            n + 1
        );
        let q = q.clone();
        let (text, bytes) = (keyword.to_owned(), keyword.as_bytes().to_vec());
        let pool = self.shared.pool.clone();
        self.call_read("keyword search", async move {
            let what = "keyword search";
            let client = connection(&pool, what, false).await?;
            let mut all = params;
            all.push(Box::new(scan));
            all.push(Box::new(text));
            all.push(Box::new(bytes));
            all.push(Box::new(wanted));
            let st = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| read_err(what, &e))?;
            let rows = client
                .query(&st, &refs(&all))
                .await
                .map_err(|e| read_err(what, &e))?;
            let found = rows.len();
            let records = rows
                .iter()
                .skip(q.offset as usize)
                .take(q.limit as usize)
                .map(row_to_record)
                .collect::<Result<_, _>>()?;
            let scan_full = i64::try_from(found).unwrap_or(i64::MAX) < wanted && {
                all.truncate(n);
                all.push(Box::new(scan + 1));
                let st = client
                    .prepare_cached(&scanned_sql)
                    .await
                    .map_err(|e| read_err(what, &e))?;
                let read: i64 = client
                    .query_one(&st, &refs(&all))
                    .await
                    .map_err(|e| read_err(what, &e))?
                    .get(0);
                read > scan
            };
            Ok(LogPage::of_search(&q, found, records, scan_full))
        })
    }
}
