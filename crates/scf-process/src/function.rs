//! [`ProcessFunction`]: a [`Handler`] that runs each invocation in a pooled instance.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use scf_context::{CancelReason, Context};
use scf_handler::{FunctionError, FunctionStatus, Handler, Instances};
use scf_logs::framing::{init_report_line, InitReport};
use scf_logs::LogBuffer;
use serde_json::Value;
use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::MissedTickBehavior;

use crate::instance::{Exit, Instance, Launch};
use crate::memory::{MemoryProbe, SAMPLE_INTERVAL};
use crate::outcome::{error_value, response_value};
use crate::output::OutputReader;
use crate::pending::{pushed, Ended, Event, Pending};
use crate::runtime_api::{Dispatch, Outcome};
use crate::spec::{CgroupPolicy, PoolConfig, ProcessError, ProcessSpec, RuntimeKind};

const MIB: u64 = 1024 * 1024;

/// A function that runs out of process: each invocation is served by an instance (a
/// bootstrap process speaking SCF's Custom Runtime API) from a pool.
///
/// It is a [`Handler`], so a host such as the invoker applies its timeouts, concurrency,
/// logs and async queue to it unchanged. What the instance writes to stdout and stderr
/// during an invocation goes to the invocation's log: the
/// [`LogBuffer::current`] set by the host while it polls the handler (the invoker does),
/// or nowhere when none is set. The instance's peak resident memory during the invocation
/// is reported as its `MemUsage` through [`Context::report_mem_usage`].
///
/// See the crate documentation for the lifecycle, the faults and their status codes.
#[derive(Debug, Clone)]
pub struct ProcessFunction {
    shared: Arc<Shared>,
}

/// A snapshot of a function's instance pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Instances alive now (busy, idle or starting).
    pub live: usize,
    /// Instances alive and waiting for an invocation.
    pub idle: usize,
    /// Instances started since the function was created.
    pub started: u64,
}

#[derive(Debug)]
struct Shared {
    launch: Launch,
    runtime: RuntimeKind,
    name: String,
    init_timeout: Duration,
    pool: PoolConfig,
    idle: Mutex<Vec<Instance>>,
    slots: Arc<Semaphore>,
    returned: Notify,
    reaper_started: AtomicBool,
    started_total: AtomicU64,
    context: Mutex<Option<crate::context_json::ContextTemplate>>,
}

/// What the first invocation of an instance reports in its `Init Report` line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InitInfo {
    pub(crate) duration: Duration,
    pub(crate) mem_usage_bytes: u64,
}

/// An init that failed: the error and the init log.
struct InitFailure {
    error: FunctionError,
    lines: Vec<String>,
}

/// Why an instance's init ended without it being ready.
enum InitEnd {
    Exited(Exit),
    TimedOut,
    /// It wrote something other than a ready frame on the lean transport.
    BadFrame(String),
}

enum Checkout {
    Warm(Box<Instance>),
    Cold(OwnedSemaphorePermit),
}

/// How many times an invocation moves on to another instance when a warm one turns out
/// to have died before it could take the event.
const MAX_RETRIES: u32 = 2;

/// How long a bootstrap that closed its lean-transport connection mid-invocation is given
/// to exit, so that its fault is named by its exit (439, or 434 for the OOM killer).
const CLOSED_EXIT_WAIT: Duration = Duration::from_secs(1);

/// How long the answer of a process that exited is still read for (it is in the socket or
/// on its way through the Runtime API's server).
const EXITED_ANSWER_WAIT: Duration = Duration::from_millis(50);

/// What one attempt on an instance gave.
enum Attempt {
    /// The result and the peak memory.
    Done(Result<Value, FunctionError>, u64),
    /// The instance's process ended before it fetched the event.
    DiedBeforeFetch(FunctionError),
}

impl ProcessFunction {
    /// Checks `spec` (see [`ProcessSpec::validate`]) and prepares the pool. No instance
    /// starts until the first invocation.
    pub fn new(spec: ProcessSpec) -> Result<Self, ProcessError> {
        spec.validate()?;
        let cgroup_parent = match &spec.cgroup {
            CgroupPolicy::Auto => crate::cgroup::detect_parent(),
            CgroupPolicy::Disabled => None,
            CgroupPolicy::Under(dir) => Some(dir.clone()),
        };
        let layers = crate::layers::merge(&spec.layers, &spec.scratch_root, &spec.config.name)?;
        let launch = Launch::new(&spec, cgroup_parent, spec.sandbox.clone(), layers);
        Ok(Self {
            shared: Arc::new(Shared {
                launch,
                runtime: spec.runtime.clone(),
                name: spec.config.name.clone(),
                init_timeout: spec.config.init_timeout,
                slots: Arc::new(Semaphore::new(spec.pool.max_instances)),
                pool: spec.pool,
                idle: Mutex::new(Vec::new()),
                returned: Notify::new(),
                reaper_started: AtomicBool::new(false),
                started_total: AtomicU64::new(0),
                context: Mutex::new(None),
            }),
        })
    }

    /// The runtime the function's instances run.
    pub fn runtime(&self) -> &RuntimeKind {
        &self.shared.runtime
    }

    /// A snapshot of the instance pool.
    pub fn stats(&self) -> PoolStats {
        let s = &self.shared;
        PoolStats {
            live: s.pool.max_instances - s.slots.available_permits(),
            idle: s.idle().len(),
            started: s.started_total.load(Ordering::Relaxed),
        }
    }

    /// Stops every idle instance now (busy ones finish their invocation first and stay
    /// pooled); returns how many were stopped.
    pub async fn stop_idle(&self) -> usize {
        let idle = std::mem::take(&mut *self.shared.idle());
        let n = idle.len();
        for instance in idle {
            instance.stop().await;
        }
        n
    }

    /// Runs one invocation, writing the instance's output to `log`; returns the result
    /// and the instance's peak resident memory during it, in bytes.
    ///
    /// [`Handler::call`] does the same with [`LogBuffer::current`] and reports the memory
    /// figure to the invoker.
    pub async fn invoke(
        &self,
        event: Value,
        ctx: &Context,
        log: &LogBuffer,
    ) -> (Result<Value, FunctionError>, u64) {
        self.shared.clone().invoke(event, ctx, log).await
    }
}

#[async_trait::async_trait]
impl Handler for ProcessFunction {
    async fn call(&self, event: Value, context: Context) -> Result<Value, FunctionError> {
        let log =
            LogBuffer::current().unwrap_or_else(|| LogBuffer::new(context.request_id.clone()));
        let (result, mem) = self.shared.clone().invoke(event, &context, &log).await;
        // Outside an invoker there is nobody to report to; that is fine.
        let _ = context.report_mem_usage(mem);
        result
    }

    /// The invocation only awaits the instance; a timeout kills the instance, so no host
    /// thread ever needs isolating from it.
    fn is_cooperative(&self) -> bool {
        true
    }

    /// Warm: the pool's idle instances; busy: the others alive (running or starting).
    fn instances(&self) -> Option<Instances> {
        let s = self.stats();
        Some(Instances::new(s.idle, s.live.saturating_sub(s.idle)))
    }
}

/// An instance checked out for one invocation. Dropped while it still holds the instance
/// (the invocation's future was dropped: a timeout in the host), it kills the instance.
struct Lease {
    shared: Arc<Shared>,
    instance: Option<Instance>,
}

impl Lease {
    fn finish(mut self, healthy: bool) {
        if let Some(instance) = self.instance.take() {
            instance.sink.detach();
            instance.api.clear();
            if healthy {
                self.shared.checkin(instance);
            } else {
                instance.kill();
                discard(instance);
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(instance) = self.instance.take() {
            instance.kill();
            instance.sink.detach();
            discard(instance);
        }
    }
}

/// Stops `instance` in the background (or right here without a runtime).
fn discard(instance: Instance) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(instance.stop());
        }
        Err(_) => drop(instance),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn time_out(detail: impl Into<String>) -> FunctionError {
    FunctionError::platform(FunctionStatus::TimeLimitReached, "time out").with_stack_trace(detail)
}

fn cancelled(reason: CancelReason) -> FunctionError {
    match reason {
        CancelReason::Timeout => {
            time_out("the invocation ran past its time limit; the instance was stopped")
        }
        CancelReason::Terminated => FunctionError::platform(
            FunctionStatus::RequestCanceled,
            "the invocation was terminated; the instance was stopped",
        ),
        _ => FunctionError::platform(
            FunctionStatus::RequestCanceled,
            "the host shut down before the invocation finished; the instance was stopped",
        ),
    }
}

fn internal(message: String) -> FunctionError {
    FunctionError::platform(FunctionStatus::InternalError, message)
}

/// Samples the memory every tick (the output of a quiet pipe is read too, so that it never
/// fills up); ends with the figure over the limit.
async fn watch_memory(probe: &mut MemoryProbe, output: &OutputReader, limit_bytes: u64) -> u64 {
    let start = tokio::time::Instant::now() + SAMPLE_INTERVAL;
    let mut tick = tokio::time::interval_at(start, SAMPLE_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        output.read_some();
        let rss = if limit_bytes == 0 { 0 } else { probe.sample() };
        if rss > limit_bytes {
            return rss;
        }
    }
}

/// Whether the instance took the current invocation: its runtime fetched the event, or
/// its web server was sent the request.
fn fetched(instance: &Instance) -> bool {
    match &instance.web {
        Some(port) => port.was_sent(),
        None => match &instance.conn {
            Some(conn) => conn.fetched,
            None => instance.api.fetched(),
        },
    }
}

/// Bytes as MB with one decimal, for messages.
fn mb(bytes: u64) -> String {
    // Exact below 2^53 bytes, far beyond any memory size.
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / MIB as f64;
    format!("{mb:.1}")
}

impl Shared {
    fn idle(&self) -> MutexGuard<'_, Vec<Instance>> {
        lock(&self.idle)
    }

    /// `ctx` as the JSON of `x-scf-context` (see [`crate::context_json`]).
    fn context_json(&self, ctx: &Context) -> String {
        crate::context_json::render(&mut lock(&self.context), ctx)
    }

    fn checkin(&self, mut instance: Instance) {
        instance.last_used = Instant::now();
        self.idle().push(instance);
        self.returned.notify_one();
    }

    /// The most recently used idle instance that is still alive.
    fn pop_idle(&self) -> Option<Instance> {
        loop {
            let instance = self.idle().pop()?;
            if instance.is_usable() {
                return Some(instance);
            }
            discard(instance);
        }
    }

    async fn checkout(&self) -> Checkout {
        loop {
            let notified = self.returned.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(instance) = self.pop_idle() {
                return Checkout::Warm(Box::new(instance));
            }
            match self.slots.clone().try_acquire_owned() {
                Ok(permit) => return Checkout::Cold(permit),
                Err(TryAcquireError::NoPermits) => {}
                // The semaphore is never closed; wait for a returned instance.
                Err(TryAcquireError::Closed) => {}
            }
            tokio::select! {
                () = &mut notified => {}
                permit = self.slots.clone().acquire_owned() => {
                    if let Ok(permit) = permit {
                        return Checkout::Cold(permit);
                    }
                }
            }
        }
    }

    /// Starts the idle reaper on the current runtime, once.
    fn ensure_reaper(self: &Arc<Self>) {
        if self.reaper_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.reaper_started.store(false, Ordering::Release);
            return;
        };
        let weak = Arc::downgrade(self);
        let period =
            (self.pool.idle_timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(5));
        handle.spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(shared) = weak.upgrade() else { return };
                shared.reap();
            }
        });
    }

    /// Stops instances idle for longer than the idle timeout, and dead ones.
    fn reap(&self) {
        let expired: Vec<Instance> = {
            let mut idle = self.idle();
            let timeout = self.pool.idle_timeout;
            let (keep, expired) = std::mem::take(&mut *idle)
                .into_iter()
                .partition(|i: &Instance| i.is_usable() && i.last_used.elapsed() < timeout);
            *idle = keep;
            expired
        };
        for instance in expired {
            discard(instance);
        }
    }

    /// Starts an instance in a task of its own and waits for it to become ready. If the
    /// invocation gives up meanwhile, the instance still finishes its init and joins the
    /// pool (init is timed by `InitTimeout`, not by the invocation).
    fn start_instance(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
    ) -> oneshot::Receiver<Result<Instance, InitFailure>> {
        let (tx, rx) = oneshot::channel();
        let shared = self.clone();
        tokio::spawn(async move {
            let mut instance = match Instance::spawn(&shared.launch, permit).await {
                Ok(instance) => instance,
                Err(e) => {
                    let _ = tx.send(Err(InitFailure {
                        error: internal(format!(
                            "could not start an instance of {}: {e}",
                            shared.name
                        )),
                        lines: Vec::new(),
                    }));
                    return;
                }
            };
            shared.started_total.fetch_add(1, Ordering::Relaxed);
            let exit = instance.wait_exit();
            let frames = instance.frames.take();
            // Ready on the lean transport (a connection that closes without a ready frame
            // leaves the choice to the standard API, the exit or the init timeout).
            let frames_ready = async move {
                let Some(frames) = frames else {
                    return std::future::pending().await;
                };
                match frames.accept_ready().await {
                    Ok(conn) => Ok(conn),
                    Err(crate::frames::FrameError::Closed) => std::future::pending().await,
                    Err(crate::frames::FrameError::TooLarge) => Err(format!(
                        "a ready frame over {} bytes",
                        crate::runtime_api::MAX_PUSH_BYTES
                    )),
                    Err(crate::frames::FrameError::Invalid(what)) => Err(what),
                }
            };
            let ready = tokio::select! {
                () = crate::web::ready(&instance) => Ok(None),
                conn = frames_ready => match conn {
                    Ok(conn) => Ok(Some(conn)),
                    Err(what) => Err(InitEnd::BadFrame(what)),
                },
                exit = exit => Err(InitEnd::Exited(exit)),
                () = tokio::time::sleep(shared.init_timeout) => Err(InitEnd::TimedOut),
            };
            match ready {
                Ok(conn) => {
                    instance.conn = conn;
                    let mem_usage_bytes = instance.memory.sample();
                    instance.init = Some(InitInfo {
                        duration: instance.started.elapsed(),
                        mem_usage_bytes,
                    });
                    if let Err(Ok(instance)) = tx.send(Ok(instance)) {
                        shared.checkin(instance);
                    }
                }
                Err(end) => {
                    instance.kill();
                    instance.drain_output();
                    let lines = instance.sink.take_pending();
                    let exit = match end {
                        InitEnd::Exited(exit) => Some(exit),
                        InitEnd::TimedOut => None,
                        InitEnd::BadFrame(what) => {
                            let error = FunctionError::platform(
                                FunctionStatus::ContainerInitError,
                                format!(
                                    "the instance's bootstrap wrote {what} on {}; it was stopped",
                                    crate::frames::SOCKET_VAR
                                ),
                            );
                            let _ = tx.send(Err(InitFailure { error, lines }));
                            instance.stop().await;
                            return;
                        }
                    };
                    let error = match exit {
                        _ if instance.web.is_some() => {
                            crate::web::init_error(exit, shared.init_timeout, instance.web.as_deref())
                        }
                        Some(exit) => FunctionError::platform(
                            FunctionStatus::ContainerInitError,
                            format!(
                                "the instance's bootstrap exited ({exit}) before it called POST /runtime/init/ready"
                            ),
                        ),
                        None => {
                            let hint = if instance.api.asked_next_before_ready() {
                                "; it called GET /runtime/invocation/next without calling POST /runtime/init/ready first"
                            } else {
                                ""
                            };
                            FunctionError::platform(
                                FunctionStatus::InitContainerTimeout,
                                format!(
                                    "init timeout: the instance did not call POST /runtime/init/ready within the InitTimeout of {} ms and was stopped{hint}",
                                    shared.init_timeout.as_millis()
                                ),
                            )
                        }
                    };
                    let _ = tx.send(Err(InitFailure { error, lines }));
                    instance.stop().await;
                }
            }
        });
        rx
    }

    async fn invoke(
        self: Arc<Self>,
        event: Value,
        ctx: &Context,
        log: &LogBuffer,
    ) -> (Result<Value, FunctionError>, u64) {
        self.ensure_reaper();
        let event = Event::new(event);
        let mut retries = 0;
        loop {
            let (instance, warm) = match self.acquire(ctx, log).await {
                Ok(acquired) => acquired,
                Err(error) => return (Err(error), 0),
            };
            let lease = Lease {
                shared: self.clone(),
                instance: Some(instance),
            };
            match self.run(lease, &event, ctx, log).await {
                Attempt::Done(result, peak) => return (result, peak),
                // A warm instance that died while idle, just before it was handed the
                // event: the function never ran, so another instance takes it.
                Attempt::DiedBeforeFetch(_) if warm && retries < MAX_RETRIES => retries += 1,
                Attempt::DiedBeforeFetch(error) => return (Err(error), 0),
            }
        }
    }

    /// A ready instance for one invocation, and whether it was warm.
    async fn acquire(
        self: &Arc<Self>,
        ctx: &Context,
        log: &LogBuffer,
    ) -> Result<(Instance, bool), FunctionError> {
        let deadline = tokio::time::Instant::from_std(ctx.deadline());
        let cancellation = ctx.cancellation().clone();
        let checkout = tokio::select! {
            c = self.checkout() => c,
            () = tokio::time::sleep_until(deadline) => {
                return Err(time_out("no instance became free before the time limit"));
            }
            reason = cancellation.cancelled() => return Err(cancelled(reason)),
        };
        let permit = match checkout {
            Checkout::Warm(instance) => return Ok((*instance, true)),
            Checkout::Cold(permit) => permit,
        };
        // A cold start: SCF times init by `InitTimeout` (which start_instance enforces),
        // separately from the invocation's time limit; tell the host so.
        let init_began = std::time::Instant::now();
        let _ = ctx.report_init_started();
        let started = self.start_instance(permit);
        let ready = tokio::select! {
            r = started => r,
            reason = cancellation.cancelled() => {
                let _ = ctx.report_init_duration(init_began.elapsed());
                return Err(cancelled(reason));
            }
        };
        let _ = ctx.report_init_duration(init_began.elapsed());
        match ready {
            Ok(Ok(instance)) => Ok((instance, false)),
            Ok(Err(failure)) => {
                for line in failure.lines {
                    log.push_raw(&line);
                }
                Err(failure.error)
            }
            Err(_) => Err(internal("the instance's start was abandoned".into())),
        }
    }

    async fn run(&self, mut lease: Lease, ev: &Event, ctx: &Context, log: &LogBuffer) -> Attempt {
        let Some(instance) = lease.instance.as_mut() else {
            return Attempt::Done(
                Err(internal(
                    "the instance was lost before the invocation".into(),
                )),
                0,
            );
        };
        let init = instance.init.take();
        let lines_before = if init.is_some() { log.lines().len() } else { 0 };
        let init_lines = instance.sink.attach(log.clone());
        instance.output.quiet();
        instance.memory.reset();
        let oom_before = instance.cgroup.as_ref().map_or(0, |c| c.oom_kills());
        let exit = instance.wait_exit();
        let fast = instance.web.is_none() && instance.conn.is_some();
        let pending = match instance.web.clone() {
            Some(port) => Pending::Answer(crate::web::dispatch(
                port,
                &ev.value,
                ctx.request_id.clone(),
                ctx.stream_hook().cloned(),
            )),
            None => {
                let dispatch = Dispatch {
                    request_id: ctx.request_id.clone(),
                    event: ev.text(),
                    memory_limit_in_mb: ctx.memory_limit_in_mb,
                    time_limit_in_ms: ctx.time_limit_in_ms,
                    context_json: self.context_json(ctx),
                };
                match instance.conn.as_mut() {
                    Some(conn) => Pending::Frames(conn, dispatch),
                    None => {
                        Pending::Answer(crate::web::Answer::Api(instance.api.dispatch(dispatch)))
                    }
                }
            }
        };
        let dispatched = Instant::now();
        // SCF times execution from the event's delivery; a host that started the clock
        // earlier (counting the init) keeps its own, earlier, deadline.
        let deadline = ctx.deadline().max(dispatched + ctx.time_limit());
        let limit = ctx.memory_limit_in_mb.saturating_mul(MIB);
        let cancellation = ctx.cancellation().clone();
        let ended = {
            let mut answer = std::pin::pin!(pushed(pending));
            tokio::select! {
                biased;
                pushed = &mut answer => Ended::of(pushed),
                // What the process wrote before it ended is all there: a result it sent just
                // before exiting (a PHP fatal error's) wins over the exit, whichever was seen first.
                exit = exit => match tokio::time::timeout(EXITED_ANSWER_WAIT, &mut answer).await {
                    Ok(Ok(pushed)) => Ended::Pushed(pushed),
                    _ => Ended::Exited(exit),
                },
                used = watch_memory(&mut instance.memory, &instance.output, limit) => Ended::OverMemory(used),
                () = tokio::time::sleep_until(deadline.into()) => Ended::TimedOut,
                reason = cancellation.cancelled() => Ended::Cancelled(reason),
            }
        };
        let ended = match ended {
            // The bootstrap's end of its connection closed: it is ending (its own exit,
            // or the OOM killer); its exit names the fault.
            Ended::Broken(what) if what.is_empty() => {
                let wait = deadline.min(Instant::now() + CLOSED_EXIT_WAIT);
                match tokio::time::timeout_at(wait.into(), instance.wait_exit()).await {
                    Ok(exit) => Ended::Exited(exit),
                    Err(_) if Instant::now() >= deadline => Ended::TimedOut,
                    Err(_) => Ended::Broken(format!(
                        "nothing: it closed its connection on {} during the invocation",
                        crate::frames::SOCKET_VAR
                    )),
                }
            }
            ended => ended,
        };
        // A result frame that was refused leaves the connection out of step.
        let out_of_step = fast && matches!(ended, Ended::Pushed(Outcome::TooLarge));
        let died_before_fetch = matches!(ended, Ended::Exited(_)) && !fetched(instance);
        let (result, healthy, peak) = self.judge(instance, ended, limit, oom_before);
        let healthy = healthy && !out_of_step;
        if let Some(init) = init {
            let split = lines_before + init_lines;
            let lines = log.take();
            let (head, tail) = lines.split_at(split.min(lines.len()));
            for line in head {
                log.push_raw(line);
            }
            log.push_raw(&init_report_line(
                &ctx.request_id,
                &InitReport {
                    init_duration_ms: init.duration.as_secs_f64() * 1000.0,
                    duration_ms: dispatched.elapsed().as_secs_f64() * 1000.0,
                    memory_mb: ctx.memory_limit_in_mb,
                    mem_usage_bytes: init.mem_usage_bytes,
                },
            ));
            for line in tail {
                log.push_raw(line);
            }
        }
        lease.finish(healthy);
        match result {
            Err(error) if died_before_fetch => Attempt::DiedBeforeFetch(error),
            result => Attempt::Done(result, peak),
        }
    }

    /// Turns how the invocation ended into its result; whether the instance may serve
    /// again; the peak memory.
    fn judge(
        &self,
        instance: &mut Instance,
        ended: Ended,
        limit: u64,
        oom_before: u64,
    ) -> (Result<Value, FunctionError>, bool, u64) {
        let pushed = matches!(ended, Ended::Pushed(_));
        if !pushed {
            instance.kill();
        }
        instance.drain_output();
        instance.sink.detach();
        let peak = instance.memory.peak();
        let over_memory = |used: u64| {
            FunctionError::platform(
                FunctionStatus::MemoryLimitReached,
                format!(
                    "memory limit reached: the instance used {} MB, over its limit of {} MB; it was stopped",
                    mb(used),
                    limit / MIB
                ),
            )
        };
        let result = match ended {
            Ended::Pushed(Outcome::TooLarge) if instance.web.is_some() => {
                Err(crate::web::too_large())
            }
            Ended::Pushed(_) if limit > 0 && peak > limit => {
                instance.kill();
                return (Err(over_memory(peak)), false, peak);
            }
            Ended::Pushed(Outcome::Response(body)) => Ok(response_value(&body)),
            Ended::Pushed(Outcome::Value(value)) => Ok(value),
            Ended::Pushed(Outcome::Error(body)) => Err(error_value(&body)),
            Ended::Pushed(Outcome::TooLarge) => Err(FunctionError::platform(
                FunctionStatus::ResponseTooLarge,
                format!(
                    "{}: the runtime pushed more than {} bytes",
                    FunctionStatus::ResponseTooLarge.message(),
                    crate::runtime_api::MAX_PUSH_BYTES
                ),
            )),
            Ended::Exited(exit) => {
                let oom = instance
                    .cgroup
                    .as_ref()
                    .is_some_and(|c| c.oom_kills() > oom_before);
                if oom {
                    Err(over_memory(peak.max(limit)))
                } else if let Some(port) = instance.web.as_deref() {
                    Err(crate::web::exited(&exit, port))
                } else {
                    Err(FunctionError::platform(
                        FunctionStatus::UserProcessExit,
                        FunctionStatus::UserProcessExit.message(),
                    )
                    .with_stack_trace(format!(
                        "the instance's process exited during the invocation ({exit}); the next invocation gets a new instance"
                    )))
                }
            }
            Ended::OverMemory(used) => Err(over_memory(used.max(peak))),
            Ended::TimedOut => Err(time_out(if fetched(instance) {
                "the invocation ran past its time limit; the instance was stopped"
            } else {
                "the runtime never fetched the event (GET /runtime/invocation/next) before the time limit; the instance was stopped"
            })),
            Ended::Cancelled(reason) => Err(cancelled(reason)),
            Ended::Broken(what) => Err(FunctionError::platform(
                FunctionStatus::UserCodeError,
                format!(
                    "the runtime broke the protocol of {}: it wrote {what} where a result was due; the instance was stopped",
                    crate::frames::SOCKET_VAR
                ),
            )),
            Ended::ClientGone => Err(crate::web::client_gone()),
        };
        (result, pushed, peak)
    }
}
