//! The invoker's configuration, as a value with defaults.

use std::sync::Arc;
use std::time::Duration;

use scf_store::{AsyncQueue, ConcurrencySlots, LogStore, MemoryStore};

/// Largest sync event SCF accepts: 6 MB.
pub const MAX_SYNC_EVENT_BYTES: usize = 6 * 1024 * 1024;
/// Largest async event SCF accepts: 128 KB.
pub const MAX_ASYNC_EVENT_BYTES: usize = 128 * 1024;
/// Largest sync response SCF returns: 6 MB (`RetMsg` over it ends the invocation with 407).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// How `BillDuration` is worked out from the run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BillPolicy {
    /// The run time rounded up to a whole millisecond, at least 1 ms (current SCF billing).
    #[default]
    PerMillisecond,
    /// The run time rounded up to the next 100 ms, at least 100 ms (SCF's legacy billing,
    /// still described in the API's field docs).
    Per100Ms,
}

impl BillPolicy {
    /// The billed milliseconds for a run of `duration_ms`.
    ///
    /// ```
    /// use scf_invoker::BillPolicy;
    /// assert_eq!(BillPolicy::PerMillisecond.bill(0.826), 1);
    /// assert_eq!(BillPolicy::PerMillisecond.bill(101.0), 101);
    /// assert_eq!(BillPolicy::Per100Ms.bill(0.826), 100);
    /// assert_eq!(BillPolicy::Per100Ms.bill(100.0), 100);
    /// assert_eq!(BillPolicy::Per100Ms.bill(100.2), 200);
    /// ```
    pub fn bill(self, duration_ms: f64) -> u64 {
        let ms = if duration_ms.is_finite() && duration_ms > 0.0 {
            // A run time in ms fits u64 for 584 million years; the cast saturates anyway.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let ceil = duration_ms.ceil() as u64;
            ceil
        } else {
            0
        };
        match self {
            BillPolicy::PerMillisecond => ms.max(1),
            BillPolicy::Per100Ms => ms.div_ceil(100).max(1).saturating_mul(100),
        }
    }
}

/// Where a handler's future is polled.
///
/// The default is [`Execution::Inline`], as in any tokio application: an `async`
/// handler runs on the caller's task and must not block (as everywhere in tokio), and a
/// handler made with [`blocking_fn`](scf_handler::blocking_fn) runs its function on a
/// thread of its own, so its 433 still comes at the deadline whatever the function does.
/// [`Execution::Isolated`] is the explicit choice for async code that is not trusted to
/// yield.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Execution {
    /// On a thread of the invoker's own elastic pool, while the caller waits on its own
    /// task with the deadline. An async handler that blocks its thread or spins on the
    /// CPU still ends with 433 at its deadline and never stalls the async runtime or
    /// other invocations, for two cross-thread hand-overs per invocation (about 2 µs for
    /// a lone caller, and 35-40 µs of CPU under load on a 2-vCPU VM). Choose it for
    /// async handlers not trusted to yield. Handlers that declare themselves cooperative
    /// ([`Handler::is_cooperative`](scf_handler::Handler::is_cooperative), such as
    /// out-of-process functions) run as with `Inline`: they cannot block a thread, so
    /// they need no thread of their own.
    Isolated,
    /// On the caller's task: the default. The deadline, termination and shutdown take
    /// effect when the handler yields at an `.await` (a result that comes after the
    /// deadline is still a 433); an async handler that blocks stalls a runtime worker
    /// thread meanwhile. A [`blocking_fn`](scf_handler::blocking_fn) handler awaits its
    /// own thread, so its deadline holds.
    #[default]
    Inline,
}

/// Where a function's concurrency limit (`max_concurrency`, else
/// [`InvokerConfig::default_concurrency`]) is counted.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum ConcurrencyScope {
    /// In this process: the limit holds per node (an atomic counter, no store call). The
    /// default, and what one node wants.
    #[default]
    Node,
    /// In the store, for every node that shares it: each invocation takes one of the
    /// function's slots in `slots` before it runs and gives it back after, under a lease
    /// of [`InvokerConfig::lease`] renewed every [`InvokerConfig::lease_renewal`] (so a dead
    /// node's slots come back within one lease). Costs two store writes per invocation.
    /// While the store cannot be reached, invocations are counted per node only (and a
    /// warning is logged), so that sync invocations still run.
    Deployment(Arc<dyn ConcurrencySlots>),
}

/// The elastic thread pool behind [`Execution::Isolated`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadPoolConfig {
    /// Most threads the pool keeps, busy or idle. Past it, invocations wait for a thread
    /// (and end with 433 if none frees up before their deadline). Default 512.
    pub max_threads: usize,
    /// How long an idle thread waits for work before it exits. Default 10 s.
    pub idle_timeout: Duration,
    /// Stack size of a pool thread in bytes; `None` keeps Rust's default (2 MiB).
    pub stack_size: Option<usize>,
}

impl Default for ThreadPoolConfig {
    fn default() -> Self {
        Self {
            max_threads: 512,
            idle_timeout: Duration::from_secs(10),
            stack_size: None,
        }
    }
}

/// Everything an [`Invoker`](crate::Invoker) is configured with.
///
/// Start from [`InvokerConfig::default`] and set the fields you need:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use scf_invoker::{BillPolicy, InvokerConfig};
/// use scf_store::MemoryStore;
///
/// // one store for the log records and the async queue
/// let mut config = InvokerConfig::default().with_store(Arc::new(MemoryStore::new(1_000)));
/// config.bill_policy = BillPolicy::Per100Ms;
/// config.shutdown_grace = Duration::from_secs(5);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvokerConfig {
    /// Where every attempt's log record goes. Default: a [`MemoryStore`] (nothing
    /// survives a restart; use a `scf_store_sqlite::SqliteStore` for anything that
    /// serves), the same one as [`queue`](Self::queue).
    pub store: Arc<dyn LogStore>,
    /// Where accepted async events wait, run (under leases) and end; processes that share
    /// one queue share its events. Default: the same [`MemoryStore`] as `store`.
    pub queue: Arc<dyn AsyncQueue>,
    /// This node's name, unique among the live processes that share the store (the nodes
    /// of one deployment): it names the async worker's leases, and is recorded with every
    /// log record the node writes ([`LogRecord::node`](scf_logs::LogRecord::node)) and
    /// every async event it accepts ([`AsyncEvent::node`](scf_store::AsyncEvent::node)).
    /// Default: the host name, the process id and a random suffix (so two invokers of one
    /// process are told apart too); `scf serve` takes `--node-id`.
    pub node_id: String,
    /// How long a claimed async event stays held without a renewal; after a worker dies,
    /// its events run again (on any worker) once their leases run out. Default 10 s.
    pub lease: Duration,
    /// How often a running async attempt renews its lease, and so the longest a
    /// `TerminateAsyncEvent` received by another process takes to stop it. Default 1 s;
    /// must be shorter than `lease`.
    pub lease_renewal: Duration,
    /// The longest the async worker waits before it looks for due events again when
    /// nothing wakes it (events accepted by another process, leases that ran out).
    /// Default 500 ms.
    pub async_poll: Duration,
    /// How `BillDuration` is worked out. Default [`BillPolicy::PerMillisecond`].
    pub bill_policy: BillPolicy,
    /// Most accepted async events not yet ended in the queue; past it an async invoke is refused
    /// with [`InvokeError::QueueFull`](crate::InvokeError::QueueFull). Default 10,000.
    pub async_queue_capacity: usize,
    /// Most async events running at once (across functions). Default 64.
    pub async_workers: usize,
    /// Concurrency limit of a function whose config leaves `max_concurrency` unset.
    /// Default 100 (SCF's `ConcurrentExecutions`).
    pub default_concurrency: u32,
    /// Where concurrency limits are counted: per node (the default) or for the whole
    /// deployment sharing a store.
    pub concurrency: ConcurrencyScope,
    /// Most log records kept in memory while the store refuses them (it is unreachable):
    /// invocations still run, and their records are written, in order, once the store
    /// takes them again; past this many the oldest waiting record is dropped and counted
    /// ([`Invoker::record_stats`](crate::Invoker::record_stats)). The first record refused
    /// after a healthy spell is lost (and counted): records are only copied before they
    /// are offered once the store has failed. Default 10,000.
    pub record_buffer: usize,
    /// Where handlers run. Default [`Execution::Inline`].
    pub execution: Execution,
    /// The pool behind [`Execution::Isolated`].
    pub thread_pool: ThreadPoolConfig,
    /// How long [`Invoker::shutdown_default`](crate::Invoker::shutdown_default) lets running
    /// invocations finish. Default 30 s.
    pub shutdown_grace: Duration,
    /// Largest sync event in bytes. Default 6 MB.
    pub max_sync_event_bytes: usize,
    /// Largest async event in bytes. Default 128 KB.
    pub max_async_event_bytes: usize,
    /// Largest `RetMsg` in bytes; a bigger return value ends the invocation with 407.
    /// Default 6 MB.
    pub max_response_bytes: usize,
}

/// This process's host name and id, `myhost-12345` (`localhost` when the host name
/// cannot be read): a node id unique among the processes of one deployment.
pub fn host_and_pid() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}-{}", std::process::id())
}

/// The default [`InvokerConfig::node_id`]: host name, process id, random suffix.
fn default_node_id() -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", host_and_pid(), &nonce[..8])
}

impl Default for InvokerConfig {
    fn default() -> Self {
        let store = Arc::new(MemoryStore::default());
        Self {
            store: store.clone(),
            queue: store,
            node_id: default_node_id(),
            lease: Duration::from_secs(10),
            lease_renewal: Duration::from_secs(1),
            async_poll: Duration::from_millis(500),
            bill_policy: BillPolicy::default(),
            async_queue_capacity: 10_000,
            async_workers: 64,
            default_concurrency: 100,
            concurrency: ConcurrencyScope::Node,
            record_buffer: 10_000,
            execution: Execution::default(),
            thread_pool: ThreadPoolConfig::default(),
            shutdown_grace: Duration::from_secs(30),
            max_sync_event_bytes: MAX_SYNC_EVENT_BYTES,
            max_async_event_bytes: MAX_ASYNC_EVENT_BYTES,
            max_response_bytes: MAX_RESPONSE_BYTES,
        }
    }
}

/// A configuration value the invoker cannot work with, or no runtime to work on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvokerConfigError {
    /// A field breaks a rule.
    #[error("InvokerConfig.{field} is invalid: {rule}")]
    Field {
        /// The field.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// [`Invoker::new`](crate::Invoker::new) was called outside a tokio runtime.
    #[error(
        "Invoker::new must be called inside a tokio runtime; outside one, use Invoker::with_handle"
    )]
    NoRuntime,
    /// The runtime has no timers, which deadlines and retry intervals need.
    #[error("the tokio runtime has timers disabled: build it with enable_time() or enable_all()")]
    TimersDisabled,
}

impl InvokerConfig {
    /// Uses `store` for log records and for the async queue.
    pub fn with_store<S: LogStore + AsyncQueue + 'static>(mut self, store: Arc<S>) -> Self {
        self.store = store.clone();
        self.queue = store;
        self
    }

    /// Uses `execution` for handlers.
    pub fn with_execution(mut self, execution: Execution) -> Self {
        self.execution = execution;
        self
    }

    /// Checks the fields; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), InvokerConfigError> {
        let field = |field, rule| Err(InvokerConfigError::Field { field, rule });
        if self.async_queue_capacity == 0 {
            return field("async_queue_capacity", "must be at least 1");
        }
        if self.async_workers == 0 {
            return field("async_workers", "must be at least 1");
        }
        if self.node_id.is_empty() {
            return field("node_id", "must not be empty");
        }
        if self.lease_renewal.is_zero() || self.lease_renewal >= self.lease {
            return field(
                "lease_renewal",
                "must be more than zero and less than lease",
            );
        }
        if self.async_poll.is_zero() {
            return field("async_poll", "must be more than zero");
        }
        if self.default_concurrency == 0 {
            return field("default_concurrency", "must be at least 1");
        }
        if self.thread_pool.max_threads == 0 {
            return field("thread_pool.max_threads", "must be at least 1");
        }
        if self.max_sync_event_bytes == 0 {
            return field("max_sync_event_bytes", "must be at least 1");
        }
        if self.max_async_event_bytes == 0 {
            return field("max_async_event_bytes", "must be at least 1");
        }
        Ok(())
    }
}
