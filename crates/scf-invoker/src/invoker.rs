//! The invoker: functions, sync invocations, queries and shutdown.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, RwLock};
use std::time::{Duration, Instant};

use scf_context::{CancelReason, Cancellation, ConfigError, FunctionConfig};
use scf_handler::Handler;
use scf_logs::{InvocationType, LogRecord};
use scf_store::{AsyncEvent, AsyncQuery, AsyncQueue, LogPage, LogQuery, LogStore, StoreError};
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore};

use crate::asynchronous::AsyncState;
use crate::config::{InvokerConfig, InvokerConfigError};
use crate::error::{AsyncEventError, InvokeError};
use crate::functions::{FunctionEntry, FunctionInfo, Functions};
use crate::pool::{Pool, PoolStats};
use crate::request::{EventPayload, InvokeRequest, InvokeResponse, LogType};
use crate::run::{new_request_id, RunOptions, CANCEL_SETTLE};

/// Runs SCF functions: sync and async invocations, with deadlines, concurrency limits,
/// retries, per-invocation logs and graceful shutdown. See the [crate docs](crate).
///
/// Cheap to clone: clones share one invoker.
#[derive(Clone)]
pub struct Invoker {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: InvokerConfig,
    pub(crate) functions: RwLock<Functions>,
    pub(crate) handle: Handle,
    pub(crate) pool: Pool,
    pub(crate) asynchronous: AsyncState,
    pub(crate) worker_permits: Arc<Semaphore>,
    pub(crate) accepting: AtomicBool,
    /// Fired when shutdown starts: no new async attempt starts, retry waits end.
    pub(crate) draining: Cancellation,
    /// Fired when the grace period ends: running invocations are cancelled.
    pub(crate) stopping: Cancellation,
    /// Shared with the isolation jobs, which read it to decide whether to spin.
    pub(crate) in_flight: Arc<AtomicUsize>,
    /// Async attempts between the start of their run and the write of their outcome, so
    /// that a graceful shutdown also waits for that write.
    pub(crate) settling: AtomicUsize,
    pub(crate) idle: Notify,
}

impl fmt::Debug for Invoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invoker")
            .field("config", &self.inner.config)
            .field("functions", &self.functions().len())
            .field("in_flight", &self.inner.in_flight.load(Ordering::Relaxed))
            .field("pool", &self.inner.pool.stats())
            .finish()
    }
}

/// What [`Invoker::recover`] found in the queue.
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

/// What [`Invoker::shutdown`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Invocations still running when the grace period ended; they were cancelled
    /// ([`CancelReason::Shutdown`]) and, if async, left in the store to be recovered.
    pub cancelled: usize,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Critical sections here are map inserts and removals; a panic cannot leave the
    // map half-updated, so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

static INSTALL_CAPTURE: Once = Once::new();

impl Invoker {
    /// An invoker on the current tokio runtime (call it inside one).
    ///
    /// The runtime needs timers enabled (`enable_time` / `enable_all`); a multi-threaded
    /// runtime is recommended. Fails with a message naming the rule when the
    /// configuration is invalid or there is no runtime.
    pub fn new(config: InvokerConfig) -> Result<Self, InvokerConfigError> {
        let handle = Handle::try_current().map_err(|_| InvokerConfigError::NoRuntime)?;
        Self::with_handle(config, handle)
    }

    /// An invoker on the runtime behind `handle` (from any thread).
    pub fn with_handle(config: InvokerConfig, handle: Handle) -> Result<Self, InvokerConfigError> {
        config.validate()?;
        check_timers(&handle)?;
        if config.install_log_capture {
            INSTALL_CAPTURE.call_once(|| {
                scf_logs::capture::install_detailed();
            });
        }
        let inner = Arc::new(Inner {
            functions: RwLock::new(Functions::default()),
            pool: Pool::new(config.thread_pool.clone()),
            asynchronous: {
                let _runtime = handle.enter();
                AsyncState::new()
            },
            worker_permits: Arc::new(Semaphore::new(config.async_workers)),
            accepting: AtomicBool::new(true),
            draining: Cancellation::new(),
            stopping: Cancellation::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            settling: AtomicUsize::new(0),
            idle: Notify::new(),
            handle: handle.clone(),
            config,
        });
        handle.spawn(crate::asynchronous::work(
            Arc::downgrade(&inner),
            inner.draining.clone(),
            inner.async_wake(),
        ));
        Ok(Self { inner })
    }

    /// Registers `handler` as the function `config` describes (namespace, name and
    /// `version` as its qualifier), replacing any function already there. Invocations
    /// already running keep the function they started with.
    pub fn add_function(
        &self,
        config: FunctionConfig,
        handler: impl Handler,
    ) -> Result<(), ConfigError> {
        config.validate()?;
        let handler: scf_handler::SharedHandler = Arc::new(handler);
        self.write_functions()
            .insert(config, handler, self.inner.config.default_concurrency);
        Ok(())
    }

    /// Removes a function version; whether it was there. Running invocations finish;
    /// queued async events of it fail with 435 when their turn comes.
    pub fn remove_function(&self, namespace: &str, name: &str, qualifier: &str) -> bool {
        self.write_functions().remove(namespace, name, qualifier)
    }

    /// Every registered function version, sorted by namespace, name and version.
    pub fn functions(&self) -> Vec<FunctionInfo> {
        self.inner.read_functions().list()
    }

    /// One registered function version.
    pub fn function(&self, namespace: &str, name: &str, qualifier: &str) -> Option<FunctionInfo> {
        self.inner
            .read_functions()
            .lookup(namespace, name, qualifier)
            .ok()
            .map(|entry| entry.info())
    }

    fn write_functions(&self) -> std::sync::RwLockWriteGuard<'_, Functions> {
        self.inner
            .functions
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Invokes a function.
    ///
    /// Sync (`RequestResponse`): resolves when the run ends, with its result. Async
    /// (`Event`): resolves once the event is durably stored and queued, with only
    /// `request_id` filled; the run's result is then in the store.
    ///
    /// A refusal before the function runs (unknown function, bad or oversized event,
    /// concurrency limit, full queue, shutting down) is an [`InvokeError`]; nothing is
    /// recorded or billed for it. A function that runs and fails is an `Ok` response with
    /// a failure status.
    pub async fn invoke(&self, request: InvokeRequest) -> Result<InvokeResponse, InvokeError> {
        let inner = &*self.inner;
        if !inner.accepting.load(Ordering::Acquire) {
            return Err(InvokeError::ShuttingDown);
        }
        let entry = inner.read_functions().lookup(
            &request.namespace,
            &request.function_name,
            &request.qualifier,
        )?;
        match request.invocation_type {
            InvocationType::Event => inner.accept_async(&entry, request).await,
            _ => inner.invoke_sync(&entry, request).await,
        }
    }

    /// The async event with this `InvokeRequestId` (`GetAsyncEventStatus`), if any.
    pub async fn get_async_event(
        &self,
        invoke_request_id: &str,
    ) -> Result<Option<AsyncEvent>, StoreError> {
        let id = invoke_request_id.to_string();
        self.inner.queue(move |q| q.get_async(&id)).await
    }

    /// `ListAsyncEvents`: the total count and one page of events.
    pub async fn list_async(
        &self,
        query: AsyncQuery,
    ) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        query.validate()?;
        self.inner.queue(move |q| q.list_async(&query)).await
    }

    /// `GetFunctionLogs`: one page of log records.
    pub async fn get_logs(&self, query: LogQuery) -> Result<LogPage, StoreError> {
        query.validate()?;
        self.inner.blocking(move |s| s.query(&query)).await
    }

    /// Every recorded attempt of one request, by `RetryNum`.
    pub async fn request_logs(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        let id = request_id.to_string();
        self.inner.blocking(move |s| s.get(&id)).await
    }

    /// Terminates an async event (`TerminateAsyncEvent`): a running attempt's context is
    /// cancelled with [`CancelReason::Terminated`] and the attempt abandoned; a queued
    /// event or one waiting for a retry never runs (again). Its status becomes `ABORTED`.
    pub async fn terminate(
        &self,
        invoke_request_id: &str,
        namespace: &str,
        function_name: &str,
    ) -> Result<(), AsyncEventError> {
        self.inner
            .terminate(invoke_request_id, namespace, function_name)
            .await
    }

    /// Starts running the async events the queue holds as accepted but not finished
    /// (after a crash or a shutdown, or accepted by another process sharing the queue),
    /// and reports them. Until this call, or the first async invocation accepted, the
    /// invoker claims no stored event, so that none runs before its function is
    /// registered: call it after registering the functions. An event whose worker died
    /// runs again once its lease runs out, with the next `RetryNum` (the interrupted
    /// attempt is recorded with RetCode 3); events of functions not registered here are
    /// left for a worker that runs them.
    pub async fn recover(&self) -> Result<RecoverReport, StoreError> {
        self.inner.recover().await
    }

    /// Shuts down gracefully: stops accepting invocations and starting queued async
    /// events (they stay in the store for [`recover`](Self::recover)), lets running
    /// invocations finish for up to `grace`, then cancels the rest
    /// ([`CancelReason::Shutdown`]) and flushes the store.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let inner = &*self.inner;
        inner.accepting.store(false, Ordering::Release);
        inner.draining.cancel(CancelReason::Shutdown);
        let mut report = ShutdownReport::default();
        if !inner.wait_idle(Instant::now() + grace).await {
            report.cancelled = inner.in_flight.load(Ordering::Acquire);
            inner.stopping.cancel(CancelReason::Shutdown);
            inner.wait_idle(Instant::now() + CANCEL_SETTLE).await;
        }
        if let Err(error) = inner.blocking(|s| s.flush()).await {
            tracing::warn!(%error, "scf-invoker: flushing the log store at shutdown failed");
        }
        report
    }

    /// [`shutdown`](Self::shutdown) with the configured `shutdown_grace`.
    pub async fn shutdown_default(&self) -> ShutdownReport {
        self.shutdown(self.inner.config.shutdown_grace).await
    }

    /// Whether the invoker still accepts invocations.
    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Invocations running now (sync and async attempts).
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// The isolation pool's threads: alive, busy (including threads stuck in handlers
    /// that timed out), and jobs queued at `max_threads`.
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    /// The store this invoker records into.
    pub fn store(&self) -> &Arc<dyn LogStore> {
        &self.inner.config.store
    }

    /// The queue its async events are in.
    pub fn queue(&self) -> &Arc<dyn AsyncQueue> {
        &self.inner.config.queue
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &InvokerConfig {
        &self.inner.config
    }
}

fn check_timers(handle: &Handle) -> Result<(), InvokerConfigError> {
    let _enter = handle.enter();
    // tokio panics when a timer is created on a runtime without timers; find out here,
    // once, rather than in an invocation.
    std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO)))
        .map_err(|_| InvokerConfigError::TimersDisabled)
}

impl Inner {
    pub(crate) fn read_functions(&self) -> std::sync::RwLockReadGuard<'_, Functions> {
        self.functions.read().unwrap_or_else(|e| e.into_inner())
    }

    async fn invoke_sync(
        &self,
        entry: &Arc<FunctionEntry>,
        request: InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        let (event, _) = parse_event(
            request.event,
            self.config.max_sync_event_bytes,
            InvocationType::RequestResponse,
            false,
        )?;
        let permit = entry
            .gate
            .try_acquire(entry.limit)
            .ok_or_else(|| entry.concurrency_error())?;
        let run = self
            .execute(
                entry,
                new_request_id(),
                event,
                RunOptions {
                    invocation_type: InvocationType::RequestResponse,
                    retry_num: 0,
                    abort: None,
                    log_tail: request.log_type == LogType::Tail,
                },
            )
            .await;
        drop(permit);
        Ok(run.response)
    }

    /// Runs a blocking store call off the async threads.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn LogStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.config.store.clone();
        self.handle
            .spawn_blocking(move || f(&*store))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Read {
                    what: "store call".into(),
                    detail: format!("the blocking task failed: {e}"),
                })
            })
    }
}

/// Checks the event's size and parses it; with `want_text`, also returns its JSON text
/// (to store an async event).
pub(crate) fn parse_event(
    payload: EventPayload,
    limit: usize,
    invocation_type: InvocationType,
    want_text: bool,
) -> Result<(Value, Option<String>), InvokeError> {
    match payload {
        EventPayload::Text(bytes) => {
            if bytes.len() > limit {
                return Err(InvokeError::RequestTooLarge {
                    size: bytes.len(),
                    limit,
                    invocation_type,
                });
            }
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|e| InvokeError::InvalidEvent {
                    detail: e.to_string(),
                })?;
            let text = if want_text {
                // from_slice accepted it, so it is UTF-8.
                Some(
                    String::from_utf8(bytes).map_err(|e| InvokeError::InvalidEvent {
                        detail: e.to_string(),
                    })?,
                )
            } else {
                None
            };
            Ok((value, text))
        }
        EventPayload::Value(value) => {
            let size = json_size(&value);
            if size > limit {
                return Err(InvokeError::RequestTooLarge {
                    size,
                    limit,
                    invocation_type,
                });
            }
            let text = want_text.then(|| value.to_string());
            Ok((value, text))
        }
    }
}

fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a Value to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}
