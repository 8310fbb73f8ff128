//! Per-invocation log capture from `tracing` and `log`.
//!
//! A handler logs through the ordinary facades. While an invocation's future is
//! being polled inside [`capture`] (or [`LogBuffer::scope`]), or while blocking
//! code runs inside [`LogBuffer::in_scope`], a thread-local "current buffer" is
//! set; [`CaptureLayer`] (tracing) and [`CaptureLogger`] (log) append every event
//! to it. The thread-local is set for each `poll` and restored afterwards, so a
//! future that moves between worker threads of a multi-threaded runtime keeps
//! writing to its own buffer, and nested scopes work.
//!
//! Work spawned onto other tasks or threads is not captured unless it is wrapped
//! with the same buffer (`buffer.scope(..)`), because the current buffer belongs
//! to the poll, not to the task tree.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use time::OffsetDateTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::Layer;

use crate::framing;

/// Default cap on one buffer's total size: 16 MiB. Lines past it are counted, not kept.
pub const DEFAULT_MAX_BUFFER_BYTES: usize = 16 * 1024 * 1024;

thread_local! {
    static CURRENT: RefCell<Option<LogBuffer>> = const { RefCell::new(None) };
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

/// Restores the previous current buffer on drop, even when the poll panics.
struct ScopeGuard {
    previous: Option<LogBuffer>,
}

impl ScopeGuard {
    fn enter(buffer: LogBuffer) -> Self {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(buffer));
        ScopeGuard { previous }
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
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
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

/// A `tracing_subscriber` layer that appends each event to the current [`LogBuffer`].
///
/// Events outside any capture scope are ignored by this layer (other layers
/// still see them). The line is `message k=v …` at the event's level.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureLayer;

impl CaptureLayer {
    /// A new layer.
    pub fn new() -> Self {
        CaptureLayer
    }
}

impl<S: Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let Some(buffer) = LogBuffer::current() else {
            return;
        };
        let mut v = MessageVisitor {
            message: String::new(),
            fields: String::new(),
        };
        event.record(&mut v);
        if v.message.is_empty() {
            // No message: drop the leading space of the first field.
            let fields = v.fields.trim_start();
            buffer.push_line(event.metadata().level().as_str(), fields);
        } else {
            v.message.push_str(&v.fields);
            buffer.push_line(event.metadata().level().as_str(), &v.message);
        }
    }
}

/// A `log::Log` that appends each record to the current [`LogBuffer`].
///
/// Records emitted outside any capture scope go to the optional inner logger
/// (or nowhere); records inside a scope go only to the buffer.
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
    /// A logger that drops records emitted outside capture scopes.
    pub fn new() -> Self {
        CaptureLogger { inner: None }
    }

    /// A logger that forwards records emitted outside capture scopes to `inner`.
    pub fn with_inner(inner: Box<dyn log::Log>) -> Self {
        CaptureLogger { inner: Some(inner) }
    }
}

impl log::Log for CaptureLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        if CURRENT.with(|c| c.borrow().is_some()) {
            return true;
        }
        self.inner.as_ref().is_some_and(|i| i.enabled(metadata))
    }

    fn log(&self, record: &log::Record<'_>) {
        if let Some(buffer) = LogBuffer::current() {
            let message = record.args().to_string();
            buffer.push_line(record.level().as_str(), &message);
        } else if let Some(inner) = &self.inner {
            inner.log(record);
        }
    }

    fn flush(&self) {
        if let Some(inner) = &self.inner {
            inner.flush();
        }
    }
}

/// What [`install_detailed`] managed to install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Installed {
    /// A global tracing subscriber (registry + [`CaptureLayer`]) was installed.
    /// When `false` another one was already set: add [`CaptureLayer`] to it.
    pub tracing: bool,
    /// [`CaptureLogger`] was installed as the global `log` logger.
    /// When `false` another logger was already set; `log` records are not captured.
    pub log: bool,
}

/// Installs [`CaptureLayer`] (in a fresh `Registry`) as the global tracing
/// subscriber and [`CaptureLogger`] as the global `log` logger, each only if
/// none is set yet. Never panics.
///
/// Returns `true` when both were installed. `false` means something else was
/// already installed (or this was already called): add [`CaptureLayer`] to your
/// own subscriber, e.g. `tracing_subscriber::registry().with(CaptureLayer).with(your_fmt_layer)`,
/// and use [`CaptureLogger::with_inner`] if you own the `log` logger.
pub fn install() -> bool {
    let i = install_detailed();
    i.tracing && i.log
}

/// Like [`install`], reporting each facade separately.
pub fn install_detailed() -> Installed {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(CaptureLayer);
    let tracing = tracing::subscriber::set_global_default(subscriber).is_ok();
    let log = log::set_boxed_logger(Box::new(CaptureLogger::new())).is_ok();
    if log {
        log::set_max_level(log::LevelFilter::Trace);
    }
    Installed { tracing, log }
}
