//! The `context` argument of a function.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cancel::{CancelReason, Cancellation};
use crate::config::FunctionConfig;
use crate::report::{HostReport, ReportHook};
use crate::stream::{ResponseStream, StreamHook};

/// What a function knows about its invocation: the platform's `context` object.
///
/// It serializes with exactly the field names and types SCF gives a Python function
/// (`memory_limit_in_mb`, `time_limit_in_ms`, `request_id`, `environment` as a JSON
/// *string*, `environ` as `K=V;K=V`, …). It also carries the invocation's deadline and
/// its [`Cancellation`] signal; those are not serialized, and a deserialized context
/// counts its deadline from the moment it was parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// Memory limit in MB.
    pub memory_limit_in_mb: u64,
    /// Execution time limit in ms.
    pub time_limit_in_ms: u64,
    /// This invocation's request id.
    pub request_id: String,
    /// Namespace information as a JSON string, e.g. `{"SCF_NAMESPACE":"default"}`.
    pub environment: String,
    /// Environment as `K=V;K=V`.
    pub environ: String,
    /// Function version, `$LATEST` by default.
    pub function_version: String,
    /// Function name.
    pub function_name: String,
    /// Namespace, `default` by default.
    pub namespace: String,
    /// Region.
    pub tencentcloud_region: String,
    /// Account APPID.
    pub tencentcloud_appid: String,
    /// Account UIN.
    pub tencentcloud_uin: String,
    #[serde(skip, default = "Instant::now")]
    started: Instant,
    #[serde(skip)]
    cancellation: Cancellation,
    #[serde(skip)]
    thread_hook: Option<ThreadHook>,
    #[serde(skip)]
    report_hook: Option<ReportHook>,
    #[serde(skip)]
    stream_hook: Option<StreamHook>,
}

/// A closure that runs on another thread.
pub type ThreadTask = Box<dyn FnOnce() + Send + 'static>;

/// What a host wants done around work a handler moves to another thread; see
/// [`Context::wrap_thread_task`].
#[derive(Clone)]
pub struct ThreadHook(Arc<dyn Fn(ThreadTask) -> ThreadTask + Send + Sync>);

impl ThreadHook {
    /// A hook from a function that wraps a task.
    pub fn new(f: impl Fn(ThreadTask) -> ThreadTask + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl fmt::Debug for ThreadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadHook")
    }
}

impl Default for Context {
    /// A context for tests: the default [`FunctionConfig`] and an all-zero request id.
    fn default() -> Self {
        Self::new(
            &FunctionConfig::default(),
            "00000000-0000-0000-0000-000000000000",
        )
    }
}

impl Context {
    /// The context of a new invocation of `config` with `request_id`; its deadline starts now.
    pub fn new(config: &FunctionConfig, request_id: impl Into<String>) -> Self {
        let namespace_json = serde_json::json!({ "SCF_NAMESPACE": config.namespace }).to_string();
        let environ = std::iter::once(format!("SCF_NAMESPACE={}", config.namespace))
            .chain(config.environment.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(";");
        Self {
            memory_limit_in_mb: u64::from(config.memory_mb),
            time_limit_in_ms: u64::try_from(config.timeout.as_millis()).unwrap_or(u64::MAX),
            request_id: request_id.into(),
            environment: namespace_json,
            environ,
            function_version: config.version.clone(),
            function_name: config.name.clone(),
            namespace: config.namespace.clone(),
            tencentcloud_region: config.region.clone(),
            tencentcloud_appid: config.appid.clone(),
            tencentcloud_uin: config.uin.clone(),
            started: Instant::now(),
            cancellation: Cancellation::new(),
            thread_hook: None,
            report_hook: None,
            stream_hook: None,
        }
    }

    /// Sets where the handler may stream its HTTP response ([`response_stream`](Self::response_stream));
    /// the host in front of a web function sets one.
    pub fn with_stream_hook(mut self, hook: Option<StreamHook>) -> Self {
        self.stream_hook = hook;
        self
    }

    /// Where this invocation's HTTP response may be streamed to its client as it is
    /// produced, when the host takes it so (see [`ResponseStream`]); `None`: return it.
    pub fn response_stream(&self) -> Option<&dyn ResponseStream> {
        self.stream_hook.as_ref().map(StreamHook::stream)
    }

    /// The hook behind [`response_stream`](Self::response_stream), to keep beyond a borrow.
    pub fn stream_hook(&self) -> Option<&StreamHook> {
        self.stream_hook.as_ref()
    }

    /// Sets the hook that [`Context::wrap_thread_task`] applies (the invoker uses it to
    /// route a thread's log lines to this invocation's log).
    pub fn with_thread_hook(mut self, hook: ThreadHook) -> Self {
        self.thread_hook = Some(hook);
        self
    }

    /// Sets where [`report_mem_usage`](Self::report_mem_usage),
    /// [`report_init_started`](Self::report_init_started) and
    /// [`report_init_duration`](Self::report_init_duration) go (the invoker sets one per
    /// invocation).
    pub fn with_report_hook(mut self, hook: ReportHook) -> Self {
        self.report_hook = Some(hook);
        self
    }

    /// Reports the memory this invocation used, in bytes: its `MemUsage` is then the
    /// largest figure reported instead of the host's own measure. A handler that runs the
    /// function in another process (a Custom Runtime, a Python or Node.js runtime) reports
    /// that process's peak here, as SCF does. `false`, doing nothing, when no host listens.
    ///
    /// ```
    /// # use scf_context::Context;
    /// fn after_the_child_exited(ctx: &Context, peak_rss: u64) {
    ///     // Outside a host (a unit test) nobody listens; that is fine.
    ///     let _ = ctx.report_mem_usage(peak_rss);
    /// }
    /// # after_the_child_exited(&Context::default(), 29 * 1024 * 1024);
    /// ```
    pub fn report_mem_usage(&self, bytes: u64) -> bool {
        self.with_report(|r| r.mem_usage(bytes))
    }

    /// Reports that this invocation starts waiting for a cold instance to initialise (an
    /// out-of-process runtime's `InitTimeout` phase, which the handler bounds itself):
    /// until [`report_init_duration`](Self::report_init_duration), its time limit does not
    /// run out. `false`, doing nothing, when no host listens.
    pub fn report_init_started(&self) -> bool {
        self.with_report(|r| r.init_started())
    }

    /// Reports that this invocation waited `init` for a cold instance to initialise, so
    /// that, as on SCF, init is timed separately: the deadline moves later by `init`, and
    /// `Duration` and `BillDuration` leave it out. It also ends the wait begun by
    /// [`report_init_started`](Self::report_init_started). `false`, doing nothing, when no
    /// host listens.
    pub fn report_init_duration(&self, init: Duration) -> bool {
        self.with_report(|r| r.init_duration(init))
    }

    fn with_report(&self, f: impl FnOnce(&dyn HostReport)) -> bool {
        match &self.report_hook {
            Some(hook) => {
                f(hook.report());
                true
            }
            None => false,
        }
    }

    /// Wraps work that a handler runs on another thread so that the host still sees it
    /// as part of this invocation (its log lines land in this invocation's log).
    pub fn wrap_thread_task(&self, task: ThreadTask) -> ThreadTask {
        match &self.thread_hook {
            Some(hook) => (hook.0)(task),
            None => task,
        }
    }

    /// Restarts the deadline count from `started` (a host that built the context ahead of
    /// the run uses this when the run really begins).
    pub fn with_start(mut self, started: Instant) -> Self {
        self.started = started;
        self
    }

    /// Replaces the cancellation signal with one the host already holds.
    pub fn with_cancellation(mut self, cancellation: Cancellation) -> Self {
        self.cancellation = cancellation;
        self
    }

    /// The execution time limit.
    pub fn time_limit(&self) -> Duration {
        Duration::from_millis(self.time_limit_in_ms)
    }

    /// When the invocation's time runs out.
    pub fn deadline(&self) -> Instant {
        self.started + self.time_limit()
    }

    /// Time left before the deadline (zero once it has passed).
    pub fn remaining_time(&self) -> Duration {
        self.deadline().saturating_duration_since(Instant::now())
    }

    /// Time left before the deadline in whole milliseconds, as other SCF runtimes name it.
    pub fn get_remaining_time_in_millis(&self) -> u64 {
        u64::try_from(self.remaining_time().as_millis()).unwrap_or(u64::MAX)
    }

    /// The invocation's cancellation signal: it fires at the deadline or when the
    /// invocation is terminated.
    pub fn cancellation(&self) -> &Cancellation {
        &self.cancellation
    }

    /// Whether the invocation has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    /// Why the invocation was cancelled, if it was.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.cancellation.reason()
    }

    /// The function's variables parsed back from `environ` (`SCF_NAMESPACE` included).
    pub fn environ_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.environ
            .split(';')
            .filter_map(|pair| pair.split_once('='))
    }
}
