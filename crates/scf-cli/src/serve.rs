//! `scf serve`: the cloud API and every gateway route of a template on one port, timers
//! firing on schedule, logs and the async queue in SQLite under the data directory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scf_http::apigw::{Route, Routes};
use scf_http::{Credentials, Server, ServerConfig};
use scf_invoker::{InvokeRequest, Invoker};
use scf_logs::InvocationType;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cron::Cron;
use crate::project::{invoker_for, open_store, scratch_root, PrintingStore};
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
}

impl ServeOptions {
    /// Options with the defaults of the command line.
    pub fn new(template: PathBuf) -> Self {
        Self {
            template,
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            data_dir: PathBuf::from(".scf"),
            credentials: Credentials::new(),
            ops: None,
            replay_cache: false,
            log_retention: Some(DEFAULT_LOG_RETENTION),
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
                    .with_namespace(f.config.namespace.clone());
                routes.push(route);
            }
        }
    }
    Ok(routes)
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight invocations and returns.
pub async fn serve(opts: ServeOptions) -> Result<(), String> {
    let template = Template::load(&opts.template).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&opts.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
    let sqlite = Arc::new(open_store(&opts.data_dir, opts.log_retention)?);
    let store = PrintingStore::new(sqlite.clone());
    let scratch = scratch_root(&opts.data_dir)?;
    let invoker = invoker_for(&template, None, Arc::new(store), sqlite, &scratch)?;

    // Nothing queued runs before the server knows it can serve: the configuration
    // (credentials, listeners) is checked and every listener bound first, and only then
    // is the async queue recovered. A refused start leaves the queue as it found it.
    let routes = routes(&template)?;
    let mut config = ServerConfig::new(opts.listen)
        .with_credentials(opts.credentials.clone())
        .with_routes(routes.clone());
    config.shutdown_invoker = true;
    config.replay_cache = opts.replay_cache;
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

    println!(
        "scf serve: {} function(s) from {}",
        template.functions.len(),
        template.path.display()
    );
    for f in &template.functions {
        println!("  function {}", f.summary());
    }
    println!("  cloud API: POST http://{addr}/ (X-TC-Action: Invoke, GetFunctionLogs, …; version 2018-04-16){}",
        if opts.credentials.is_empty() { ", unauthenticated" } else { ", TC3-HMAC-SHA256" });
    for r in routes.iter() {
        println!(
            "  route: {} http://{addr}{} -> {}",
            r.method.as_str(),
            r.path.as_str(),
            r.function_name
        );
    }
    match (ops, running.local_addrs().get(1)) {
        (Ops::Listen(_), Some(ops_addr)) => {
            println!("  health and metrics: GET http://{ops_addr}/healthz, /metrics")
        }
        (Ops::Off, _) => println!("  health and metrics: off"),
        _ => println!("  health and metrics: GET http://{addr}/healthz, /metrics"),
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
                println!("  timer: {name} {cron} -> {}", f.config.name);
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
        println!(
            "  recovered {} unfinished async event(s) from the last run",
            recovered.requeued.len()
        );
    }
    let kept = match opts.log_retention {
        Some(keep) => format!("records kept {}", short_duration(keep)),
        None => "records kept until deleted: --log-retention off".to_string(),
    };
    println!(
        "  logs: {} ({kept}; async event statuses 3 days after they end)",
        opts.data_dir.join(crate::project::STORE_FILE).display()
    );
    println!("ready: http://{addr}");
    running.wait().await;
    for t in timers {
        t.abort();
    }
    println!("scf serve: stopped");
    Ok(())
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
                eprintln!("timer {trigger} of {function}: cannot claim its tick: {e}");
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
            eprintln!("timer {trigger} of {function}: {e}");
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
