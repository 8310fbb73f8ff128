//! SCF's Custom Runtime API, served to one instance on a loopback port.
//!
//! Four endpoints (scf-spec 3.1): `POST /runtime/init/ready` (the first call counts),
//! `GET /runtime/invocation/next` (a long poll that answers with the event and the headers
//! `request_id`, `memory_limit_in_mb`, `time_limit_in_ms`; asked again within one
//! invocation it answers with the same event), `POST /runtime/invocation/response` and
//! `POST /runtime/invocation/error` (the first push of either is final; later pushes are
//! answered `200` and ignored).
//!
//! Each instance gets its own server, so that "one invocation at a time" needs no routing:
//! whatever arrives on this port belongs to this instance's current invocation.
//!
//! `/next` also carries `x-scf-context`, the invocation's whole `context` as JSON (ASCII
//! only), so that the bundled Python and Node.js bootstraps hand the function exactly the
//! context the host built. A third-party bootstrap can ignore it.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

mod local;
pub(crate) use local::LocalClient;

/// Largest response or error body a runtime may push, in bytes. Past it the push is refused
/// with `413` and the invocation ends with 407 (the invoker applies SCF's 6 MB rule to
/// what is accepted).
pub(crate) const MAX_PUSH_BYTES: usize = 32 * 1024 * 1024;

/// How an invocation ended, as the runtime reported it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `POST /runtime/invocation/response` with this body.
    Response(Bytes),
    /// `POST /runtime/invocation/error` with this body.
    Error(Bytes),
    /// A push whose body was over [`MAX_PUSH_BYTES`].
    TooLarge,
    /// A web function's integration response, made as a value (never serialized).
    Value(serde_json::Value),
}

/// One invocation handed to the runtime.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) request_id: String,
    pub(crate) event: Bytes,
    pub(crate) memory_limit_in_mb: u64,
    pub(crate) time_limit_in_ms: u64,
    /// The `context` as ASCII JSON, for the `x-scf-context` header.
    pub(crate) context_json: String,
}

#[derive(Debug)]
struct Current {
    dispatch: Dispatch,
    fetched: AtomicBool,
    outcome: Mutex<Option<oneshot::Sender<Outcome>>>,
}

impl Current {
    fn answered(&self) -> bool {
        lock(&self.outcome).is_none()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded data stays consistent across a panic (a take or a replace), so keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug)]
struct Shared {
    /// Set for an API on the host's loopback: only this instance's processes may connect.
    owner: std::sync::OnceLock<crate::peer::Owner>,
    /// Whether connections are checked against `owner` (refused while it is unset).
    checked: AtomicBool,
    ready: watch::Sender<bool>,
    next_before_ready: AtomicBool,
    current: watch::Sender<Option<Arc<Current>>>,
}

/// The API server of one instance. Dropping it stops the server and closes every
/// connection (a pending long poll included).
#[derive(Debug)]
pub(crate) struct RuntimeApi {
    shared: Arc<Shared>,
    port: u16,
    task: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RuntimeApi {
    /// Binds `127.0.0.1:<ephemeral>` and starts serving.
    pub(crate) async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        Self::serve_on(listener)
    }

    /// Serves on `listener`, a socket bound elsewhere (inside an instance's network
    /// namespace).
    pub(crate) fn serve(listener: std::net::TcpListener) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        Self::serve_on(TcpListener::from_std(listener)?)
    }

    fn serve_on(listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            owner: std::sync::OnceLock::new(),
            checked: AtomicBool::new(false),
            ready: watch::Sender::new(false),
            next_before_ready: AtomicBool::new(false),
            current: watch::Sender::new(None),
        });
        let task = tokio::spawn(serve(listener, shared.clone()));
        Ok(Self { shared, port, task })
    }

    /// From now on, accepts connections only from processes of `owner` (an API on the
    /// host's loopback); until then, none.
    pub(crate) fn restrict_to(&self, owner: crate::peer::Owner) {
        let _ = self.shared.owner.set(owner);
        self.shared.checked.store(true, Ordering::Release);
    }

    /// Whether connections are checked (see [`RuntimeApi::restrict_to`]).
    pub(crate) fn check_peers(&self) {
        self.shared.checked.store(true, Ordering::Release);
    }

    /// The port the server listens on (`SCF_RUNTIME_API_PORT`).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Waits until the runtime calls `POST /runtime/init/ready`.
    pub(crate) async fn ready(&self) {
        let mut rx = self.shared.ready.subscribe();
        // `wait_for` only fails when the sender is gone, and `self` holds it.
        let _ = rx.wait_for(|ready| *ready).await;
    }

    /// Whether the runtime asked for an event before it reported ready (a hint for the
    /// init-timeout message).
    pub(crate) fn asked_next_before_ready(&self) -> bool {
        self.shared.next_before_ready.load(Ordering::Relaxed)
    }

    /// Hands `dispatch` to the runtime's long poll; the receiver yields the first push.
    pub(crate) fn dispatch(&self, dispatch: Dispatch) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        let current = Arc::new(Current {
            dispatch,
            fetched: AtomicBool::new(false),
            outcome: Mutex::new(Some(tx)),
        });
        self.shared.current.send_replace(Some(current));
        rx
    }

    /// Whether the runtime has fetched the current invocation's event.
    pub(crate) fn fetched(&self) -> bool {
        self.shared
            .current
            .borrow()
            .as_ref()
            .is_some_and(|c| c.fetched.load(Ordering::Acquire))
    }

    /// Ends the current invocation on the host's side: later pushes are ignored and the
    /// next long poll waits for a new dispatch.
    pub(crate) fn clear(&self) {
        self.shared.current.send_replace(None);
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in the set so that aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    connections.spawn(async move {
                        if shared.checked.load(Ordering::Acquire) && !peer_allowed(&shared, &stream, peer).await {
                            return;
                        }
                        let service = service_fn(move |req| route(shared.clone(), req));
                        let conn = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "runtime API connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "runtime API accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Whether the process behind `peer` belongs to the instance; a refusal is logged.
async fn peer_allowed(
    shared: &Arc<Shared>,
    stream: &tokio::net::TcpStream,
    peer: SocketAddr,
) -> bool {
    let Ok(local) = stream.local_addr() else {
        return false;
    };
    let owner = shared.owner.get().cloned();
    let allowed = match owner {
        Some(owner) => tokio::task::spawn_blocking(move || owner.owns(peer, local))
            .await
            .unwrap_or(false),
        None => false,
    };
    if !allowed {
        tracing::warn!(%peer, port = local.port(), "refused a Runtime API connection from a process outside the instance");
    }
    allowed
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: &'static str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = req.uri().path();
    let method = req.method();
    Ok(match path {
        "/runtime/init/ready" if method == Method::POST => {
            // Drain the body (the Bash sample posts " ") so the connection stays usable.
            let _ = Limited::new(req.into_body(), MAX_PUSH_BYTES).collect().await;
            shared.ready.send_if_modified(|ready| !std::mem::replace(ready, true));
            reply(StatusCode::OK, "")
        }
        "/runtime/invocation/next" if method == Method::GET => next(&shared).await,
        "/runtime/invocation/response" if method == Method::POST => {
            push(&shared, req, Outcome::Response).await
        }
        "/runtime/invocation/error" if method == Method::POST => {
            push(&shared, req, Outcome::Error).await
        }
        "/runtime/init/ready"
        | "/runtime/invocation/next"
        | "/runtime/invocation/response"
        | "/runtime/invocation/error" => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: use GET for /runtime/invocation/next and POST for the others\n",
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "not found: the Custom Runtime API has /runtime/init/ready, /runtime/invocation/next, /runtime/invocation/response and /runtime/invocation/error\n",
        ),
    })
}

async fn next(shared: &Shared) -> Reply {
    if !*shared.ready.borrow() {
        shared.next_before_ready.store(true, Ordering::Relaxed);
    }
    let mut rx = shared.current.subscribe();
    loop {
        let current = rx.borrow_and_update().clone();
        if let Some(current) = current.filter(|c| !c.answered()) {
            current.fetched.store(true, Ordering::Release);
            return event_reply(&current.dispatch);
        }
        if rx.changed().await.is_err() {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "the instance is stopping\n",
            );
        }
    }
}

fn event_reply(d: &Dispatch) -> Reply {
    let mut r = Response::new(Full::new(d.event.clone()));
    let headers = r.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::try_from(value) {
            headers.insert(name, v);
        }
    };
    put("request_id", d.request_id.clone());
    put("memory_limit_in_mb", d.memory_limit_in_mb.to_string());
    put("time_limit_in_ms", d.time_limit_in_ms.to_string());
    put("x-scf-context", d.context_json.clone());
    r
}

async fn push(shared: &Shared, req: Request<Incoming>, make: fn(Bytes) -> Outcome) -> Reply {
    let outcome = match Limited::new(req.into_body(), MAX_PUSH_BYTES)
        .collect()
        .await
    {
        Ok(collected) => make(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Outcome::TooLarge,
        Err(_) => {
            return reply(
                StatusCode::BAD_REQUEST,
                "the request body could not be read\n",
            )
        }
    };
    let current = shared.current.borrow().clone();
    let Some(current) = current else {
        return reply(
            StatusCode::BAD_REQUEST,
            "no invocation in progress: fetch one with GET /runtime/invocation/next first\n",
        );
    };
    if !current.fetched.load(Ordering::Acquire) {
        return reply(
            StatusCode::BAD_REQUEST,
            "the invocation has not been fetched: call GET /runtime/invocation/next first\n",
        );
    }
    let Some(tx) = lock(&current.outcome).take() else {
        // The first push was final; this one is ignored, as on SCF.
        return reply(StatusCode::OK, "");
    };
    let too_large = matches!(outcome, Outcome::TooLarge);
    let _ = tx.send(outcome);
    if too_large {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the pushed body is over the size limit\n",
        )
    } else {
        reply(StatusCode::OK, "")
    }
}
