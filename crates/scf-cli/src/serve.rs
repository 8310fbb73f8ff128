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
    /// Log records older than this are deleted (`None`: kept for ever). Async events are
    /// kept 3 days after they end, as on SCF.
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
            log_retention: None,
        }
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
    let recovered = invoker
        .recover()
        .await
        .map_err(|e| format!("cannot recover queued async events: {e}"))?;

    let routes = routes(&template)?;
    let mut config = ServerConfig::new(opts.listen)
        .with_credentials(opts.credentials.clone())
        .with_routes(routes.clone());
    config.shutdown_invoker = true;
    let server = Server::new(config, invoker.clone()).map_err(|e| e.to_string())?;
    let running = server.bind().await.map_err(|e| e.to_string())?;
    let addr = running.local_addr();

    println!(
        "scf serve: {} function(s) from {}",
        template.functions.len(),
        template.path.display()
    );
    for f in &template.functions {
        println!("  function {}", f.summary());
    }
    // One line per guarantee of the instances' sandbox: which hold on this host.
    for guarantee in scf_process::Sandbox::detected().guarantees() {
        println!("  sandbox {guarantee}");
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
        None => "records kept until deleted".to_string(),
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
