//! `scf invoke`: one invocation without a server, printed as SCF's CLI printed it.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scf_invoker::{InvokeRequest, InvokeResponse, Invoker, LogType};
use scf_logs::InvocationType;
use scf_store::{AsyncStatus, LogStore};

use crate::env_vars::load_template;
use crate::project::{invoker_for, open_store, scratch_root};

/// Where the event comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventSource {
    /// `{}`.
    Empty,
    /// `--event JSON`.
    Inline(String),
    /// `--event-file FILE`.
    File(PathBuf),
    /// `-`: standard input.
    Stdin,
}

impl EventSource {
    /// The event text.
    pub fn read(&self) -> Result<String, String> {
        match self {
            EventSource::Empty => Ok("{}".into()),
            EventSource::Inline(s) => Ok(s.clone()),
            EventSource::File(p) => std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read the event file {}: {e}", p.display())),
            EventSource::Stdin => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| format!("cannot read the event from stdin: {e}"))?;
                Ok(s)
            }
        }
    }
}

/// What `scf invoke` needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InvokeOptions {
    /// The template.
    pub template: PathBuf,
    /// The function's name.
    pub function: String,
    /// The event.
    pub event: EventSource,
    /// Invoke asynchronously (the run's result is looked up in the log when it ends).
    pub asynchronous: bool,
    /// Ask for the log tail in the result (`LogType: Tail`).
    pub log: bool,
    /// Print the `Invoke` API's `Result` object instead of the log and the return value.
    pub json: bool,
    /// Where logs go (so that `scf logs` finds this invocation).
    pub data_dir: PathBuf,
    /// `--env-vars FILE`: variables by function name over the template's
    /// ([`env_vars`](crate::env_vars)).
    pub env_vars: Option<PathBuf>,
}

impl InvokeOptions {
    /// Options with the command line's defaults.
    pub fn new(template: PathBuf, function: String) -> Self {
        Self {
            template,
            function,
            event: EventSource::Empty,
            asynchronous: false,
            log: false,
            json: false,
            data_dir: PathBuf::from(".scf"),
            env_vars: None,
        }
    }
}

/// Runs the invocation and prints it; `Ok(true)` when the function succeeded.
pub async fn invoke(opts: InvokeOptions) -> Result<bool, String> {
    let template = load_template(&opts.template, opts.env_vars.as_deref())?;
    let def = template.function(&opts.function).ok_or_else(|| {
        let names: Vec<&str> = template
            .functions
            .iter()
            .map(|f| f.config.name.as_str())
            .collect();
        format!(
            "{}: no function named {:?} (the template has: {})",
            template.path.display(),
            opts.function,
            names.join(", ")
        )
    })?;
    let namespace = def.config.namespace.clone();
    let timeout = def.config.timeout;
    let retries = def.config.retry.max_retries;
    let event = opts.event.read()?;
    std::fs::create_dir_all(&opts.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
    let sqlite = Arc::new(open_store(&opts.data_dir, None)?);
    let store: Arc<dyn LogStore> = sqlite.clone();
    let scratch = scratch_root(&opts.data_dir)?;
    let invoker = invoker_for(
        &template,
        Some(&opts.function),
        store.clone(),
        sqlite,
        &scratch,
    )?;
    let mut request = InvokeRequest::new(opts.function.clone(), event).with_namespace(namespace);
    if opts.log || !opts.json {
        request = request.with_log_type(LogType::Tail);
    }
    if opts.asynchronous {
        request = request.with_invocation_type(InvocationType::Event);
    }
    let response = invoker.invoke(request).await.map_err(|e| e.to_string())?;
    let ok = if opts.asynchronous {
        wait_async(
            &invoker,
            &response,
            timeout * (u32::from(retries) + 1)
                + Duration::from_secs(60 * u64::from(retries))
                + Duration::from_secs(10),
        )
        .await?
    } else {
        print_sync(&invoker, &response, &opts).await?;
        response.is_success()
    };
    invoker.shutdown(Duration::from_secs(5)).await;
    store
        .flush()
        .map_err(|e| format!("cannot write the log: {e}"))?;
    Ok(ok)
}

async fn print_sync(
    invoker: &Invoker,
    response: &InvokeResponse,
    opts: &InvokeOptions,
) -> Result<(), String> {
    if opts.json {
        let json = response.to_api();
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    // The whole log from the store (the response only carries its last 4 KB).
    let _ = invoker.store().flush();
    let records = invoker
        .request_logs(&response.request_id)
        .await
        .unwrap_or_default();
    match records.last() {
        Some(r) => crate::errln!("{}", r.log.trim_end()),
        None => crate::errln!("{}", response.log.trim_end()),
    }
    crate::errln!();
    crate::outln!("{}", response.ret_msg);
    Ok(())
}

async fn wait_async(
    invoker: &Invoker,
    response: &InvokeResponse,
    limit: Duration,
) -> Result<bool, String> {
    crate::outln!("FunctionRequestId: {}", response.request_id);
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let ev = invoker
            .get_async_event(&response.request_id)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(ev) = ev {
            if ev.status != AsyncStatus::Running {
                let _ = invoker.store().flush();
                for r in invoker
                    .request_logs(&response.request_id)
                    .await
                    .unwrap_or_default()
                {
                    crate::errln!("{}", r.log.trim_end());
                    crate::errln!();
                }
                crate::outln!(
                    "Status: {} (StatusCode {}, attempts {})",
                    ev.status,
                    ev.status_code,
                    ev.attempts
                );
                return Ok(ev.status == AsyncStatus::Finished);
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "async request {} still running after {limit:?}",
                response.request_id
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
