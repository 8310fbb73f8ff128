//! The writer thread: messages from the store, batching puts into transactions, and the
//! async queue's writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::checkpoint::{restart_wal, Ticks};
use crate::config::{PurgeReport, SqliteStoreConfig};
use crate::convert::{lock, write_err};
use crate::keys::KeyMerge;
use crate::retention::Purge;
use crate::statements::LogStatements;
use scf_logs::LogRecord;
use scf_store::StoreError;

pub(crate) type Reply = SyncSender<Result<(), StoreError>>;

/// A write of the async queue ([`crate::queue`]) that the writer runs inside its batch's
/// transaction, answering its caller once that transaction committed (or failed).
pub(crate) trait QueueJob: Send {
    /// Runs the job's statements in `tx`, keeping its result for [`answer`](Self::answer).
    fn run(&mut self, tx: &Transaction<'_>);
    /// Sends the result kept by `run`, or an error naming the job and `failed` (why the
    /// transaction did not commit) in its place.
    fn answer(self: Box<Self>, failed: Option<&str>);
}

/// A [`QueueJob`] made of a function of the transaction and the channel to answer on.
pub(crate) struct Job<T, F> {
    /// What the job writes, for its errors.
    what: String,
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: SyncSender<Result<T, StoreError>>,
}

impl<T, F> Job<T, F> {
    pub(crate) fn new(what: String, work: F, reply: SyncSender<Result<T, StoreError>>) -> Self {
        Job {
            what,
            work: Some(work),
            result: None,
            reply,
        }
    }
}

impl<T, F> QueueJob for Job<T, F>
where
    T: Send,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, tx: &Transaction<'_>) {
        if let Some(work) = self.work.take() {
            // Some errors (a full disk, I/O) make SQLite roll back the whole transaction;
            // what runs after would commit by itself (a claim's savepoint, say) while its
            // caller is told the batch failed.
            self.result = Some(if tx.is_autocommit() {
                Err(write_err(
                    &self.what,
                    "an earlier error rolled back the batch's transaction",
                ))
            } else {
                work(tx)
            });
        }
    }

    fn answer(self: Box<Self>, failed: Option<&str>) {
        let res = match (failed, self.result) {
            (Some(detail), _) => Err(write_err(self.what, detail)),
            (None, Some(res)) => res,
            (None, None) => Err(write_err(self.what, "the write was never run")),
        };
        let _ = self.reply.send(res);
    }
}

// `Put` is what nearly every message is: boxing its record would add an allocation per
// put only to make the rare messages smaller. (The enum has always been a record's size.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    Put(LogRecord),
    PutBatch(Vec<LogRecord>, Reply),
    Queue(Box<dyn QueueJob>),
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

/// The store's end of the writer's channel. A [`Msg::Put`] is only queued: while the
/// writer gathers a batch it sleeps until the batch's deadline and puts do not wake it
/// (records arriving one at a time cost no thread wake-up each). A message someone waits
/// on (flush, queue write, bulk put, purge) wakes it, so that it commits at once, as does
/// a put that finds the channel full.
pub(crate) struct WriterTx {
    tx: SyncSender<Msg>,
    writer: Thread,
}

impl WriterTx {
    pub(crate) fn new(tx: SyncSender<Msg>, writer: Thread) -> Self {
        WriterTx { tx, writer }
    }

    pub(crate) fn send(&self, msg: Msg) -> Result<(), StoreError> {
        let waits = msg.waits();
        match self.tx.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(msg)) => {
                self.writer.unpark();
                self.tx.send(msg).map_err(|_| StoreError::WriterStopped)?;
            }
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::WriterStopped),
        }
        if waits {
            self.writer.unpark();
        }
        Ok(())
    }

    /// Closes the channel and wakes the writer, which commits what is queued and exits.
    pub(crate) fn close(self) {
        let WriterTx { tx, writer } = self;
        drop(tx);
        writer.unpark();
    }
}

pub(crate) fn writer_loop(
    mut conn: Connection,
    rx: Receiver<Msg>,
    ticks: &Ticks,
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
        let until = purge.enabled().then_some(purge.due);
        let first = match next_message(&rx, until) {
            Ok(m) => m,
            Err(Disconnected) => break,
        };
        if let Some(first) = first {
            write_batch(&mut conn, &rx, first, &cfg, &mut keys, &mut purge, &failed);
            if restart_due.load(Ordering::Acquire) && restart_wal(&conn, &cfg, &failed) {
                restart_due.store(false, Ordering::Release);
            }
            ticks.committed();
        }
        if purge.enabled() && Instant::now() >= purge.due {
            purge.step(&mut conn, &mut keys, &failed);
            ticks.committed();
        }
    }
}

/// How long the writer looks for the next message before it sleeps, after a batch: a
/// caller that just got its answer often sends again at once, and catching its message
/// without sleeping saves the two thread wake-ups of a hand-off (one caller enqueueing
/// and finishing events in a loop: 3.9k events/s without it, 7.2k with it; 32 callers
/// 18.1k and 22.6k, docs/performance.md).
const WRITER_SPIN: Duration = Duration::from_micros(50);

/// The writer's channel has no sender left: the store was dropped.
struct Disconnected;

/// The next message, looked for without sleeping for [`WRITER_SPIN`], then waited for
/// until `until` (`None`: for ever); `Ok(None)` when `until` came first.
fn next_message(rx: &Receiver<Msg>, until: Option<Instant>) -> Result<Option<Msg>, Disconnected> {
    let spin_until = Instant::now() + WRITER_SPIN;
    loop {
        match rx.try_recv() {
            Ok(m) => return Ok(Some(m)),
            Err(TryRecvError::Disconnected) => return Err(Disconnected),
            Err(TryRecvError::Empty) if Instant::now() < spin_until => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => break,
        }
    }
    match until {
        None => rx.recv().map(Some).map_err(|_| Disconnected),
        Some(until) => match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(m) => Ok(Some(m)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Disconnected),
        },
    }
}

/// Collects a batch of messages, starting with `first`, and commits it; then runs the
/// purges it asked for ([`SqliteStore::purge`]), each after the writes sent before it.
pub(crate) fn write_batch(
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
            match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    // Sleeps without being woken by each put (see `WriterTx`): a waited-on
                    // message, a full channel or the deadline ends it. A wake-up left from
                    // an earlier batch only makes it look again.
                    std::thread::park_timeout(deadline - now);
                    continue;
                }
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

/// Commits one batch, counting the keys it added to `logs_key_new` in `keys`.
pub(crate) fn commit_batch(
    conn: &mut Connection,
    batch: Vec<Msg>,
    keys: &mut KeyMerge,
    failed: &Mutex<Option<StoreError>>,
) {
    // Everything runs in order in one transaction. A failed statement in SQLite
    // undoes only that statement, so one bad record or a refused queue write (an
    // unknown or known event id) does not roll back the rest of the batch.
    let mut replies: Vec<(Reply, Result<(), StoreError>)> = Vec::new();
    let mut jobs: Vec<Box<dyn QueueJob>> = Vec::new();
    let mut put_error: Option<StoreError> = None;
    let mut rollup = crate::rollup::BatchRollup::default();
    let mut batch = batch.into_iter();
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
        for msg in batch.by_ref() {
            match msg {
                Msg::Put(r) => match stmt.upsert(&r) {
                    Ok(counted) => rollup.counted(&r, counted),
                    Err(e) => {
                        put_error.get_or_insert_with(|| {
                            write_err(format!("log record {}", r.request_id), e)
                        });
                    }
                },
                Msg::PutBatch(records, reply) => {
                    let mut res = Ok(());
                    for r in &records {
                        match stmt.upsert(r) {
                            Ok(counted) => rollup.counted(r, counted),
                            Err(e) => {
                                res = Err(write_err(format!("log record {}", r.request_id), e));
                                break;
                            }
                        }
                    }
                    replies.push((reply, res));
                }
                Msg::Queue(mut job) => {
                    job.run(&tx);
                    jobs.push(job);
                }
                Msg::Flush(reply) => replies.push((reply, Ok(()))),
                // `write_batch` keeps purges out of the batch and runs them after it.
                Msg::Purge(reply) => {
                    let _ = reply.send(Ok(PurgeReport::default()));
                }
            }
        }
        let new_keys = stmt.new_keys;
        drop(stmt);
        rollup.write(&tx)?;
        tx.commit().map_err(|e| write_err("commit", e))?;
        Ok(new_keys)
    })();
    let commit_detail = committed.as_ref().err().map(ToString::to_string);
    if let Some(detail) = &commit_detail {
        put_error.get_or_insert_with(|| write_err("log records", detail));
        // The transaction never began: what waits is told why, not left to see the
        // writer gone.
        for msg in batch {
            match msg {
                Msg::PutBatch(_, reply) | Msg::Flush(reply) => {
                    replies.push((reply, Ok(())));
                }
                Msg::Queue(job) => jobs.push(job),
                Msg::Purge(reply) => {
                    let _ = reply.send(Ok(PurgeReport::default()));
                }
                Msg::Put(_) => {}
            }
        }
    }
    if let Some(e) = put_error {
        let mut slot = lock(failed);
        if slot.is_none() {
            *slot = Some(e);
        }
    }
    // A queue write reports only its own outcome: an earlier background failure is left
    // for `flush` or `put`, so that a committed claim or enqueue is never reported failed.
    for job in jobs {
        job.answer(commit_detail.as_deref());
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
