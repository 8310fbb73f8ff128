//! What a [`Server`](super::Server) is configured with: its listeners and what each serves,
//! and the errors a configuration can have.

use std::net::SocketAddr;

use crate::apigw::{Route, Routes};
use crate::auth::Credentials;
use crate::limits::Limits;

use super::Mount;

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
    /// The operational endpoints only, `GET /healthz` and `GET /metrics` (which need no
    /// signature, and name every function with its counts). When a server has such a
    /// listener, the other listeners do not serve them: put it on loopback (or a private
    /// network) when the API is public.
    Ops,
}

impl Serves {
    pub(crate) fn includes_api(self) -> bool {
        matches!(self, Serves::Api | Serves::Both)
    }
}

/// One address to listen on and what it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listen {
    /// The address (port 0 picks a free port; see [`RunningServer::local_addrs`](crate::RunningServer::local_addrs)).
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

/// Everything a [`Server`](crate::Server) is configured with.
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
    /// A route table to match against instead of `routes`, replaceable while the server
    /// runs (`None`, the default: `routes`, fixed).
    pub live_routes: Option<crate::apigw::LiveRoutes>,
    /// Limits.
    pub limits: Limits,
    /// `requestContext.serviceId` of gateway events. Default `service-local`.
    pub service_id: String,
    /// Whether `GET /healthz` and `GET /metrics` are served at all: on the
    /// [`Serves::Ops`] listeners when there are some, else on every listener (where they
    /// take precedence over gateway routes). Default true.
    pub ops_endpoints: bool,
    /// Whether the cloud API refuses a signature it has accepted before within the
    /// timestamp window (a replayed request). Off by default, as on SCF, where a signed
    /// request may be replayed for 5 minutes; see [`auth`](crate::auth).
    pub replay_cache: bool,
    /// Whether connections may speak HTTP/2 (prior knowledge, `h2c`) besides HTTP/1.1.
    /// Default true.
    pub http2: bool,
    /// Whether the server shuts down on SIGTERM and Ctrl-C. Default true.
    pub handle_signals: bool,
    /// Whether shutting down the server also shuts down the invoker (after in-flight
    /// requests end). Default true.
    pub shutdown_invoker: bool,
    /// Services of the host's own under path prefixes of the API's listeners (`scf
    /// serve`'s console at `/console`). Default none.
    pub mounts: Vec<Mount>,
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
            live_routes: None,
            limits: Limits::default(),
            service_id: "service-local".into(),
            ops_endpoints: true,
            replay_cache: false,
            http2: true,
            handle_signals: true,
            shutdown_invoker: true,
            mounts: Vec::new(),
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

    /// Mounts `mount` on the API's listeners; for chaining.
    pub fn with_mount(mut self, mount: Mount) -> Self {
        self.mounts.push(mount);
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
    /// A SecretId or SecretKey is empty.
    #[error("ServerConfig.credentials: {0}")]
    Credentials(#[from] crate::auth::CredentialsError),
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
