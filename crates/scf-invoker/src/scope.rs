//! What is "current" while a handler runs (its log buffer; its reports go through the
//! context), and
//! running a handler so that panics become failed invocations.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use scf_context::{Context, ReportHook, ThreadHook};
use scf_handler::{FunctionError, Handler};
use scf_logs::LogBuffer;
use serde_json::Value;

use crate::memory::Usage;

pub(crate) type Outcome = Result<Value, FunctionError>;
type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One invocation's scope: set on the thread for every poll of its handler future, and on
/// the handler's extra threads through the context's thread hook.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) buffer: LogBuffer,
    pub(crate) usage: Arc<Usage>,
}

impl Scope {
    pub(crate) fn new(request_id: &str) -> Self {
        Self {
            buffer: LogBuffer::new(request_id),
            usage: Arc::new(Usage::default()),
        }
    }

    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        self.buffer.in_scope(f)
    }

    /// The hook that takes the handler's reports (memory, init time) for this invocation.
    pub(crate) fn report_hook(&self) -> ReportHook {
        ReportHook::new(self.usage.clone())
    }

    /// The hook that makes a handler's extra threads part of this invocation.
    pub(crate) fn thread_hook(&self) -> ThreadHook {
        let scope = self.clone();
        ThreadHook::new(move |task| {
            let scope = scope.clone();
            Box::new(move || scope.enter(task))
        })
    }

    /// Calls the handler inside this scope; a panic, in `call` itself or in any poll of
    /// its future, ends the run with a failed outcome carrying the panic message.
    pub(crate) fn run<'a>(
        &'a self,
        handler: &'a dyn Handler,
        event: Value,
        ctx: Context,
    ) -> Run<'a> {
        let call = self.enter(|| catch_unwind(AssertUnwindSafe(|| handler.call(event, ctx))));
        Run {
            scope: self,
            state: match call {
                Ok(fut) => State::Running(fut),
                Err(payload) => State::Failed(Some(FunctionError::from_panic(payload.as_ref()))),
            },
        }
    }
}

enum State<'a> {
    Running(HandlerFuture<'a>),
    Failed(Option<FunctionError>),
}

/// A handler's run; see [`Scope::run`].
pub(crate) struct Run<'a> {
    scope: &'a Scope,
    state: State<'a>,
}

impl Future for Run<'_> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Outcome> {
        let this = self.get_mut();
        match &mut this.state {
            State::Failed(error) => Poll::Ready(Err(error.take().unwrap_or_else(|| {
                FunctionError::platform(
                    scf_handler::FunctionStatus::InternalError,
                    "handler run polled after it ended",
                )
            }))),
            State::Running(fut) => {
                let polled = this
                    .scope
                    .enter(|| catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))));
                match polled {
                    Ok(poll) => poll,
                    Err(payload) => {
                        let error = FunctionError::from_panic(payload.as_ref());
                        // Never poll a future again after it panicked.
                        this.state = State::Failed(None);
                        Poll::Ready(Err(error))
                    }
                }
            }
        }
    }
}
