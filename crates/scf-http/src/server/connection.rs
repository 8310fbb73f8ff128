//! One connection's life: the per-peer cap, the deadline for its first request, the idle
//! deadline between requests, and its graceful end at shutdown.
//!
//! hyper's own timers do not cover a connection that never sends a whole request line:
//! the auto (HTTP/1 or h2c) builder first reads enough bytes to tell the protocol, with no
//! timeout, and an HTTP/2 connection that sent its preface and SETTINGS but no stream has
//! none either. So each connection is watched here, whatever its protocol: it is dropped
//! when its first request has not arrived within [`Limits::first_request_timeout`], and
//! closed when no request has been in flight for [`Limits::idle_timeout`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::Instant;

use super::request_body::{Asked, BodyBudget, GuardedBody};
use super::Serves;
use crate::limits::Limits;
use crate::service::ScfService;

/// Open connections per peer IP address, shared by every listener of a server.
#[derive(Debug, Default)]
pub(super) struct PeerCounts {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of a peer; counted down on drop.
pub(super) struct PeerSlot {
    counts: Arc<PeerCounts>,
    ip: IpAddr,
}

impl PeerCounts {
    /// A slot for a connection from `ip`, or `None` when it already has `cap` open.
    pub(super) fn take(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<PeerSlot> {
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// What the watcher knows of a connection's requests.
struct Activity {
    started: Instant,
    any_request: AtomicBool,
    in_flight: AtomicUsize,
    /// Milliseconds from `started` to the end of the last request.
    last_end_ms: AtomicU64,
    /// Wakes the watcher when the first request starts, so that it trades the
    /// first-request deadline for the idle one. Later requests wake nothing: a request
    /// only ever moves the idle deadline later, so the watcher sleeps until the deadline
    /// it computed and looks again then (waking the connection's task at every request's
    /// start and end, and re-arming its timer, cost the gateway several microseconds of
    /// CPU per request).
    first_request: tokio::sync::Notify,
}

impl Activity {
    fn since_start_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        if !activity.any_request.swap(true, Ordering::AcqRel) {
            activity.first_request.notify_one();
        }
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .last_end_ms
            .store(self.0.since_start_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What [`serve_connection`] needs besides the stream.
pub(super) struct ConnectionParts {
    pub(super) peer: SocketAddr,
    pub(super) serves: Serves,
    pub(super) service: ScfService,
    pub(super) builder: Arc<auto::Builder<TokioExecutor>>,
    pub(super) limits: Limits,
    pub(super) stop: watch::Receiver<bool>,
    pub(super) permit: OwnedSemaphorePermit,
    pub(super) slot: PeerSlot,
    pub(super) budget: BodyBudget,
}

/// Serves one connection until it ends, its deadlines pass, or shutdown.
pub(super) async fn serve_connection(stream: TcpStream, parts: ConnectionParts) {
    let ConnectionParts {
        peer,
        serves,
        service,
        builder,
        limits,
        mut stop,
        permit,
        slot,
        budget,
    } = parts;
    let _held = (permit, slot);
    let activity = Arc::new(Activity {
        started: Instant::now(),
        any_request: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        last_end_ms: AtomicU64::new(0),
        first_request: tokio::sync::Notify::new(),
    });
    let seen = activity.clone();
    let (discard_bound, discard_time) = (limits.max_discard_bytes, limits.body_read_timeout);
    let svc = service_fn(move |request: http::Request<Incoming>| {
        let service = service.clone();
        let guard = InFlight::start(&seen);
        let (parts, body) = request.into_parts();
        let body = GuardedBody::new(body, budget.clone());
        let rest = body.clone();
        let asked = Asked::of(&parts.headers);
        let request = http::Request::from_parts(parts, body);
        async move {
            let response = service.call(request, peer, serves).await;
            rest.finish(asked, discard_bound, discard_time).await;
            drop(guard);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    loop {
        let next_check = next_deadline(&activity, &limits);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "scf-http: connection ended with an error");
                }
                return;
            }
            () = stopped(&mut stop) => break,
            () = activity.first_request.notified(), if !activity.any_request.load(Ordering::Acquire) => {}
            _ = tokio::time::sleep_until(next_check) => {
                if !activity.any_request.load(Ordering::Acquire) {
                    if activity.started.elapsed() >= limits.first_request_timeout {
                        // Nothing a client could read was started: drop the socket.
                        tracing::debug!(%peer, "scf-http: no request within the first-request deadline; closing");
                        return;
                    }
                } else if is_idle_for(&activity, limits.idle_timeout) {
                    tracing::debug!(%peer, "scf-http: connection idle; closing");
                    conn.as_mut().graceful_shutdown();
                    // An idle HTTP/1 connection closes at once; HTTP/2 sends GOAWAY and
                    // closes when the peer has read it, or after a second.
                    let _ = tokio::time::timeout(Duration::from_secs(1), conn.as_mut()).await;
                    return;
                }
            }
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Resolves when shutdown has started (holding no borrow of the flag).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// When the watcher should look again: the first-request deadline until a request came,
/// then the end of the idle time after the last request ended.
fn next_deadline(activity: &Activity, limits: &Limits) -> Instant {
    if !activity.any_request.load(Ordering::Acquire) {
        return activity.started + limits.first_request_timeout;
    }
    if activity.in_flight.load(Ordering::Acquire) > 0 {
        return Instant::now() + limits.idle_timeout;
    }
    let last = Duration::from_millis(activity.last_end_ms.load(Ordering::Acquire));
    activity.started + last + limits.idle_timeout
}

fn is_idle_for(activity: &Activity, idle: Duration) -> bool {
    if activity.in_flight.load(Ordering::Acquire) > 0 {
        return false;
    }
    let last = activity.last_end_ms.load(Ordering::Acquire);
    let now = activity.since_start_ms();
    Duration::from_millis(now.saturating_sub(last)) >= idle
}
