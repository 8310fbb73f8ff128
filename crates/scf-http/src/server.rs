//! The server: listeners, connections, limits against slow or greedy clients, and
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use scf_invoker::Invoker;

use crate::apigw::{Route, Routes};
use crate::auth::{Credentials, Verifier};
use crate::metrics::Metrics;
use crate::service::{ScfService, Shared};

/// Which endpoints a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Serves {
    /// The cloud API only: every request is an API call.
    Api,
    /// The API Gateway routes only.
    Gateway,
    /// Both: `POST /` with `X-TC-Action` is an API call, everything else a gateway request.
    Both,
}

impl Serves {
    fn includes_api(self) -> bool {
        matches!(self, Serves::Api | Serves::Both)
    }
}

/// One address to listen on and what it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listen {
    /// The address (port 0 picks a free port; see [`RunningServer::local_addrs`]).
    pub addr: SocketAddr,
    /// What it serves.
    pub serves: Serves,
}

impl Listen {
    /// A listener on `addr` serving `serves`.
    pub fn new(addr: SocketAddr, serves: Serves) -> Self {
        Self { addr, serves }
    }
}

/// Limits against large bodies, slow clients and too many connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest cloud API request body: 10 MB, the limit of a TC3-signed POST. A larger
    /// body is refused (`InvalidParameter.RequestTooLarge`) before it is read whole.
    pub max_api_body_bytes: u64,
    /// Largest gateway request body: 6 MB, the sync event limit (413 beyond).
    pub max_gateway_body_bytes: u64,
    /// Time a client has to send a request's headers (HTTP/1), also between requests on a
    /// kept-alive connection. Default 10 s.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body. Default 60 s.
    pub body_read_timeout: Duration,
    /// Most connections open at once; further clients wait in the listen backlog.
    /// Default 1024.
    pub max_connections: usize,
    /// How long shutdown lets in-flight requests finish before closing their connections.
    /// Default 30 s.
    pub shutdown_grace: Duration,
}

/// The largest body of a TC3-signed POST: 10 MB.
pub const MAX_API_BODY_BYTES: u64 = 10 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_api_body_bytes: MAX_API_BODY_BYTES,
            max_gateway_body_bytes: scf_invoker::MAX_SYNC_EVENT_BYTES as u64,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Everything a [`Server`] is configured with.
///
/// ```
/// use scf_http::{apigw::Route, Credentials, ServerConfig};
///
/// let config = ServerConfig::new("127.0.0.1:9000".parse().unwrap())
///     .with_credentials(Credentials::single("AKIDexample", "secret"))
///     .with_route(Route::new("ANY", "/hello/{name}", "hello").unwrap());
/// assert_eq!(config.listen.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen. Default: `127.0.0.1:9000` serving both endpoints.
    pub listen: Vec<Listen>,
    /// SecretId → SecretKey pairs the cloud API accepts. Empty (the default): requests
    /// are not authenticated, and API listeners must be on loopback.
    pub credentials: Credentials,
    /// API Gateway routes.
    pub routes: Routes,
    /// Limits.
    pub limits: Limits,
    /// `requestContext.serviceId` of gateway events. Default `service-local`.
    pub service_id: String,
    /// Whether `GET /healthz` and `GET /metrics` are served on every listener (they take
    /// precedence over gateway routes). Default true.
    pub ops_endpoints: bool,
    /// Whether connections may speak HTTP/2 (prior knowledge, `h2c`) besides HTTP/1.1.
    /// Default true.
    pub http2: bool,
    /// Whether the server shuts down on SIGTERM and Ctrl-C. Default true.
    pub handle_signals: bool,
    /// Whether shutting down the server also shuts down the invoker (after in-flight
    /// requests end). Default true.
    pub shutdown_invoker: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self::new(SocketAddr::from(([127, 0, 0, 1], 9000)))
    }
}

impl ServerConfig {
    /// One listener on `addr` serving both endpoints; no credentials, no routes.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            listen: vec![Listen::new(addr, Serves::Both)],
            credentials: Credentials::new(),
            routes: Routes::new(),
            limits: Limits::default(),
            service_id: "service-local".into(),
            ops_endpoints: true,
            http2: true,
            handle_signals: true,
            shutdown_invoker: true,
        }
    }

    /// Replaces the listeners with one on `addr` serving `serves`; for chaining.
    pub fn listen_on(mut self, addr: SocketAddr, serves: Serves) -> Self {
        self.listen = vec![Listen::new(addr, serves)];
        self
    }

    /// Adds a listener; for chaining.
    pub fn with_listener(mut self, addr: SocketAddr, serves: Serves) -> Self {
        self.listen.push(Listen::new(addr, serves));
        self
    }

    /// Sets the credentials; for chaining.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the routes; for chaining.
    pub fn with_routes(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// Adds a route; for chaining.
    pub fn with_route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Sets the limits; for chaining.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets whether SIGTERM / Ctrl-C shut the server down; for chaining.
    pub fn with_signals(mut self, handle_signals: bool) -> Self {
        self.handle_signals = handle_signals;
        self
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No listener is configured.
    #[error("ServerConfig.listen is empty: configure at least one address to listen on")]
    NoListener,
    /// The cloud API would accept unsigned requests from the network.
    #[error("no credentials are configured, so the cloud API would accept unsigned requests: it may listen on loopback only, not on {addr}. Configure ServerConfig.credentials, or listen on 127.0.0.1 / [::1]")]
    UnauthenticatedNonLoopback {
        /// The non-loopback address.
        addr: SocketAddr,
    },
    /// A limit is zero.
    #[error("Limits.{field} must be greater than zero")]
    Limit {
        /// The field.
        field: &'static str,
    },
    /// Binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

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
    /// [`Limits::shutdown_grace`]), then connections close.
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
        ] {
            if zero {
                return Err(ServerError::Limit { field });
            }
        }
        let verifier =
            (!config.credentials.is_empty()).then(|| Verifier::new(config.credentials.clone()));
        let service = ScfService {
            shared: Arc::new(Shared {
                invoker,
                verifier,
                routes: config.routes.clone(),
                limits: config.limits.clone(),
                metrics: Metrics::new(),
                service_id: config.service_id.clone(),
                ops_endpoints: config.ops_endpoints,
                started: OffsetDateTime::now_utc(),
            }),
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
    builder.http2().timer(TokioTimer::new());
    if !config.http2 {
        builder = builder.http1_only();
    }
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(config.limits.max_connections));

    let mut loops = JoinSet::new();
    for (listener, addr, serves) in listeners {
        loops.spawn(accept_loop(
            listener,
            addr,
            serves,
            service.clone(),
            builder.clone(),
            permits.clone(),
            rx.clone(),
            config.limits.shutdown_grace,
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
    mut rx: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            _ = rx.wait_for(|stop| *stop) => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = rx.wait_for(|stop| *stop) => break,
            a = listener.accept() => a,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%addr, %error, "scf-http: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            peer,
            serves,
            service.clone(),
            builder.clone(),
            rx.clone(),
            permit,
        ));
    }
    drop(listener);
    let deadline = tokio::time::sleep(grace);
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

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    serves: Serves,
    service: ScfService,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut rx: watch::Receiver<bool>,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    let svc = service_fn(move |request| service.clone().serve(request, peer, serves));
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "scf-http: connection ended with an error");
            }
            return;
        }
        _ = rx.wait_for(|stop| *stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
