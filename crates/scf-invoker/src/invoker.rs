//! The invoker: functions, sync invocations, queries and shutdown.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use scf_context::{CancelReason, Cancellation, ConfigError, FunctionConfig};
use scf_handler::Handler;
use scf_logs::{InvocationType, LogRecord};
use scf_store::{AsyncEvent, AsyncQuery, AsyncQueue, LogPage, LogQuery, LogStore, StoreError};
use tokio::runtime::Handle;
use tokio::sync::Notify;

use crate::asynchronous::{AsyncWorker, RecoverReport};
use crate::clock::Clock;
use crate::config::{ConcurrencyScope, InvokerConfig, InvokerConfigError};
use crate::error::{AsyncEventError, InvokeError};
use crate::functions::{FunctionEntry, FunctionInfo, Functions};
use crate::pool::{Pool, PoolStats};
use crate::records::{retry_loop, RecordStats, Records};
use crate::request::{parse_event, InvokeRequest, InvokeResponse, LogType};
use crate::run::{new_request_id, RunOptions, Runner, CANCEL_SETTLE};
use crate::slots::{renew_loop, DeploymentSlots};

/// Runs SCF functions: sync and async invocations, with deadlines, concurrency limits,
/// retries, per-invocation logs and graceful shutdown. See the [crate docs](crate).
///
/// Cheap to clone: clones share one invoker.
#[derive(Clone)]
pub struct Invoker {
    pub(crate) inner: Arc<Inner>,
}

/// The invoker's parts: the function table, the runner of attempts, and the async worker
/// (which calls the runner; neither calls back up here).
pub(crate) struct Inner {
    pub(crate) functions: Arc<RwLock<Functions>>,
    pub(crate) runner: Arc<Runner>,
    pub(crate) worker: Arc<AsyncWorker>,
    pub(crate) accepting: AtomicBool,
    /// Fired when shutdown starts: no new async attempt starts, waits for room end.
    pub(crate) draining: Cancellation,
}

impl fmt::Debug for Invoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invoker")
            .field("config", &self.inner.runner.config)
            .field("functions", &self.functions().len())
            .field(
                "in_flight",
                &self.inner.runner.in_flight.load(Ordering::Relaxed),
            )
            .field("pool", &self.inner.runner.pool.stats())
            .finish()
    }
}

/// What [`Invoker::shutdown`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Invocations still running when the grace period ended; they were cancelled
    /// ([`CancelReason::Shutdown`]) and, if async, left in the store to be recovered.
    pub cancelled: usize,
}

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
        let functions = Arc::new(RwLock::new(Functions::default()));
        let clock = {
            let _runtime = handle.enter();
            Arc::new(Clock::start())
        };
        let slots = match &config.concurrency {
            ConcurrencyScope::Node => None,
            ConcurrencyScope::Deployment(slots) => Some(Arc::new(DeploymentSlots::new(
                slots.clone(),
                config.node_id.clone(),
                config.lease,
                clock.clone(),
                handle.clone(),
            ))),
        };
        if let Some(slots) = &slots {
            handle.spawn(renew_loop(Arc::downgrade(slots), config.lease_renewal));
        }
        let records = Arc::new(Records::new(config.store.clone(), config.record_buffer));
        handle.spawn(retry_loop(Arc::downgrade(&records), handle.clone()));
        let runner = Arc::new(Runner {
            records,
            clock,
            slots,
            pool: Pool::new(config.thread_pool.clone()),
            stopping: Cancellation::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            settling: AtomicUsize::new(0),
            idle: Notify::new(),
            handle: handle.clone(),
            config,
        });
        let draining = Cancellation::new();
        let worker = {
            let _runtime = handle.enter();
            Arc::new(AsyncWorker::new(
                runner.clone(),
                functions.clone(),
                draining.clone(),
            ))
        };
        worker.spawn();
        let inner = Arc::new(Inner {
            functions,
            runner,
            worker,
            accepting: AtomicBool::new(true),
            draining,
        });
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
        self.write_functions().insert(
            config,
            handler,
            self.inner.runner.config.default_concurrency,
        );
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
            InvocationType::Event => inner.worker.accept_async(&entry, request).await,
            _ => inner.invoke_sync(&entry, request).await,
        }
    }

    /// The async event with this `InvokeRequestId` (`GetAsyncEventStatus`), if any.
    pub async fn get_async_event(
        &self,
        invoke_request_id: &str,
    ) -> Result<Option<AsyncEvent>, StoreError> {
        let id = invoke_request_id.to_string();
        self.inner.worker.queue(move |q| q.get_async(&id)).await
    }

    /// `ListAsyncEvents`: the total count and one page of events.
    pub async fn list_async(
        &self,
        query: AsyncQuery,
    ) -> Result<(u64, Vec<AsyncEvent>), StoreError> {
        query.validate()?;
        self.inner.worker.queue(move |q| q.list_async(&query)).await
    }

    /// `GetFunctionLogs`: one page of log records.
    pub async fn get_logs(&self, query: LogQuery) -> Result<LogPage, StoreError> {
        query.validate()?;
        self.inner.runner.blocking(move |s| s.query(&query)).await
    }

    /// Every recorded attempt of one request, by `RetryNum`.
    pub async fn request_logs(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        let id = request_id.to_string();
        self.inner.runner.blocking(move |s| s.get(&id)).await
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
            .worker
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
        self.inner.worker.recover().await
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
        let runner = &inner.runner;
        if !runner.wait_idle(Instant::now() + grace).await {
            report.cancelled = runner.in_flight.load(Ordering::Acquire);
            runner.stopping.cancel(CancelReason::Shutdown);
            runner.wait_idle(Instant::now() + CANCEL_SETTLE).await;
        }
        let records = runner.records.clone();
        let _ = runner.handle.spawn_blocking(move || records.retry()).await;
        if let Err(error) = runner.blocking(|s| s.flush()).await {
            tracing::warn!(%error, "scf-invoker: flushing the log store at shutdown failed");
        }
        report
    }

    /// [`shutdown`](Self::shutdown) with the configured `shutdown_grace`.
    pub async fn shutdown_default(&self) -> ShutdownReport {
        self.shutdown(self.inner.runner.config.shutdown_grace).await
    }

    /// Whether the invoker still accepts invocations.
    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Invocations running now (sync and async attempts).
    pub fn in_flight(&self) -> usize {
        self.inner.runner.in_flight.load(Ordering::Acquire)
    }

    /// The isolation pool's threads: alive, busy (including threads stuck in handlers
    /// that timed out), and jobs queued at `max_threads`.
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.runner.pool.stats()
    }

    /// The store this invoker records into.
    pub fn store(&self) -> &Arc<dyn LogStore> {
        &self.inner.runner.config.store
    }

    /// The queue its async events are in.
    pub fn queue(&self) -> &Arc<dyn AsyncQueue> {
        &self.inner.runner.config.queue
    }

    /// Invocations that ran counted on this node only because the deployment-wide
    /// concurrency limit ([`ConcurrencyScope::Deployment`]) could not be checked in the
    /// store (it was unreachable); 0 with [`ConcurrencyScope::Node`].
    pub fn concurrency_fallbacks(&self) -> u64 {
        self.inner
            .runner
            .slots
            .as_ref()
            .map_or(0, |s| s.unavailable.load(Ordering::Relaxed))
    }

    /// What happened to log records the store refused (it was unreachable): how many
    /// wait in the buffer, were written late, or were lost.
    pub fn record_stats(&self) -> RecordStats {
        self.inner.runner.records.stats()
    }

    /// Prometheus text of the invoker's own counters, for a `/metrics` page:
    /// `scf_log_records_buffered`, `scf_log_records_delayed_total`,
    /// `scf_log_records_lost_total`, `scf_store_errors_total` and
    /// `scf_concurrency_fallbacks_total`.
    pub fn metrics_text(&self) -> String {
        let r = self.record_stats();
        let mut out = String::new();
        for (name, kind, help, value) in [
            ("scf_log_records_buffered", "gauge", "Log records waiting for the store (it refused them).", r.buffered),
            ("scf_log_records_delayed_total", "counter", "Log records the store refused and took later from the buffer.", r.delayed),
            ("scf_log_records_lost_total", "counter", "Log records dropped: the store refused them and the buffer was full.", r.lost),
            ("scf_store_errors_total", "counter", "Writes of log records the store refused.", r.store_errors),
            ("scf_concurrency_fallbacks_total", "counter", "Invocations counted on this node only: the deployment-wide concurrency limit could not be checked.", self.concurrency_fallbacks()),
        ] {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
        }
        out
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &InvokerConfig {
        &self.inner.runner.config
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
            self.runner.config.max_sync_event_bytes,
            InvocationType::RequestResponse,
            false,
        )?;
        // A refusal (432) is counted as a throttle in the store's per-minute rollup.
        let throttled = || {
            let at = self.runner.clock.now();
            let (namespace, name) = (&entry.config.namespace, &entry.config.name);
            self.runner.records.throttled(namespace, name, at);
            entry.concurrency_error()
        };
        let permit = entry.gate.try_acquire(entry.limit).ok_or_else(throttled)?;
        let slot = self
            .runner
            .take_slot(entry)
            .await
            .map_err(|_| throttled())?;
        let run = self
            .runner
            .execute(
                entry,
                new_request_id(),
                event,
                RunOptions {
                    invocation_type: InvocationType::RequestResponse,
                    retry_num: 0,
                    abort: None,
                    log_tail: request.log_type == LogType::Tail,
                    start_time: None,
                    stream: request.stream,
                },
            )
            .await;
        drop(slot);
        drop(permit);
        Ok(run.response)
    }
}
