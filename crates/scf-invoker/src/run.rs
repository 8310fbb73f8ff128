//! One attempt of one invocation: context, log capture, the deadline, the log record.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use scf_context::{CancelReason, Cancellation, Cancelled, Context};
use scf_handler::{FunctionError, FunctionStatus};
use scf_logs::framing::{self, LogFramer, Report};
use scf_logs::record::{RET_CODE_FAILURE, RET_CODE_INTERRUPTED, RET_CODE_SUCCESS};
use scf_logs::{InvocationType, LogRecord};
use scf_store::{FunctionRef, LogStore, StoreError};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{Execution, InvokerConfig};
use crate::functions::FunctionEntry;
use crate::memory::{Probe, Usage};
use crate::pool::{spin_until, Finish, Pool};
use crate::records::Records;
use crate::request::{InvokeResponse, INVOKE_RESULT_FAILURE, INVOKE_RESULT_SUCCESS};
use crate::scope::{Outcome, Scope};
use crate::slots::{DeploymentSlots, SlotGuard, Taken};

/// How an attempt ended, for the async retry logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Success,
    /// The function failed (an error, a panic, a timeout…): retried for async events.
    Failed,
    /// Stopped from outside (terminated, or the invoker shut down).
    Interrupted(CancelReason),
}

#[derive(Debug)]
pub(crate) struct RunOptions<'a> {
    pub(crate) invocation_type: InvocationType,
    pub(crate) retry_num: u32,
    /// Fires when the async event is terminated.
    pub(crate) abort: Option<&'a Cancellation>,
    pub(crate) log_tail: bool,
    /// The attempt's start time when a record of it was already put (the async worker's
    /// RUNNING record): every record of one attempt carries the same `start_time`, which
    /// stores may key the attempt on (PostgreSQL partitions by it). `None`: now.
    pub(crate) start_time: Option<OffsetDateTime>,
    /// Where the handler may stream its HTTP response (sync invocations from a gateway).
    pub(crate) stream: Option<scf_context::StreamHook>,
}

#[derive(Debug)]
pub(crate) struct RunResult {
    pub(crate) response: InvokeResponse,
    pub(crate) ending: Ending,
}

enum Ended {
    Done(Outcome),
    TimedOut,
    Stopped(CancelReason),
}

/// How often a suspended deadline looks again whether the handler's init has ended.
const INIT_POLL: Duration = Duration::from_millis(5);

/// The signals besides the deadline that end a running attempt.
struct Stops {
    shutdown: Cancelled,
    abort: Option<Cancelled>,
}

impl Stops {
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Option<CancelReason> {
        if let Poll::Ready(reason) = Pin::new(&mut self.shutdown).poll(cx) {
            return Some(reason);
        }
        if let Some(abort) = &mut self.abort {
            if let Poll::Ready(reason) = Pin::new(abort).poll(cx) {
                return Some(reason);
            }
        }
        None
    }
}

/// What runs attempts: the configuration, the runtime, the isolation pool, and the
/// counters a graceful shutdown waits on. It knows nothing of async events or of the
/// function table: the invoker and its async worker call it, it calls neither.
pub(crate) struct Runner {
    pub(crate) config: InvokerConfig,
    pub(crate) handle: Handle,
    pub(crate) pool: Pool,
    /// Fired when the grace period ends: running invocations are cancelled.
    pub(crate) stopping: Cancellation,
    /// Shared with the isolation jobs, which read it to decide whether to spin.
    pub(crate) in_flight: Arc<AtomicUsize>,
    /// Async attempts between the start of their run and the write of their outcome, so
    /// that a graceful shutdown also waits for that write.
    pub(crate) settling: AtomicUsize,
    pub(crate) idle: Notify,
    /// The clock of the store's times (leases, retry times, `MsgTTL`).
    pub(crate) clock: Arc<Clock>,
    /// The store's log and the buffer in front of it.
    pub(crate) records: Arc<Records>,
    /// The slots held in the store, when concurrency is counted for the deployment.
    pub(crate) slots: Option<Arc<DeploymentSlots>>,
}

/// Every slot of a function's deployment-wide concurrency is held.
#[derive(Debug)]
pub(crate) struct SlotsFull;

/// Holds one count of a counter that graceful shutdown waits on (running invocations,
/// or async outcomes still being written); the last one out wakes `wait_idle`.
pub(crate) struct Busy<'a> {
    inner: &'a Runner,
    counter: &'a std::sync::atomic::AtomicUsize,
}

impl<'a> Busy<'a> {
    /// An invocation is running.
    fn in_flight(inner: &'a Runner) -> Self {
        Self::enter(inner, &inner.in_flight)
    }

    /// An async attempt runs until its outcome is written, so that a graceful shutdown
    /// returns only after the store has it.
    pub(crate) fn settling(inner: &'a Runner) -> Self {
        Self::enter(inner, &inner.settling)
    }

    fn enter(inner: &'a Runner, counter: &'a std::sync::atomic::AtomicUsize) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Busy { inner, counter }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if self
            .counter
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel)
            == 1
        {
            self.inner.idle.notify_waiters();
        }
    }
}

/// A fresh uuid v4, hyphenated lowercase.
pub(crate) fn new_request_id() -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut buf)
        .to_owned()
}

impl Runner {
    /// Runs one attempt, records it in the store and returns its response.
    pub(crate) async fn execute(
        &self,
        entry: &FunctionEntry,
        request_id: String,
        event: Value,
        opts: RunOptions<'_>,
    ) -> RunResult {
        let _in_flight = Busy::in_flight(self);
        let start_time = opts.start_time.unwrap_or_else(OffsetDateTime::now_utc);
        let started = Instant::now();
        let cancellation = Cancellation::new();
        let scope = Scope::new(&request_id);
        let mut ctx = entry.context.clone();
        ctx.request_id.clone_from(&request_id);
        let ctx = ctx
            .with_start(started)
            .with_cancellation(cancellation.clone())
            .with_thread_hook(scope.thread_hook())
            .with_report_hook(scope.report_hook())
            .with_stream_hook(opts.stream);
        let probe = Probe::begin();
        let deadline = started + entry.config.timeout;
        let stops = Stops {
            shutdown: self.stopping.cancelled(),
            abort: opts.abort.map(Cancellation::cancelled),
        };
        let isolate =
            self.config.execution == Execution::Isolated && !entry.handler.is_cooperative();
        let ended = if isolate {
            self.run_isolated(entry, &scope, event, ctx, deadline, stops, &cancellation)
                .await
        } else {
            let run = scope.run(&*entry.handler, event, ctx);
            self.race(run, deadline, &scope.usage, stops, &cancellation)
                .await
        };
        let ended_at = Instant::now();
        let ended = match ended {
            // A result that arrives after the deadline (a handler that never yielded in
            // Inline mode) is still a timeout: it was running at the deadline.
            Ended::Done(_)
                if ended_at > deadline + scope.usage.init() && !scope.usage.in_init() =>
            {
                cancellation.cancel(CancelReason::Timeout);
                Ended::TimedOut
            }
            ended => ended,
        };
        // Init reported by the handler is timed separately, as SCF does.
        let elapsed = (ended_at - started).saturating_sub(scope.usage.init());
        let (mem_usage_bytes, mem_source) = probe.end(&scope.usage, ended_at);
        drop(probe);

        let (ending, result) = self.judge(ended);
        // Whole microseconds, so `Duration` reads like SCF's (`0.826`), not `0.82600000001`.
        let duration_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        let mut framer = LogFramer::new(request_id.as_str());
        for line in scope.buffer.take() {
            framer.user_line(&line);
        }
        let (status, ret_msg, return_value, err_msg, error) = match result {
            Ok((text, value)) => {
                framer.response(&text);
                (
                    FunctionStatus::Success,
                    text,
                    Some(value),
                    String::new(),
                    None,
                )
            }
            Err(error) => {
                let json = serde_json::to_string(&error.to_scf_json(&request_id))
                    .unwrap_or_else(|_| error.to_string());
                framer.error(&json);
                (error.status(), json.clone(), None, json, Some(error))
            }
        };
        let log = framer.finish(&Report {
            duration_ms,
            memory_mb: u64::from(entry.config.memory_mb),
            mem_usage_bytes,
        });
        let bill_duration_ms = self.config.bill_policy.bill(duration_ms);
        let response = InvokeResponse {
            request_id: request_id.clone(),
            status,
            ret_msg: ret_msg.clone(),
            return_value,
            err_msg,
            error,
            log: if opts.log_tail {
                framing::tail(&log, framing::TAIL_BYTES).to_string()
            } else {
                String::new()
            },
            mem_usage_bytes,
            mem_source,
            duration_ms,
            bill_duration_ms,
            invoke_result: if status.is_success() {
                INVOKE_RESULT_SUCCESS
            } else {
                INVOKE_RESULT_FAILURE
            },
            invocation_type: opts.invocation_type,
        };
        let record = LogRecord {
            function_name: entry.config.name.clone(),
            namespace: entry.config.namespace.clone(),
            qualifier: entry.config.version.clone(),
            request_id,
            start_time,
            ret_code: match ending {
                Ending::Success => RET_CODE_SUCCESS,
                Ending::Failed => RET_CODE_FAILURE,
                Ending::Interrupted(_) => RET_CODE_INTERRUPTED,
            },
            status_code: status.code(),
            invoke_finished: !matches!(ending, Ending::Interrupted(_)),
            ret_msg,
            duration_ms,
            bill_duration_ms,
            mem_usage_bytes,
            log,
            level: String::new(),
            source: String::new(),
            retry_num: opts.retry_num,
            invocation_type: opts.invocation_type,
            node: self.config.node_id.clone(),
        };
        self.put_record(record);
        RunResult { response, ending }
    }

    /// Writes a record to the store, or to the buffer in front of it while the store
    /// refuses records.
    pub(crate) fn put_record(&self, record: LogRecord) {
        self.records.put(record);
    }

    /// Turns how the run ended into the outcome SCF reports: the return value with its
    /// `RetMsg` text, or the error.
    fn judge(&self, ended: Ended) -> (Ending, Result<(String, Value), FunctionError>) {
        match ended {
            Ended::Done(Ok(value)) => match serde_json::to_string(&value) {
                Ok(text) if text.len() <= self.config.max_response_bytes => {
                    (Ending::Success, Ok((text, value)))
                }
                Ok(text) => (
                    Ending::Failed,
                    Err(FunctionError::platform(
                        FunctionStatus::ResponseTooLarge,
                        format!(
                            "{}: the return value is {} bytes, the limit is {} bytes",
                            FunctionStatus::ResponseTooLarge.message(),
                            text.len(),
                            self.config.max_response_bytes
                        ),
                    )),
                ),
                Err(e) => (
                    Ending::Failed,
                    Err(FunctionError::new(
                        "InvalidReturnValue",
                        format!("the return value is not JSON: {e}"),
                    )),
                ),
            },
            Ended::Done(Err(error)) => (Ending::Failed, Err(error)),
            Ended::TimedOut => (
                Ending::Failed,
                Err(FunctionError::platform(
                    FunctionStatus::TimeLimitReached,
                    "time out",
                )),
            ),
            Ended::Stopped(reason) => {
                let message = match reason {
                    CancelReason::Terminated => "the async event was terminated",
                    _ => "the invoker shut down before the invocation finished",
                };
                (
                    Ending::Interrupted(reason),
                    Err(FunctionError::platform(
                        FunctionStatus::RequestCanceled,
                        message,
                    )),
                )
            }
        }
    }

    /// Awaits `fut` until the deadline or a stop signal, whichever comes first; on a
    /// deadline or stop, fires the invocation's cancellation before dropping `fut`.
    async fn race<F: Future<Output = Outcome>>(
        &self,
        fut: F,
        deadline: Instant,
        usage: &Usage,
        mut stops: Stops,
        cancellation: &Cancellation,
    ) -> Ended {
        let mut fut = pin!(fut);
        let mut sleep: Option<Pin<Box<tokio::time::Sleep>>> = None;
        let ended = poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ended::Done(out));
            }
            let sleep = sleep.get_or_insert_with(|| {
                // Registered with the invoker's runtime, so a caller polling from another
                // executor still gets its deadline.
                let _enter = self.handle.enter();
                Box::pin(tokio::time::sleep_until(deadline.into()))
            });
            while sleep.as_mut().poll(cx).is_ready() {
                // Init is timed separately, as on SCF: while the handler waits for a cold
                // instance the limit is suspended (the handler bounds init itself), and the
                // init time it reports is added to the deadline.
                let now = Instant::now();
                let next = if usage.in_init() {
                    now + INIT_POLL
                } else {
                    deadline + usage.init()
                };
                if next <= now {
                    return Poll::Ready(Ended::TimedOut);
                }
                sleep.as_mut().reset(next.into());
            }
            if let Some(reason) = stops.poll(cx) {
                return Poll::Ready(Ended::Stopped(reason));
            }
            Poll::Pending
        })
        .await;
        match ended {
            Ended::TimedOut => cancellation.cancel(CancelReason::Timeout),
            Ended::Stopped(reason) => cancellation.cancel(reason),
            Ended::Done(_) => {}
        }
        ended
    }

    /// Runs the handler on a pool thread; the caller's task only waits, so the deadline
    /// holds whatever the handler does with its thread.
    #[allow(clippy::too_many_arguments)]
    async fn run_isolated(
        &self,
        entry: &FunctionEntry,
        scope: &Scope,
        event: Value,
        ctx: Context,
        deadline: Instant,
        stops: Stops,
        cancellation: &Cancellation,
    ) -> Ended {
        let (tx, rx) = tokio::sync::oneshot::channel::<Outcome>();
        let handler = entry.handler.clone();
        let usage = scope.usage.clone();
        let scope = scope.clone();
        let handle = self.handle.clone();
        let cancel = cancellation.clone();
        let in_flight = self.in_flight.clone();
        let job = Box::new(move |finish: &mut Finish<'_>| {
            if cancel.is_cancelled() {
                // Abandoned (timed out, terminated) while waiting for a thread.
                return;
            }
            let out = handle.block_on(async {
                let mut run = pin!(scope.run(&*handler, event, ctx));
                let mut cancelled = cancel.cancelled();
                // Once the invocation is abandoned, stop polling the handler and free the
                // thread, unless the handler blocks it: then it is freed when it returns.
                poll_fn(|cx| {
                    if let Poll::Ready(out) = run.as_mut().poll(cx) {
                        return Poll::Ready(Some(out));
                    }
                    if Pin::new(&mut cancelled).poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    Poll::Pending
                })
                .await
            });
            // Back among the idle threads before the caller wakes, so that the caller's
            // next invocation finds this thread still spinning rather than a parked one;
            // it spins only when this is the one invocation running (under load the spin
            // would take a CPU from the threads doing the work).
            finish.now(in_flight.load(std::sync::atomic::Ordering::Relaxed) <= 1);
            if let Some(out) = out {
                let _ = tx.send(out);
            }
        });
        if let Err(e) = self.pool.submit(job) {
            return Ended::Done(Err(FunctionError::platform(
                FunctionStatus::InternalError,
                format!("no thread could be started to run the handler: {e}"),
            )));
        }
        // A short handler on an idle (spinning) pool thread answers within microseconds:
        // watch for it briefly before yielding, which saves the runtime a park and a wakeup.
        // Bounded, so it never holds this thread for long (and never past the deadline),
        // and only when this is the one invocation running: with others in flight, this
        // thread has their work to do instead.
        let mut rx = rx;
        if self.in_flight.load(std::sync::atomic::Ordering::Relaxed) <= 1 {
            use tokio::sync::oneshot::error::TryRecvError;
            let watched = spin_until((Instant::now() + CALLER_SPIN).min(deadline), || {
                match rx.try_recv() {
                    Ok(out) => Some(Some(out)),
                    Err(TryRecvError::Closed) => Some(None),
                    Err(TryRecvError::Empty) => None,
                }
            });
            if let Some(Some(out)) = watched {
                return Ended::Done(out);
            }
        }
        let result = async {
            rx.await.unwrap_or_else(|_| {
                Err(FunctionError::platform(
                    FunctionStatus::InternalError,
                    "the handler's thread ended without a result",
                ))
            })
        };
        self.race(result, deadline, &usage, stops, cancellation)
            .await
    }

    /// Takes a slot of `entry`'s function in the store when concurrency is counted for
    /// the deployment (`None` when it is counted per node, or the store cannot be asked).
    pub(crate) async fn take_slot(
        &self,
        entry: &FunctionEntry,
    ) -> Result<Option<SlotGuard>, SlotsFull> {
        let Some(slots) = &self.slots else {
            return Ok(None);
        };
        let function =
            FunctionRef::new(entry.config.namespace.as_str(), entry.config.name.as_str());
        match slots.acquire(function, entry.limit).await {
            Taken::Slot(guard) => Ok(Some(guard)),
            Taken::Full => Err(SlotsFull),
            Taken::Unavailable => Ok(None),
        }
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

    fn is_idle(&self) -> bool {
        use std::sync::atomic::Ordering::Acquire;
        self.in_flight.load(Acquire) == 0 && self.settling.load(Acquire) == 0
    }

    /// Waits until no invocation runs and no async outcome is being written, or
    /// `deadline`; whether that is so.
    pub(crate) async fn wait_idle(&self, deadline: Instant) -> bool {
        loop {
            let notified = self.idle.notified();
            let mut notified = pin!(notified);
            notified.as_mut().enable();
            if self.is_idle() {
                return true;
            }
            let sleep = {
                let _enter = self.handle.enter();
                tokio::time::sleep_until(deadline.into())
            };
            tokio::select! {
                () = notified => {}
                () = sleep => {
                    return self.is_idle();
                }
            }
        }
    }
}

/// How long a caller in `Execution::Isolated` watches for the result before it yields.
const CALLER_SPIN: Duration = Duration::from_micros(20);

/// How long `Invoker::shutdown` waits for invocations it cancelled at the end of the grace
/// period to hand back their results.
pub(crate) const CANCEL_SETTLE: Duration = Duration::from_secs(1);
