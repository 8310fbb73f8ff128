//! `scf serve`: the cloud API and every gateway route of a template on one port, timers
//! firing on schedule, logs and the async queue in a store (SQLite under the data
//! directory by default, or the one `--store` names). Several `scf serve` processes on
//! one store are one deployment: each is a node with its own id (`--node-id`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scf_http::apigw::{Route, Routes};
use scf_http::{Credentials, Server, ServerConfig};
use scf_invoker::{host_and_pid, ConcurrencyScope, InvokeRequest, Invoker, InvokerConfig};
use scf_logs::InvocationType;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cron::Cron;
use crate::project::{invoker_with, open_store_url, scratch_root, PrintingStore, STORE_FILE};
use crate::store_url::{check_node_id, StoreUrl};
use crate::template::{Template, Trigger};

/// How long `scf serve` keeps log records by default: 7 days.
pub const DEFAULT_LOG_RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// What `scf serve` needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The template.
    pub template: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Logs and the async queue go here.
    pub data_dir: PathBuf,
    /// `--env-vars FILE`: variables by function name over the template's
    /// ([`env_vars`](crate::env_vars)).
    pub env_vars: Option<PathBuf>,
    /// `--watch`: reload a function when its code or layers change, and everything when
    /// the template does ([`watch`](crate::watch)).
    pub watch: bool,
    /// SecretId → SecretKey for the cloud API (empty: unauthenticated, loopback only).
    pub credentials: Credentials,
    /// Where `GET /healthz` and `GET /metrics` are served (`None`: on the API's listener
    /// when it is loopback, else on loopback at the next port; see [`Ops`]).
    pub ops: Option<Ops>,
    /// Whether a signature accepted once is refused for the rest of its window.
    pub replay_cache: bool,
    /// Log records older than this are deleted (`None`: kept for ever). Default 7 days,
    /// so that the data directory stays bounded. Async events are kept 3 days after they
    /// end, as on SCF.
    pub log_retention: Option<Duration>,
    /// The store (`None`: `sqlite:<data_dir>/logs.sqlite`).
    pub store: Option<StoreUrl>,
    /// This node's id (`None`: host name and process id, `myhost-12345`).
    pub node_id: Option<String>,
    /// Where concurrency limits are counted.
    pub concurrency: ConcurrencyMode,
    /// The concurrency limit of every function (`None`: SCF's 100).
    pub default_concurrency: Option<u32>,
    /// How long a node's claims on async events and concurrency slots last unrenewed:
    /// after a node dies, its work runs elsewhere this long later. Renewed every third of
    /// it (at most every second).
    pub lease: Duration,
}

/// Where `scf serve` counts a function's concurrency limit (`--concurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConcurrencyMode {
    /// Per node (the default; free).
    #[default]
    Node,
    /// For every node sharing the store (two store writes per invocation).
    Deployment,
}

impl std::str::FromStr for ConcurrencyMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "node" => Ok(ConcurrencyMode::Node),
            "deployment" => Ok(ConcurrencyMode::Deployment),
            _ => Err(format!("--concurrency {s:?}: expected node or deployment")),
        }
    }
}

impl ServeOptions {
    /// Options with the defaults of the command line.
    pub fn new(template: PathBuf) -> Self {
        Self {
            template,
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_dir: PathBuf::from(".scf"),
            env_vars: None,
            watch: false,
            credentials: Credentials::new(),
            ops: None,
            replay_cache: false,
            log_retention: Some(DEFAULT_LOG_RETENTION),
            store: None,
            node_id: None,
            concurrency: ConcurrencyMode::Node,
            default_concurrency: None,
            lease: Duration::from_secs(10),
        }
    }
}

/// Where the operational endpoints (`/healthz`, `/metrics`: no signature, and the metrics
/// name every function) are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ops {
    /// On the API's own listener.
    Same,
    /// On a listener of their own.
    Listen(SocketAddr),
    /// Not at all.
    Off,
}

impl Ops {
    /// The default for an API on `listen`: the same listener when it is loopback; else a
    /// loopback listener on the next port (`127.0.0.1:9001` for `0.0.0.0:9000`), so that a
    /// public API does not publish its metrics.
    pub fn default_for(listen: SocketAddr) -> Self {
        if listen.ip().to_canonical().is_loopback() {
            return Ops::Same;
        }
        let port = match listen.port() {
            0 => 0,
            p => p.checked_add(1).unwrap_or(0),
        };
        Ops::Listen(SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

/// The gateway routes of a template's API triggers.
pub fn routes(template: &Template) -> Result<Routes, String> {
    let mut routes = Routes::new();
    for f in &template.functions {
        for t in &f.triggers {
            if let Trigger::Api {
                method,
                path,
                stage,
                ..
            } = t
            {
                let route = Route::new(method, path, f.config.name.clone())
                    .and_then(|r| r.with_stage(stage))
                    .map_err(|e| format!("function {}: route {method} {path}: {e}", f.config.name))?
                    .with_namespace(f.config.namespace.clone())
                    .with_web(f.function_type == "HTTP");
                routes.push(route);
            }
        }
    }
    Ok(routes)
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight invocations and returns.
pub async fn serve(opts: ServeOptions) -> Result<(), String> {
    let template = crate::env_vars::load_template(&opts.template, opts.env_vars.as_deref())?;
    let node_id = opts.node_id.clone().unwrap_or_else(host_and_pid);
    check_node_id(&node_id)?;
    if opts.lease < Duration::from_secs(1) {
        return Err("--lease must be at least 1s".into());
    }
    std::fs::create_dir_all(&opts.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
    let url = opts
        .store
        .clone()
        .unwrap_or_else(|| StoreUrl::Sqlite(opts.data_dir.join(STORE_FILE)));
    let shared = open_store_url(&url, opts.log_retention)?;
    let scratch = scratch_root(&opts.data_dir)?;
    let mut config = InvokerConfig::default();
    config.store = Arc::new(PrintingStore::new(shared.log.clone()));
    config.queue = shared.queue.clone();
    config.node_id.clone_from(&node_id);
    config.concurrency = match opts.concurrency {
        ConcurrencyMode::Node => ConcurrencyScope::Node,
        ConcurrencyMode::Deployment => ConcurrencyScope::Deployment(shared.slots.clone()),
    };
    config.lease = opts.lease;
    if let Some(limit) = opts.default_concurrency {
        if limit == 0 {
            return Err("--default-concurrency must be at least 1".into());
        }
        config.default_concurrency = limit;
    }
    config.lease_renewal = (opts.lease / 3).min(Duration::from_secs(1));
    let invoker = invoker_with(&template, None, config, &scratch)?;

    // Nothing queued runs before the server knows it can serve: the configuration
    // (credentials, listeners) is checked and every listener bound first, and only then
    // is the async queue recovered. A refused start leaves the queue as it found it.
    let routes = routes(&template)?;
    let live_routes = scf_http::apigw::LiveRoutes::new(routes.clone());
    let mut config = ServerConfig::new(opts.listen)
        .with_credentials(opts.credentials.clone())
        .with_routes(routes.clone());
    // With --watch the gateway matches against a table a template change replaces.
    config.live_routes = opts.watch.then(|| live_routes.clone());
    config.shutdown_invoker = true;
    config.replay_cache = opts.replay_cache;
    let console = crate::console::console_for(
        &template,
        &invoker,
        shared.console.clone(),
        &opts.credentials,
    )?;
    config = config.with_mount(console.mount());
    let ops = opts.ops.unwrap_or_else(|| Ops::default_for(opts.listen));
    match ops {
        Ops::Same => {}
        Ops::Listen(addr) => config = config.with_listener(addr, scf_http::Serves::Ops),
        Ops::Off => config.ops_endpoints = false,
    }
    let server = Server::new(config, invoker.clone()).map_err(|e| e.to_string())?;
    let running = server.bind().await.map_err(|e| e.to_string())?;
    let addr = running.local_addr();
    let recovered = match invoker.recover().await {
        Ok(r) => r,
        Err(e) => {
            running.shutdown().await;
            return Err(format!("cannot recover queued async events: {e}"));
        }
    };

    crate::outln!(
        "scf serve: {} function(s) from {}",
        template.functions.len(),
        template.path.display()
    );
    for f in &template.functions {
        crate::outln!("  function {}", f.summary());
    }
    // One line per guarantee of the instances' sandbox: which hold on this host.
    for guarantee in scf_process::Sandbox::detected().guarantees() {
        crate::outln!("  sandbox {guarantee}");
    }
    crate::outln!("  cloud API: POST http://{addr}/ (X-TC-Action: Invoke, GetFunctionLogs, …; version 2018-04-16){}",
        if opts.credentials.is_empty() { ", unauthenticated" } else { ", TC3-HMAC-SHA256" });
    crate::outln!(
        "  console: http://{addr}/console/{}",
        if opts.credentials.is_empty() {
            " (loopback only)"
        } else {
            " (sign in with a SecretId and SecretKey)"
        }
    );
    for r in routes.iter() {
        crate::outln!(
            "  route: {} http://{addr}{} -> {}",
            r.method.as_str(),
            r.path.as_str(),
            r.function_name
        );
    }
    match (ops, running.local_addrs().get(1)) {
        (Ops::Listen(_), Some(ops_addr)) => {
            crate::outln!("  health and metrics: GET http://{ops_addr}/healthz, /metrics")
        }
        (Ops::Off, _) => crate::outln!("  health and metrics: off"),
        _ => crate::outln!("  health and metrics: GET http://{addr}/healthz, /metrics"),
    }
    let mut timers = Vec::new();
    for f in &template.functions {
        for t in &f.triggers {
            if let Trigger::Timer {
                name,
                cron,
                enable: true,
                message,
            } = t
            {
                crate::outln!("  timer: {name} {cron} -> {}", f.config.name);
                timers.push(tokio::spawn(run_timer(
                    invoker.clone(),
                    f.config.namespace.clone(),
                    f.config.name.clone(),
                    name.clone(),
                    cron.clone(),
                    message.clone(),
                )));
            }
        }
    }
    if !recovered.requeued.is_empty() {
        crate::outln!(
            "  recovered {} unfinished async event(s) from the last run",
            recovered.requeued.len()
        );
    }
    let kept = match opts.log_retention {
        Some(keep) => format!("records kept {}", short_duration(keep)),
        None => "records kept until deleted: --log-retention off".to_string(),
    };
    crate::outln!(
        "  logs: {} ({kept}; async event statuses 3 days after they end)",
        shared.location
    );
    crate::outln!(
        "  node: {node_id} (concurrency limits {}; leases {})",
        match opts.concurrency {
            ConcurrencyMode::Node => "per node",
            ConcurrencyMode::Deployment => "for the deployment",
        },
        short_duration(opts.lease)
    );
    let _watching = if opts.watch {
        let mut watch = crate::watch::WatchConfig::new(opts.template.clone(), invoker.clone());
        watch.env_vars.clone_from(&opts.env_vars);
        watch.routes = live_routes;
        watch.scratch = scratch.clone();
        watch.data_dir = opts.data_dir.clone();
        match crate::watch::start(watch).await {
            Ok(w) => Some(w),
            Err(e) => {
                running.shutdown().await;
                return Err(e);
            }
        }
    } else {
        None
    };
    if opts.watch {
        crate::outln!("  watching: the template, each function's code and layers (--watch)");
    }
    crate::outln!("ready: http://{addr}");
    let watcher = tokio::spawn(watch_records(invoker.clone()));
    running.wait().await;
    watcher.abort();
    for t in timers {
        t.abort();
    }
    crate::outln!("scf serve: stopped");
    Ok(())
}

/// Says on stderr when the store starts and stops refusing log records, and every time
/// records are lost, so that nothing is dropped silently.
async fn watch_records(invoker: Invoker) {
    let capacity = invoker.config().record_buffer;
    let mut last = invoker.record_stats();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = invoker.record_stats();
        if now.lost > last.lost {
            crate::errln!(
                "scf serve: {} log record(s) lost ({} in all): the store refused them and the buffer of {capacity} was full",
                now.lost - last.lost,
                now.lost
            );
        }
        if now.buffered > 0 && last.buffered == 0 {
            crate::errln!(
                "scf serve: the store refuses log records; {} wait in memory (at most {capacity})",
                now.buffered
            );
        } else if now.buffered == 0 && last.buffered > 0 {
            crate::errln!(
                "scf serve: the store takes log records again; {} written late in all",
                now.delayed
            );
        }
        last = now;
    }
}

/// The Timer event SCF sends (scf-spec 2.2).
pub fn timer_event(trigger: &str, at: OffsetDateTime, message: &str) -> serde_json::Value {
    let time = at
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default();
    json!({"Type": "Timer", "TriggerName": trigger, "Time": time, "Message": message})
}

async fn run_timer(
    invoker: Invoker,
    namespace: String,
    function: String,
    trigger: String,
    cron: Cron,
    message: String,
) {
    loop {
        let now = OffsetDateTime::now_utc();
        let Some(next) = cron.next_after(now) else {
            return;
        };
        let wait = (next - now).try_into().unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait).await;
        if !invoker.is_accepting() {
            return;
        }
        // Processes sharing one store fire each tick once between them: the first to
        // claim it in the queue.
        let queue = invoker.queue().clone();
        let key = format!("{namespace}/{function}/{trigger}");
        let claimed = tokio::task::spawn_blocking(move || queue.claim_tick(&key, next))
            .await
            .map_err(|e| e.to_string())
            .and_then(|claimed| claimed.map_err(|e| e.to_string()));
        match claimed {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                crate::errln!("timer {trigger} of {function}: cannot claim its tick: {e}");
                continue;
            }
        }
        let request = InvokeRequest::new(
            function.clone(),
            timer_event(&trigger, next, &message).to_string(),
        )
        .with_namespace(namespace.clone())
        .with_invocation_type(InvocationType::Event)
        .with_invoke_type("TRIGGER_TIMER");
        if let Err(e) = invoker.invoke(request).await {
            crate::errln!("timer {trigger} of {function}: {e}");
        }
    }
}

/// `7d`, `12h`, `30m` or `45s`: the largest unit that divides `d` whole.
fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    [(86_400, "d"), (3600, "h"), (60, "m")]
        .into_iter()
        .find(|(unit, _)| secs > 0 && secs % unit == 0)
        .map_or_else(
            || format!("{secs}s"),
            |(unit, name)| format!("{}{name}", secs / unit),
        )
}
