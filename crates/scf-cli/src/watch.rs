//! `scf serve --watch`: code reload. A change to a function's code directory or to one of
//! its layers replaces that function; a change to the template (or to the `--env-vars`
//! file) re-reads every function and the gateway routes. One line per reload.
//!
//! Replacing a function registers a new handler with the invoker (so the next invocation
//! starts a fresh instance, with the layers merged anew) and stops the old handler's idle
//! instances at once; an instance busy with a request finishes it on the old code and is
//! stopped when that request ends (the invoker keeps a running invocation on the handler
//! it started with, and the old handler's pool goes with its last invocation). A template
//! that no longer reads (bad YAML, a missing layer, a bad variable) keeps the previous one
//! serving, with the error printed. Timer triggers stay as they were at start.
//!
//! Changes are seen through `notify` (inotify on Linux) and gathered until none has come
//! for [`DEBOUNCE`], then handled as one; reads (a function opening its code) are not
//! changes, and the data directory (logs, scratch, merged layers), `.git` and
//! `__pycache__` are ignored.

use std::path::PathBuf;

use scf_http::apigw::LiveRoutes;
use scf_invoker::Invoker;

/// How long changes are gathered before one reload.
pub const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(200);

/// What a watching server needs to reload itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WatchConfig {
    /// The template.
    pub template: PathBuf,
    /// `--env-vars FILE`, re-read with the template.
    pub env_vars: Option<PathBuf>,
    /// The invoker whose functions are replaced.
    pub invoker: Invoker,
    /// The routes the gateway serves, replaced after a template change.
    pub routes: LiveRoutes,
    /// Instance scratch directories (see [`scratch_root`](crate::project::scratch_root)).
    pub scratch: PathBuf,
    /// The data directory, whose changes are not the project's.
    pub data_dir: PathBuf,
}

impl WatchConfig {
    /// Watching `template`, served by `invoker`; no `--env-vars`, fresh routes, scratch
    /// and data directory `.scf` (set the fields to what the server uses).
    pub fn new(template: PathBuf, invoker: Invoker) -> Self {
        Self {
            template,
            env_vars: None,
            invoker,
            routes: LiveRoutes::default(),
            scratch: PathBuf::from(".scf/scratch"),
            data_dir: PathBuf::from(".scf"),
        }
    }
}

/// A running watch; dropping it stops watching.
#[derive(Debug)]
pub struct Watching {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching the project of `config`, whose functions the invoker serves.
#[cfg(feature = "watch")]
pub async fn start(config: WatchConfig) -> Result<Watching, String> {
    let mut state = imp::State::new(config)?;
    // Take over the functions the server registered, so that their pools can be stopped
    // on the first reload.
    state.reload_template(false).await?;
    let task = tokio::spawn(state.run());
    Ok(Watching { task })
}

/// Without the `watch` feature, `--watch` is refused.
#[cfg(not(feature = "watch"))]
pub async fn start(config: WatchConfig) -> Result<Watching, String> {
    let _ = config;
    Err(
        "--watch: this build of scf has no file watching (build it with the `watch` feature)"
            .into(),
    )
}

#[cfg(feature = "watch")]
/// Whether `path` is one whose changes are not the project's (under `ignored`, or in a
/// `.git` or `__pycache__` directory).
pub(crate) fn is_ignored(path: &std::path::Path, ignored: &std::path::Path) -> bool {
    path.starts_with(ignored)
        || path
            .components()
            .any(|c| c.as_os_str() == ".git" || c.as_os_str() == "__pycache__")
}

#[cfg(feature = "watch")]
fn canonical(p: &std::path::Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(feature = "watch")]
mod imp {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
    use scf_process::ProcessFunction;
    use tokio::sync::mpsc;

    use super::{canonical, is_ignored, WatchConfig, DEBOUNCE};
    use crate::env_vars::load_template;
    use crate::project::process_function;
    use crate::template::FunctionDef;

    /// A function being served: its definition, its handler, what to watch for it.
    struct Served {
        def: FunctionDef,
        handler: ProcessFunction,
        paths: Vec<PathBuf>,
    }

    pub(super) struct State {
        config: WatchConfig,
        template_file: PathBuf,
        env_file: Option<PathBuf>,
        ignored: PathBuf,
        /// By namespace and name.
        functions: BTreeMap<(String, String), Served>,
        watcher: RecommendedWatcher,
        events: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
        watched: BTreeSet<PathBuf>,
    }

    impl State {
        pub(super) fn new(config: WatchConfig) -> Result<Self, String> {
            let (tx, events) = mpsc::unbounded_channel();
            let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                // Opening or reading a file changes nothing.
                if !matches!(&res, Ok(e) if matches!(e.kind, EventKind::Access(_))) {
                    let _ = tx.send(res);
                }
            })
            .map_err(|e| format!("--watch: cannot watch files: {e}"))?;
            Ok(Self {
                template_file: canonical(&config.template),
                env_file: config.env_vars.as_deref().map(canonical),
                ignored: canonical(&config.data_dir),
                config,
                functions: BTreeMap::new(),
                watcher,
                events,
                watched: BTreeSet::new(),
            })
        }

        /// What to watch for `def`: its code directory and its layers.
        fn paths_of(def: &FunctionDef) -> Vec<PathBuf> {
            std::iter::once(&def.code_dir)
                .chain(def.layers.iter().map(|l| &l.path))
                .map(|p| canonical(p))
                .collect()
        }

        /// Watches what the functions and the template need, and nothing else.
        fn rewatch(&mut self) {
            let mut want: BTreeSet<PathBuf> = self
                .functions
                .values()
                .flat_map(|s| s.paths.iter().cloned())
                .collect();
            for file in std::iter::once(&self.template_file).chain(self.env_file.as_ref()) {
                if let Some(dir) = file.parent() {
                    want.insert(dir.to_path_buf());
                }
            }
            let watcher = &mut self.watcher;
            for old in self.watched.difference(&want) {
                let _ = watcher.unwatch(old);
            }
            for new in want.difference(&self.watched) {
                // A zip layer's changes are seen on the file itself.
                let mode = if new.is_dir() {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                if let Err(e) = watcher.watch(new, mode) {
                    crate::outln!("reload: cannot watch {}: {e}", new.display());
                }
            }
            self.watched = want;
        }

        /// Re-reads the template and replaces every function and the routes; on an error
        /// keeps what is served. `announce`: print the reload's line.
        pub(super) async fn reload_template(&mut self, announce: bool) -> Result<(), String> {
            let template = load_template(&self.config.template, self.config.env_vars.as_deref())?;
            let routes = crate::serve::routes(&template)?;
            let mut next = BTreeMap::new();
            for def in &template.functions {
                // Merging layers copies files: off the runtime's worker.
                let handler =
                    tokio::task::block_in_place(|| process_function(def, &self.config.scratch))?;
                let key = (def.config.namespace.clone(), def.config.name.clone());
                let paths = Self::paths_of(def);
                next.insert(
                    key,
                    Served {
                        def: def.clone(),
                        handler,
                        paths,
                    },
                );
            }
            let invoker = &self.config.invoker;
            for served in next.values() {
                invoker
                    .add_function(served.def.config.clone(), served.handler.clone())
                    .map_err(|e| format!("function {}: {e}", served.def.config.name))?;
            }
            let old = std::mem::replace(&mut self.functions, next);
            for (key, gone) in old {
                if !self.functions.contains_key(&key) {
                    let c = &gone.def.config;
                    invoker.remove_function(&c.namespace, &c.name, &c.version);
                }
                gone.handler.stop_idle().await;
            }
            self.config.routes.set(routes);
            self.rewatch();
            if announce {
                crate::outln!(
                    "reload: {}: {} function(s), {} route(s)",
                    template.path.display(),
                    template.functions.len(),
                    self.config.routes.get().iter().count()
                );
            }
            Ok(())
        }

        /// Replaces the function at `key` with one built from its definition now.
        async fn reload_function(&mut self, key: &(String, String)) -> Result<(), String> {
            let Some(served) = self.functions.get_mut(key) else {
                return Ok(());
            };
            let handler = tokio::task::block_in_place(|| {
                process_function(&served.def, &self.config.scratch)
            })?;
            self.config
                .invoker
                .add_function(served.def.config.clone(), handler.clone())
                .map_err(|e| e.to_string())?;
            let old = std::mem::replace(&mut served.handler, handler);
            old.stop_idle().await;
            Ok(())
        }

        pub(super) async fn run(mut self) {
            while let Some(first) = self.events.recv().await {
                let mut paths = Vec::new();
                let mut take = |res: notify::Result<notify::Event>| match res {
                    Ok(event) => paths.extend(event.paths),
                    Err(e) => crate::outln!("reload: watching failed: {e}"),
                };
                take(first);
                // Everything until a quiet DEBOUNCE is one change (an editor's save is
                // several events; so is a checkout).
                while let Ok(Some(next)) = tokio::time::timeout(DEBOUNCE, self.events.recv()).await
                {
                    take(next);
                }
                paths.retain(|p| !is_ignored(p, &self.ignored));
                if paths.is_empty() {
                    continue;
                }
                let template_changed = paths
                    .iter()
                    .any(|p| *p == self.template_file || Some(p) == self.env_file.as_ref());
                if template_changed {
                    if let Err(e) = self.reload_template(true).await {
                        crate::outln!(
                            "reload: {} is broken, the previous one keeps serving: {e}",
                            self.config.template.display()
                        );
                    }
                    continue;
                }
                let keys: Vec<(String, String)> = self
                    .functions
                    .iter()
                    .filter(|(_, s)| {
                        paths
                            .iter()
                            .any(|p| s.paths.iter().any(|w| p.starts_with(w)))
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                if keys.is_empty() {
                    continue;
                }
                let mut done = Vec::new();
                for key in &keys {
                    match self.reload_function(key).await {
                        Ok(()) => done.push(format!("{}/{}", key.0, key.1)),
                        Err(e) => crate::outln!(
                            "reload: function {}/{}: {e}; the previous code keeps serving",
                            key.0,
                            key.1
                        ),
                    }
                }
                if !done.is_empty() {
                    let mut names: Vec<String> = paths.iter().map(|p| short(p)).collect();
                    names.sort();
                    names.dedup();
                    let more = names.len().saturating_sub(3);
                    names.truncate(3);
                    let more = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    crate::outln!(
                        "reload: {} ({}{more} changed)",
                        done.join(", "),
                        names.join(", ")
                    );
                }
            }
        }
    }

    /// A changed path as the line shows it: its file name.
    fn short(p: &Path) -> String {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    }
}

#[cfg(all(test, feature = "watch"))]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_data_directory_git_and_pycache_are_not_the_projects_changes() {
        let data = Path::new("/p/.scf");
        assert!(is_ignored(Path::new("/p/.scf/logs.sqlite-wal"), data));
        assert!(is_ignored(Path::new("/p/.git/index"), data));
        assert!(is_ignored(
            Path::new("/p/__pycache__/index.cpython-311.pyc"),
            data
        ));
        assert!(!is_ignored(Path::new("/p/index.py"), data));
    }
}
