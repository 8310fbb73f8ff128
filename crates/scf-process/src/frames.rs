//! The bundled runtimes' lean transport: length-prefixed frames on a Unix socket of the
//! instance's own, driven by the invoking task itself.
//!
//! The standard Custom Runtime API (`runtime_api`) costs each invocation two hand-offs
//! between tasks (the caller's task gives the event to the API connection's task, which
//! answers the long poll, reads the push and gives the result back) and an HTTP exchange
//! the other way. Our own bootstraps (scf-runtime, the Python bootstrap) do not need
//! HTTP: when `SCF_RUNTIME_SOCKET` names a socket they connect to it, send a ready frame
//! once, and from then on the invoking task writes each event frame to that connection
//! and reads the result frame from it, with no task in between. A bootstrap that ignores
//! the variable speaks the standard API as before; whichever says ready first is the one
//! the instance uses from then on (the socket's file is removed either way).
//!
//! The socket is bound in the instance's own `/tmp` (its scratch directory, which no
//! other instance sees), accepts one connection, and is unlinked once it has: only the
//! instance's bootstrap reaches it, as the sandbox requires (`docs/security.md`).
//!
//! The wire: every frame is one kind byte, a 4-byte big-endian length, and that many
//! bytes.
//!
//! | kind | direction | payload |
//! |---|---|---|
//! | `R` | instance → host | ready (init done); the payload is ignored |
//! | `I` | host → instance | `request_id`, `memory_limit_in_mb`, `time_limit_in_ms` and the `context` JSON, each ended by `\n`, then the event |
//! | `O` | instance → host | the response body (as `POST /runtime/invocation/response`) |
//! | `E` | instance → host | the error body (as `POST /runtime/invocation/error`) |
//! | `X` | instance → host | the error body, and the instance ends after it (a PHP fatal error or `exit()`): the host takes no next event to it, however soon it asks |
//!
//! The connection is registered with the reactor for readability only (and for
//! writability only while an event larger than the socket's buffer waits for room): a Unix
//! stream socket signals "writable" to its registered waiters each time the other end
//! reads (TCP does only after it was full), which would wake a runtime thread once per
//! invocation for nothing.
//!
//! A frame over [`MAX_PUSH_BYTES`] is refused (407, as an oversized push) and anything
//! else unexpected (an unknown kind, a second ready, bytes before the event) ends the
//! invocation with a message naming what came; either way the instance is not reused,
//! since the connection can no longer be trusted to be in step.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::UnixListener;

use crate::runtime_api::{Dispatch, Outcome, MAX_PUSH_BYTES};

/// The variable that names the socket to a bootstrap.
pub(crate) const SOCKET_VAR: &str = "SCF_RUNTIME_SOCKET";

/// The socket's file name in the instance's `/tmp`.
const SOCKET_NAME: &str = ".scf-runtime.sock";

/// Longest socket path the kernel takes (`sun_path` less its NUL).
const MAX_SOCKET_PATH: usize = 107;

const HEAD: usize = 5;

/// The socket, until the bootstrap connects. Dropping it removes the file.
#[derive(Debug)]
pub(crate) struct FrameListener {
    listener: UnixListener,
    path: PathBuf,
    /// The path the bootstrap is given (inside a sandbox, `/tmp/…`).
    pub(crate) announced: String,
}

impl Drop for FrameListener {
    fn drop(&mut self) {
        // Gone already (or never made): nothing to remove.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What went wrong on the socket, for the invocation's error message.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// The bootstrap closed the connection (or its end died) or the write failed.
    Closed,
    /// A frame over [`MAX_PUSH_BYTES`].
    TooLarge,
    /// A frame that does not belong here.
    Invalid(String),
}

impl FrameListener {
    /// Binds the socket in `tmp` (the instance's `/tmp`, seen there as `/tmp` when
    /// `sandboxed`). `None` when it cannot (a path over the kernel's limit, say): the
    /// instance then speaks the standard API only.
    pub(crate) fn bind(tmp: &Path, sandboxed: bool) -> Option<Self> {
        let path = tmp.join(SOCKET_NAME);
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return None;
        }
        let listener = match UnixListener::bind(&path) {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, path = %path.display(), "no runtime socket; the instance uses the HTTP Runtime API");
                return None;
            }
        };
        let announced = if sandboxed {
            format!("/tmp/{SOCKET_NAME}")
        } else {
            path.to_string_lossy().into_owned()
        };
        Some(Self {
            listener,
            path,
            announced,
        })
    }

    /// Takes the bootstrap's connection and waits for its ready frame.
    pub(crate) async fn accept_ready(self) -> Result<FrameConn, FrameError> {
        let (stream, _) = self
            .listener
            .accept()
            .await
            .map_err(|_| FrameError::Closed)?;
        drop(self);
        let stream = stream
            .into_std()
            .and_then(|s| register(s, Interest::READABLE))
            .map_err(|_| FrameError::Closed)?;
        let mut conn = FrameConn {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            out: Vec::with_capacity(4096),
            fetched: false,
            ending: false,
        };
        match conn.read_frame().await? {
            (b'R', _) => Ok(conn),
            (kind, _) => Err(FrameError::Invalid(format!(
                "a {} frame before its ready frame",
                kind_name(kind)
            ))),
        }
    }
}

/// The bootstrap's connection, after its ready frame.
#[derive(Debug)]
pub(crate) struct FrameConn {
    stream: AsyncFd<UnixStream>,
    buf: BytesMut,
    out: Vec<u8>,
    /// Whether the current invocation's event was written in full.
    pub(crate) fetched: bool,
    /// The bootstrap said its last answer was its last (`X`).
    ending: bool,
}

fn kind_name(kind: u8) -> String {
    if kind.is_ascii_graphic() {
        format!("{:?}", char::from(kind))
    } else {
        format!("0x{kind:02x}")
    }
}

impl FrameConn {
    /// Writes the event of `d` and reads the result. Dropped midway (a timeout), the
    /// connection is out of step: the caller kills the instance then.
    pub(crate) async fn invoke(&mut self, d: &Dispatch) -> Result<Outcome, FrameError> {
        self.fetched = false;
        if !self.buf.is_empty() {
            return Err(FrameError::Invalid(
                "bytes written before the event was sent".into(),
            ));
        }
        let out = &mut self.out;
        out.clear();
        out.push(b'I');
        out.extend_from_slice(&[0; 4]);
        for field in [
            d.request_id.as_bytes(),
            d.memory_limit_in_mb.to_string().as_bytes(),
            d.time_limit_in_ms.to_string().as_bytes(),
            d.context_json.as_bytes(),
        ] {
            out.extend_from_slice(field);
            out.push(b'\n');
        }
        out.extend_from_slice(&d.event);
        let len = u32::try_from(out.len() - HEAD)
            .map_err(|_| FrameError::Invalid("an event over 4 GiB".into()))?;
        out[1..HEAD].copy_from_slice(&len.to_be_bytes());
        write_all(&self.stream, out).await?;
        self.fetched = true;
        match self.read_frame().await {
            Ok((b'O', body)) => Ok(Outcome::Response(body)),
            Ok((b'E', body)) => Ok(Outcome::Error(body)),
            Ok((b'X', body)) => {
                self.ending = true;
                Ok(Outcome::Error(body))
            }
            Ok((kind, _)) => Err(FrameError::Invalid(format!(
                "a {} frame where a response (O) or error (E) frame was due",
                kind_name(kind)
            ))),
            Err(FrameError::TooLarge) => Ok(Outcome::TooLarge),
            Err(e) => Err(e),
        }
    }

    /// Whether the bootstrap is still there to take an event, asked between invocations,
    /// with no system call while nothing arrived: a bootstrap that died (or was killed)
    /// closes its end, which the reactor reports as readable; so does any byte written
    /// out of turn, which puts the connection out of step. Only when the reactor saw
    /// something (or the last read filled its buffer, leaving readiness set) does one
    /// `recv(MSG_PEEK)` tell which. A death the reactor has not seen yet is caught when
    /// the event's write fails (`EPIPE`) before the bootstrap took it.
    pub(crate) fn idle_alive(&self) -> bool {
        if self.ending {
            return false;
        }
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut ready = match self.stream.poll_read_ready(&mut cx) {
            std::task::Poll::Pending => return true,
            std::task::Poll::Ready(Ok(ready)) => ready,
            std::task::Poll::Ready(Err(_)) => return false,
        };
        let mut byte = [0_u8; 1];
        let peek = rustix::net::RecvFlags::PEEK | rustix::net::RecvFlags::DONTWAIT;
        match rustix::net::recv(self.stream.get_ref(), &mut byte, peek) {
            Err(rustix::io::Errno::AGAIN) => {
                ready.clear_ready();
                true
            }
            // EOF, a byte out of turn, or an error (a reset).
            _ => false,
        }
    }

    /// Reads one frame: its kind and payload.
    async fn read_frame(&mut self) -> Result<(u8, Bytes), FrameError> {
        self.fill_to(HEAD).await?;
        let kind = self.buf[0];
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if !matches!(kind, b'R' | b'O' | b'E' | b'X') {
            return Err(FrameError::Invalid(format!(
                "a frame of unknown kind {}",
                kind_name(kind)
            )));
        }
        if len > MAX_PUSH_BYTES {
            return Err(FrameError::TooLarge);
        }
        self.fill_to(HEAD + len).await?;
        self.buf.advance(HEAD);
        Ok((kind, self.buf.split_to(len).freeze()))
    }

    async fn fill_to(&mut self, n: usize) -> Result<(), FrameError> {
        while self.buf.len() < n {
            let have = self.buf.len();
            let want = (n - have).clamp(4096, 1 << 20);
            self.buf.resize(have + want, 0);
            let read = loop {
                let Ok(mut ready) = self.stream.readable().await else {
                    break Err(());
                };
                let buf = &mut self.buf[have..];
                let asked = buf.len();
                match ready.try_io(|s| s.get_ref().read(buf)) {
                    Ok(Ok(0) | Err(_)) => break Err(()),
                    Ok(Ok(got)) => {
                        // A short read drained the socket: its readiness is stale, and
                        // cleared so that [`FrameConn::idle_alive`] can trust it.
                        if got < asked {
                            ready.clear_ready();
                        }
                        break Ok(got);
                    }
                    Err(_would_block) => {}
                }
            };
            match read {
                Ok(got) => self.buf.truncate(have + got),
                Err(()) => {
                    self.buf.truncate(have);
                    return Err(FrameError::Closed);
                }
            }
        }
        Ok(())
    }
}

/// Registers `stream` with the reactor for `interest` only.
// The safe constructor is deprecated in favour of an `unsafe` one whose condition (the fd
// stays open and the same while registered) a `UnixStream`, which owns its fd, always meets.
#[allow(deprecated)]
fn register(stream: UnixStream, interest: Interest) -> std::io::Result<AsyncFd<UnixStream>> {
    AsyncFd::with_interest(stream, interest)
}

/// Writes all of `data`; when the socket's buffer is full, waits for room on a second
/// registration of it, for writability, made for that wait only.
async fn write_all(stream: &AsyncFd<UnixStream>, mut data: &[u8]) -> Result<(), FrameError> {
    while !data.is_empty() {
        // MSG_NOSIGNAL: a bootstrap that is gone is an error here, never a SIGPIPE.
        match rustix::net::send(stream.get_ref(), data, rustix::net::SendFlags::NOSIGNAL) {
            Ok(0) => return Err(FrameError::Closed),
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                let room = stream
                    .get_ref()
                    .try_clone()
                    .and_then(|s| register(s, Interest::WRITABLE))
                    .map_err(|_| FrameError::Closed)?;
                let _ = room.writable().await.map_err(|_| FrameError::Closed)?;
            }
            Err(_) => return Err(FrameError::Closed),
        }
    }
    Ok(())
}
