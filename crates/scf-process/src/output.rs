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
use std::sync::{Arc, Mutex, MutexGuard};

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
#[derive(Debug)]
pub(crate) struct OutputReader {
    shared: Arc<ReaderShared>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
struct ReaderShared {
    pipe: pipe::Receiver,
    sink: Arc<OutputSink>,
    /// Held while reading, so that the task and a drain never split a line between them.
    state: Mutex<ReadState>,
}

#[derive(Debug)]
struct ReadState {
    lines: Lines,
    buf: Vec<u8>,
    eof: bool,
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
            pipe,
            sink,
            state: Mutex::new(ReadState {
                lines: Lines {
                    partial: Vec::new(),
                },
                buf: vec![0u8; 16 * 1024],
                eof: false,
            }),
        });
        let task = tokio::spawn(read_loop(shared.clone()));
        Self { shared, task }
    }

    /// Reads everything already written to the pipe (a partial last line included) into
    /// the sink, without waiting.
    pub(crate) fn drain(&self) {
        self.shared.read_available();
    }
}

impl ReaderShared {
    fn lock(&self) -> MutexGuard<'_, ReadState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads what is in the pipe without waiting and flushes a partial line; `true` at end
    /// of file.
    ///
    /// It reads the pipe itself rather than through tokio's `try_read`, which answers
    /// "would block" without a `read` while the reactor has not yet seen the pipe's
    /// readiness: a result that arrives first (on another socket, handled by another
    /// worker) would otherwise close the log before lines already in the pipe.
    fn read_available(&self) -> bool {
        let mut guard = self.lock();
        let state = &mut *guard;
        while !state.eof {
            match rustix::io::read(&self.pipe, &mut state.buf) {
                Ok(0) => state.eof = true,
                Ok(n) => state.lines.feed(&state.buf[..n], &self.sink),
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => state.eof = true,
            }
        }
        state.lines.flush(&self.sink);
        state.eof
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
        if shared.pipe.readable().await.is_err() {
            shared.read_available();
            return;
        }
        if read_available_keeping_partial(&shared) {
            return;
        }
    }
}

/// Like [`ReaderShared::read_available`], but a partial line waits for its end (the task
/// reads as data arrives, mid-line).
fn read_available_keeping_partial(shared: &ReaderShared) -> bool {
    let mut guard = shared.lock();
    let state = &mut *guard;
    while !state.eof {
        match shared.pipe.try_read(&mut state.buf) {
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
