//! The server: listeners, connections, limits against slow or greedy clients, and
//! graceful shutdown.

mod config;
mod connection;
mod mount;
mod request_body;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use scf_invoker::Invoker;

use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::service::{ApiService, GatewayService, HealthService, MetricsService, ScfService};

pub use config::{Listen, ServerConfig, ServerError, Serves};
use connection::{serve_connection, ConnectionParts, PeerCounts};
pub use mount::{Mount, MountFn};
use request_body::BodyBudget;

/// The HTTP server: the cloud API and the API Gateway trigger over one [`Invoker`].
///
/// [`Server::bind`] starts it; [`Server::service`] gives the socket-less service for
/// tests.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    service: ScfService,
}

/// Triggers a graceful shutdown of a running server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Starts the graceful shutdown: listeners close, in-flight requests finish (up to
    /// [`Limits::shutdown_grace`](crate::Limits::shutdown_grace)), then connections close.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        *self.tx.borrow()
    }
}

/// A server that is listening. Dropping it does not stop it; call
/// [`RunningServer::shutdown`] or use a [`ShutdownHandle`].
#[derive(Debug)]
pub struct RunningServer {
    addrs: Vec<(SocketAddr, Serves)>,
    handle: ShutdownHandle,
    task: tokio::task::JoinHandle<()>,
    service: ScfService,
}

impl RunningServer {
    /// The bound addresses, in the order configured.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs.iter().map(|(a, _)| *a).collect()
    }

    /// The first bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs
            .first()
            .map(|(a, _)| *a)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// A handle that shuts the server down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// The service behind the listeners (its metrics, its invoker).
    pub fn service(&self) -> &ScfService {
        &self.service
    }

    /// Waits until the server has stopped (after a shutdown by handle or signal).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// Shuts down gracefully and waits until done.
    pub async fn shutdown(self) {
        self.handle.shutdown();
        self.wait().await;
    }
}

impl Server {
    /// A server for `invoker`, configured by `config`. Checks the configuration.
    pub fn new(config: ServerConfig, invoker: Invoker) -> Result<Self, ServerError> {
        if config.listen.is_empty() {
            return Err(ServerError::NoListener);
        }
        config.credentials.check()?;
        if config.credentials.is_empty() {
            if let Some(l) = config
                .listen
                .iter()
                .find(|l| l.serves.includes_api() && !l.addr.ip().to_canonical().is_loopback())
            {
                return Err(ServerError::UnauthenticatedNonLoopback { addr: l.addr });
            }
        }
        let limits = &config.limits;
        for (field, zero) in [
            ("max_api_body_bytes", limits.max_api_body_bytes == 0),
            ("max_gateway_body_bytes", limits.max_gateway_body_bytes == 0),
            ("header_read_timeout", limits.header_read_timeout.is_zero()),
            ("body_read_timeout", limits.body_read_timeout.is_zero()),
            ("max_connections", limits.max_connections == 0),
            ("body_budget_bytes", limits.body_budget_bytes == 0),
            (
                "first_request_timeout",
                limits.first_request_timeout.is_zero(),
            ),
            ("idle_timeout", limits.idle_timeout.is_zero()),
            (
                "max_connections_per_peer",
                limits.max_connections_per_peer == 0,
            ),
            (
                "http2_max_concurrent_streams",
                limits.http2_max_concurrent_streams == 0,
            ),
            (
                "http2_keep_alive",
                limits.http2_keep_alive.0.is_zero() || limits.http2_keep_alive.1.is_zero(),
            ),
        ] {
            if zero {
                return Err(ServerError::Limit { field });
            }
        }
        let metrics = Arc::new(Metrics::new());
        let api = ApiService::build(
            invoker.clone(),
            config.credentials.clone(),
            config.limits.clone(),
            metrics.clone(),
        )
        .with_replay_cache(config.replay_cache);
        let mut gateway = GatewayService::new(invoker.clone(), config.routes.clone())
            .with_limits(config.limits.clone())
            .with_metrics(metrics.clone())
            .with_service_id(config.service_id.clone());
        if let Some(live) = &config.live_routes {
            gateway = gateway.with_live_routes(live.clone());
        }
        let service = ScfService {
            api,
            gateway,
            health: HealthService::new(invoker.clone()),
            metrics: MetricsService::new(metrics.clone(), invoker),
            metrics_data: metrics,
            ops_endpoints: config.ops_endpoints
                && !config.listen.iter().any(|l| l.serves == Serves::Ops),
            ops_listener: config.ops_endpoints,
            mounts: config.mounts.clone().into(),
        };
        Ok(Self { config, service })
    }

    /// The socket-less service (for tests: `server.service().oneshot(request)`).
    pub fn service(&self) -> ScfService {
        self.service.clone()
    }

    /// Binds every listener and starts serving in the background.
    ///
    /// Without credentials it says so on stderr: the cloud API then accepts unsigned
    /// requests, on loopback only.
    pub async fn bind(self) -> Result<RunningServer, ServerError> {
        let mut listeners = Vec::new();
        for l in &self.config.listen {
            let listener = TcpListener::bind(l.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: l.addr,
                    source,
                })?;
            let local = listener.local_addr().map_err(|source| ServerError::Bind {
                addr: l.addr,
                source,
            })?;
            listeners.push((listener, local, l.serves));
        }
        let addrs: Vec<(SocketAddr, Serves)> = listeners.iter().map(|(_, a, s)| (*a, *s)).collect();
        if self.config.credentials.is_empty()
            && self.config.listen.iter().any(|l| l.serves.includes_api())
        {
            let msg = format!(
                "scf-http: no credentials configured: the cloud API accepts unsigned requests, so it listens on loopback only ({})",
                addrs
                    .iter()
                    .filter(|(_, s)| s.includes_api())
                    .map(|(a, _)| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            tracing::warn!("{msg}");
            eprintln!("{msg}");
        }
        let (tx, rx) = watch::channel(false);
        let handle = ShutdownHandle { tx: Arc::new(tx) };
        let signals = self.config.handle_signals.then(Signals::register);
        let task = tokio::spawn(supervise(
            listeners,
            self.service.clone(),
            self.config.clone(),
            handle.clone(),
            rx,
            signals,
        ));
        Ok(RunningServer {
            addrs,
            handle,
            task,
            service: self.service,
        })
    }

    /// Binds, serves until SIGTERM or Ctrl-C (or forever when
    /// [`ServerConfig::handle_signals`] is off), and shuts down gracefully.
    pub async fn serve(self) -> Result<(), ServerError> {
        let running = self.bind().await?;
        running.wait().await;
        Ok(())
    }
}

/// SIGTERM and Ctrl-C (SIGINT), registered when the server binds so that a signal sent
/// right after [`Server::bind`] returns is already caught.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn recv(mut self) {
        #[cfg(unix)]
        {
            async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = next(&mut self.term) => {}
                _ = next(&mut self.int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn supervise(
    listeners: Vec<(TcpListener, SocketAddr, Serves)>,
    service: ScfService,
    config: ServerConfig,
    handle: ShutdownHandle,
    mut rx: watch::Receiver<bool>,
    signals: Option<Signals>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.limits.header_read_timeout)
        .keep_alive(true);
    let (ping_every, ping_answer) = config.limits.http2_keep_alive;
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(config.limits.http2_max_concurrent_streams)
        .max_pending_accept_reset_streams(Some(20))
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Some(ping_every))
        .keep_alive_timeout(ping_answer);
    if !config.http2 {
        builder = builder.http1_only();
    }
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(config.limits.max_connections));
    let peers = Arc::new(PeerCounts::default());
    let budget = BodyBudget::new(config.limits.body_budget_bytes);

    let mut loops = JoinSet::new();
    for (listener, addr, serves) in listeners {
        loops.spawn(accept_loop(
            listener,
            addr,
            serves,
            service.clone(),
            builder.clone(),
            permits.clone(),
            peers.clone(),
            budget.clone(),
            rx.clone(),
            config.limits.clone(),
        ));
    }

    tokio::select! {
        _ = rx.wait_for(|stop| *stop) => {}
        _ = async {
            match signals {
                Some(s) => s.recv().await,
                None => std::future::pending::<()>().await,
            }
        } => {
            tracing::info!("scf-http: shutdown signal received");
            handle.shutdown();
        }
    }
    let deadline = Instant::now() + config.limits.shutdown_grace;
    while loops.join_next().await.is_some() {}
    if config.shutdown_invoker {
        let left = deadline.saturating_duration_since(Instant::now());
        service.invoker().shutdown(left).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    serves: Serves,
    service: ScfService,
    builder: Arc<auto::Builder<TokioExecutor>>,
    permits: Arc<Semaphore>,
    peers: Arc<PeerCounts>,
    budget: BodyBudget,
    mut rx: watch::Receiver<bool>,
    limits: Limits,
) {
    let mut connections = JoinSet::new();
    let mut permit = None;
    loop {
        let held = match permit.take() {
            Some(p) => p,
            None => tokio::select! {
                _ = rx.wait_for(|stop| *stop) => break,
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            },
        };
        let accepted = tokio::select! {
            _ = rx.wait_for(|stop| *stop) => break,
            a = listener.accept() => a,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {
                permit = Some(held);
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%addr, %error, "scf-http: accept failed");
                permit = Some(held);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = peers.take(peer.ip(), limits.max_connections_per_peer) else {
            // Over the per-peer cap: closed at once; the slot serves the next client.
            tracing::debug!(%peer, "scf-http: too many connections from this peer; closing");
            drop(stream);
            permit = Some(held);
            continue;
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            ConnectionParts {
                peer,
                serves,
                service: service.clone(),
                builder: builder.clone(),
                limits: limits.clone(),
                stop: rx.clone(),
                permit: held,
                slot,
                budget: budget.clone(),
            },
        ));
    }
    drop(listener);
    let deadline = tokio::time::sleep(limits.shutdown_grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            _ = &mut deadline => {
                connections.abort_all();
                while connections.join_next().await.is_some() {}
                break;
            }
        }
    }
}
