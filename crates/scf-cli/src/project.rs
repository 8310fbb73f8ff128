//! A template's functions loaded into an invoker, with their logs in the project's data
//! directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use scf_invoker::{Invoker, InvokerConfig};
use scf_logs::LogRecord;
use scf_process::{ProcessFunction, ProcessSpec};
use scf_store::{AsyncQueue, ConcurrencySlots, LogPage, LogQuery, LogStore, StoreError};
use scf_store_sqlite::{SqliteStore, SqliteStoreConfig, SCF_ASYNC_RETENTION};

use crate::store_url::StoreUrl;
use crate::template::{FunctionDef, Template};

/// The file, under the data directory, that holds logs and the async queue.
pub const STORE_FILE: &str = "logs.sqlite";

/// Opens (creating it if needed) the project's log store under `data_dir`. Async events
/// are kept 3 days after they end, as on SCF; log records for `log_retention` (for ever
/// when `None`).
pub fn open_store(data_dir: &Path, log_retention: Option<Duration>) -> Result<SqliteStore, String> {
    let path = data_dir.join(STORE_FILE);
    let mut config = SqliteStoreConfig::default();
    config.async_retention = Some(SCF_ASYNC_RETENTION);
    config.log_retention = log_retention;
    SqliteStore::open_with(&path, config)
        .map_err(|e| format!("cannot open the log store {}: {e}", path.display()))
}

/// A store `scf serve` runs on: the log, the async queue and the concurrency slots, in one
/// database that every node of a deployment opens.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SharedStore {
    /// Log records.
    pub log: Arc<dyn LogStore>,
    /// The async queue.
    pub queue: Arc<dyn AsyncQueue>,
    /// Deployment-wide concurrency slots.
    pub slots: Arc<dyn ConcurrencySlots>,
    /// The console's queries (monitoring aggregates, saved test events), where the store
    /// has them.
    pub console: Option<Arc<dyn scf_store::ConsoleStore>>,
    /// Where it is, for the start-up lines (a URL without its password).
    pub location: String,
}

/// Opens the store `url` names (creating an SQLite file and its directory if needed,
/// migrating its schema). Async events are kept 3 days after they end, as on SCF; log
/// records for `log_retention` (for ever when `None`). The error is one line naming the
/// store.
pub fn open_store_url(
    url: &StoreUrl,
    log_retention: Option<Duration>,
) -> Result<SharedStore, String> {
    match url {
        StoreUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| {
                        format!("cannot open the store {url}: cannot create {}: {e}", dir.display())
                    })?;
            }
            let mut config = SqliteStoreConfig::default();
            config.async_retention = Some(SCF_ASYNC_RETENTION);
            config.log_retention = log_retention;
            let store = Arc::new(
                SqliteStore::open_with(path, config)
                    .map_err(|e| format!("cannot open the store {url}: {e}"))?,
            );
            Ok(SharedStore {
                log: store.clone(),
                queue: store.clone(),
                slots: store.clone(),
                console: Some(store),
                location: url.to_string(),
            })
        }
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(pg) => {
            let mut config = scf_store_postgres::PgStoreConfig::new(&pg.url);
            config.async_retention = Some(SCF_ASYNC_RETENTION);
            config.log_retention = log_retention;
            let store = Arc::new(
                scf_store_postgres::PgStore::open_with(config)
                    .map_err(|e| format!("cannot open the store {url}: {e}"))?,
            );
            Ok(SharedStore {
                log: store.clone(),
                queue: store.clone(),
                slots: store.clone(),
                console: Some(store),
                location: url.to_string(),
            })
        }
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(_) => Err(format!(
            "cannot open the store {url}: this build of scf has no PostgreSQL support; use --store sqlite:PATH"
        )),
    }
}

/// Builds the out-of-process handler of a template function.
pub fn process_function(def: &FunctionDef, scratch_root: &Path) -> Result<ProcessFunction, String> {
    let name = &def.config.name;
    let web = def.function_type == "HTTP";
    if def.config.runtime.is_none() && !web {
        return Err(format!(
            "function {name}: Runtime is missing: set it in the template (Python3.9, Nodejs16.13, CustomRuntime…)"
        ));
    }
    let spec = if web {
        ProcessSpec::web(def.config.clone(), &def.code_dir)
    } else {
        ProcessSpec::from_config(def.config.clone(), &def.code_dir)
    };
    let spec = spec
        .map_err(|e| format!("function {name}: {e}"))?
        .with_scratch_root(scratch_root)
        // The data directory (the scratch root's parent, see `scratch_root`) holds every
        // function's logs: hidden from the sandbox even when it lies in the code directory.
        .with_hidden_path(scratch_root.parent().unwrap_or(scratch_root))
        .with_layers(def.layers.iter().map(|l| l.path.clone()));
    ProcessFunction::new(spec).map_err(|e| format!("function {name}: {e}"))
}

/// Checks that `def` would start under `scf serve` and `scf invoke` (the same checks:
/// its runtime known and its interpreter or `bootstrap` present, its code directory, its
/// handler's form), and that its handler's file is in the code directory (a missing one
/// would fail every invocation with 437).
pub fn check_function(def: &FunctionDef) -> Result<(), String> {
    let name = &def.config.name;
    if !def.code_dir.is_dir() {
        // Where the code is, if it is in a folder above the one named.
        let found = def
            .code_dir
            .ancestors()
            .skip(1)
            .find(|d| d.is_dir() && handler_candidates(def, d).0.iter().any(|c| c.exists()));
        let hint =
            match found {
                Some(d) => format!(
                ": the handler's file is in {}; point the project's code path (src, CodeUri) there",
                if d.as_os_str().is_empty() { Path::new(".") } else { d }.display()
            ),
                None => String::new(),
            };
        return Err(format!(
            "function {name}: code directory {} does not exist{hint}",
            def.code_dir.display()
        ));
    }
    process_function(def, &std::env::temp_dir())?;
    let (candidates, what) = handler_candidates(def, &def.code_dir);
    if candidates.is_empty() || candidates.iter().any(|c| c.exists()) {
        return Ok(());
    }
    let method = def.config.handler.rsplit_once('.').map_or("", |(_, m)| m);
    let hint = suggest_handler(def, method)
        .map(|h| {
            format!(
                "; {h} defines {method}: set the handler to {h}.{method}",
                h = h
            )
        })
        .unwrap_or_default();
    Err(format!(
        "function {name}: handler {:?} names {what} that is not in the code directory {} (looked for {}){hint}",
        def.config.handler,
        def.code_dir.display(),
        candidates
            .iter()
            .map(|c| c.strip_prefix(&def.code_dir).unwrap_or(c).display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The files a function's handler may name in `dir`, by runtime, and what they are.
fn handler_candidates(def: &FunctionDef, dir: &Path) -> (Vec<PathBuf>, &'static str) {
    handler_files(
        def.config.runtime.as_deref().unwrap_or_default(),
        &def.config.handler,
        dir,
    )
}

/// The files `handler` (`file.method`) may name in `dir` for `runtime`, and what they
/// are (`a Python module`); none for the runtimes whose handler is not a source file.
pub(crate) fn handler_files(
    runtime: &str,
    handler: &str,
    dir: &Path,
) -> (Vec<PathBuf>, &'static str) {
    let runtime = runtime.to_ascii_lowercase();
    let Some((file, _)) = handler.rsplit_once('.') else {
        return (Vec::new(), "");
    };
    let base = dir.join(file);
    let with = |ext: &str| PathBuf::from(format!("{}{ext}", base.display()));
    if runtime.starts_with("python") {
        let module = dir.join(file.replace('.', "/"));
        (
            vec![module.with_extension("py"), module.join("__init__.py")],
            "a Python module",
        )
    } else if runtime.starts_with("nodejs") {
        (
            vec![
                base.clone(),
                with(".js"),
                with(".mjs"),
                with(".cjs"),
                with(".json"),
                with(".node"),
            ],
            "a Node.js module",
        )
    } else if runtime.starts_with("php") {
        (vec![with(".php")], "a PHP file")
    } else {
        (Vec::new(), "")
    }
}

/// The one file of the code directory (of the runtime's language) that defines `method`,
/// named as a handler names it (`index` for `index.py`).
fn suggest_handler(def: &FunctionDef, method: &str) -> Option<String> {
    let runtime = def
        .config
        .runtime
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let ext = ["python", "nodejs", "php"]
        .iter()
        .zip(["py", "js", "php"])
        .find(|(r, _)| runtime.starts_with(**r))?
        .1;
    let mut found = std::fs::read_dir(&def.code_dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(method)));
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    first.file_stem().map(|s| s.to_string_lossy().into_owned())
}

/// An invoker holding `functions` of `template`, recording into `store`, its async
/// events in `queue`.
pub fn invoker_for(
    template: &Template,
    only: Option<&str>,
    store: Arc<dyn LogStore>,
    queue: Arc<dyn AsyncQueue>,
    scratch_root: &Path,
) -> Result<Invoker, String> {
    let mut config = InvokerConfig::default();
    config.store = store;
    config.queue = queue;
    invoker_with(template, only, config, scratch_root)
}

/// An invoker configured with `config` holding `functions` of `template` (all of them
/// when `only` is `None`).
pub fn invoker_with(
    template: &Template,
    only: Option<&str>,
    config: InvokerConfig,
    scratch_root: &Path,
) -> Result<Invoker, String> {
    let invoker = Invoker::new(config).map_err(|e| e.to_string())?;
    let mut added = 0;
    for def in &template.functions {
        if only.is_some_and(|n| n != def.config.name) {
            continue;
        }
        let handler = process_function(def, scratch_root)?;
        invoker
            .add_function(def.config.clone(), handler)
            .map_err(|e| format!("function {}: {e}", def.config.name))?;
        added += 1;
    }
    if let Some(name) = only {
        if added == 0 {
            let names: Vec<&str> = template
                .functions
                .iter()
                .map(|f| f.config.name.as_str())
                .collect();
            return Err(format!(
                "{}: no function named {name:?} (the template has: {})",
                template.path.display(),
                names.join(", ")
            ));
        }
    }
    Ok(invoker)
}

/// Where instance scratch directories go: under the data directory, so nothing of a
/// project's runs is left in the system's temporary directory.
pub fn scratch_root(data_dir: &Path) -> Result<PathBuf, String> {
    let dir = data_dir.join("scratch");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A store that prints one line per finished invocation (request id, function, status,
/// duration) and keeps everything in the store it wraps.
#[derive(Debug)]
pub struct PrintingStore {
    inner: Arc<dyn LogStore>,
}

impl PrintingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn LogStore>) -> Self {
        Self { inner }
    }
}

/// The line `scf serve` prints for a finished invocation.
pub fn invocation_line(r: &LogRecord) -> String {
    let retry = if r.retry_num > 0 {
        format!(" retry {}", r.retry_num)
    } else {
        String::new()
    };
    format!(
        "{} {}/{} {} {}ms{}{}",
        r.request_id,
        r.namespace,
        r.function_name,
        r.status_code,
        scf_logs::framing::format_ms(r.duration_ms),
        retry,
        match r.invocation_type {
            scf_logs::InvocationType::Event => " async",
            _ => "",
        }
    )
}

impl LogStore for PrintingStore {
    fn put(&self, record: LogRecord) -> Result<(), StoreError> {
        if !record.is_running() {
            crate::outln!("{}", invocation_line(&record));
        }
        self.inner.put(record)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn get(&self, request_id: &str) -> Result<Vec<LogRecord>, StoreError> {
        self.inner.get(request_id)
    }
    fn query(&self, q: &LogQuery) -> Result<LogPage, StoreError> {
        self.inner.query(q)
    }
    fn throttled(&self, namespace: &str, function_name: &str, at: time::OffsetDateTime) {
        self.inner.throttled(namespace, function_name, at);
    }
}
