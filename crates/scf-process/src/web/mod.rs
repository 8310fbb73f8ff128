//! Web functions (`Type: HTTP`): the instance is the function's own `scf_bootstrap`, an
//! HTTP server on port 9000, and each invocation is one HTTP request forwarded to it.
//!
//! The pool, the sandbox, init timing, the `Init Report`, the memory watchdog, timeouts
//! and logs are those of every [`ProcessFunction`](crate::ProcessFunction); what differs
//! is here:
//!
//! - **Ready** when port 9000 accepts a connection (within `InitTimeout`, else 446
//!   `PortBindingFailed`; a bootstrap that exits first is 405 `ContainerStateExitedByUser`).
//! - **The port**: with a private network namespace (the default where the host allows
//!   it) every instance has its own `127.0.0.1:9000`; the host connects to it from inside
//!   the namespace ([`netns::connect`](crate::netns)), so nothing outside the instance
//!   reaches it and instances never collide. Without one, each instance is given a free
//!   port of the host's loopback in `PORT` and must listen there (`export
//!   PORT=${PORT:-9000}` in `scf_bootstrap`); a server that insists on 9000 serves one
//!   instance at a time and the next one fails with 446.
//! - **One request at a time** per instance, over one kept-alive HTTP/1.1 connection
//!   (a new one when the server closed it).
//! - The event is an API Gateway event (what the gateway builds for a route, or what an
//!   `Invoke` caller sends); the return value is the integration response that stands
//!   for the server's HTTP response (see [`forward`]).

pub(crate) mod forward;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use scf_context::StreamHook;
use scf_handler::{FunctionError, FunctionStatus};
use tokio::sync::oneshot;

use crate::instance::{Exit, Instance};
use crate::runtime_api::Outcome;

/// The port a web function's server listens on, as on SCF.
pub(crate) const WEB_PORT: u16 = 9000;

/// How long a failed request waits for the server's process to exit.
const EXIT_GRACE: Duration = Duration::from_millis(200);

/// How often readiness is probed while the server starts.
const PROBE_INTERVAL: Duration = Duration::from_millis(5);

/// The future that reads and writes one HTTP/1.1 connection (hyper's dispatcher).
type Driver = Connection<TokioIo<tokio::net::TcpStream>, Full<Bytes>>;

/// A connection to an instance's server: the handle requests are sent on, and its
/// dispatcher, which is polled only while a request of this instance's is (on the
/// invocation's own task: no task of its own, no wake-up across threads); `None` once
/// the connection ended.
pub(crate) struct Conn {
    pub(crate) sender: SendRequest<Full<Bytes>>,
    pub(crate) driver: Option<Pin<Box<Driver>>>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("open", &self.driver.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs `fut` while polling the connection's dispatcher, which does the reading and
/// writing `fut` waits for.
pub(crate) async fn drive<F: Future>(driver: &mut Option<Pin<Box<Driver>>>, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if let Some(d) = driver.as_mut() {
            // Ends when the server or we close the connection; a request still waiting
            // on it then fails, with that error.
            if d.as_mut().poll(cx).is_ready() {
                *driver = None;
            }
        }
        fut.as_mut().poll(cx)
    })
    .await
}

/// An instance's HTTP server: where it listens, the connection to it, and whether the
/// current request reached it.
#[derive(Debug)]
pub(crate) struct WebPort {
    port: u16,
    /// The instance's network namespace; `None`: the port is on the host's loopback.
    netns: Option<std::fs::File>,
    conn: Mutex<Option<Conn>>,
    /// Set once the current request was handed to the server.
    pub(crate) sent: AtomicBool,
    /// Why the current request got no answer, if it did not.
    failed: Mutex<Option<String>>,
}

impl WebPort {
    /// The server of an instance: `port` inside `netns`, or on the host's loopback.
    pub(crate) fn new(port: u16, netns: Option<std::fs::File>) -> Arc<Self> {
        Arc::new(Self {
            port,
            netns,
            conn: Mutex::new(None),
            sent: AtomicBool::new(false),
            failed: Mutex::new(None),
        })
    }

    /// The port as the instance sees it (`9000`, or its host port).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Conn>> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new HTTP/1.1 connection to the server.
    pub(crate) async fn connect(self: &Arc<Self>) -> std::io::Result<Conn> {
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port));
        let stream = if self.netns.is_some() {
            let this = self.clone();
            let std_stream = tokio::task::spawn_blocking(move || match &this.netns {
                Some(ns) => crate::netns::connect(ns.as_fd(), addr, Duration::from_secs(2)),
                None => Err(std::io::Error::other("no network namespace")),
            })
            .await
            .map_err(std::io::Error::other)??;
            tokio::net::TcpStream::from_std(std_stream)?
        } else {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            stream
        };
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        Ok(Conn {
            sender,
            driver: Some(Box::pin(driver)),
        })
    }

    /// Waits until the server accepts a connection (kept for the first request).
    pub(crate) async fn ready(self: &Arc<Self>) {
        loop {
            if let Ok(conn) = self.connect().await {
                *self.lock() = Some(conn);
                return;
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// The kept connection when it is still open, else a new one; and whether it is the
    /// kept one (a request that fails on it before any answer may be sent again).
    pub(crate) async fn conn(self: &Arc<Self>) -> std::io::Result<(Conn, bool)> {
        let kept = self.lock().take();
        if let Some(mut conn) = kept {
            if conn.driver.is_some() && drive(&mut conn.driver, conn.sender.ready()).await.is_ok() {
                return Ok((conn, true));
            }
        }
        Ok((self.connect().await?, false))
    }

    /// Keeps `conn` for the next request.
    pub(crate) fn keep(&self, conn: Conn) {
        if conn.driver.is_some() {
            *self.lock() = Some(conn);
        }
    }

    /// Forgets the current request's state, before the next one.
    fn reset(&self) {
        self.sent.store(false, Ordering::Release);
        *self.failed.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether the current request was handed to the server.
    pub(crate) fn was_sent(&self) -> bool {
        self.sent.load(Ordering::Acquire)
    }
}

/// A port of the host's loopback that nothing listens on now, for an instance without a
/// network namespace of its own.
pub(crate) fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Waits until the instance is ready: its web server accepts a connection, or its
/// runtime called `POST /runtime/init/ready`.
pub(crate) async fn ready(instance: &Instance) {
    match &instance.web {
        Some(port) => port.ready().await,
        None => instance.api.ready().await,
    }
}

/// The init failure of a web function's instance: its bootstrap exited (405), or nothing
/// accepted connections on its port within `init_timeout` (446).
pub(crate) fn init_error(
    exit: Option<Exit>,
    init_timeout: Duration,
    port: Option<&WebPort>,
) -> FunctionError {
    let port = port.map_or(WEB_PORT, WebPort::port);
    match exit {
        Some(exit) => FunctionError::platform(
            FunctionStatus::ContainerStateExited,
            format!(
                "ContainerStateExitedByUser: scf_bootstrap exited ({exit}) before anything listened on port {port}"
            ),
        ),
        None => FunctionError::platform(
            FunctionStatus::PortBindingFailed,
            format!(
                "PortBindingFailed: nothing accepted connections on port {port} within the InitTimeout of {} ms; the instance was stopped (scf_bootstrap must start an HTTP server listening on 0.0.0.0:{port})",
                init_timeout.as_millis()
            ),
        ),
    }
}

/// Why a request to the server ended without an outcome.
#[derive(Debug)]
pub(crate) enum Cut {
    /// The server could not be reached or dropped the connection (the invocation fails
    /// as the process's exit).
    Gone,
    /// The client of a streamed response closed its connection before the end.
    ClientGone,
}

/// What the invocation waits for: the Runtime API's push, or a web function's answer.
pub(crate) enum Answer {
    /// An event function: the first push of its runtime.
    Api(oneshot::Receiver<Outcome>),
    /// A web function: the forward of its request, polled on the invocation's task.
    Web(Pin<Box<dyn Future<Output = Result<Outcome, Cut>> + Send>>),
}

impl Future for Answer {
    type Output = Result<Outcome, Cut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            // A dropped push: the server is stopping.
            Self::Api(rx) => Pin::new(rx).poll(cx).map(|r| r.map_err(|_| Cut::Gone)),
            Self::Web(fut) => fut.as_mut().poll(cx),
        }
    }
}

/// Sends the request `event` stands for to the instance's server; the answer is its
/// outcome, streamed to `stream` when the host gave one (see [`forward`]). The request
/// is made from the event as it is, never serialized (an event that is no HTTP request
/// is answered at once, with the error).
pub(crate) fn dispatch(
    port: Arc<WebPort>,
    event: &serde_json::Value,
    request_id: String,
    stream: Option<StreamHook>,
) -> Answer {
    port.reset();
    let request = forward::request(event, &request_id);
    Answer::Web(Box::pin(async move {
        let request = match request {
            Ok(request) => request,
            Err(outcome) => return Ok(outcome),
        };
        match forward::forward(&port, request, &request_id, stream).await {
            Ok(outcome) => Ok(outcome),
            Err(forward::Unreachable::ClientGone) => Err(Cut::ClientGone),
            Err(forward::Unreachable::Failed(why)) => {
                *port.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                // A server that crashed closed the connection a moment before its
                // process is seen to exit: that exit, with its status, is the better
                // answer, so the invocation waits for it a little.
                tokio::time::sleep(EXIT_GRACE).await;
                Err(Cut::Gone)
            }
        }
    }))
}

/// The client of a streamed response went away before its end (499); the instance,
/// which may still be writing it, is stopped.
pub(crate) fn client_gone() -> FunctionError {
    FunctionError::platform(
        FunctionStatus::RequestCanceled,
        "RequestCanceled: the client closed its connection before the response ended; the instance was stopped",
    )
}

/// A response body over 6 MB (410).
pub(crate) fn too_large() -> FunctionError {
    FunctionError::platform(
        FunctionStatus::WebResponseTooLarge,
        format!(
            "{}: the web server answered with more than {} bytes",
            FunctionStatus::WebResponseTooLarge.message(),
            forward::MAX_RESPONSE_BODY
        ),
    )
}

/// The server's process exited, or its connection failed, during a request (405).
pub(crate) fn exited(exit: &Exit, port: &WebPort) -> FunctionError {
    let why = port
        .failed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let what = match (&exit.status, why) {
        (Some(_), _) | (None, None) => format!("the web server's process exited ({exit})"),
        (None, Some(why)) => format!("the web server failed the request ({why})"),
    };
    FunctionError::platform(
        FunctionStatus::ContainerStateExited,
        "ContainerStateExitedByUser",
    )
    .with_stack_trace(format!(
        "{what} during the request; the instance was stopped and the next request gets a new one"
    ))
}
