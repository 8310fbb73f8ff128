//! One instance: a bootstrap process group with its own Runtime API server, output pipe,
//! scratch directory and (where available) memory cgroup.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::task::JoinHandle;

use crate::cgroup::Cgroup;
use crate::memory::MemoryProbe;
use crate::output::{OutputReader, OutputSink};
use crate::runtime_api::RuntimeApi;
use crate::spec::{ProcessSpec, RuntimeKind};

const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.js");

/// `PATH` inside an instance (scf-spec 4.6), after the interpreter's own directory.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How to start an instance of one function; built once per function.
#[derive(Debug)]
pub(crate) struct Launch {
    program: PathBuf,
    /// The bundled bootstrap to write to the scratch directory and pass as the first
    /// argument (`None` for a Custom Runtime).
    bootstrap: Option<(&'static str, &'static str)>,
    code_dir: PathBuf,
    scratch_root: PathBuf,
    scratch_prefix: String,
    /// Variables that come before the per-instance ones (platform defaults).
    platform_env: Vec<(String, String)>,
    /// `FunctionConfig::process_environment`: SCF's variables, then the function's own.
    function_env: Vec<(String, String)>,
    handler: String,
    pub(crate) cgroup_parent: Option<PathBuf>,
    pub(crate) memory_limit_bytes: u64,
}

impl Launch {
    pub(crate) fn new(spec: &ProcessSpec, cgroup_parent: Option<PathBuf>) -> Self {
        // Canonical, so that `PWD`, `USER_CODE_ROOT` and tracebacks show a real path.
        let code_dir = spec
            .code_dir
            .canonicalize()
            .unwrap_or_else(|_| spec.code_dir.clone());
        let code = code_dir.to_string_lossy().into_owned();
        let mut platform_env: Vec<(String, String)> = vec![
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            (
                "USER_CODE_ROOT".into(),
                format!("{}/", code.trim_end_matches('/')),
            ),
            ("PWD".into(), code.clone()),
        ];
        let (program, bootstrap, path) = match &spec.runtime {
            RuntimeKind::Custom => (code_dir.join("bootstrap"), None, DEFAULT_PATH.to_owned()),
            RuntimeKind::Python { interpreter } => {
                platform_env.push(("PYTHONPATH".into(), code.clone()));
                platform_env.push(("PYTHONDONTWRITEBYTECODE".into(), "x".into()));
                platform_env.push(("_".into(), interpreter.to_string_lossy().into_owned()));
                (
                    interpreter.clone(),
                    Some(("bootstrap.py", PYTHON_BOOTSTRAP)),
                    with_dir_of(interpreter),
                )
            }
            RuntimeKind::Node { interpreter } => {
                platform_env.push(("NODE_PATH".into(), format!("{code}:{code}/node_modules")));
                platform_env.push(("_".into(), interpreter.to_string_lossy().into_owned()));
                (
                    interpreter.clone(),
                    Some(("bootstrap.js", NODE_BOOTSTRAP)),
                    with_dir_of(interpreter),
                )
            }
        };
        platform_env.insert(0, ("PATH".into(), path));
        let scratch_prefix = format!("scf-{}-", spec.config.name);
        Self {
            program,
            bootstrap,
            code_dir,
            scratch_root: spec.scratch_root.clone(),
            scratch_prefix,
            platform_env,
            function_env: spec.config.process_environment(),
            handler: spec.config.handler.clone(),
            cgroup_parent,
            memory_limit_bytes: u64::from(spec.config.memory_mb) * 1024 * 1024,
        }
    }
}

/// `DEFAULT_PATH` with the interpreter's directory first, so that a function that starts
/// `python3` or `node` itself gets the same one.
fn with_dir_of(interpreter: &Path) -> String {
    match interpreter.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            format!("{}:{DEFAULT_PATH}", dir.to_string_lossy())
        }
        _ => DEFAULT_PATH.to_owned(),
    }
}

/// How an instance's process ended.
#[derive(Debug, Clone)]
pub(crate) struct Exit {
    pub(crate) status: Option<ExitStatus>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.status {
            Some(status) => write!(f, "{status}"),
            None => f.write_str("its exit status could not be read"),
        }
    }
}

/// A running instance. Dropping it kills its process group and removes its scratch
/// directory; [`Instance::stop`] does the same and also waits for the process to end.
#[derive(Debug)]
pub(crate) struct Instance {
    pid: u32,
    pub(crate) api: RuntimeApi,
    pub(crate) sink: Arc<OutputSink>,
    output: OutputReader,
    exit: watch::Receiver<Option<Exit>>,
    monitor: JoinHandle<()>,
    pub(crate) memory: MemoryProbe,
    pub(crate) cgroup: Option<Cgroup>,
    scratch: Option<tempfile::TempDir>,
    stopped: bool,
    pub(crate) started: Instant,
    pub(crate) last_used: Instant,
    /// Set when init finishes; taken by the first invocation for its `Init Report` line.
    pub(crate) init: Option<crate::function::InitInfo>,
    _permit: OwnedSemaphorePermit,
}

impl Instance {
    /// Starts the bootstrap; it is not ready until [`RuntimeApi::ready`] says so.
    pub(crate) async fn spawn(
        launch: &Launch,
        permit: OwnedSemaphorePermit,
    ) -> std::io::Result<Self> {
        let started = Instant::now();
        let scratch = tempfile::Builder::new()
            .prefix(&launch.scratch_prefix)
            .tempdir_in(&launch.scratch_root)?;
        let tmp = scratch.path().join("tmp");
        let home = scratch.path().join("home");
        std::fs::create_dir(&tmp)?;
        std::fs::create_dir(&home)?;
        let mut args: Vec<OsString> = Vec::new();
        if let Some((name, source)) = launch.bootstrap {
            let dir = scratch.path().join("runtime");
            std::fs::create_dir(&dir)?;
            let file = dir.join(name);
            std::fs::write(&file, source)?;
            args.push(file.into_os_string());
        }
        let api = RuntimeApi::start().await?;

        let (sender, receiver) = tokio::net::unix::pipe::pipe()?;
        let stdout = sender.into_blocking_fd()?;
        let stderr = stdout.try_clone()?;

        let mut cmd = tokio::process::Command::new(&launch.program);
        cmd.args(&args)
            .current_dir(&launch.code_dir)
            .env_clear()
            .envs(launch.platform_env.iter().map(|(k, v)| (k, v)))
            .env("HOME", &home)
            .env("TMPDIR", &tmp)
            .envs(launch.function_env.iter().map(|(k, v)| (k, v)))
            .env("SCF_RUNTIME_API", "127.0.0.1")
            .env("SCF_RUNTIME_API_PORT", api.port().to_string())
            .env("_HANDLER", &launch.handler)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .kill_on_drop(false);
        let cgroup = match &launch.cgroup_parent {
            Some(parent) => {
                let name = scratch
                    .path()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| launch.scratch_prefix.clone());
                match Cgroup::create(parent, &name, launch.memory_limit_bytes) {
                    Ok(cg) => Some(cg),
                    Err(e) => {
                        tracing::warn!(error = %e, parent = %parent.display(), "could not create a memory cgroup; the watchdog alone enforces the limit");
                        None
                    }
                }
            }
            None => None,
        };
        let child = cmd.spawn();
        // The command holds our copies of the pipe's write end; close them so that the
        // reader sees end of file when the instance's processes are gone.
        drop(cmd);
        let mut child = child?;
        let pid = child.id().unwrap_or(0);
        let cgroup = cgroup.and_then(|cg| match cg.add(pid) {
            Ok(()) => Some(cg),
            Err(e) => {
                tracing::warn!(error = %e, "could not move an instance into its memory cgroup");
                None
            }
        });

        let sink = Arc::new(OutputSink::default());
        let output = OutputReader::spawn(receiver, sink.clone());
        let (exit_tx, exit) = watch::channel(None);
        let monitor = tokio::spawn(async move {
            let status = child.wait().await.ok();
            let _ = exit_tx.send(Some(Exit { status }));
        });
        let pgid = i32::try_from(pid).unwrap_or(0);
        Ok(Self {
            pid,
            api,
            sink,
            output,
            exit,
            monitor,
            memory: MemoryProbe::new(pgid),
            cgroup,
            scratch: Some(scratch),
            stopped: false,
            started,
            last_used: started,
            init: None,
            _permit: permit,
        })
    }

    /// How the bootstrap ended, if it has.
    pub(crate) fn exited(&self) -> Option<Exit> {
        self.exit.borrow().clone()
    }

    /// Whether the instance can take an invocation: its process runs and its tasks too
    /// (they end with the tokio runtime that started them).
    pub(crate) fn is_usable(&self) -> bool {
        self.exited().is_none() && !self.monitor.is_finished() && !self.exited_unreaped()
    }

    /// Whether the bootstrap has ended though the monitor has not reaped it yet: a peek
    /// (`waitid` with `WNOWAIT`) that leaves the reaping to the monitor.
    fn exited_unreaped(&self) -> bool {
        use rustix::process::{WaitId, WaitIdOptions};
        let Some(pid) = i32::try_from(self.pid).ok().and_then(Pid::from_raw) else {
            return true;
        };
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        // ECHILD: already reaped, so it has ended too.
        !matches!(rustix::process::waitid(WaitId::Pid(pid), options), Ok(None))
    }

    /// Waits until the bootstrap ends.
    pub(crate) fn wait_exit(&self) -> impl std::future::Future<Output = Exit> + Send + 'static {
        let mut rx = self.exit.clone();
        async move {
            match rx.wait_for(Option::is_some).await {
                Ok(exit) => exit.clone().unwrap_or(Exit { status: None }),
                Err(_) => Exit { status: None },
            }
        }
    }

    /// Sends `SIGKILL` to the whole process group.
    pub(crate) fn kill(&self) {
        if self.stopped {
            return;
        }
        if let Some(pid) = i32::try_from(self.pid).ok().and_then(Pid::from_raw) {
            // ESRCH: the group is already gone.
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        }
    }

    /// Reads what the process wrote so far into its sink.
    pub(crate) fn drain_output(&self) {
        self.output.drain();
    }

    /// Kills the process group, waits for the bootstrap to end (briefly), and removes the
    /// scratch directory and the cgroup.
    pub(crate) async fn stop(mut self) {
        self.kill();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.wait_exit()).await;
        self.stopped = true;
        self.monitor.abort();
        let scratch = self.scratch.take();
        let cgroup = self.cgroup.take();
        let _ = tokio::task::spawn_blocking(move || {
            drop(scratch);
            drop(cgroup);
        })
        .await;
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
        self.monitor.abort();
        // The scratch directory (TempDir) and the cgroup clean up in their own Drop.
    }
}
