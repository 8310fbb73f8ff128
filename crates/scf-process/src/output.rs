//! An instance's stdout and stderr, read line by line into the right log.
//!
//! Both streams of the child go into one pipe, so their lines keep the order in which the
//! process wrote them. A reader task splits the pipe into lines and hands each one to the
//! instance's [`OutputSink`]: to the current invocation's log while one runs, otherwise to
//! a pending list (the init log before the first invocation, or lines written between
//! invocations) that the next invocation's log starts with.
//!
//! Ordering guarantee: every line the process wrote before it pushed its result
//! (`/runtime/invocation/response` or `/error`) is in that invocation's log. The push
//! happens after the write, so once the host has the push those bytes are in the pipe;
//! [`OutputReader::drain`] reads the pipe until it is empty before the invocation's log
//! is closed. Lines written after the push belong to the next invocation. The bundled
//! bootstraps flush `stdout`/`stderr` before they push.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use scf_logs::LogBuffer;
use tokio::net::unix::pipe;
use tokio::task::JoinHandle;

/// Most bytes of pending lines kept for the next invocation; older lines are dropped.
const MAX_PENDING_BYTES: usize = 256 * 1024;

/// A line longer than this without a newline is cut into pieces of this size.
const MAX_PARTIAL_BYTES: usize = 64 * 1024;

#[derive(Debug, Default)]
struct SinkState {
    target: Option<LogBuffer>,
    pending: VecDeque<String>,
    pending_bytes: usize,
    dropped: u64,
}

/// Where an instance's output lines go.
#[derive(Debug, Default)]
pub(crate) struct OutputSink {
    state: Mutex<SinkState>,
}

impl OutputSink {
    fn lock(&self) -> MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one line of output.
    pub(crate) fn line(&self, line: &str) {
        let mut state = self.lock();
        if let Some(target) = &state.target {
            target.push_raw(line);
            return;
        }
        state.pending_bytes += line.len();
        state.pending.push_back(line.to_owned());
        while state.pending_bytes > MAX_PENDING_BYTES {
            let Some(old) = state.pending.pop_front() else {
                break;
            };
            state.pending_bytes -= old.len();
            state.dropped += 1;
        }
    }

    /// Sends lines to `buffer` from now on, after the pending ones; returns how many
    /// pending lines it wrote.
    pub(crate) fn attach(&self, buffer: LogBuffer) -> usize {
        let mut state = self.lock();
        let pending = std::mem::take(&mut state.pending);
        for line in &pending {
            buffer.push_raw(line);
        }
        state.pending_bytes = 0;
        state.target = Some(buffer);
        pending.len()
    }

    /// Keeps lines pending again (the invocation's log is closed).
    pub(crate) fn detach(&self) {
        self.lock().target = None;
    }

    /// Removes and returns the pending lines.
    pub(crate) fn take_pending(&self) -> Vec<String> {
        let mut state = self.lock();
        state.pending_bytes = 0;
        std::mem::take(&mut state.pending).into()
    }
}

/// Reads an instance's output pipe: a task reads it as data arrives, and
/// [`OutputReader::drain`] reads what is left right away. Dropping it stops the task.
///
/// While an invocation runs the pipe can be made quiet ([`OutputReader::quiet`]): out of
/// the reactor, so that a line the process writes wakes no thread (each wake-up was a
/// context switch of a runtime worker, two or three per request of a web function that
/// logs its requests); the invocation's end drains it and hands it back to the task.
#[derive(Debug)]
pub(crate) struct OutputReader {
    shared: Arc<ReaderShared>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
struct ReaderShared {
    sink: Arc<OutputSink>,
    /// Held while reading, so that the task and a drain never split a line between them.
    state: Mutex<ReadState>,
}

/// The pipe: watched by the reactor (the task reads it as data arrives), or quiet.
#[derive(Debug)]
enum Pipe {
    Watched(pipe::Receiver),
    Quiet(OwnedFd),
    /// It could not be moved back into the reactor (the runtime is stopping).
    Gone,
}

#[derive(Debug)]
struct ReadState {
    pipe: Pipe,
    lines: Lines,
    buf: Vec<u8>,
    eof: bool,
    /// The task, waiting while the pipe is quiet.
    task: Option<Waker>,
}

impl Drop for OutputReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OutputReader {
    /// Starts reading `pipe` into `sink`.
    pub(crate) fn spawn(pipe: pipe::Receiver, sink: Arc<OutputSink>) -> Self {
        let shared = Arc::new(ReaderShared {
            sink,
            state: Mutex::new(ReadState {
                pipe: Pipe::Watched(pipe),
                lines: Lines {
                    partial: Vec::new(),
                },
                buf: vec![0u8; 16 * 1024],
                eof: false,
                task: None,
            }),
        });
        let task = tokio::spawn(read_loop(shared.clone()));
        Self { shared, task }
    }

    /// Reads everything already written to the pipe (a partial last line included) into
    /// the sink, without waiting, and hands the pipe back to the task if it was quiet.
    pub(crate) fn drain(&self) {
        self.shared.read_available(true);
        self.watch();
    }

    /// Hands a quiet pipe back to the reactor and the task.
    fn watch(&self) {
        let mut state = self.shared.lock();
        if let Pipe::Quiet(_) = state.pipe {
            let Pipe::Quiet(fd) = std::mem::replace(&mut state.pipe, Pipe::Gone) else {
                return;
            };
            // Fails only when the runtime is stopping; the drains still read it then.
            if let Ok(rx) = pipe::Receiver::from_owned_fd_unchecked(fd) {
                state.pipe = Pipe::Watched(rx);
            }
            if let Some(task) = state.task.take() {
                task.wake();
            }
        }
    }

    /// Takes the pipe out of the reactor until the next [`drain`](Self::drain): what the
    /// process writes meanwhile waits in the pipe (64 KiB) and wakes nobody.
    pub(crate) fn quiet(&self) {
        let mut state = self.shared.lock();
        if let Pipe::Watched(_) = state.pipe {
            let Pipe::Watched(rx) = std::mem::replace(&mut state.pipe, Pipe::Gone) else {
                return;
            };
            // Deregistering fails only for a pipe the reactor no longer has.
            if let Ok(fd) = rx.into_nonblocking_fd() {
                state.pipe = Pipe::Quiet(fd);
            }
        }
    }

    /// Reads what the pipe holds now, keeping a partial last line for its end (while an
    /// invocation runs, so that a quiet pipe never fills up); a process that writes much
    /// (over [`CHATTY_BYTES`] since the last look) has its pipe watched again, as between
    /// invocations.
    pub(crate) fn read_some(&self) {
        if self.shared.read_available(false) >= CHATTY_BYTES {
            self.watch();
        }
    }
}

/// What a quiet pipe may take between two looks before it is watched again.
const CHATTY_BYTES: usize = 16 * 1024;

impl ReaderShared {
    fn lock(&self) -> MutexGuard<'_, ReadState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads what is in the pipe without waiting, and flushes a partial line when
    /// `whole` or at end of file; how many bytes it read.
    ///
    /// It reads the pipe itself rather than through tokio's `try_read`, which answers
    /// "would block" without a `read` while the reactor has not yet seen the pipe's
    /// readiness: a result that arrives first (on another socket, handled by another
    /// worker) would otherwise close the log before lines already in the pipe.
    fn read_available(&self, whole: bool) -> usize {
        let mut guard = self.lock();
        let state = &mut *guard;
        let mut total = 0;
        while !state.eof {
            let read = match &state.pipe {
                Pipe::Watched(rx) => rustix::io::read(rx, &mut state.buf),
                Pipe::Quiet(fd) => rustix::io::read(fd, &mut state.buf),
                Pipe::Gone => Err(rustix::io::Errno::BADF),
            };
            match read {
                Ok(0) => state.eof = true,
                Ok(n) => {
                    total += n;
                    state.lines.feed(&state.buf[..n], &self.sink);
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => state.eof = true,
            }
        }
        if whole || state.eof {
            state.lines.flush(&self.sink);
        }
        total
    }

    /// Whether the watched pipe is readable (or failed); the task waits while it is
    /// quiet.
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut state = self.lock();
        match &state.pipe {
            Pipe::Watched(rx) => rx.poll_read_ready(cx).map(|r| r.is_ok()),
            Pipe::Quiet(_) => {
                state.task = Some(cx.waker().clone());
                Poll::Pending
            }
            Pipe::Gone => Poll::Ready(false),
        }
    }
}

#[derive(Debug)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn feed(&mut self, mut data: &[u8], sink: &OutputSink) {
        while let Some(pos) = data.iter().position(|b| *b == b'\n') {
            self.partial.extend_from_slice(&data[..pos]);
            self.emit(sink);
            data = &data[pos + 1..];
        }
        self.partial.extend_from_slice(data);
        while self.partial.len() > MAX_PARTIAL_BYTES {
            let rest = self.partial.split_off(MAX_PARTIAL_BYTES);
            self.emit(sink);
            self.partial = rest;
        }
    }

    fn emit(&mut self, sink: &OutputSink) {
        let bytes = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
        sink.line(&String::from_utf8_lossy(bytes));
        self.partial.clear();
    }

    fn flush(&mut self, sink: &OutputSink) {
        if !self.partial.is_empty() {
            self.emit(sink);
        }
    }
}

async fn read_loop(shared: Arc<ReaderShared>) {
    loop {
        if !std::future::poll_fn(|cx| shared.poll_readable(cx)).await {
            shared.read_available(true);
            return;
        }
        if read_available_keeping_partial(&shared) {
            return;
        }
    }
}

/// Like [`ReaderShared::read_available`], but through tokio's `try_read`, which clears
/// the readiness the task waits on, and a partial line waits for its end (the task
/// reads as data arrives, mid-line).
fn read_available_keeping_partial(shared: &ReaderShared) -> bool {
    let mut guard = shared.lock();
    let state = &mut *guard;
    while !state.eof {
        let Pipe::Watched(rx) = &state.pipe else {
            // Made quiet meanwhile: the invocation's drain reads it.
            return false;
        };
        match rx.try_read(&mut state.buf) {
            Ok(0) => {
                state.eof = true;
                state.lines.flush(&shared.sink);
            }
            Ok(n) => state.lines.feed(&state.buf[..n], &shared.sink),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                state.eof = true;
                state.lines.flush(&shared.sink);
            }
        }
    }
    state.eof
}
