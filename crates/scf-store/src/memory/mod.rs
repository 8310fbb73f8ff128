//! A bounded in-memory [`LogStore`], [`AsyncQueue`](crate::AsyncQueue) and
//! [`ConcurrencySlots`](crate::ConcurrencySlots).

mod queue;
mod slots;

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};

use scf_logs::LogRecord;

use crate::console::{
    ConsoleStore, MinuteStats, StatsQuery, TestEvent, MAX_TEST_EVENTS_PER_FUNCTION,
};
use crate::error::StoreError;
use crate::query::{AsyncEvent, AsyncStatus, LogPage, LogQuery, Order};
use crate::LogStore;

/// Default number of log records a [`MemoryStore`] keeps.
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;
/// Default number of async events a [`MemoryStore`] keeps.
pub const DEFAULT_ASYNC_CAPACITY: usize = 10_000;

/// A hasher for keys that are already well-mixed 64-bit hashes: one multiply.
#[derive(Debug, Default, Clone, Copy)]
struct PremixedHasher(u64);

impl Hasher for PremixedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fx_bytes(self.0, bytes);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = fx_add(self.0, n);
    }
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

fn fx_add(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED)
}

/// FxHash over bytes, eight at a time.
fn fx_bytes(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = fx_add(hash, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        hash = fx_add(hash, u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }
    hash
}

/// The log index: which records (by sequence number) have a given key hash. Almost
/// always one; a hash collision keeps several, told apart by comparing the records.
#[derive(Debug)]
enum Slot {
    One(u64),
    Many(Vec<u64>),
}

#[derive(Debug)]
struct Inner {
    /// Per-store random seed, so nobody can choose request ids that collide.
    seed: u64,
    /// Sequence number of `logs[0]`; `logs[i]` has `logs_base + i`.
    logs_base: u64,
    /// Log records oldest first (a ring: evicted from the front, appended at the back).
    logs: VecDeque<LogRecord>,
    log_index: HashMap<u64, Slot, BuildHasherDefault<PremixedHasher>>,
    next_seq: u64,
    events: BTreeMap<u64, AsyncEvent>,
    event_index: HashMap<String, u64>,
    /// The queue's view of each event (when due, who holds it), by sequence: one entry
    /// per entry of `events`.
    queued: HashMap<u64, queue::Queued>,
    /// Timer ticks claimed, oldest first, bounded like the events.
    ticks: queue::Ticks,
    /// Saved test events by `(namespace, function)`, each function's by name.
    test_events: HashMap<(String, String), BTreeMap<String, TestEvent>>,
    /// Invocations refused by the concurrency limit, per function and minute.
    throttles: crate::rollup::Rollup,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            seed: RandomState::new().hash_one(0x5cf_u64),
            logs_base: 0,
            logs: VecDeque::new(),
            log_index: HashMap::default(),
            next_seq: 0,
            events: BTreeMap::new(),
            event_index: HashMap::new(),
            queued: HashMap::new(),
            ticks: queue::Ticks::default(),
            test_events: HashMap::new(),
            throttles: crate::rollup::Rollup::new(),
        }
    }
}

impl Inner {
    fn key_hash(&self, request_id: &str, retry_num: u32) -> u64 {
        let h = fx_bytes(self.seed, request_id.as_bytes());
        // A final avalanche, so the map's bucket bits depend on every input byte.
        let h = fx_add(h, u64::from(retry_num) ^ ((request_id.len() as u64) << 32));
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }

    /// The sequence number of the record with this key, if kept.
    fn find_log(&self, hash: u64, request_id: &str, retry_num: u32) -> Option<u64> {
        let is_it = |seq: &u64| {
            seq.checked_sub(self.logs_base)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.logs.get(i))
                .is_some_and(|r| r.retry_num == retry_num && r.request_id == request_id)
        };
        match self.log_index.get(&hash)? {
            Slot::One(seq) => Some(*seq).filter(is_it),
            Slot::Many(seqs) => seqs.iter().copied().find(is_it),
        }
    }

    fn log_mut(&mut self, seq: u64) -> Option<&mut LogRecord> {
        let i = usize::try_from(seq.checked_sub(self.logs_base)?).ok()?;
        self.logs.get_mut(i)
    }

    fn index_log(&mut self, hash: u64, seq: u64) {
        match self.log_index.entry(hash) {
            Entry::Vacant(v) => {
                v.insert(Slot::One(seq));
            }
            Entry::Occupied(mut o) => match o.get_mut() {
                Slot::One(first) => {
                    let first = *first;
                    o.insert(Slot::Many(vec![first, seq]));
                }
                Slot::Many(seqs) => seqs.push(seq),
            },
        }
    }

    fn unindex_log(&mut self, hash: u64, seq: u64) {
        if let Entry::Occupied(mut o) = self.log_index.entry(hash) {
            match o.get_mut() {
                Slot::One(s) => {
                    if *s == seq {
                        o.remove();
                    }
                }
                Slot::Many(seqs) => {
                    seqs.retain(|s| *s != seq);
                    match seqs.as_slice() {
                        [] => {
                            o.remove();
                        }
                        [only] => {
                            let only = *only;
                            o.insert(Slot::One(only));
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn evict_oldest_log(&mut self) -> bool {
        let Some(old) = self.logs.pop_front() else {
            return false;
        };
        let seq = self.logs_base;
        self.logs_base += 1;
        let hash = self.key_hash(&old.request_id, old.retry_num);
        self.unindex_log(hash, seq);
        true
    }

    /// Adds a new event, due at its start time, evicting the oldest ended one when
    /// `capacity` is reached.
    fn insert_event(&mut self, ev: &AsyncEvent, capacity: usize) -> Result<(), StoreError> {
        while self.events.len() >= capacity {
            let victim = self
                .events
                .iter()
                .find(|(_, e)| e.status != AsyncStatus::Running)
                .map(|(s, _)| *s);
            let Some(seq) = victim else {
                return Err(StoreError::Full {
                    what: "async events (all RUNNING)",
                    capacity,
                });
            };
            if let Some(old) = self.events.remove(&seq) {
                self.event_index.remove(&old.invoke_request_id);
                self.queued.remove(&seq);
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.event_index.insert(ev.invoke_request_id.clone(), seq);
        self.events.insert(seq, ev.clone());
        self.queued
            .insert(seq, queue::Queued::due_at(ev.start_time));
        Ok(())
    }

    /// Records with their sequence numbers, oldest first.
    fn logs_with_seq(&self) -> impl Iterator<Item = (u64, &LogRecord)> + '_ {
        (self.logs_base..).zip(self.logs.iter())
    }
}

/// One page of `hits` (items with their insertion sequence numbers): sorted by
/// `compare`, ties in insertion order (`order` applies to both), then `offset` and
/// `limit`; with the count of all hits.
fn page<'a, T: Clone + 'a>(
    hits: impl Iterator<Item = (u64, &'a T)>,
    compare: impl Fn(&T, &T) -> std::cmp::Ordering,
    order: Order,
    offset: u32,
    limit: u32,
) -> (u64, Vec<T>) {
    let mut hits: Vec<(u64, &T)> = hits.collect();
    hits.sort_by(|(sa, a), (sb, b)| compare(a, b).then(order.apply(sa.cmp(sb))));
    let total = hits.len() as u64;
    let page = hits
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|(_, t)| t.clone())
        .collect();
    (total, page)
}

/// A bounded in-memory store, for tests and embedders who keep nothing.
///
/// When full, the oldest log record (by first insertion) is evicted. Async
/// events are evicted oldest first among those no longer `RUNNING`; if every
/// kept event is still running, [`enqueue`](crate::AsyncQueue::enqueue)
/// fails with [`StoreError::Full`] rather than drop an accepted event.
#[derive(Debug)]
pub struct MemoryStore {
    log_capacity: usize,
    async_capacity: usize,
    inner: Mutex<Inner>,
    /// Deployment-wide concurrency slots, under a lock of their own.
    slots: Mutex<slots::Slots>,
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
            slots: Mutex::default(),
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
        let hash = inner.key_hash(&record.request_id, record.retry_num);
        if let Some(seq) = inner.find_log(hash, &record.request_id, record.retry_num) {
            if let Some(existing) = inner.log_mut(seq) {
                // A late running record never replaces a finished one.
                if !record.is_running() || existing.is_running() {
                    *existing = record;
                }
            }
            return Ok(());
        }
        while inner.logs.len() >= self.log_capacity {
            if !inner.evict_oldest_log() {
                break;
            }
        }
        let seq = inner.logs_base + inner.logs.len() as u64;
        inner.index_log(hash, seq);
        inner.logs.push_back(record);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<LogRecord> = inner
            .logs
            .iter()
            .filter(|r| r.request_id == request_id)
            .cloned()
            .collect();
        out.sort_by_key(|r| r.retry_num);
        Ok(out)
    }

    fn throttled(&self, namespace: &str, function_name: &str, at: time::OffsetDateTime) {
        let at_us = i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX);
        self.lock()
            .throttles
            .add_throttle(namespace, function_name, at_us);
    }

    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError> {
        q.validate()?;
        let inner = self.lock();
        if let Some(keyword) = &q.keyword {
            // Bounded, as the durable stores search: the first `keyword_scan` records in
            // the query's order, until a page and one more match.
            let others = LogQuery {
                keyword: None,
                ..q.clone()
            };
            let hits = inner.logs_with_seq().filter(|(_, r)| others.matches(r));
            let (kept, sorted) = page(hits, |a, b| q.compare(a, b), q.order, 0, q.keyword_scan);
            let wanted = q.offset as usize + q.limit as usize + 1;
            let found: Vec<LogRecord> = sorted
                .into_iter()
                .filter(|r| r.log.contains(keyword.as_str()))
                .take(wanted)
                .collect();
            let n = found.len();
            let records = found
                .into_iter()
                .skip(q.offset as usize)
                .take(q.limit as usize)
                .collect();
            return Ok(LogPage::of_search(
                q,
                n,
                records,
                kept > u64::from(q.keyword_scan),
            ));
        }
        let hits = inner.logs_with_seq().filter(|(_, r)| q.matches(r));
        let (total_count, records) = page(hits, |a, b| q.compare(a, b), q.order, q.offset, q.limit);
        Ok(LogPage {
            total_count,
            records,
            total_is_lower_bound: false,
        })
    }
}

impl ConsoleStore for MemoryStore {
    fn minute_stats(&self, q: &StatsQuery) -> Result<Vec<MinuteStats>, StoreError> {
        q.validate()?;
        let inner = self.lock();
        Ok(MinuteStats::compute(q, inner.logs.iter(), &inner.throttles))
    }

    fn save_test_event(&self, event: &TestEvent) -> Result<(), StoreError> {
        event.validate()?;
        let mut inner = self.lock();
        let events = inner
            .test_events
            .entry((event.namespace.clone(), event.function_name.clone()))
            .or_default();
        if !events.contains_key(&event.name) && events.len() >= MAX_TEST_EVENTS_PER_FUNCTION {
            return Err(StoreError::TestEventsFull {
                namespace: event.namespace.clone(),
                function_name: event.function_name.clone(),
                max: MAX_TEST_EVENTS_PER_FUNCTION,
            });
        }
        events.insert(event.name.clone(), event.clone());
        Ok(())
    }

    fn list_test_events(
        &self,
        namespace: &str,
        function_name: &str,
    ) -> Result<Vec<TestEvent>, StoreError> {
        let inner = self.lock();
        let key = (namespace.to_owned(), function_name.to_owned());
        Ok(inner
            .test_events
            .get(&key)
            .map(|events| events.values().cloned().collect())
            .unwrap_or_default())
    }

    fn delete_test_event(
        &self,
        namespace: &str,
        function_name: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let key = (namespace.to_owned(), function_name.to_owned());
        let Some(events) = inner.test_events.get_mut(&key) else {
            return Ok(false);
        };
        let found = events.remove(name).is_some();
        if events.is_empty() {
            inner.test_events.remove(&key);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, retry: u32) -> LogRecord {
        LogRecord {
            request_id: id.to_owned(),
            retry_num: retry,
            ..LogRecord::default()
        }
    }

    /// Two keys with the same hash (forced: real 64-bit collisions cannot be found in a
    /// test) are told apart by comparing the records, and eviction unindexes the right one.
    #[test]
    fn colliding_hashes_keep_both_records() {
        let mut inner = Inner::default();
        inner.logs.push_back(rec("a", 0));
        inner.index_log(7, 0);
        inner.logs.push_back(rec("b", 0));
        inner.index_log(7, 1);
        assert_eq!(inner.find_log(7, "a", 0), Some(0));
        assert_eq!(inner.find_log(7, "b", 0), Some(1));
        assert_eq!(inner.find_log(7, "a", 1), None);
        assert_eq!(inner.find_log(8, "a", 0), None);
        inner.unindex_log(7, 0);
        let _ = inner.logs.pop_front();
        inner.logs_base = 1;
        assert_eq!(inner.find_log(7, "a", 0), None);
        assert_eq!(inner.find_log(7, "b", 0), Some(1));
        assert!(matches!(inner.log_index.get(&7), Some(Slot::One(1))));
        inner.unindex_log(7, 1);
        assert!(inner.log_index.is_empty());
    }

    #[test]
    fn eviction_keeps_the_index_in_step() {
        let store = MemoryStore::new(3);
        for i in 0..10u32 {
            store.put(rec(&format!("r{i}"), 0)).unwrap_or_default();
        }
        assert_eq!(store.len(), 3);
        let inner = store.lock();
        assert_eq!(inner.log_index.len(), 3);
        for i in 7..10u32 {
            let id = format!("r{i}");
            let h = inner.key_hash(&id, 0);
            assert_eq!(inner.find_log(h, &id, 0), Some(u64::from(i)));
        }
    }
}
