//! The invoker of scf-rs: runs Tencent Cloud SCF functions the way the platform does.
//!
//! An [`Invoker`] holds functions, each a [`FunctionConfig`](scf_context::FunctionConfig)
//! plus a [`Handler`](scf_handler::Handler), keyed by namespace, name and qualifier
//! (`$LATEST` by default). It runs them:
//!
//! - **sync** (`RequestResponse`): [`Invoker::invoke`] resolves with `Invoke`'s result
//!   ([`InvokeResponse`]: `RetMsg`, `ErrMsg`, `Log`, `MemUsage`, `Duration`,
//!   `BillDuration`, `FunctionRequestId`, `InvokeResult`, and the function status);
//! - **async** (`Event`): the call returns the request id once the event is stored
//!   durably in the [`LogStore`](scf_store::LogStore) and queued; workers run it, retry it
//!   after a function error per the function's [`RetryConfig`](scf_context::RetryConfig)
//!   (each attempt logged with its `RetryNum`; none starts past its `MsgTTL`), and track
//!   its status (`RUNNING`, `FINISHED`, `FAILED`, `ABORTED`). [`Invoker::terminate`] aborts one;
//!   [`Invoker::recover`] re-runs the events a crash left unfinished. The queue is
//!   bounded: a full queue refuses the call ([`InvokeError::QueueFull`]).
//!
//! Every attempt's log follows SCF's framing (`START`, the function's own lines, `Response`
//! or `ERROR`, `END`, `Report`) and is recorded in the store. What a handler logs through
//! `tracing` or `log` lands in its own invocation's log, even with many invocations on a
//! multi-threaded runtime (scf-logs' capture, set for each poll of the handler's future,
//! and on the handler's extra threads through
//! [`Context::wrap_thread_task`](scf_context::Context::wrap_thread_task)).
//!
//! Refusals before a function runs are [`InvokeError`]s (unknown function 435 or
//! qualifier 442, event over 6 MB sync / 128 KB async 406, event not JSON 400,
//! concurrency limit 432 with SCF's message, full queue, shutting down): nothing is
//! recorded or billed, as on SCF. A function that runs and fails (430 error, 433 timeout,
//! a panic, 407 response too large…) is an `Ok` [`InvokeResponse`] with that status.
//!
//! # Who depends on it
//!
//! `scf-http` serves the API 3.0 actions (`Invoke`, `GetFunctionLogs`,
//! `ListAsyncEvents`…) on top of it; embedders use it directly. It depends on the core
//! crates (`scf-context`, `scf-handler`), on `scf-logs` and on the storage interface
//! (`scf-store`), not on any database: the store is configured (`InvokerConfig::store`).
//!
//! Why each dependency is here:
//! - `scf-context`, `scf-handler`: what a function is and how it is called.
//! - `scf-logs`: log capture, framing and records.
//! - `scf-store`: the `LogStore` trait it writes records and async events to, and
//!   `MemoryStore`, the default.
//! - `tokio`: timers for deadlines and retry intervals, the async queue, and
//!   `Handle::block_on` on the isolation threads so that handlers can use tokio.
//! - `serde_json`: events and return values. `uuid`: request ids (v4; its `fast-rng`
//!   feature draws them from a thread-local CSPRNG, not a system call per id). `time`: the
//!   records' wall-clock start times. `thiserror`: the error types. `tracing`: the
//!   invoker's own warnings (a store write that failed).
//!
//! # Timeouts, and what happens to a stuck thread
//!
//! With [`Execution::Isolated`] (the default) a handler's future is polled on a thread of
//! the invoker's elastic pool, and the caller waits on its own task with the deadline. At
//! `time_limit_in_ms` the invocation ends with status 433 and the message `time out`,
//! promptly, whatever the handler does with its thread; the context's cancellation fires
//! ([`CancelReason::Timeout`](scf_context::CancelReason)) so a cooperative handler can
//! stop. A handler that awaits is dropped at its next wake-up and frees its thread. A
//! handler that blocks or spins cannot be stopped from outside (Rust has no way to kill a
//! thread): its thread stays busy until the handler returns, its result is then dropped,
//! and the thread goes back to the pool. Meanwhile the pool starts fresh threads for other
//! invocations (up to [`ThreadPoolConfig::max_threads`]), so a stuck handler never starves
//! the others; idle threads exit after [`ThreadPoolConfig::idle_timeout`]. A stuck thread
//! no longer counts against its function's concurrency. [`Invoker::pool_stats`] shows
//! how many threads are busy.
//!
//! [`Execution::Inline`] polls the handler on the caller's task: cheaper, but the
//! deadline only takes effect when the handler yields (a result that comes after the
//! deadline is still reported as 433).
//!
//! # How `MemUsage` is measured
//!
//! [`InvokeResponse::mem_source`] says which of these was used, in this order:
//! 1. [`MemSource::Reported`]: the handler called [`Context::report_mem_usage`](scf_context::Context::report_mem_usage) (an out-of-process
//!    runtime reports its process's peak; the largest report wins).
//! 2. [`MemSource::PeakAllocation`]: when the binary installs [`CountingAllocator`] as its
//!    global allocator, the process's peak heap allocation during the invocation. With
//!    invocations running at the same time it includes theirs: an upper bound.
//! 3. [`MemSource::ProcessRss`]: otherwise the process's resident set size from
//!    `/proc/self/status` (Linux), sampled at most every 100 ms: the whole host's memory.
//! 4. [`MemSource::Unavailable`]: 0 where none of those exists.
//!
//! # Example
//!
//! ```
//! use scf_context::{Context, FunctionConfig};
//! use scf_handler::{handler_fn, FunctionError};
//! use scf_invoker::{InvokeRequest, Invoker, InvokerConfig, LogType};
//! use serde_json::{json, Value};
//!
//! async fn echo(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
//!     tracing::info!("got {event}");
//!     Ok(event)
//! }
//!
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let invoker = Invoker::new(InvokerConfig::default())?;
//! invoker.add_function(FunctionConfig::new("echo"), handler_fn(echo))?;
//!
//! let request = InvokeRequest::new("echo", r#"{"key":"abctest"}"#).with_log_type(LogType::Tail);
//! let response = invoker.invoke(request).await?;
//! assert_eq!(response.status.code(), 200);
//! assert_eq!(response.ret_msg, r#"{"key":"abctest"}"#);
//! assert!(response.log.starts_with("START RequestId:"));
//! assert!(response.log.contains("[INFO]\tgot {\"key\":\"abctest\"}"));
//!
//! let missing = invoker.invoke(InvokeRequest::new("nope", "{}")).await.unwrap_err();
//! assert_eq!(missing.status().code(), 435);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod alloc;
mod asynchronous;
mod clock;
mod config;
mod error;
mod functions;
mod invoker;
mod memory;
mod pool;
mod records;
mod request;
mod run;
mod scope;
mod slots;

pub use alloc::CountingAllocator;
pub use asynchronous::RecoverReport;
pub use config::{
    host_and_pid, BillPolicy, ConcurrencyScope, Execution, InvokerConfig, InvokerConfigError,
    ThreadPoolConfig, MAX_ASYNC_EVENT_BYTES, MAX_RESPONSE_BYTES, MAX_SYNC_EVENT_BYTES,
};
pub use error::{AsyncEventError, InvokeError};
pub use functions::FunctionInfo;
pub use invoker::{Invoker, ShutdownReport};
pub use memory::MemSource;
pub use pool::PoolStats;
pub use records::RecordStats;
pub use request::{
    EventPayload, InvokeRequest, InvokeResponse, LogType, INVOKE_RESULT_FAILURE,
    INVOKE_RESULT_SUCCESS,
};
pub use scf_logs::InvocationType;
