//! Async (`Event`) invocations: the bounded queue, retries, termination and recovery.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use scf_context::{CancelReason, Cancellation};
use scf_handler::FunctionStatus;
use scf_logs::record::RET_CODE_INTERRUPTED;
use scf_logs::{InvocationType, LogRecord};
use scf_store::{AsyncEvent, AsyncStatus, StoreError};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::error::{AsyncEventError, InvokeError};
use crate::functions::{FunctionEntry, GatePermit};
use crate::invoker::{lock, parse_event, Inner, RecoverReport};
use crate::request::InvokeResponse;
use crate::run::{new_request_id, Busy, Ending, RunOptions};

/// How often a queued async event re-checks a full concurrency gate, besides being woken
/// when an invocation of its function ends.
const GATE_RECHECK: Duration = Duration::from_millis(100);

/// How waiting for an async attempt's turn under the concurrency limit ended.
enum Gate {
    Open(GatePermit),
    /// Terminated, or the invoker is shutting down.
    Stopped,
    /// The event's `MsgTTL` ran out first.
    Expired,
}

/// How long an event accepted at `accepted` may still start an attempt under `ttl`
/// (`MsgTTL`); `None` once that time has passed.
fn ttl_left(accepted: OffsetDateTime, ttl: Duration) -> Option<Duration> {
    // A start time so far in the future that the TTL overflows the calendar (a corrupt
    // record) never expires.
    let expires = time::Duration::try_from(ttl)
        .ok()
        .and_then(|ttl| accepted.checked_add(ttl));
    let Some(expires) = expires else {
        return Some(Duration::MAX);
    };
    Duration::try_from(expires - OffsetDateTime::now_utc())
        .ok()
        .filter(|left| !left.is_zero())
}

/// An accepted event on its way to a worker.
#[derive(Debug)]
pub(crate) struct AsyncJob {
    pub(crate) event: AsyncEvent,
    pub(crate) value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Active,
    Aborted,
    Ended(AsyncStatus),
}

/// An accepted event known to this process, from acceptance until it ends.
#[derive(Debug)]
pub(crate) struct AsyncSlot {
    /// Fires (Terminated) when the event is terminated.
    pub(crate) abort: Cancellation,
    namespace: String,
    function_name: String,
    /// Serializes status writes, so a terminate and a worker's write never interleave.
    state: tokio::sync::Mutex<SlotState>,
    attempts: AtomicU32,
}

impl AsyncSlot {
    fn new(event: &AsyncEvent) -> Self {
        Self {
            abort: Cancellation::new(),
            namespace: event.namespace.clone(),
            function_name: event.function_name.clone(),
            state: tokio::sync::Mutex::new(SlotState::Active),
            attempts: AtomicU32::new(event.attempts),
        }
    }
}

/// Hands queued events to workers, at most `async_workers` running at once. Holds only a
/// weak reference, so that dropping the last `Invoker` ends it.
pub(crate) async fn dispatch(
    inner: Weak<Inner>,
    mut rx: mpsc::Receiver<AsyncJob>,
    draining: Cancellation,
    permits: Arc<Semaphore>,
) {
    loop {
        let job = tokio::select! {
            biased;
            _ = draining.cancelled() => return,
            job = rx.recv() => match job {
                Some(job) => job,
                None => return,
            },
        };
        let permit = tokio::select! {
            biased;
            _ = draining.cancelled() => return,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let handle = inner.handle.clone();
        handle.spawn(inner.run_event(job, permit));
    }
}

impl Inner {
    /// Accepts an async event: checks it, stores it durably, queues it.
    pub(crate) async fn accept_async(
        &self,
        entry: &FunctionEntry,
        request: crate::request::InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        let (value, text) = parse_event(
            request.event,
            self.config.max_async_event_bytes,
            InvocationType::Event,
            true,
        )?;
        let permit = self.async_tx.try_reserve().map_err(|e| match e {
            TrySendError::Full(()) => InvokeError::QueueFull {
                capacity: self.config.async_queue_capacity,
            },
            TrySendError::Closed(()) => InvokeError::ShuttingDown,
        })?;
        let id = new_request_id();
        let event = AsyncEvent::new(
            id.as_str(),
            entry.config.name.as_str(),
            entry.config.namespace.as_str(),
            entry.config.version.as_str(),
            request.invoke_type,
            OffsetDateTime::now_utc(),
            text.unwrap_or_default(),
        );
        lock(&self.async_events).insert(id.clone(), Arc::new(AsyncSlot::new(&event)));
        let stored = event.clone();
        if let Err(error) = self.blocking(move |s| s.enqueue_async(&stored)).await {
            lock(&self.async_events).remove(&id);
            return Err(InvokeError::Store(error));
        }
        permit.send(AsyncJob { event, value });
        Ok(InvokeResponse::accepted(id))
    }

    /// Runs an event's attempts until it succeeds, runs out of retries, is terminated,
    /// or the invoker shuts down.
    pub(crate) async fn run_event(self: Arc<Self>, job: AsyncJob, permit: OwnedSemaphorePermit) {
        let id = job.event.invoke_request_id.clone();
        let slot = lock(&self.async_events).get(&id).cloned();
        let Some(slot) = slot else {
            return;
        };
        let mut permit = Some(permit);
        let mut retry_num = job.event.attempts;
        // The status code of this run's last attempt, for an event that expires after it.
        let mut last_code: Option<i64> = None;
        loop {
            if slot.abort.is_cancelled() || self.draining.is_cancelled() {
                break;
            }
            let found = self.read_functions().lookup(
                &job.event.namespace,
                &job.event.function_name,
                &job.event.qualifier,
            );
            let entry = match found {
                Ok(entry) => entry,
                Err(error) => {
                    let code = i64::from(error.status().code());
                    self.write_status(&slot, &id, AsyncStatus::Failed, code, retry_num)
                        .await;
                    break;
                }
            };
            let ttl = entry.config.retry.msg_ttl;
            let gate = match self
                .wait_gate(&entry, &slot, job.event.start_time, ttl)
                .await
            {
                Gate::Open(gate) => gate,
                Gate::Stopped => break,
                // No attempt starts past MsgTTL: the event ends with its last attempt's
                // status, or, if none ran, with 432 (it could not run in time).
                Gate::Expired => {
                    let code = last_code
                        .unwrap_or_else(|| FunctionStatus::ResourceLimitReached.code().into());
                    self.write_status(&slot, &id, AsyncStatus::Failed, code, retry_num)
                        .await;
                    break;
                }
            };
            // Counted before it runs, so that after a crash the retry count says so.
            self.write_status(&slot, &id, AsyncStatus::Running, 0, retry_num + 1)
                .await;
            let mut running = LogRecord::new(
                entry.config.name.as_str(),
                entry.config.namespace.as_str(),
                entry.config.version.as_str(),
                id.as_str(),
                OffsetDateTime::now_utc(),
            );
            running.retry_num = retry_num;
            running.invocation_type = InvocationType::Event;
            self.put_record(running);
            let settling = Busy::settling(&self);
            let run = self
                .execute(
                    &entry,
                    id.clone(),
                    job.value.clone(),
                    RunOptions {
                        invocation_type: InvocationType::Event,
                        retry_num,
                        abort: Some(&slot.abort),
                        log_tail: false,
                    },
                )
                .await;
            drop(gate);
            match run.ending {
                Ending::Success => {
                    let code = i64::from(FunctionStatus::Success.code());
                    self.write_status(&slot, &id, AsyncStatus::Finished, code, retry_num + 1)
                        .await;
                    break;
                }
                // `terminate` wrote ABORTED.
                Ending::Interrupted(CancelReason::Terminated) => break,
                Ending::Interrupted(_) => {
                    // Shutdown: an interrupted attempt is not counted; `recover` re-runs it
                    // with the same RetryNum.
                    self.write_status(&slot, &id, AsyncStatus::Running, 0, retry_num)
                        .await;
                    break;
                }
                Ending::Failed => {
                    let code = i64::from(run.response.status.code());
                    last_code = Some(code);
                    let retry_in_time = ttl_left(job.event.start_time, ttl)
                        .is_some_and(|left| left > entry.config.retry.interval);
                    if retry_num >= u32::from(entry.config.retry.max_retries) || !retry_in_time {
                        self.write_status(&slot, &id, AsyncStatus::Failed, code, retry_num + 1)
                            .await;
                        break;
                    }
                    // Free the worker (and let a shutdown proceed) while waiting for the retry.
                    drop(settling);
                    drop(permit.take());
                    tokio::select! {
                        () = tokio::time::sleep(entry.config.retry.interval) => {}
                        _ = slot.abort.cancelled() => break,
                        _ = self.draining.cancelled() => break,
                    }
                    permit = tokio::select! {
                        permit = self.worker_permits.clone().acquire_owned() => permit.ok(),
                        _ = self.draining.cancelled() => None,
                    };
                    if permit.is_none() {
                        break;
                    }
                    retry_num += 1;
                }
            }
        }
        lock(&self.async_events).remove(&id);
    }

    /// Waits for room under the function's concurrency limit (SCF retries over-quota
    /// async events rather than failing them) until the event's `MsgTTL`, counted from
    /// `accepted`, runs out.
    async fn wait_gate(
        &self,
        entry: &FunctionEntry,
        slot: &AsyncSlot,
        accepted: OffsetDateTime,
        ttl: Duration,
    ) -> Gate {
        loop {
            let Some(left) = ttl_left(accepted, ttl) else {
                return Gate::Expired;
            };
            if let Some(permit) = entry.gate.try_acquire(entry.limit) {
                return Gate::Open(permit);
            }
            tokio::select! {
                () = entry.gate.released() => {}
                () = tokio::time::sleep(GATE_RECHECK.min(left)) => {}
                _ = slot.abort.cancelled() => return Gate::Stopped,
                _ = self.draining.cancelled() => return Gate::Stopped,
            }
        }
    }

    /// Writes an event's status unless it was terminated or has ended.
    async fn write_status(
        &self,
        slot: &AsyncSlot,
        id: &str,
        status: AsyncStatus,
        status_code: i64,
        attempts: u32,
    ) {
        let mut state = slot.state.lock().await;
        if *state != SlotState::Active {
            return;
        }
        slot.attempts.store(attempts, Ordering::Release);
        let end_time = (status != AsyncStatus::Running).then(OffsetDateTime::now_utc);
        if status != AsyncStatus::Running {
            *state = SlotState::Ended(status);
        }
        let id = id.to_string();
        let written = self
            .blocking(move |s| s.update_async(&id, status, status_code, end_time, attempts))
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, "scf-invoker: could not update an async event's status");
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
        let aborted_code = i64::from(FunctionStatus::RequestCanceled.code());
        let slot = lock(&self.async_events).get(id).cloned();
        if let Some(slot) = slot {
            if slot.namespace != namespace || slot.function_name != function_name {
                return Err(not_found());
            }
            let mut state = slot.state.lock().await;
            match *state {
                SlotState::Ended(status) => {
                    return Err(AsyncEventError::AlreadyEnded {
                        invoke_request_id: id.to_string(),
                        status,
                    })
                }
                SlotState::Aborted => {
                    return Err(AsyncEventError::AlreadyEnded {
                        invoke_request_id: id.to_string(),
                        status: AsyncStatus::Aborted,
                    })
                }
                SlotState::Active => {}
            }
            *state = SlotState::Aborted;
            slot.abort.cancel(CancelReason::Terminated);
            let attempts = slot.attempts.load(Ordering::Acquire);
            let id = id.to_string();
            let now = OffsetDateTime::now_utc();
            self.blocking(move |s| {
                s.update_async(&id, AsyncStatus::Aborted, aborted_code, Some(now), attempts)
            })
            .await?;
            return Ok(());
        }
        // Not running in this process: accepted before a restart and not recovered yet,
        // or already ended.
        let key = id.to_string();
        let event = self
            .blocking(move |s| s.get_async(&key))
            .await?
            .ok_or_else(not_found)?;
        if event.namespace != namespace || event.function_name != function_name {
            return Err(not_found());
        }
        if event.status != AsyncStatus::Running {
            return Err(AsyncEventError::AlreadyEnded {
                invoke_request_id: id.to_string(),
                status: event.status,
            });
        }
        let key = id.to_string();
        let now = OffsetDateTime::now_utc();
        self.blocking(move |s| {
            s.update_async(
                &key,
                AsyncStatus::Aborted,
                aborted_code,
                Some(now),
                event.attempts,
            )
        })
        .await?;
        Ok(())
    }

    pub(crate) async fn recover(&self) -> Result<RecoverReport, StoreError> {
        let mut report = RecoverReport::default();
        let events = self.blocking(|s| s.unfinished_async()).await?;
        for event in events {
            let id = event.invoke_request_id.clone();
            if lock(&self.async_events).contains_key(&id) {
                continue;
            }
            self.close_stale_attempts(&id).await?;
            let found = self.read_functions().lookup(
                &event.namespace,
                &event.function_name,
                &event.qualifier,
            );
            if let Err(error) = found {
                report.skipped.push((id, error.to_string()));
                continue;
            }
            let value: Value = match serde_json::from_str(&event.event) {
                Ok(value) => value,
                Err(_) => {
                    let key = id.clone();
                    let code = i64::from(FunctionStatus::InvalidParameterValue.code());
                    let attempts = event.attempts;
                    let now = OffsetDateTime::now_utc();
                    self.blocking(move |s| {
                        s.update_async(&key, AsyncStatus::Failed, code, Some(now), attempts)
                    })
                    .await?;
                    report.failed.push(id);
                    continue;
                }
            };
            lock(&self.async_events).insert(id.clone(), Arc::new(AsyncSlot::new(&event)));
            if self.async_tx.send(AsyncJob { event, value }).await.is_err() {
                lock(&self.async_events).remove(&id);
                break;
            }
            report.requeued.push(id);
        }
        Ok(report)
    }

    /// Marks attempts that were running when the process died as interrupted (RetCode 3).
    async fn close_stale_attempts(&self, id: &str) -> Result<(), StoreError> {
        let key = id.to_string();
        let records = self.blocking(move |s| s.get(&key)).await?;
        for mut record in records.into_iter().filter(LogRecord::is_running) {
            record.ret_code = RET_CODE_INTERRUPTED;
            record.invoke_finished = false;
            self.put_record(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_left_counts_from_acceptance_and_never_overflows() {
        let now = OffsetDateTime::now_utc();
        let left = ttl_left(now, Duration::from_secs(3600)).unwrap();
        assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600));
        assert_eq!(
            ttl_left(now - Duration::from_secs(7200), Duration::from_secs(3600)),
            None
        );
        // A start time at the end of the calendar (a corrupt record) does not panic.
        let last = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        assert_eq!(
            ttl_left(last, Duration::from_secs(21_600)),
            Some(Duration::MAX)
        );
    }
}
