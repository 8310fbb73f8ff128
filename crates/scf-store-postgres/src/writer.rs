//! The writer: a task on the store's runtime that takes records from the append buffer
//! (a bounded channel) and writes them in batches, one multi-row `INSERT … SELECT FROM
//! unnest(…)` per batch (one prepared statement, 19 array parameters), handed in turn to
//! [`writers`](crate::PgStoreConfig::writers) connections it keeps (so that their
//! statement stays prepared, and the database works on one batch while the next is sent).
//! A batch counts as done for `flush` once every batch before it is done too. Records
//! that arrive one at a time are gathered for
//! [`batch_interval`](crate::PgStoreConfig::batch_interval) into one batch, the writer
//! asleep meanwhile; `flush` wakes it.
//!
//! A batch that fails because the database or the connection went away is kept and
//! written again once a connection can be had (backing off from 50 ms to 2 s); records
//! put meanwhile wait in the buffer, and a record that finds the buffer full is lost and
//! counted ([`Shared::lose`]). A batch the database refuses for what it holds (a failure
//! that is not transient) is dropped and counted as lost, and the error is reported by the
//! next `flush`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool};
use scf_logs::LogRecord;
use tokio::sync::{mpsc, Notify};

use crate::config::PgStoreConfig;
use crate::convert::{describe, is_transient, pg_text, to_micros};
use crate::partitions::{self, day_of};

/// The batch upsert. A row whose key is taken replaces it unless it is a running record
/// and the stored one is not (a late running write never undoes a finished one).
const UPSERT: &str = "INSERT INTO logs (request_id, retry_num, function_name, namespace, \
    qualifier, start_time, ret_code, status_code, invoke_finished, ret_msg, duration_ms, \
    bill_duration_ms, mem_usage_bytes, log, level, source, invocation_type, node, seq, \
    log_form) \
    SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], \
    $6::int8[], $7::int8[], $8::int4[], $9::bool[], $10::bytea[], $11::float8[], \
    $12::int8[], $13::int8[], $14::bytea[], $15::text[], $16::text[], $17::text[], \
    $18::text[], $19::int8[], $20::int2[]) \
    ON CONFLICT (request_id, retry_num, start_time) DO UPDATE SET \
    function_name = EXCLUDED.function_name, namespace = EXCLUDED.namespace, \
    qualifier = EXCLUDED.qualifier, ret_code = EXCLUDED.ret_code, \
    status_code = EXCLUDED.status_code, invoke_finished = EXCLUDED.invoke_finished, \
    ret_msg = EXCLUDED.ret_msg, duration_ms = EXCLUDED.duration_ms, \
    bill_duration_ms = EXCLUDED.bill_duration_ms, mem_usage_bytes = EXCLUDED.mem_usage_bytes, \
    log = EXCLUDED.log, level = EXCLUDED.level, source = EXCLUDED.source, \
    invocation_type = EXCLUDED.invocation_type, node = EXCLUDED.node, \
    log_form = EXCLUDED.log_form \
    WHERE EXCLUDED.ret_code <> 2 OR logs.ret_code = 2";

/// What the writer has done, for `flush`.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Records taken from the buffer and written (or lost to a refused batch).
    pub(crate) done: u64,
    /// A refused batch's error, not yet reported by `flush`.
    pub(crate) failure: Option<String>,
    /// Why the writer is waiting for the database, while it is.
    pub(crate) stalled: Option<String>,
    /// Throttle counts being written (`LogStore::throttled`), which `flush` waits for.
    pub(crate) throttles_pending: u64,
}

/// What the store's handle, its writer and its retention task share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) cfg: PgStoreConfig,
    pub(crate) schema: String,
    pub(crate) pool: Pool,
    /// Records put into the buffer.
    pub(crate) accepted: AtomicU64,
    /// Records lost: the buffer was full, or the database refused their batch.
    pub(crate) lost: AtomicU64,
    pub(crate) progress: Mutex<Progress>,
    pub(crate) written: Condvar,
    /// Ends the writer's gathering of a batch (`flush` waits for what is buffered).
    pub(crate) write_now: Notify,
    last_warning: Mutex<Option<Instant>>,
}

impl Shared {
    pub(crate) fn new(cfg: PgStoreConfig, schema: String, pool: Pool) -> Self {
        Shared {
            cfg,
            schema,
            pool,
            accepted: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            progress: Mutex::new(Progress::default()),
            written: Condvar::new(),
            write_now: Notify::new(),
            last_warning: Mutex::new(None),
        }
    }

    pub(crate) fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `n` records as lost, and says so in the log (at most once a second, with the
    /// running total).
    pub(crate) fn lose(&self, n: u64, why: &str) {
        let total = self.lost.fetch_add(n, Ordering::Relaxed) + n;
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            tracing::error!(
                lost = n,
                lost_total = total,
                "scf-store-postgres: log records lost: {why}"
            );
        }
    }

    fn warn_stalled(&self, detail: &str) {
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            tracing::warn!(
                "scf-store-postgres: cannot write log records, keeping them until the database is back: {detail}"
            );
        }
    }

    fn finished(&self, n: u64, failure: Option<String>) {
        let mut p = self.progress();
        p.done += n;
        if n > 0 {
            p.stalled = None;
        }
        if failure.is_some() {
            p.failure = failure;
        }
        drop(p);
        self.written.notify_all();
    }
}

/// A batch as the upsert's columns, keys made unique (by the put rule).
#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) request_id: Vec<String>,
    pub(crate) retry_num: Vec<i64>,
    pub(crate) function_name: Vec<String>,
    pub(crate) namespace: Vec<String>,
    pub(crate) qualifier: Vec<String>,
    pub(crate) start_time: Vec<i64>,
    pub(crate) ret_code: Vec<i64>,
    pub(crate) status_code: Vec<i32>,
    pub(crate) invoke_finished: Vec<bool>,
    pub(crate) ret_msg: Vec<Vec<u8>>,
    pub(crate) duration_ms: Vec<f64>,
    pub(crate) bill_duration_ms: Vec<i64>,
    pub(crate) mem_usage_bytes: Vec<i64>,
    pub(crate) log: Vec<Vec<u8>>,
    pub(crate) level: Vec<String>,
    pub(crate) source: Vec<String>,
    pub(crate) invocation_type: Vec<String>,
    pub(crate) node: Vec<String>,
    /// Insertion numbers (see [`next_seq`]), set by the writer.
    pub(crate) seq: Vec<i64>,
    /// 1 where `log` is packed (`scf_store::packing`), 0 where it is the text as it is.
    pub(crate) log_form: Vec<i16>,
}

impl Columns {
    /// One `INSERT … ON CONFLICT DO UPDATE` may not touch a row twice: of several records
    /// of one key in a batch, the one the put rule keeps takes the first one's place.
    fn of(batch: &mut Vec<LogRecord>) -> Self {
        let mut slot: HashMap<(String, u32, i64), usize> = HashMap::with_capacity(batch.len());
        let mut kept: Vec<LogRecord> = Vec::with_capacity(batch.len());
        for r in batch.drain(..) {
            let key = (r.request_id.clone(), r.retry_num, to_micros(r.start_time));
            match slot.get(&key) {
                Some(&i) => {
                    if !r.is_running() || kept[i].is_running() {
                        kept[i] = r;
                    }
                }
                None => {
                    slot.insert(key, kept.len());
                    kept.push(r);
                }
            }
        }
        let mut c = Columns::default();
        for r in kept {
            // Packed when that is exact (NUL, which `pg_text` would change, is never packed).
            let packed = scf_store::packing::pack_log(&r.log, &r.request_id, &r.ret_msg);
            c.request_id.push(pg_text(&r.request_id));
            c.retry_num.push(i64::from(r.retry_num));
            c.function_name.push(pg_text(&r.function_name));
            c.namespace.push(pg_text(&r.namespace));
            c.qualifier.push(pg_text(&r.qualifier));
            c.start_time.push(to_micros(r.start_time));
            c.ret_code.push(r.ret_code);
            c.status_code.push(i32::from(r.status_code));
            c.invoke_finished.push(r.invoke_finished);
            c.ret_msg.push(r.ret_msg.into_bytes());
            c.duration_ms.push(r.duration_ms);
            // u64 kept as its bits (values past i64::MAX sort as negative).
            c.bill_duration_ms.push(r.bill_duration_ms as i64);
            c.mem_usage_bytes.push(r.mem_usage_bytes as i64);
            match packed {
                Some(packed) => {
                    c.log.push(packed.into_bytes());
                    c.log_form.push(1);
                }
                None => {
                    c.log.push(r.log.into_bytes());
                    c.log_form.push(0);
                }
            }
            c.level.push(pg_text(&r.level));
            c.source.push(pg_text(&r.source));
            c.invocation_type
                .push(r.invocation_type.as_str().to_owned());
            c.node.push(pg_text(&r.node));
        }
        c
    }
}

/// Why a write failed.
enum Failure {
    /// No connection could be had.
    Pool(String),
    Db(tokio_postgres::Error),
}

impl Failure {
    fn transient(&self) -> bool {
        match self {
            Failure::Pool(_) => true,
            Failure::Db(e) => is_transient(e),
        }
    }

    fn detail(&self) -> String {
        match self {
            Failure::Pool(s) => s.clone(),
            Failure::Db(e) => describe(e),
        }
    }

    /// The row's day has no partition (retention on another node dropped it).
    fn no_partition(&self) -> bool {
        matches!(self, Failure::Db(e) if e.code() == Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION))
    }
}

/// The writer's connection and what it knows of the partitions.
struct Writer {
    shared: Arc<Shared>,
    conn: Option<Object>,
    partitions: HashSet<i64>,
}

impl Writer {
    async fn write(&mut self, c: &Columns) -> Result<(), Failure> {
        let conn = match self.conn.take() {
            Some(conn) if !conn.is_closed() => conn,
            _ => self
                .shared
                .pool
                .get()
                .await
                .map_err(|e| Failure::Pool(e.to_string()))?,
        };
        let conn = self.conn.insert(conn);
        let days: HashSet<i64> = c.start_time.iter().map(|us| day_of(*us)).collect();
        partitions::ensure(conn, &self.shared.schema, days, &mut self.partitions)
            .await
            .map_err(Failure::Db)?;
        let st = conn.prepare_cached(UPSERT).await.map_err(Failure::Db)?;
        // The upsert and the rollup of what it stored finished, in one transaction.
        let tx = conn.transaction().await.map_err(Failure::Db)?;
        let counted = crate::rollup::BatchRollup::before(&*tx, c)
            .await
            .map_err(Failure::Db)?;
        tx.execute(
            &st,
            &[
                &c.request_id,
                &c.retry_num,
                &c.function_name,
                &c.namespace,
                &c.qualifier,
                &c.start_time,
                &c.ret_code,
                &c.status_code,
                &c.invoke_finished,
                &c.ret_msg,
                &c.duration_ms,
                &c.bill_duration_ms,
                &c.mem_usage_bytes,
                &c.log,
                &c.level,
                &c.source,
                &c.invocation_type,
                &c.node,
                &c.seq,
                &c.log_form,
            ],
        )
        .await
        .map_err(Failure::Db)?;
        counted.merge(&*tx).await.map_err(Failure::Db)?;
        tx.commit().await.map_err(Failure::Db)
    }
}

/// The next insertion number: the wall clock's microseconds times 1024, or one more than
/// the last when that is larger, so numbers grow in put order on a node and follow time
/// across nodes (they are a sort key only, `seq`: ties in a query's order come in it).
fn next_seq(last: &mut i64, n: usize) -> i64 {
    let now = to_micros(time::OffsetDateTime::now_utc()).saturating_mul(1024);
    let first = now.max(last.saturating_add(1));
    *last = first
        .saturating_add(i64::try_from(n).unwrap_or(i64::MAX))
        .saturating_sub(1);
    first
}

/// Batches finished out of order, so that `done` only counts a batch once every batch
/// before it is finished too (`flush` waits for everything put before it).
#[derive(Debug, Default)]
struct InOrder {
    next: u64,
    finished: std::collections::BTreeMap<u64, u64>,
}

impl Shared {
    /// Batch `k` of `n` records finished (written, or lost with `failure`).
    fn batch_finished(&self, order: &Mutex<InOrder>, k: u64, n: u64, failure: Option<String>) {
        let mut o = order.lock().unwrap_or_else(|e| e.into_inner());
        o.finished.insert(k, n);
        let mut done = 0;
        loop {
            let next = o.next;
            match o.finished.remove(&next) {
                Some(n) => {
                    done += n;
                    o.next += 1;
                }
                None => break,
            }
        }
        drop(o);
        self.finished(done, failure);
    }
}

/// One writer connection: writes the batches it is given, in turn, keeping a batch the
/// database could not take until it can.
async fn write_batches(
    shared: Arc<Shared>,
    order: Arc<Mutex<InOrder>>,
    mut batches: mpsc::Receiver<(u64, u64, Columns)>,
) {
    let mut w = Writer {
        shared: Arc::clone(&shared),
        conn: None,
        partitions: HashSet::new(),
    };
    while let Some((k, n, cols)) = batches.recv().await {
        let mut backoff = Duration::from_millis(50);
        let mut retried_partitions = false;
        loop {
            match w.write(&cols).await {
                Ok(()) => {
                    shared.batch_finished(&order, k, n, None);
                    break;
                }
                Err(f) if f.no_partition() && !retried_partitions => {
                    retried_partitions = true;
                    w.partitions.clear();
                }
                Err(f) if f.transient() => {
                    w.conn = None;
                    let detail = f.detail();
                    shared.warn_stalled(&detail);
                    shared.progress().stalled = Some(detail);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                Err(f) => {
                    let detail = format!("writing {n} log records: {}", f.detail());
                    shared.lose(n, &detail);
                    shared.batch_finished(&order, k, n, Some(detail));
                    break;
                }
            }
        }
    }
}

/// Moves what the buffer holds now into `batch`, up to `batch_size` records.
fn take_ready(rx: &mut mpsc::Receiver<LogRecord>, batch: &mut Vec<LogRecord>, batch_size: usize) {
    while batch.len() < batch_size {
        match rx.try_recv() {
            Ok(r) => batch.push(r),
            Err(_) => break,
        }
    }
}

/// The writer: takes records from the buffer in batches and hands each to one of
/// `writers` connections in turn (so that the database's work on one batch overlaps
/// the next); runs until the buffer's sender is dropped and every batch is written.
pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<LogRecord>) {
    let batch_size = shared.cfg.batch_size.clamp(1, 65_536);
    let interval = shared.cfg.batch_interval;
    let order = Arc::new(Mutex::new(InOrder::default()));
    let mut writers = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..shared.cfg.writers.max(1) {
        let (tx, batches) = mpsc::channel(1);
        writers.push(tx);
        tasks.push(tokio::spawn(write_batches(
            Arc::clone(&shared),
            Arc::clone(&order),
            batches,
        )));
    }
    let mut last_seq = 0i64;
    let mut batch: Vec<LogRecord> = Vec::with_capacity(batch_size);
    let mut k = 0u64;
    loop {
        match rx.recv().await {
            Some(r) => batch.push(r),
            None => break,
        }
        take_ready(&mut rx, &mut batch, batch_size);
        if batch.len() < batch_size && !interval.is_zero() {
            // Asleep, not waiting on the channel: a put while the batch gathers only
            // queues its record, with no wake-up per record.
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = shared.write_now.notified() => {}
            }
            take_ready(&mut rx, &mut batch, batch_size);
        }
        let n = batch.len() as u64;
        let mut cols = Columns::of(&mut batch);
        let first = next_seq(&mut last_seq, cols.request_id.len());
        cols.seq = (first..).take(cols.request_id.len()).collect();
        let i = usize::try_from(k % writers.len() as u64).unwrap_or(0);
        if writers[i].send((k, n, cols)).await.is_err() {
            break;
        }
        k += 1;
    }
    drop(writers);
    for t in tasks {
        let _ = t.await;
    }
}
