//! The invoker of scf-rs: runs Tencent Cloud SCF functions the way the platform does.
//!
//! An [`Invoker`] holds functions, each a [`FunctionConfig`]
//! plus a [`Handler`], keyed by namespace, name and qualifier
//! (`$LATEST` by default). It runs them:
//!
//! - **sync** (`RequestResponse`): [`Invoker::invoke`] resolves with `Invoke`'s result
//!   ([`InvokeResponse`]: `RetMsg`, `ErrMsg`, `Log`, `MemUsage`, `Duration`,
//!   `BillDuration`, `FunctionRequestId`, `InvokeResult`, and the function status);
//! - **async** (`Event`): the call returns the request id once the event is stored
//!   durably in the [`LogStore`] and queued; workers run it, retry it
//!   after a function error per the function's [`RetryConfig`]
//!   (each attempt logged with its `RetryNum`; none starts past its `MsgTTL`), and track
//!   its status (`RUNNING`, `FINISHED`, `FAILED`, `ABORTED`). [`Invoker::terminate`] aborts one;
//!   [`Invoker::recover`] re-runs the events a crash left unfinished. The queue is
//!   bounded: a full queue refuses the call ([`InvokeError::QueueFull`]).
//!
//! Every attempt's log follows SCF's framing (`START`, the function's own lines, `Response`
//! or `ERROR`, `END`, `Report`) and is recorded in the store. What a handler logs through
//! `tracing` lands in its own invocation's log, even with many invocations on a
//! multi-threaded runtime (scf-logs' capture, set for each poll of the handler's future,
//! and on the handler's extra threads through
//! [`Context::wrap_thread_task`](scf_context::Context::wrap_thread_task)).
//!
//! The invoker installs nothing global: no `tracing` subscriber, no `log` logger, and
//! `log`'s max level stays the application's. The capture is a `tracing` dispatcher made
//! current only while the handler is polled, which passes every event on to the
//! application's own subscriber, so the application may call
//! `tracing_subscriber::fmt::init()` (or anything else) before or after
//! [`Invoker::new`], and its output keeps every line its functions log. `log` records are
//! captured when the application bridges `log` into `tracing` (`fmt::init()` does), or
//! after one call to `scf_logs::capture_log_crate()` in an application that does not
//! (see [`scf_logs::capture`](mod@scf_logs::capture)).
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
//! With [`Execution::Inline`] (the default) a handler's future is polled on the caller's
//! task, as in any tokio application: at `time_limit_in_ms` the invocation ends with
//! status 433 `time out` at the handler's next `.await` (a result that comes after the
//! deadline is still reported as 433), and an async handler must not block its thread.
//! A handler made with [`blocking_fn`] runs its function on a thread of its own and
//! awaits it, so its 433 comes promptly at the deadline whatever the function does; the
//! thread runs on until the function returns, and its result is dropped.
//!
//! With [`Execution::Isolated`], the explicit choice for async code not trusted to yield,
//! a handler's future is polled on a thread of
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
//! The hop to the pool thread and back costs two cross-thread hand-overs per invocation;
//! the gateway bench in `docs/performance.md` measures what that is under load.
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
//! # One dependency
//!
//! An embedder of native handlers needs this crate (and the tokio runtime it runs on)
//! only: what a function is ([`Context`], [`FunctionConfig`], [`Handler`],
//! [`handler_fn`], [`blocking_fn`], [`FunctionError`]…), where records go
//! ([`LogStore`], [`AsyncQueue`], [`MemoryStore`]…) and the `log` opt-in
//! ([`capture_log_crate`]) are re-exported at the root, and the crates they come from as
//! modules ([`scf_context`](mod@scf_context), [`scf_handler`](mod@scf_handler),
//! [`scf_logs`](mod@scf_logs), [`scf_store`](mod@scf_store)) for the rest, with
//! [`serde_json`](mod@serde_json) for events.
//!
//! # Example
//!
//! ```
//! use scf_invoker::serde_json::Value;
//! use scf_invoker::{
//!     handler_fn, Context, FunctionConfig, FunctionError, InvokeRequest, Invoker,
//!     InvokerConfig, LogType, MemoryStore,
//! };
//! use std::sync::Arc;
//!
//! async fn echo(event: Value, ctx: Context) -> Result<Value, FunctionError> {
//!     tracing::info!("got {event} in {}", ctx.function_name);
//!     Ok(event)
//! }
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("user name {0} already exists")]
//! struct UserNameAlreadyExistsException(String);
//!
//! async fn register(event: Value, _ctx: Context) -> Result<(), UserNameAlreadyExistsException> {
//!     Err(UserNameAlreadyExistsException(event["username"].to_string()))
//! }
//!
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let store = Arc::new(MemoryStore::default());
//! let invoker = Invoker::new(InvokerConfig::default().with_store(store))?;
//! invoker.add_function(FunctionConfig::new("echo"), handler_fn(echo))?;
//! invoker.add_function(FunctionConfig::new("register"), handler_fn(register))?;
//!
//! let request = InvokeRequest::new("echo", r#"{"key":"abctest"}"#).with_log_type(LogType::Tail);
//! let response = invoker.invoke(request).await?;
//! assert_eq!(response.status.code(), 200);
//! assert_eq!(response.ret_msg, r#"{"key":"abctest"}"#);
//! assert!(response.log.starts_with("START RequestId:"));
//! assert!(response.log.contains("[INFO]\tgot {\"key\":\"abctest\"} in echo"));
//!
//! let failed = invoker.invoke(InvokeRequest::new("register", r#"{"username":"alice"}"#)).await?;
//! let error = failed.error.expect("a failure carries its error");
//! assert_eq!(error.error_type(), "UserNameAlreadyExistsException");
//! assert_eq!(error.status().code(), 430);
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

// What an embedder of native handlers needs, so that this crate is its one dependency.
pub use scf_context::{
    CancelReason, Cancellation, ConfigError, Context, FunctionConfig, RetryConfig,
};
pub use scf_handler::{
    blocking_fn, cooperative, handler_fn, FunctionError, FunctionStatus, Handler, ScfErrorJson,
    SharedHandler,
};
pub use scf_logs::{capture_log_crate, CaptureLogger, LogRecord};
pub use scf_store::{
    AsyncEvent, AsyncQuery, AsyncQueue, AsyncStatus, LogPage, LogQuery, LogStore, MemoryStore,
    StoreError,
};
// The crates themselves, for everything else they offer.
pub use scf_context;
pub use scf_handler;
pub use scf_logs;
pub use scf_store;
pub use serde_json;

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
