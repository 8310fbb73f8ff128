//! The lean transport `scf serve` offers its instances: length-prefixed frames on the Unix
//! socket named by `SCF_RUNTIME_SOCKET` (see scf-process's `frames` module for the host's
//! side). Each frame is one kind byte, a 4-byte big-endian length and that many bytes:
//! `R` (ready, sent once), then per invocation the host's `I` (request id, memory limit,
//! time limit and `context` JSON, each ended by `\n`, then the event) answered by `O`
//! (the response) or `E` (the error body). On SCF, where the variable is not set, the
//! runtime speaks the standard HTTP API.
//!
//! The socket is registered with the reactor for readability only (for writability only
//! while a result larger than the socket's buffer waits for room): a Unix stream socket
//! tells its registered waiters "writable" each time the host reads, which would wake the
//! runtime once per invocation for nothing.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::Next;

const HEAD: usize = 5;

/// The connection to the host's socket.
#[derive(Debug)]
pub(crate) struct FrameClient {
    stream: AsyncFd<UnixStream>,
    buf: BytesMut,
    out: Vec<u8>,
}

fn bad(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

impl FrameClient {
    pub(crate) async fn connect(path: &str) -> std::io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        stream.set_nonblocking(true)?;
        Ok(Self {
            stream: register(stream, Interest::READABLE)?,
            buf: BytesMut::with_capacity(16 * 1024),
            out: Vec::with_capacity(4096),
        })
    }

    async fn write_frame(&mut self, kind: u8, body: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(body.len()).map_err(|_| bad("a result over 4 GiB".into()))?;
        self.out.clear();
        self.out.push(kind);
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(body);
        let mut data = &self.out[..];
        while !data.is_empty() {
            match self.stream.get_ref().write(data) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let room = register(self.stream.get_ref().try_clone()?, Interest::WRITABLE)?;
                    let _ = room.writable().await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Says the init is done.
    pub(crate) async fn ready(&mut self) -> std::io::Result<()> {
        self.write_frame(b'R', b"").await
    }

    /// Sends a result (`error`: an error body) and waits for the next event.
    pub(crate) async fn push_then_next(
        &mut self,
        error: bool,
        body: &[u8],
    ) -> std::io::Result<Next> {
        self.write_frame(if error { b'E' } else { b'O' }, body)
            .await?;
        self.next().await
    }

    /// Waits for the next event.
    pub(crate) async fn next(&mut self) -> std::io::Result<Next> {
        self.fill_to(HEAD).await?;
        let kind = self.buf[0];
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
        if kind != b'I' {
            return Err(bad(format!(
                "the host sent a frame of kind 0x{kind:02x} where an event (I) was due"
            )));
        }
        let len =
            usize::try_from(len).map_err(|_| bad("an event over the address space".into()))?;
        self.fill_to(HEAD + len).await?;
        self.buf.advance(HEAD);
        let mut frame = self.buf.split_to(len).freeze();
        let mut field = || -> std::io::Result<Bytes> {
            let end = frame
                .iter()
                .position(|b| *b == b'\n')
                .ok_or_else(|| bad("an event frame with fewer than four header fields".into()))?;
            let value = frame.split_to(end);
            frame.advance(1);
            Ok(value)
        };
        let text = |b: Bytes| String::from_utf8_lossy(&b).into_owned();
        let request_id = text(field()?);
        let memory_limit_in_mb = text(field()?).parse().ok();
        let time_limit_in_ms = text(field()?).parse().ok();
        let _context_json = field()?;
        Ok(Next {
            request_id,
            memory_limit_in_mb,
            time_limit_in_ms,
            body: frame,
        })
    }

    async fn fill_to(&mut self, n: usize) -> std::io::Result<()> {
        while self.buf.len() < n {
            let have = self.buf.len();
            self.buf.resize(have + (n - have).clamp(4096, 1 << 20), 0);
            let read = loop {
                let mut ready = self.stream.readable().await?;
                let buf = &mut self.buf[have..];
                if let Ok(read) = ready.try_io(|s| s.get_ref().read(buf)) {
                    break read;
                }
            };
            let got = read.inspect_err(|_| self.buf.truncate(have))?;
            self.buf.truncate(have + got);
            if got == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
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
