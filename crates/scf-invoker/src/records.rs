//! Where the invoker's log records go: to the store, or, while the store refuses them, to
//! a bounded buffer written out, in order, once it takes them again. A record that does
//! not fit is dropped and counted ([`RecordStats::lost`]), never silently.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use scf_logs::LogRecord;
use scf_store::LogStore;

use crate::functions::lock;

/// How often records waiting in the buffer are offered to the store again.
pub(crate) const RECORD_RETRY: Duration = Duration::from_millis(500);

/// What happened to the log records the store did not take when they were written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordStats {
    /// Records waiting in the buffer for the store now.
    pub buffered: u64,
    /// Records the store refused that were written out later from the buffer.
    pub delayed: u64,
    /// Records dropped: because the buffer was full (the oldest waiting one goes first),
    /// or refused by the store after a healthy spell (see [`InvokerConfig::record_buffer`](crate::InvokerConfig::record_buffer)).
    pub lost: u64,
    /// Times a write to the store failed.
    pub store_errors: u64,
}

/// The records waiting for the store, and the sequence number of the next one.
#[derive(Default)]
struct Waiting {
    records: VecDeque<(u64, LogRecord)>,
    next: u64,
}

/// The store and the buffer in front of it.
pub(crate) struct Records {
    store: Arc<dyn LogStore>,
    capacity: usize,
    /// Records waiting, oldest first, each with its sequence number.
    waiting: Mutex<Waiting>,
    delayed: AtomicU64,
    lost: AtomicU64,
    store_errors: AtomicU64,
    /// Set by a refusal, cleared once the buffer drained: records are copied before they
    /// are offered while it is set.
    suspect: AtomicBool,
}

impl Records {
    pub(crate) fn new(store: Arc<dyn LogStore>, capacity: usize) -> Self {
        Records {
            store,
            capacity,
            waiting: Mutex::default(),
            delayed: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
            suspect: AtomicBool::new(false),
        }
    }

    /// Counts an invocation of `entry` refused by its concurrency limit (no record is
    /// written: SCF shows throttles in monitoring, not in the logs).
    pub(crate) fn throttled(&self, namespace: &str, function_name: &str, at: time::OffsetDateTime) {
        self.store.throttled(namespace, function_name, at);
    }

    /// Writes `record`, or keeps it for later when the store refuses it (or records wait
    /// already: a finished record must not overtake its running one).
    ///
    /// `LogStore::put` takes the record by value, so a record the store refuses is gone
    /// unless it was copied first. Copying every record would cost each invocation an
    /// allocation per field; instead the first refusal after a healthy spell loses its
    /// record (counted in `lost`), and from then on, until the buffer has drained, every
    /// record is copied before it is offered.
    pub(crate) fn put(&self, record: LogRecord) {
        let mut waiting = lock(&self.waiting);
        if !waiting.records.is_empty() {
            self.push(&mut waiting, record);
            return;
        }
        let suspect = self.suspect.load(Ordering::Relaxed);
        drop(waiting);
        let copy = suspect.then(|| record.clone());
        if let Err(error) = self.store.put(record) {
            self.store_errors.fetch_add(1, Ordering::Relaxed);
            self.suspect.store(true, Ordering::Relaxed);
            tracing::warn!(%error, "scf-invoker: the store refused a log record");
            match copy {
                Some(record) => self.push(&mut lock(&self.waiting), record),
                None => {
                    self.lost.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn push(&self, waiting: &mut Waiting, record: LogRecord) {
        if waiting.records.len() >= self.capacity {
            waiting.records.pop_front();
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
        if self.capacity > 0 {
            waiting.next += 1;
            let seq = waiting.next;
            waiting.records.push_back((seq, record));
        } else {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Offers the waiting records to the store, oldest first, until it refuses one.
    pub(crate) fn retry(&self) {
        loop {
            let Some((seq, record)) = lock(&self.waiting).records.front().cloned() else {
                self.suspect.store(false, Ordering::Relaxed);
                return;
            };
            if let Err(error) = self.store.put(record) {
                self.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, "scf-invoker: the store still refuses log records");
                return;
            }
            let mut waiting = lock(&self.waiting);
            // Unless the buffer overflowed meanwhile and dropped it already.
            if waiting.records.front().is_some_and(|(s, _)| *s == seq) {
                waiting.records.pop_front();
            }
            drop(waiting);
            self.delayed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn stats(&self) -> RecordStats {
        RecordStats {
            buffered: lock(&self.waiting).records.len() as u64,
            delayed: self.delayed.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
        }
    }
}

/// Offers waiting records to the store every [`RECORD_RETRY`] until `records` is dropped.
pub(crate) async fn retry_loop(records: Weak<Records>, handle: tokio::runtime::Handle) {
    loop {
        tokio::time::sleep(RECORD_RETRY).await;
        let Some(records) = records.upgrade() else {
            return;
        };
        if lock(&records.waiting).records.is_empty() {
            continue;
        }
        let _ = handle.spawn_blocking(move || records.retry()).await;
    }
}
