//! Per-invocation log capture from `tracing` and `log`, with no global state to set up.
//!
//! A handler logs through the ordinary facades. While an invocation's future is polled
//! inside [`capture`] (or [`LogBuffer::scope`]), or while blocking code runs inside
//! [`LogBuffer::in_scope`], two things are current on the thread, for that poll only:
//! the invocation's buffer (a thread-local), and a capture `tracing` dispatcher
//! (`tracing::dispatcher::set_default`, the scoped dispatch that
//! `tracing::instrument::WithSubscriber` uses). The capture dispatcher appends each event
//! to the current buffer and passes every event and span on to the dispatcher that was
//! current when the scope was entered: the application's global subscriber, a scoped one
//! of its own, or none. So nothing is installed globally, an application may set its own
//! subscriber before or after the first invocation (`tracing_subscriber::fmt::init()`
//! works as usual), and its subscriber still sees every line the functions log.
//! Both are restored after each poll, so a future that moves between worker threads of
//! a multi-threaded runtime keeps writing to its own buffer, and nested scopes work.
//!
//! The capture takes every event whatever its level (the application's filter decides
//! only what it is shown). While a capture scope has ever been entered, `tracing` asks the
//! current subscriber about each event whose callsite the application's filter turned off
//! (one `enabled` call) instead of skipping it outright.
//!
//! `log` records are captured the same way when they reach `tracing`:
//!
//! - the application bridges `log` into `tracing` (as `tracing_subscriber::fmt::init()`
//!   does, through tracing-log): nothing to do;
//! - it installs no `log` logger: call [`capture_log_crate`] once;
//! - it owns the `log` logger: install [`CaptureLogger::with_inner`] around it.
//!
//! `log`'s max level is the application's: only [`capture_log_crate`], when called, sets
//! it (to `Trace`).
//!
//! Work spawned onto other tasks or threads is not captured unless it is wrapped
//! with the same buffer (`buffer.scope(..)`), because the current buffer belongs
//! to the poll, not to the task tree.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};

use time::OffsetDateTime;
use tracing::dispatcher::{self, DefaultGuard, Dispatch};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{span, Event, Metadata, Subscriber};

use crate::framing;

/// Default cap on one buffer's total size: 16 MiB. Lines past it are counted, not kept.
pub const DEFAULT_MAX_BUFFER_BYTES: usize = 16 * 1024 * 1024;

thread_local! {
    static CURRENT: RefCell<Option<LogBuffer>> = const { RefCell::new(None) };
    /// The dispatcher that was current when the outermost scope on this thread was
    /// entered: the capture dispatcher passes everything on to it.
    static OUTER: RefCell<Option<Dispatch>> = const { RefCell::new(None) };
}

#[derive(Debug)]
struct Inner {
    request_id: String,
    lines: Vec<String>,
    bytes: usize,
    max_bytes: usize,
    dropped: u64,
}

/// One invocation's captured user log lines. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct LogBuffer {
    inner: Arc<Mutex<Inner>>,
}

impl LogBuffer {
    /// An empty buffer for the invocation `request_id`, capped at [`DEFAULT_MAX_BUFFER_BYTES`].
    pub fn new(request_id: impl Into<String>) -> Self {
        Self::with_max_bytes(request_id, DEFAULT_MAX_BUFFER_BYTES)
    }

    /// An empty buffer holding at most `max_bytes` bytes of lines; later lines are dropped and counted.
    pub fn with_max_bytes(request_id: impl Into<String>, max_bytes: usize) -> Self {
        LogBuffer {
            inner: Arc::new(Mutex::new(Inner {
                request_id: request_id.into(),
                lines: Vec::new(),
                bytes: 0,
                max_bytes,
                dropped: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only a partially pushed Vec; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request id the buffer was made for.
    pub fn request_id(&self) -> String {
        self.lock().request_id.clone()
    }

    /// Appends a user line formatted by [`framing::user_line`] (now, this request id,
    /// `level`, `message`), capped at [`framing::MAX_LINE_BYTES`].
    pub fn push_line(&self, level: &str, message: &str) {
        let now = OffsetDateTime::now_utc();
        let mut inner = self.lock();
        let line = framing::user_line(now, &inner.request_id, level, message);
        if inner.bytes + line.len() + 1 > inner.max_bytes {
            inner.dropped += 1;
            return;
        }
        inner.bytes += line.len() + 1;
        inner.lines.push(line);
    }

    /// Appends an already formatted line as is (capped at [`framing::MAX_LINE_BYTES`]).
    pub fn push_raw(&self, line: &str) {
        let line = framing::truncate_line(line, framing::MAX_LINE_BYTES);
        let mut inner = self.lock();
        if inner.bytes + line.len() + 1 > inner.max_bytes {
            inner.dropped += 1;
            return;
        }
        inner.bytes += line.len() + 1;
        inner.lines.push(line.to_owned());
    }

    /// Removes and returns the lines captured so far.
    pub fn take(&self) -> Vec<String> {
        let mut inner = self.lock();
        inner.bytes = 0;
        std::mem::take(&mut inner.lines)
    }

    /// A copy of the lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        self.lock().lines.clone()
    }

    /// The lines captured so far joined with `\n` (no trailing newline).
    pub fn text(&self) -> String {
        self.lock().lines.join("\n")
    }

    /// How many lines were dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// The buffer set on this thread by an enclosing capture scope, if any.
    pub fn current() -> Option<LogBuffer> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Wraps `future` so that logs emitted while it is polled land in this buffer.
    pub fn scope<F: Future>(&self, future: F) -> Captured<F> {
        capture(self.clone(), future)
    }

    /// Runs `f` with this buffer as the current one (for blocking code).
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = ScopeGuard::enter(self.clone());
        f()
    }
}

/// Restores the previous current buffer (and, for the outermost scope, the previous
/// `tracing` dispatcher) on drop, even when the poll panics.
struct ScopeGuard {
    previous: Option<LogBuffer>,
    /// `Some(previous outer)` when this guard made the capture dispatcher current.
    previous_outer: Option<Option<Dispatch>>,
    dispatch: Option<DefaultGuard>,
}

impl ScopeGuard {
    fn enter(buffer: LogBuffer) -> Self {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(buffer));
        let current = dispatcher::get_default(Dispatch::clone);
        if current.is::<CaptureSubscriber>() {
            // A nested scope: the capture dispatcher is current already, forwarding to
            // the outer dispatcher the outermost scope saved.
            return ScopeGuard {
                previous,
                previous_outer: None,
                dispatch: None,
            };
        }
        let previous_outer = OUTER.with(|o| o.borrow_mut().replace(current));
        ScopeGuard {
            previous,
            previous_outer: Some(previous_outer),
            dispatch: Some(dispatcher::set_default(capture_dispatch())),
        }
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        // The thread's dispatcher first, then what the capture dispatcher forwards to.
        drop(self.dispatch.take());
        if let Some(outer) = self.previous_outer.take() {
            let _ = OUTER.try_with(|o| *o.borrow_mut() = outer);
        }
        let previous = self.previous.take();
        // try_with: during thread teardown the thread-local may already be gone.
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

/// A future whose logs go to a [`LogBuffer`]; made by [`capture`] or [`LogBuffer::scope`].
#[must_use = "futures do nothing unless polled"]
pub struct Captured<F> {
    buffer: LogBuffer,
    // Boxed so Captured is Unpin without unsafe pin projection; one allocation per invocation.
    future: Pin<Box<F>>,
}

impl<F> fmt::Debug for Captured<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Captured")
            .field("buffer", &self.buffer)
            .finish_non_exhaustive()
    }
}

impl<F> Captured<F> {
    /// The buffer this future writes to.
    pub fn buffer(&self) -> &LogBuffer {
        &self.buffer
    }
}

impl<F: Future> Future for Captured<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _guard = ScopeGuard::enter(this.buffer.clone());
        this.future.as_mut().poll(cx)
    }
}

/// Wraps `future` so that logs emitted while it is polled land in `buffer`.
pub fn capture<F: Future>(buffer: LogBuffer, future: F) -> Captured<F> {
    Captured {
        buffer,
        future: Box::pin(future),
    }
}

/// Collects an event's message and fields as `message k=v k2=v2`.
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name().starts_with("log.") {
            // tracing-log's `log.target`, `log.module_path`, `log.file`, `log.line`.
        } else if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name().starts_with("log.") {
            // As in `record_str`.
        } else if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

/// The subscriber of the capture dispatcher: current on a thread only inside a capture
/// scope, it appends each event to the current [`LogBuffer`] and passes everything
/// (events and spans) on to the dispatcher that was current when the scope was entered.
#[derive(Debug)]
struct CaptureSubscriber;

/// The one capture dispatcher, made once: making a `Dispatch` re-registers every
/// callsite's interest, far too costly for each poll.
fn capture_dispatch() -> &'static Dispatch {
    static DISPATCH: OnceLock<Dispatch> = OnceLock::new();
    DISPATCH.get_or_init(|| Dispatch::new(CaptureSubscriber))
}

/// Runs `f` on the dispatcher the capture dispatcher forwards to: the one saved by the
/// outermost scope on this thread, or (a span used after its scope ended) the thread's
/// current one.
fn with_outer<R>(f: impl FnOnce(&Dispatch) -> R) -> R {
    let saved = OUTER.try_with(|o| o.borrow().clone()).ok().flatten();
    match saved {
        Some(outer) => f(&outer),
        None => {
            let current = dispatcher::get_default(Dispatch::clone);
            if current.is::<CaptureSubscriber>() {
                f(&Dispatch::none())
            } else {
                f(&current)
            }
        }
    }
}

fn in_scope() -> bool {
    CURRENT.try_with(|c| c.borrow().is_some()).unwrap_or(false)
}

fn push_event(buffer: &LogBuffer, event: &Event<'_>) {
    let mut v = MessageVisitor {
        message: String::new(),
        fields: String::new(),
    };
    event.record(&mut v);
    let level = event.metadata().level().as_str();
    if v.message.is_empty() {
        // No message: drop the leading space of the first field.
        buffer.push_line(level, v.fields.trim_start());
    } else {
        v.message.push_str(&v.fields);
        buffer.push_line(level, &v.message);
    }
}

impl Subscriber for CaptureSubscriber {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Every event is captured inside a scope; whether a span is enabled is the
        // outer dispatcher's call, made per span.
        if metadata.is_event() {
            Interest::always()
        } else {
            Interest::sometimes()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        (metadata.is_event() && in_scope()) || with_outer(|d| d.enabled(metadata))
    }

    fn new_span(&self, span: &span::Attributes<'_>) -> span::Id {
        with_outer(|d| d.new_span(span))
    }

    fn record(&self, span: &span::Id, values: &span::Record<'_>) {
        with_outer(|d| d.record(span, values));
    }

    fn record_follows_from(&self, span: &span::Id, follows: &span::Id) {
        with_outer(|d| d.record_follows_from(span, follows));
    }

    fn event(&self, event: &Event<'_>) {
        if let Some(buffer) = LogBuffer::current() {
            push_event(&buffer, event);
        }
        with_outer(|d| {
            if d.enabled(event.metadata()) {
                d.event(event);
            }
        });
    }

    fn enter(&self, span: &span::Id) {
        with_outer(|d| d.enter(span));
    }

    fn exit(&self, span: &span::Id) {
        with_outer(|d| d.exit(span));
    }

    fn clone_span(&self, id: &span::Id) -> span::Id {
        with_outer(|d| d.clone_span(id))
    }

    fn try_close(&self, id: span::Id) -> bool {
        with_outer(|d| d.try_close(id))
    }

    fn current_span(&self) -> tracing_core::span::Current {
        with_outer(|d| d.current_span())
    }
}

/// A `log::Log` that appends each record emitted inside a capture scope to the current
/// [`LogBuffer`], and passes every record on to an optional inner logger.
///
/// For an application that owns the `log` logger (say `env_logger`) and still wants the
/// functions' `log` records captured: install
/// `CaptureLogger::with_inner(Box::new(its_logger))` as the `log` logger. An application
/// whose `tracing` subscriber bridges `log` needs nothing (see the [module docs](self)).
#[derive(Default)]
pub struct CaptureLogger {
    inner: Option<Box<dyn log::Log>>,
}

impl fmt::Debug for CaptureLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureLogger")
            .field("inner", &self.inner.is_some())
            .finish()
    }
}

impl CaptureLogger {
    /// A logger that keeps only the records emitted inside capture scopes.
    pub fn new() -> Self {
        CaptureLogger { inner: None }
    }

    /// A logger that also passes every record, inside a scope or not, to `inner`.
    pub fn with_inner(inner: Box<dyn log::Log>) -> Self {
        CaptureLogger { inner: Some(inner) }
    }
}

impl log::Log for CaptureLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        in_scope() || self.inner.as_ref().is_some_and(|i| i.enabled(metadata))
    }

    fn log(&self, record: &log::Record<'_>) {
        if let Some(buffer) = LogBuffer::current() {
            let message = record.args().to_string();
            buffer.push_line(record.level().as_str(), &message);
        }
        if let Some(inner) = &self.inner {
            if inner.enabled(record.metadata()) {
                inner.log(record);
            }
        }
    }

    fn flush(&self) {
        if let Some(inner) = &self.inner {
            inner.flush();
        }
    }
}

/// Captures the `log` crate's records too, for an application that does not bridge
/// `log` into `tracing` itself: installs a `log` → `tracing` bridge (tracing-log's
/// `LogTracer`) as the global `log` logger and sets `log`'s max level to `Trace`, so that a
/// handler's `log::info!` lands in its invocation's log like a `tracing` event, and reaches
/// the application's `tracing` subscriber as well.
///
/// Do not call it when the application bridges `log` itself (as
/// `tracing_subscriber::fmt::init()` does, which then fails because a logger is set) or
/// owns the `log` logger (wrap that logger in [`CaptureLogger::with_inner`] instead).
/// Fails, changing nothing, when a `log` logger is set already.
pub fn capture_log_crate() -> Result<(), log::SetLoggerError> {
    tracing_log::LogTracer::init()
}
