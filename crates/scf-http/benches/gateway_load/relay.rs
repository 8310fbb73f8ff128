//! The bare relay of the `gateway_load` bench (`--serve relay`, `relay1`): the least a
//! server can do to answer through another process, and its child (`--relay-child`).

use std::convert::Infallible;
use std::io::{BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Most children the relay starts: as many requests as that are in a child at once, the
/// others wait for one to come back.
const RELAY_CHILDREN: usize = 64;

/// The request the relay rows send: the body of `invoke-load.sh`'s Rust hello `Invoke`.
pub(crate) const RELAY_REQUEST: &[u8] =
    br#"{"FunctionName":"rust-hello","ClientContext":"{\"key\":\"abctest\"}"}"#;

/// The answer frame's payload: the Rust hello's answer shape.
const RELAY_ANSWER: &[u8] = br#"{"hello":"abctest"}"#;

/// The bare relay: the least a server can do to answer through another process. Each
/// request's body goes as one frame (kind byte, 4-byte big-endian length, payload) to an
/// idle child of the pool on its Unix socket, and the child's answer frame is the
/// response's body. Nothing else: no parsing, no logs, no timers.
pub(crate) async fn serve_relay() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let relay = Arc::new(Relay {
        exe: std::env::current_exe().expect("own path"),
        idle: std::sync::Mutex::new(Vec::new()),
        slots: tokio::sync::Semaphore::new(RELAY_CHILDREN),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let relay = relay.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| relay.clone().answer(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    port
}

struct Relay {
    exe: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<RelayChild>>,
    /// One permit per child that may be busy: at most [`RELAY_CHILDREN`] exist.
    slots: tokio::sync::Semaphore,
}

impl Relay {
    async fn answer(
        self: Arc<Self>,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let status = |code: u16| {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = http::StatusCode::from_u16(code).unwrap_or_default();
            Ok(r)
        };
        let Ok(body) = req.into_body().collect().await else {
            return status(400);
        };
        let Ok(_slot) = self.slots.acquire().await else {
            return status(503);
        };
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut child = match idle {
            Some(child) => child,
            None => match RelayChild::spawn(&self.exe) {
                Ok(child) => child,
                Err(_) => return status(502),
            },
        };
        match child.exchange(&body.to_bytes()).await {
            Ok(answer) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(child);
                }
                Ok(Response::new(Full::new(answer)))
            }
            // The child is gone or out of step: dropped, a new one takes its place.
            Err(_) => status(502),
        }
    }
}

/// One child of the relay and its end of the socket pair.
struct RelayChild {
    /// Registered for readability only: a Unix stream socket reports "writable" each time
    /// the other end reads, which would wake the runtime once per request for nothing
    /// (as scf-process's frame transport does).
    sock: tokio::io::unix::AsyncFd<std::os::unix::net::UnixStream>,
    buf: Vec<u8>,
    out: Vec<u8>,
    _process: Child,
}

impl RelayChild {
    /// Starts this binary as `--relay-child 0`, the other end of a socket pair as its
    /// standard input.
    fn spawn(exe: &std::path::Path) -> std::io::Result<Self> {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
        let process = Command::new(exe)
            .args(["--relay-child", "0"])
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        ours.set_nonblocking(true)?;
        Ok(Self {
            sock: register_readable(ours)?,
            buf: Vec::with_capacity(4096),
            out: Vec::with_capacity(4096),
            _process: process,
        })
    }

    /// Writes `payload` as one `I` frame and reads the answer frame's payload.
    async fn exchange(&mut self, payload: &[u8]) -> std::io::Result<Bytes> {
        use std::io::{Error, ErrorKind, Read};

        let len = u32::try_from(payload.len()).map_err(|_| Error::from(ErrorKind::InvalidInput))?;
        self.out.clear();
        self.out.push(b'I');
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(payload);
        let mut data = &self.out[..];
        while !data.is_empty() {
            match self.sock.get_ref().write(data) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // The socket's buffer is full (never, for the bench's small frames).
                Err(e) if e.kind() == ErrorKind::WouldBlock => tokio::task::yield_now().await,
                Err(e) => return Err(e),
            }
        }
        self.buf.clear();
        let mut want = HEAD;
        while self.buf.len() < want {
            let have = self.buf.len();
            self.buf.resize(have + (want - have).max(4096), 0);
            let mut ready = self.sock.readable().await?;
            match ready.try_io(|s| s.get_ref().read(&mut self.buf[have..])) {
                Ok(Ok(0)) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(Ok(got)) => {
                    self.buf.truncate(have + got);
                    if self.buf.len() >= HEAD {
                        let len = u32::from_be_bytes([
                            self.buf[1],
                            self.buf[2],
                            self.buf[3],
                            self.buf[4],
                        ]);
                        want = HEAD + usize::try_from(len).unwrap_or(usize::MAX);
                    }
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => self.buf.truncate(have),
            }
        }
        if self.buf.len() != want {
            return Err(ErrorKind::InvalidData.into());
        }
        Ok(Bytes::copy_from_slice(&self.buf[HEAD..]))
    }
}

/// A frame's head: the kind byte and the 4-byte big-endian length.
const HEAD: usize = 5;

/// Registers `sock` with the reactor for readability only.
// The safe constructor is deprecated in favour of an `unsafe` one whose condition (the fd
// stays open and the same while registered) a `UnixStream`, which owns its fd, meets.
#[allow(deprecated)]
fn register_readable(
    sock: std::os::unix::net::UnixStream,
) -> std::io::Result<tokio::io::unix::AsyncFd<std::os::unix::net::UnixStream>> {
    tokio::io::unix::AsyncFd::with_interest(sock, tokio::io::Interest::READABLE)
}

/// The relay's child: `--relay-child 0` (the socket is its standard input) or
/// `--relay-child PATH` (it connects to the socket there). A plain blocking loop, as a
/// minimal runtime would be: read a frame, write the fixed answer frame, read the next;
/// it ends when the relay closes its end.
pub(crate) fn relay_child(target: &str) {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    let sock = if target == "0" {
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(UnixStream::from)
    } else {
        UnixStream::connect(target)
    };
    let Ok(sock) = sock else {
        std::process::exit(2);
    };
    let mut answer = vec![b'O'];
    answer.extend_from_slice(&(RELAY_ANSWER.len() as u32).to_be_bytes());
    answer.extend_from_slice(RELAY_ANSWER);
    // Buffered: one read takes a whole small frame, head and payload.
    let mut reader = BufReader::with_capacity(64 * 1024, &sock);
    let mut writer = &sock;
    let mut head = [0_u8; HEAD];
    let mut payload = Vec::new();
    loop {
        if reader.read_exact(&mut head).is_err() {
            return;
        }
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        payload.resize(len, 0);
        if reader.read_exact(&mut payload).is_err() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}
