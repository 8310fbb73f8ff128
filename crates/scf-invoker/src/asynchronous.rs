//! Async (`Event`) invocations on the store's queue: accepting, the worker that claims due
//! events under leases, one attempt per claim, retries scheduled in the store, and
//! termination.
//!
//! Calls run one way: the invoker calls the [`AsyncWorker`], which calls the [`Runner`]
//! and the queue. [`AsyncWorker::accept_async`] stores an event and wakes the claim loop
//! ([`work`]), which claims due events and runs each claim ([`AsyncWorker::run_claim`]):
//! one attempt ([`AsyncWorker::attempt`]), whose end it reports to the queue. Nothing here keeps
//! an event in memory between attempts: a retry is due again in the store, for whichever
//! worker claims it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use scf_context::{CancelReason, Cancellation};
use scf_handler::FunctionStatus;
use scf_logs::record::RET_CODE_INTERRUPTED;
use scf_logs::{InvocationType, LogRecord};
use scf_store::{
    AsyncEvent, AsyncQueue, AttemptEnd, Claim, FunctionRef, Renewal, StoreError, Termination,
};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::clock::later;
use crate::error::{AsyncEventError, InvokeError};
use crate::functions::{lock, FunctionEntry, Functions, GatePermit};
use crate::request::{parse_event, InvokeResponse};
use crate::run::{new_request_id, Busy, Ending, RunOptions, Runner, SlotsFull};
use crate::slots::SlotGuard;

/// How often a claimed event re-checks a full concurrency gate, besides being woken when
/// an invocation of its function ends.
const GATE_RECHECK: Duration = Duration::from_millis(100);

/// How long the worker waits after the queue failed before it tries again.
const QUEUE_RETRY: Duration = Duration::from_millis(500);

/// How waiting for an attempt's turn under the concurrency limit ended.
enum Gate {
    Open(GatePermit, Option<SlotGuard>),
    /// Terminated (or the lease was lost), or the invoker is shutting down.
    Stopped,
    /// The event's `MsgTTL` ran out first.
    Expired,
}

/// How long an event accepted at `accepted` may still start an attempt under `ttl`
/// (`MsgTTL`) at `now`; `None` once that time has passed.
fn ttl_left(accepted: OffsetDateTime, ttl: Duration, now: OffsetDateTime) -> Option<Duration> {
    // A start time so far in the future that the TTL overflows the calendar (a corrupt
    // record) never expires.
    let expires = time::Duration::try_from(ttl)
        .ok()
        .and_then(|ttl| accepted.checked_add(ttl));
    let Some(expires) = expires else {
        return Some(Duration::MAX);
    };
    Duration::try_from(expires - now)
        .ok()
        .filter(|left| !left.is_zero())
}

/// The async worker: accepts events into the queue, claims due ones under leases and runs
/// one attempt per claim through the [`Runner`]. The invoker calls it; it calls the
/// runner and the queue, never the invoker.
pub(crate) struct AsyncWorker {
    runner: Arc<Runner>,
    functions: Arc<RwLock<Functions>>,
    /// Fired when shutdown starts: no new attempt starts, waits for room end.
    draining: Cancellation,
    /// Most attempts running at once (`async_workers`).
    worker_permits: Arc<Semaphore>,
    /// Woken when an event is accepted here, an attempt ends, or `recover` starts the
    /// worker, so that it claims at once instead of at its next poll.
    wake: Arc<Notify>,
    /// Whether the worker claims yet: it starts at [`AsyncWorker::recover`] or at the
    /// first event accepted, so that events stored before a restart wait until the
    /// functions are registered.
    started: AtomicBool,
    /// The claims this invoker runs now, by `InvokeRequestId`.
    held: std::sync::Mutex<HashMap<String, Arc<Held>>>,
}

impl AsyncWorker {
    /// A worker over `runner` and `functions`; call it inside the runtime the invoker runs
    /// on (its clock is read there), then [`spawn`](Self::spawn) its claim loop.
    pub(crate) fn new(
        runner: Arc<Runner>,
        functions: Arc<RwLock<Functions>>,
        draining: Cancellation,
    ) -> Self {
        let workers = runner.config.async_workers;
        AsyncWorker {
            runner,
            functions,
            draining,
            worker_permits: Arc::new(Semaphore::new(workers)),
            wake: Arc::default(),
            started: AtomicBool::new(false),
            held: Default::default(),
        }
    }

    /// Starts the claim loop, which ends when the worker is dropped or drains.
    pub(crate) fn spawn(self: &Arc<Self>) {
        self.runner.handle.spawn(work(
            Arc::downgrade(self),
            self.draining.clone(),
            self.wake.clone(),
        ));
    }

    fn start(&self) {
        self.started.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    fn read_functions(&self) -> std::sync::RwLockReadGuard<'_, Functions> {
        self.functions.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for AsyncWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncWorker")
            .field("node_id", &self.runner.config.node_id)
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What [`Invoker::recover`](crate::Invoker::recover) found in the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoverReport {
    /// Unfinished events that will run here, by `InvokeRequestId` (each once it is due:
    /// at once, at its retry time, or when the lease of a worker that died runs out).
    pub requeued: Vec<String>,
    /// Events left for a worker that runs their function (not registered here), with the
    /// reason.
    pub skipped: Vec<(String, String)>,
    /// Events that will end `FAILED` when claimed because their stored event is not JSON
    /// any more.
    pub failed: Vec<String>,
}

/// A claim this invoker runs.
#[derive(Debug)]
struct Held {
    /// Fires (Terminated) when the event is terminated or its lease is lost.
    abort: Cancellation,
}

/// The async worker: claims due events while there are free workers, sleeping until it
/// is woken, the next event is due, or `async_poll` passes. Holds only a weak reference,
/// so that dropping the last `Invoker` ends it.
async fn work(inner: Weak<AsyncWorker>, draining: Cancellation, wake: Arc<Notify>) {
    loop {
        let pause = match inner.upgrade() {
            Some(inner) => inner.claim_due().await,
            None => return,
        };
        tokio::select! {
            biased;
            _ = draining.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

impl AsyncWorker {
    /// One round of the worker: claims what it can run and starts each claim; how long
    /// to wait before the next round.
    async fn claim_due(self: &Arc<Self>) -> Duration {
        let poll = self.runner.config.async_poll;
        if !self.started.load(Ordering::Acquire) || self.draining.is_cancelled() {
            return poll;
        }
        let free = self.worker_permits.available_permits();
        if free == 0 {
            // An ending attempt wakes the worker.
            return poll;
        }
        let functions: Vec<FunctionRef> = self.read_functions().refs();
        if functions.is_empty() {
            return poll;
        }
        let worker = self.runner.config.node_id.clone();
        let lease = self.runner.config.lease;
        let now = self.now();
        let claimed = self
            .queue(move |q| q.claim(&worker, lease, free, &functions, now))
            .await;
        let claims = match claimed {
            Ok(claims) => claims,
            Err(error) => {
                tracing::warn!(%error, "scf-invoker: could not claim async events");
                return QUEUE_RETRY;
            }
        };
        let full = claims.len() >= free;
        for claim in claims {
            let permit = match self.worker_permits.clone().try_acquire_owned() {
                Ok(permit) => permit,
                // Cannot happen (only this task takes permits); give the claim back.
                Err(_) => {
                    self.release(claim).await;
                    continue;
                }
            };
            self.runner
                .handle
                .spawn(self.clone().run_claim(claim, permit));
        }
        if full {
            // There may be more due at once.
            return Duration::ZERO;
        }
        let next = self.queue(|q| q.next_due()).await.ok().flatten();
        let now = self.now();
        next.and_then(|at| Duration::try_from(at - now).ok())
            .map_or(poll, |d| d.min(poll))
    }

    /// Gives back a claim that will not run here (the attempt is not counted).
    async fn release(&self, claim: Claim) {
        let id = claim.event.invoke_request_id.clone();
        self.end(&id, AttemptEnd::Released).await;
    }

    /// Reports how `id`'s attempt ended to the queue.
    async fn end(&self, id: &str, end: AttemptEnd) {
        let id = id.to_owned();
        let worker = self.runner.config.node_id.clone();
        let now = self.now();
        let ended = self
            .queue(move |q| q.end_attempt(&id, &worker, end, now))
            .await;
        if let Err(error) = ended {
            tracing::warn!(%error, "scf-invoker: could not record how an async attempt ended");
        }
    }

    /// Runs a blocking queue call off the async threads.
    pub(crate) async fn queue<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn AsyncQueue) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let queue = self.runner.config.queue.clone();
        self.runner
            .handle
            .spawn_blocking(move || f(&*queue))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Read {
                    what: "queue call".into(),
                    detail: format!("the blocking task failed: {e}"),
                })
            })
    }

    /// Accepts an async event: checks it, stores it durably, wakes the worker.
    pub(crate) async fn accept_async(
        &self,
        entry: &FunctionEntry,
        request: crate::request::InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        let (_, text) = parse_event(
            request.event,
            self.runner.config.max_async_event_bytes,
            InvocationType::Event,
            true,
        )?;
        let capacity = self.runner.config.async_queue_capacity;
        let now = self.now();
        let pending = self.queue(move |q| q.pending(now)).await?;
        if pending >= capacity as u64 {
            return Err(InvokeError::QueueFull { capacity });
        }
        let id = new_request_id();
        let event = AsyncEvent::new(
            id.as_str(),
            entry.config.name.as_str(),
            entry.config.namespace.as_str(),
            entry.config.version.as_str(),
            request.invoke_type,
            self.now(),
            text.unwrap_or_default(),
        );
        let event = AsyncEvent {
            node: self.runner.config.node_id.clone(),
            ..event
        };
        self.queue(move |q| q.enqueue(&event)).await?;
        self.start();
        Ok(InvokeResponse::accepted(id))
    }

    /// Runs one claim: renews its lease while the attempt runs, then reports the end.
    async fn run_claim(self: Arc<Self>, claim: Claim, permit: OwnedSemaphorePermit) {
        let settling = Busy::settling(&self.runner);
        let id = claim.event.invoke_request_id.clone();
        let held = Arc::new(Held {
            abort: Cancellation::new(),
        });
        lock(&self.held).insert(id.clone(), held.clone());
        let renewing =
            self.runner
                .handle
                .spawn(renew(Arc::downgrade(&self), id.clone(), held.abort.clone()));
        if claim.interrupted.is_some() {
            if let Err(error) = self.close_stale_attempts(&id).await {
                tracing::warn!(%error, "scf-invoker: could not close an interrupted attempt's record");
            }
        }
        let end = self.attempt(&claim, &held.abort).await;
        renewing.abort();
        if let Some(end) = end {
            self.end(&id, end).await;
        }
        lock(&self.held).remove(&id);
        drop(settling);
        drop(permit);
        self.wake.notify_one();
    }

    /// Runs the claimed attempt; how it ended for the queue, or `None` when the event was
    /// terminated (or its lease lost) and there is nothing to report.
    async fn attempt(&self, claim: &Claim, abort: &Cancellation) -> Option<AttemptEnd> {
        let event = &claim.event;
        let id = event.invoke_request_id.as_str();
        let found =
            self.read_functions()
                .lookup(&event.namespace, &event.function_name, &event.qualifier);
        let entry = match found {
            Ok(entry) => entry,
            Err(error) => {
                return Some(AttemptEnd::Abandoned {
                    status_code: i64::from(error.status().code()),
                })
            }
        };
        let Ok(value) = serde_json::from_str::<Value>(&event.event) else {
            return Some(AttemptEnd::Abandoned {
                status_code: i64::from(FunctionStatus::InvalidParameterValue.code()),
            });
        };
        let ttl = entry.config.retry.msg_ttl;
        let gate = match self.wait_gate(&entry, abort, event.start_time, ttl).await {
            Gate::Open(gate, slot) => (gate, slot),
            Gate::Stopped if abort.is_cancelled() => return None,
            Gate::Stopped => return Some(AttemptEnd::Released),
            // No attempt starts past MsgTTL: the event ends with its last attempt's
            // status, or, if none failed, with 432 (it could not run in time).
            Gate::Expired => {
                let status_code = if claim.failures > 0 {
                    event.status_code
                } else {
                    FunctionStatus::ResourceLimitReached.code().into()
                };
                return Some(AttemptEnd::Abandoned { status_code });
            }
        };
        let start_time = self.now();
        let mut running = LogRecord::new(
            entry.config.name.as_str(),
            entry.config.namespace.as_str(),
            entry.config.version.as_str(),
            id,
            start_time,
        );
        running.retry_num = claim.retry_num;
        running.invocation_type = InvocationType::Event;
        running.node.clone_from(&self.runner.config.node_id);
        self.runner.put_record(running);
        let run = self
            .runner
            .execute(
                &entry,
                id.to_owned(),
                value,
                RunOptions {
                    invocation_type: InvocationType::Event,
                    retry_num: claim.retry_num,
                    abort: Some(abort),
                    log_tail: false,
                    start_time: Some(start_time),
                    stream: None,
                },
            )
            .await;
        drop(gate);
        match run.ending {
            Ending::Success => Some(AttemptEnd::Finished {
                status_code: FunctionStatus::Success.code().into(),
            }),
            Ending::Interrupted(CancelReason::Terminated) => None,
            // Shutdown: the attempt is not counted; the event runs again with this RetryNum.
            Ending::Interrupted(_) => Some(AttemptEnd::Released),
            Ending::Failed => {
                let status_code = i64::from(run.response.status.code());
                let retry = &entry.config.retry;
                let retries_left = claim.failures < u32::from(retry.max_retries);
                let retry_in_time = ttl_left(event.start_time, ttl, self.now())
                    .is_some_and(|left| left > retry.interval);
                Some(if retries_left && retry_in_time {
                    AttemptEnd::Retry {
                        status_code,
                        at: later(self.now(), retry.interval),
                    }
                } else {
                    AttemptEnd::Failed { status_code }
                })
            }
        }
    }

    /// Waits for room under the function's concurrency limit (SCF retries over-quota
    /// async events rather than failing them) until the event's `MsgTTL`, counted from
    /// `accepted`, runs out.
    async fn wait_gate(
        &self,
        entry: &FunctionEntry,
        abort: &Cancellation,
        accepted: OffsetDateTime,
        ttl: Duration,
    ) -> Gate {
        loop {
            let Some(left) = ttl_left(accepted, ttl, self.now()) else {
                return Gate::Expired;
            };
            if let Some(permit) = entry.gate.try_acquire(entry.limit) {
                match self.runner.take_slot(entry).await {
                    Ok(slot) => return Gate::Open(permit, slot),
                    // Held by other nodes: they do not wake this one, so look again soon.
                    Err(SlotsFull) => {
                        drop(permit);
                        tokio::select! {
                            () = tokio::time::sleep(GATE_RECHECK.min(left)) => {}
                            _ = abort.cancelled() => return Gate::Stopped,
                            _ = self.draining.cancelled() => return Gate::Stopped,
                        }
                        continue;
                    }
                }
            }
            tokio::select! {
                () = entry.gate.released() => {}
                () = tokio::time::sleep(GATE_RECHECK.min(left)) => {}
                _ = abort.cancelled() => return Gate::Stopped,
                _ = self.draining.cancelled() => return Gate::Stopped,
            }
        }
    }

    pub(crate) async fn terminate(
        &self,
        id: &str,
        namespace: &str,
        function_name: &str,
    ) -> Result<(), AsyncEventError> {
        let not_found = || AsyncEventError::NotFound {
            invoke_request_id: id.to_string(),
            function_name: function_name.to_string(),
            namespace: namespace.to_string(),
        };
        let key = id.to_string();
        let event = self
            .queue(move |q| q.get_async(&key))
            .await?
            .ok_or_else(not_found)?;
        if event.namespace != namespace || event.function_name != function_name {
            return Err(not_found());
        }
        let key = id.to_string();
        let code = i64::from(FunctionStatus::RequestCanceled.code());
        let now = self.now();
        let termination = self.queue(move |q| q.terminate(&key, code, now)).await?;
        match termination {
            Termination::Aborted { .. } => {
                // Held here: stop it now. Held elsewhere: its worker learns it when it
                // next renews its lease.
                if let Some(held) = lock(&self.held).get(id) {
                    held.abort.cancel(CancelReason::Terminated);
                }
                Ok(())
            }
            Termination::AlreadyEnded(status) => Err(AsyncEventError::AlreadyEnded {
                invoke_request_id: id.to_string(),
                status,
            }),
        }
    }

    /// Starts the worker and reports what it will find: the queue's unfinished events.
    pub(crate) async fn recover(&self) -> Result<RecoverReport, StoreError> {
        let mut report = RecoverReport::default();
        let events = self.queue(|q| q.unfinished()).await?;
        {
            let functions = self.read_functions();
            for event in events {
                let id = event.invoke_request_id.clone();
                if let Err(error) =
                    functions.lookup(&event.namespace, &event.function_name, &event.qualifier)
                {
                    report.skipped.push((id, error.to_string()));
                } else if serde_json::from_str::<Value>(&event.event).is_err() {
                    report.failed.push(id);
                } else {
                    report.requeued.push(id);
                }
            }
        }
        self.start();
        Ok(report)
    }

    /// Marks attempts that were running when their worker died as interrupted (RetCode 3).
    async fn close_stale_attempts(&self, id: &str) -> Result<(), StoreError> {
        let key = id.to_string();
        let records = self.runner.blocking(move |s| s.get(&key)).await?;
        for mut record in records.into_iter().filter(LogRecord::is_running) {
            record.ret_code = RET_CODE_INTERRUPTED;
            record.invoke_finished = false;
            self.runner.put_record(record);
        }
        Ok(())
    }

    /// Now, on the runner's clock (see [`Clock`](crate::clock::Clock)).
    fn now(&self) -> OffsetDateTime {
        self.runner.clock.now()
    }
}

/// Renews `id`'s lease every `lease_renewal` while its attempt runs; fires `abort` when
/// the event was terminated or the lease was lost.
async fn renew(inner: Weak<AsyncWorker>, id: String, abort: Cancellation) {
    loop {
        let every = match inner.upgrade() {
            Some(inner) => inner.runner.config.lease_renewal,
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let key = id.clone();
        let worker = inner.runner.config.node_id.clone();
        let lease = inner.runner.config.lease;
        let now = inner.now();
        let renewed = inner
            .queue(move |q| q.renew(&key, &worker, lease, now))
            .await;
        match renewed {
            Ok(Renewal::Held(_)) => {}
            Ok(Renewal::Terminated | Renewal::Lost) => {
                abort.cancel(CancelReason::Terminated);
                return;
            }
            // The lease may still be live; try again at the next renewal.
            Err(error) => {
                tracing::warn!(%error, "scf-invoker: could not renew an async event's lease");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_left_counts_from_acceptance_and_never_overflows() {
        let now = OffsetDateTime::now_utc();
        let left = ttl_left(now, Duration::from_secs(3600), now).unwrap();
        assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600));
        assert_eq!(
            ttl_left(
                now - Duration::from_secs(7200),
                Duration::from_secs(3600),
                now
            ),
            None
        );
        // A start time at the end of the calendar (a corrupt record) does not panic.
        let last = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        assert_eq!(
            ttl_left(last, Duration::from_secs(21_600), now),
            Some(Duration::MAX)
        );
        assert_eq!(later(last, Duration::from_secs(60)), last);
    }
}
