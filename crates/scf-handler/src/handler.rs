//! The handler trait and the adapters that turn functions into handlers.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use scf_context::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::FunctionError;
use crate::json::to_json_value;

/// A function's execution method: from an event and a context to a JSON value or an error.
///
/// Implement it directly, or build one from a plain async function with [`handler_fn`] or
/// a blocking one with [`blocking_fn`]. Hosts (the in-process invoker, the Custom Runtime
/// client, out-of-process runtimes) all run `Handler` values.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Runs one invocation.
    async fn call(&self, event: Value, context: Context) -> Result<Value, FunctionError>;

    /// Whether `call`'s future only ever waits at `.await`s and never blocks its thread or
    /// spins: then a host may poll it on its own async runtime instead of isolating it on a
    /// thread of its own, and still stop it at its deadline. A handler that forwards
    /// invocations to another process (whose timeout kills that process, not a thread)
    /// says `true`. Default `false`: user code is assumed to possibly block.
    fn is_cooperative(&self) -> bool {
        false
    }

    /// For a handler that keeps a pool of instances (an out-of-process function's
    /// processes): how many are warm (idle, ready for an invocation) and busy now, for a
    /// console. Default `None`: the handler runs in the host's process, with no instances
    /// of its own.
    fn instances(&self) -> Option<Instances> {
        None
    }
}

/// A snapshot of a handler's instances ([`Handler::instances`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Instances {
    /// Alive and idle, waiting for an invocation.
    pub warm: usize,
    /// Running an invocation, or starting for one.
    pub busy: usize,
}

impl Instances {
    /// `warm` idle and `busy` busy instances.
    pub fn new(warm: usize, busy: usize) -> Self {
        Instances { warm, busy }
    }
}

/// The future [`Handler::call`] returns (what `async_trait` makes of it).
type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send + 'a>>;

// The wrappers below hand back the inner handler's future as it is, instead of boxing a
// second future around it: a wrapped handler costs no more per call than a bare one.

#[async_trait::async_trait]
impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn call<'life0, 'async_trait>(
        &'life0 self,
        event: Value,
        context: Context,
    ) -> CallFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).call(event, context)
    }

    fn is_cooperative(&self) -> bool {
        (**self).is_cooperative()
    }

    fn instances(&self) -> Option<Instances> {
        (**self).instances()
    }
}

#[async_trait::async_trait]
impl<H: Handler + ?Sized> Handler for Box<H> {
    fn call<'life0, 'async_trait>(
        &'life0 self,
        event: Value,
        context: Context,
    ) -> CallFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).call(event, context)
    }

    fn is_cooperative(&self) -> bool {
        (**self).is_cooperative()
    }

    fn instances(&self) -> Option<Instances> {
        (**self).instances()
    }
}

/// A shared, type-erased handler.
pub type SharedHandler = Arc<dyn Handler>;

/// A handler declared cooperative: see [`cooperative`].
#[derive(Debug, Clone)]
pub struct Cooperative<H>(H);

/// Declares that `handler` only ever waits at `.await`s and never blocks its thread or
/// spins ([`Handler::is_cooperative`]), so that a host may poll it on its own async runtime.
///
/// Under `scf-invoker`'s `Execution::Isolated`, such a handler skips the hop to a pool
/// thread and back (the path of the default, `Execution::Inline`) while other functions
/// stay isolated. Its deadline still holds at its next `.await`; a handler that blocks
/// despite the declaration stalls a runtime thread until it returns, and its timeout
/// comes only then.
///
/// ```
/// use scf_handler::{cooperative, handler_fn, FunctionError, Handler};
/// use serde_json::Value;
///
/// async fn echo(event: Value, _ctx: scf_context::Context) -> Result<Value, FunctionError> {
///     Ok(event)
/// }
/// let h = cooperative(handler_fn(echo));
/// assert!(h.is_cooperative());
/// ```
pub fn cooperative<H: Handler>(handler: H) -> Cooperative<H> {
    Cooperative(handler)
}

#[async_trait::async_trait]
impl<H: Handler> Handler for Cooperative<H> {
    fn call<'life0, 'async_trait>(
        &'life0 self,
        event: Value,
        context: Context,
    ) -> CallFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.0.call(event, context)
    }

    fn is_cooperative(&self) -> bool {
        true
    }

    fn instances(&self) -> Option<Instances> {
        self.0.instances()
    }
}

/// Decodes an event into `E`; the error names the JSON path that failed.
pub fn decode_event<E: DeserializeOwned>(event: Value) -> Result<E, FunctionError> {
    serde_path_to_error::deserialize(event).map_err(|e| {
        let path = e.path().to_string();
        FunctionError::new(
            "InvalidEvent",
            format!(
                "the event does not fit the handler's input type at `{path}`: {}",
                e.inner()
            ),
        )
    })
}

/// Encodes a return value as JSON; the error names why it is not JSON.
pub fn encode_return<R: Serialize>(value: &R) -> Result<Value, FunctionError> {
    to_json_value(value).map_err(|e| FunctionError::new("InvalidReturnValue", e.to_string()))
}

/// A handler built from an async function or closure; see [`handler_fn`].
pub struct HandlerFn<F, E, R, Err> {
    f: F,
    _types: PhantomData<fn(E) -> (R, Err)>,
}

impl<F, E, R, Err> std::fmt::Debug for HandlerFn<F, E, R, Err> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerFn")
            .field("event", &std::any::type_name::<E>())
            .field("output", &std::any::type_name::<R>())
            .finish()
    }
}

/// Turns `async fn(E, Context) -> Result<R, Err>` into a [`Handler`].
///
/// The event is decoded into `E` (an error names the JSON path that does not fit), the
/// result is encoded as JSON (an error names why it cannot be), and `Err` converts into
/// a [`FunctionError`] (any `std::error::Error` does).
pub fn handler_fn<F, Fut, E, R, Err>(f: F) -> HandlerFn<F, E, R, Err>
where
    F: Fn(E, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Err>> + Send,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + 'static,
    Err: Into<FunctionError> + 'static,
{
    HandlerFn {
        f,
        _types: PhantomData,
    }
}

#[async_trait::async_trait]
impl<F, Fut, E, R, Err> Handler for HandlerFn<F, E, R, Err>
where
    F: Fn(E, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Err>> + Send,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + 'static,
    Err: Into<FunctionError> + 'static,
{
    async fn call(&self, event: Value, context: Context) -> Result<Value, FunctionError> {
        let event = decode_event::<E>(event)?;
        let out = (self.f)(event, context).await.map_err(Into::into)?;
        encode_return(&out)
    }
}

/// A handler built from a blocking function; see [`blocking_fn`].
pub struct BlockingFn<F, E, R, Err> {
    f: Arc<F>,
    _types: PhantomData<fn(E) -> (R, Err)>,
}

impl<F, E, R, Err> std::fmt::Debug for BlockingFn<F, E, R, Err> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingFn")
            .field("event", &std::any::type_name::<E>())
            .field("output", &std::any::type_name::<R>())
            .finish()
    }
}

/// Turns a blocking `fn(E, Context) -> Result<R, Err>` into a [`Handler`] that runs it on
/// its own thread, so that it never stalls the async runtime that awaits it.
///
/// If the invocation is abandoned (a timeout), the thread runs on until the function
/// returns and its result is dropped: Rust cannot stop a thread from outside. A
/// cooperative function checks [`Context::is_cancelled`]. A panic in the function
/// becomes a failed invocation with the panic message.
pub fn blocking_fn<F, E, R, Err>(f: F) -> BlockingFn<F, E, R, Err>
where
    F: Fn(E, Context) -> Result<R, Err> + Send + Sync + 'static,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: Into<FunctionError> + Send + 'static,
{
    BlockingFn {
        f: Arc::new(f),
        _types: PhantomData,
    }
}

#[async_trait::async_trait]
impl<F, E, R, Err> Handler for BlockingFn<F, E, R, Err>
where
    F: Fn(E, Context) -> Result<R, Err> + Send + Sync + 'static,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: Into<FunctionError> + Send + 'static,
{
    async fn call(&self, event: Value, context: Context) -> Result<Value, FunctionError> {
        let event = decode_event::<E>(event)?;
        let f = self.f.clone();
        let slot = Arc::new(Slot::default());
        let tx = slot.clone();
        let hook_ctx = context.clone();
        let task = hook_ctx.wrap_thread_task(Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                f(event, context)
                    .map_err(Into::into)
                    .and_then(|r| encode_return(&r))
            }))
            .unwrap_or_else(|payload| Err(FunctionError::from_panic(payload.as_ref())));
            tx.fill(out);
        }));
        std::thread::Builder::new()
            .name("scf-blocking-handler".into())
            .spawn(task)
            .map_err(|e| {
                FunctionError::platform(
                    crate::FunctionStatus::InternalError,
                    format!("could not start a thread for the blocking handler: {e}"),
                )
            })?;
        std::future::poll_fn(|cx| slot.poll(cx.waker())).await
    }
}

type Outcome = Result<Value, FunctionError>;

/// A one-shot hand-over from a thread to a future, so this crate needs no async runtime.
#[derive(Default)]
struct Slot {
    state: Mutex<(Option<Outcome>, Option<Waker>)>,
}

impl Slot {
    fn fill(&self, out: Outcome) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = Some(out);
        if let Some(w) = state.1.take() {
            w.wake();
        }
    }

    fn poll(&self, waker: &Waker) -> Poll<Outcome> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.0.take() {
            Some(out) => Poll::Ready(out),
            None => {
                state.1 = Some(waker.clone());
                Poll::Pending
            }
        }
    }
}
