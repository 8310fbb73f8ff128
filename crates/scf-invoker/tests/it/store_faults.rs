//! When the store goes away: sync invocations still run and their log records wait in a
//! bounded buffer (written, in order, once the store is back; counted when they do not
//! fit); an async invocation is refused while the queue cannot be written.
//!
//! The store here is a real `MemoryStore` behind a switch that makes every call fail, as
//! an unreachable database server does: nothing else is replaced.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{echo, function};
use scf_handler::{cooperative, handler_fn};
use scf_invoker::{InvokeError, InvokeRequest, Invoker, InvokerConfig};
use scf_logs::LogRecord;
use scf_store::{
    AsyncEvent, AsyncQuery, AsyncQueue, AttemptEnd, Claim, Ended, FunctionRef, LogPage, LogQuery,
    LogStore, MemoryStore, Renewal, StoreError, Termination,
};
use time::OffsetDateTime;

/// A `MemoryStore` that fails every call while it is `down`.
#[derive(Debug, Default)]
struct Switched {
    store: MemoryStore,
    down: AtomicBool,
}

impl Switched {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Write {
                what: "anything".into(),
                detail: "connection refused (the test took the store down)".into(),
            })
        } else {
            Ok(())
        }
    }
}

impl LogStore for Switched {
    fn put(&self, record: LogRecord) -> Result<(), StoreError> {
        self.check()?;
        self.store.put(record)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.check()?;
        self.store.flush()
    }
    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        self.check()?;
        self.store.get(request_id)
    }
    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError> {
        self.check()?;
        self.store.query(q)
    }
}

impl AsyncQueue for Switched {
    fn enqueue(&self, ev: &AsyncEvent) -> Result<(), StoreError> {
        self.check()?;
        self.store.enqueue(ev)
    }
    fn claim(
        &self,
        worker: &str,
        lease: Duration,
        limit: usize,
        functions: &[FunctionRef],
        now: OffsetDateTime,
    ) -> Result<Vec<Claim>, StoreError> {
        self.check()?;
        self.store.claim(worker, lease, limit, functions, now)
    }
    fn unfinished(&self) -> Result<Vec<AsyncEvent>, StoreError> {
        self.check()?;
        self.store.unfinished()
    }
    fn next_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        self.check()?;
        self.store.next_due()
    }
    fn renew(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Renewal, StoreError> {
        self.check()?;
        self.store.renew(id, worker, lease, now)
    }
    fn end_attempt(
        &self,
        id: &str,
        worker: &str,
        end: AttemptEnd,
        now: OffsetDateTime,
    ) -> Result<Ended, StoreError> {
        self.check()?;
        self.store.end_attempt(id, worker, end, now)
    }
    fn terminate(
        &self,
        id: &str,
        status_code: i64,
        now: OffsetDateTime,
    ) -> Result<Termination, StoreError> {
        self.check()?;
        self.store.terminate(id, status_code, now)
    }
    fn get_async(&self, id: &str) -> Result<Option<AsyncEvent>, StoreError> {
        self.check()?;
        self.store.get_async(id)
    }
    fn list_async(&self, q: &AsyncQuery) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        self.check()?;
        self.store.list_async(q)
    }
    fn pending(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.check()?;
        self.store.pending(now)
    }
    fn claim_tick(&self, trigger: &str, tick: OffsetDateTime) -> Result<bool, StoreError> {
        self.check()?;
        self.store.claim_tick(trigger, tick)
    }
}

fn node(store: &Arc<Switched>, buffer: usize) -> Invoker {
    let mut config = InvokerConfig::default().with_store(store.clone());
    config.record_buffer = buffer;
    let invoker = Invoker::new(config).unwrap();
    invoker
        .add_function(function("echo"), cooperative(handler_fn(echo)))
        .unwrap();
    invoker
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_invocations_run_while_the_store_is_down_and_their_records_follow_later() {
    let store = Arc::new(Switched::default());
    let invoker = node(&store, 100);
    store.down.store(true, Ordering::SeqCst);
    let mut ids = Vec::new();
    for i in 0..5 {
        let out = invoker
            .invoke(InvokeRequest::new("echo", format!("{{\"i\":{i}}}")))
            .await
            .unwrap();
        assert!(out.status.is_success(), "a sync invocation runs: {out:?}");
        ids.push(out.request_id);
    }
    let stats = invoker.record_stats();
    // The first refusal after a healthy spell loses its record (counted); the rest wait.
    assert_eq!((stats.lost, stats.buffered), (1, 4), "{stats:?}");
    assert!(stats.store_errors >= 1, "{stats:?}");
    let refused = invoker.invoke(InvokeRequest::event("echo", "{}")).await;
    assert!(
        matches!(refused, Err(InvokeError::Store(_))),
        "an async invocation is refused while the queue cannot be written: {refused:?}"
    );
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("not accepted"), "{message}");

    store.down.store(false, Ordering::SeqCst);
    assert!(
        common::eventually(Duration::from_secs(5), || invoker.record_stats().buffered
            == 0)
        .await,
        "the buffer drains once the store is back: {:?}",
        invoker.record_stats()
    );
    let stats = invoker.record_stats();
    assert_eq!((stats.lost, stats.delayed), (1, 4), "{stats:?}");
    for id in &ids[1..] {
        let records = invoker.request_logs(id).await.unwrap();
        assert_eq!(
            records.len(),
            1,
            "the delayed record of {id} is in the store"
        );
    }
    let metrics = invoker.metrics_text();
    assert!(
        metrics.contains("scf_log_records_lost_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("scf_log_records_delayed_total 4\n"),
        "{metrics}"
    );
    // And the next async invocation is accepted again.
    invoker
        .invoke(InvokeRequest::event("echo", "{}"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_do_not_fit_the_buffer_are_counted_lost_oldest_first() {
    let store = Arc::new(Switched::default());
    let invoker = node(&store, 2);
    store.down.store(true, Ordering::SeqCst);
    let mut ids = Vec::new();
    for _ in 0..6 {
        let out = invoker
            .invoke(InvokeRequest::new("echo", "{}"))
            .await
            .unwrap();
        ids.push(out.request_id);
    }
    // 1 lost at the first refusal, then 5 for a buffer of 2: 3 more dropped.
    let stats = invoker.record_stats();
    assert_eq!((stats.lost, stats.buffered), (4, 2), "{stats:?}");
    store.down.store(false, Ordering::SeqCst);
    assert!(
        common::eventually(Duration::from_secs(5), || invoker.record_stats().buffered
            == 0)
        .await
    );
    // The newest two were kept.
    for id in &ids[4..] {
        assert_eq!(invoker.request_logs(id).await.unwrap().len(), 1);
    }
    for id in &ids[..4] {
        assert!(invoker.request_logs(id).await.unwrap().is_empty());
    }
}
