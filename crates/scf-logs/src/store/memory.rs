//! A bounded in-memory [`LogStore`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;

use super::query::{AsyncEvent, AsyncQuery, AsyncStatus, LogPage, LogQuery};
use super::LogStore;
use crate::error::StoreError;
use crate::record::LogRecord;

/// Default number of log records a [`MemoryStore`] keeps.
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;
/// Default number of async events a [`MemoryStore`] keeps.
pub const DEFAULT_ASYNC_CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    logs: BTreeMap<u64, LogRecord>,
    log_index: HashMap<(String, u32), u64>,
    events: BTreeMap<u64, AsyncEvent>,
    event_index: HashMap<String, u64>,
}

/// A bounded in-memory store, for tests and embedders who keep nothing.
///
/// When full, the oldest log record (by first insertion) is evicted. Async
/// events are evicted oldest first among those no longer `RUNNING`; if every
/// kept event is still running, [`enqueue_async`](LogStore::enqueue_async)
/// fails with [`StoreError::Full`] rather than drop an accepted event.
#[derive(Debug)]
pub struct MemoryStore {
    log_capacity: usize,
    async_capacity: usize,
    inner: Mutex<Inner>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_LOG_CAPACITY, DEFAULT_ASYNC_CAPACITY)
    }
}

impl MemoryStore {
    /// A store keeping at most `capacity` log records (and the default number of async events).
    pub fn new(capacity: usize) -> Self {
        Self::with_capacity(capacity, DEFAULT_ASYNC_CAPACITY)
    }

    /// A store keeping at most `log_capacity` records and `async_capacity` async events.
    pub fn with_capacity(log_capacity: usize, async_capacity: usize) -> Self {
        MemoryStore {
            log_capacity,
            async_capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many log records are kept.
    pub fn len(&self) -> usize {
        self.lock().logs.len()
    }

    /// Whether no log record is kept.
    pub fn is_empty(&self) -> bool {
        self.lock().logs.is_empty()
    }
}

impl LogStore for MemoryStore {
    fn put(&self, record: LogRecord) -> Result<(), StoreError> {
        if self.log_capacity == 0 {
            return Ok(());
        }
        let mut inner = self.lock();
        let key = (record.request_id.clone(), record.retry_num);
        if let Some(&seq) = inner.log_index.get(&key) {
            if let Some(existing) = inner.logs.get_mut(&seq) {
                // A late running record never replaces a finished one.
                if !record.is_running() || existing.is_running() {
                    *existing = record;
                }
            }
            return Ok(());
        }
        while inner.logs.len() >= self.log_capacity {
            let Some((_, old)) = inner.logs.pop_first() else {
                break;
            };
            inner.log_index.remove(&(old.request_id, old.retry_num));
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.log_index.insert(key, seq);
        inner.logs.insert(seq, record);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<LogRecord> = inner
            .logs
            .values()
            .filter(|r| r.request_id == request_id)
            .cloned()
            .collect();
        out.sort_by_key(|r| r.retry_num);
        Ok(out)
    }

    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError> {
        q.validate()?;
        let inner = self.lock();
        let mut hits: Vec<(u64, &LogRecord)> = inner
            .logs
            .iter()
            .filter(|(_, r)| q.matches(r))
            .map(|(s, r)| (*s, r))
            .collect();
        hits.sort_by(|(sa, a), (sb, b)| q.compare(a, b).then(q.order.apply(sa.cmp(sb))));
        let total_count = hits.len() as u64;
        let records = hits
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .map(|(_, r)| r.clone())
            .collect();
        Ok(LogPage {
            total_count,
            records,
        })
    }

    fn enqueue_async(&self, ev: &AsyncEvent) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if let Some(&seq) = inner.event_index.get(&ev.invoke_request_id) {
            inner.events.insert(seq, ev.clone());
            return Ok(());
        }
        while inner.events.len() >= self.async_capacity {
            let victim = inner
                .events
                .iter()
                .find(|(_, e)| e.status != AsyncStatus::Running)
                .map(|(s, _)| *s);
            let Some(seq) = victim else {
                return Err(StoreError::Full {
                    what: "async events (all RUNNING)",
                    capacity: self.async_capacity,
                });
            };
            if let Some(old) = inner.events.remove(&seq) {
                inner.event_index.remove(&old.invoke_request_id);
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.event_index.insert(ev.invoke_request_id.clone(), seq);
        inner.events.insert(seq, ev.clone());
        Ok(())
    }

    fn update_async(
        &self,
        invoke_request_id: &str,
        status: AsyncStatus,
        status_code: i64,
        end_time: Option<OffsetDateTime>,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let seq = inner
            .event_index
            .get(invoke_request_id)
            .copied()
            .ok_or_else(|| StoreError::AsyncEventNotFound(invoke_request_id.to_owned()))?;
        let ev = inner
            .events
            .get_mut(&seq)
            .ok_or_else(|| StoreError::AsyncEventNotFound(invoke_request_id.to_owned()))?;
        ev.status = status;
        ev.status_code = status_code;
        ev.end_time = end_time;
        ev.attempts = attempts;
        Ok(())
    }

    fn get_async(&self, invoke_request_id: &str) -> Result<Option<AsyncEvent>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .event_index
            .get(invoke_request_id)
            .and_then(|s| inner.events.get(s))
            .cloned())
    }

    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        q.validate()?;
        let inner = self.lock();
        let mut hits: Vec<(u64, &AsyncEvent)> = inner
            .events
            .iter()
            .filter(|(_, e)| q.matches(e))
            .map(|(s, e)| (*s, e))
            .collect();
        hits.sort_by(|(sa, a), (sb, b)| q.compare(a, b).then(q.order.apply(sa.cmp(sb))));
        let total = hits.len() as u64;
        let page = hits
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .map(|(_, e)| e.clone())
            .collect();
        Ok((total, page))
    }

    fn unfinished_async(&self) -> Result<Vec<AsyncEvent>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<(u64, AsyncEvent)> = inner
            .events
            .iter()
            .filter(|(_, e)| e.status == AsyncStatus::Running)
            .map(|(s, e)| (*s, e.clone()))
            .collect();
        out.sort_by(|(sa, a), (sb, b)| a.start_time.cmp(&b.start_time).then(sa.cmp(sb)));
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }
}
