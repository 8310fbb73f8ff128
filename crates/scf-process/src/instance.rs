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
use crate::sandbox::{Layout, Sandbox, RUNTIME_API_PORT};
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
    sandbox: Sandbox,
    /// The interpreter's installation prefixes (of the path given and of the real
    /// executable, a virtualenv and its base), shown read-only inside the sandbox.
    interpreter_prefixes: Vec<PathBuf>,
    /// Paths the sandbox covers with an empty tmpfs (the scratch root, the data directory).
    hidden: Vec<PathBuf>,
    /// A `Go1` function: the program serves net/rpc and a driver calls it (`go.rs`).
    go: bool,
    /// The function's layers merged into one directory, shown at `/opt` (`layers.rs`).
    layers: Option<crate::layers::MergedLayers>,
    /// A web function: `scf_bootstrap` serves HTTP on port 9000 (`crate::web`).
    pub(crate) web: bool,
    /// Whether instances are offered the lean transport (`crate::frames`): every runtime
    /// whose bootstrap speaks the Runtime API (not Go's driver, not web functions).
    frames: bool,
}

impl Launch {
    pub(crate) fn new(
        spec: &ProcessSpec,
        cgroup_parent: Option<PathBuf>,
        sandbox: Sandbox,
        layers: Option<crate::layers::MergedLayers>,
    ) -> Self {
        // Canonical, so that `PWD`, `USER_CODE_ROOT` and tracebacks show a real path.
        let code_dir = spec
            .code_dir
            .canonicalize()
            .unwrap_or_else(|_| spec.code_dir.clone());
        let code = code_dir.to_string_lossy().into_owned();
        let opt = layers
            .as_ref()
            .map(|l| crate::layers::opt_dir(l, sandbox.is_on()));
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
                let path = opt.as_ref().map(|o| crate::layers::python_path(&code, o));
                platform_env.push(("PYTHONPATH".into(), path.unwrap_or_else(|| code.clone())));
                platform_env.push(("PYTHONDONTWRITEBYTECODE".into(), "x".into()));
                platform_env.push(("_".into(), interpreter.to_string_lossy().into_owned()));
                (
                    interpreter.clone(),
                    Some(("bootstrap.py", PYTHON_BOOTSTRAP)),
                    with_dir_of(interpreter),
                )
            }
            RuntimeKind::Node { interpreter } => {
                let path = opt.as_ref().map(|o| crate::layers::node_path(&code, o));
                let path = path.unwrap_or_else(|| format!("{code}:{code}/node_modules"));
                platform_env.push(("NODE_PATH".into(), path));
                platform_env.push(("_".into(), interpreter.to_string_lossy().into_owned()));
                (
                    interpreter.clone(),
                    Some(("bootstrap.js", NODE_BOOTSTRAP)),
                    with_dir_of(interpreter),
                )
            }
            RuntimeKind::Go => (
                code_dir.join(&spec.config.handler),
                None,
                DEFAULT_PATH.to_owned(),
            ),
            RuntimeKind::Php { interpreter } => {
                platform_env.extend(crate::php::environment(&code, interpreter));
                (
                    interpreter.clone(),
                    Some(("bootstrap.php", crate::php::BOOTSTRAP)),
                    with_dir_of(interpreter),
                )
            }
        };
        platform_env.insert(0, ("PATH".into(), path));
        let (program, bootstrap) = if spec.web {
            (code_dir.join("scf_bootstrap"), None)
        } else {
            (program, bootstrap)
        };
        let scratch_prefix = format!("scf-{}-", spec.config.name);
        let interpreter_prefixes = match &spec.runtime {
            RuntimeKind::Python { interpreter }
            | RuntimeKind::Node { interpreter }
            | RuntimeKind::Php { interpreter } => crate::sandbox::interpreter_prefixes(interpreter),
            RuntimeKind::Custom | RuntimeKind::Go => Vec::new(),
        };
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let mut hidden: Vec<PathBuf> = spec.hidden.iter().map(|p| canonical(p)).collect();
        hidden.push(canonical(&spec.scratch_root));
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
            sandbox,
            interpreter_prefixes,
            hidden,
            go: spec.runtime == RuntimeKind::Go,
            layers,
            web: spec.web,
            frames: !spec.web && spec.runtime != RuntimeKind::Go,
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

/// A running instance. Dropping it kills its process group (and its sandbox) and removes
/// its scratch directory; [`Instance::stop`] does the same and also waits for the process
/// to end.
#[derive(Debug)]
pub(crate) struct Instance {
    pid: u32,
    /// A pidfd of the sandbox's init (bwrap's first process in the instance's PID
    /// namespace); killing it ends every process of the namespace. A pidfd names that
    /// process, never another one that reused its pid after it was reaped.
    ns_init: Option<std::os::fd::OwnedFd>,
    pub(crate) api: RuntimeApi,
    /// The lean transport's socket until init ends (`crate::frames`).
    pub(crate) frames: Option<crate::frames::FrameListener>,
    /// The bootstrap's connection on it, when it said ready there.
    pub(crate) conn: Option<crate::frames::FrameConn>,
    pub(crate) sink: Arc<OutputSink>,
    pub(crate) output: OutputReader,
    exit: watch::Receiver<Option<Exit>>,
    monitor: JoinHandle<()>,
    pub(crate) memory: MemoryProbe,
    pub(crate) cgroup: Option<Cgroup>,
    /// `slirp4netns` (killed on drop) and the pipe whose closing makes it exit.
    network: Option<(tokio::process::Child, tokio::process::ChildStdin)>,
    scratch: Option<tempfile::TempDir>,
    stopped: bool,
    pub(crate) started: Instant,
    pub(crate) last_used: Instant,
    /// Set when init finishes; taken by the first invocation for its `Init Report` line.
    pub(crate) init: Option<crate::function::InitInfo>,
    /// A web function's HTTP server.
    pub(crate) web: Option<Arc<crate::web::WebPort>>,
    _permit: OwnedSemaphorePermit,
}

/// Kills a half-started sandbox and names what failed.
fn setup_failed(child: &mut tokio::process::Child, what: String) -> std::io::Error {
    let _ = child.start_kill();
    std::io::Error::other(format!(
        "the instance's sandbox could not be set up: {what}"
    ))
}

impl Instance {
    /// Starts the bootstrap (in its sandbox, where there is one); it is not ready until
    /// [`RuntimeApi::ready`] says so.
    pub(crate) async fn spawn(
        launch: &Launch,
        permit: OwnedSemaphorePermit,
    ) -> std::io::Result<Self> {
        let started = Instant::now();
        let mode = launch.sandbox.mode.clone();
        let sandboxed = mode.bwrap.is_some();
        let scratch = tempfile::Builder::new()
            .prefix(&launch.scratch_prefix)
            .tempdir_in(&launch.scratch_root)?;
        let tmp = scratch.path().join("tmp");
        let home = scratch.path().join("home");
        std::fs::create_dir(&tmp)?;
        std::fs::create_dir(&home)?;
        let frames = if launch.frames {
            crate::frames::FrameListener::bind(&tmp, sandboxed)
        } else {
            None
        };
        let mut args: Vec<OsString> = Vec::new();
        let mut runtime_dir = None;
        if let Some((name, source)) = launch.bootstrap {
            let dir = scratch.path().join("runtime");
            std::fs::create_dir(&dir)?;
            let file = dir.join(name);
            std::fs::write(&file, source)?;
            args.push(file.into_os_string());
            runtime_dir = Some(dir);
        }
        let resolv_conf = if mode.slirp4netns.is_some() {
            let file = scratch.path().join("resolv.conf");
            // slirp4netns's DNS forwarder.
            std::fs::write(&file, "nameserver 10.0.2.3\n")?;
            Some(file)
        } else {
            None
        };
        // Without a private network namespace the API listens on the host's loopback.
        let host_api = if mode.netns {
            None
        } else {
            let api = RuntimeApi::start().await?;
            if sandboxed {
                // On the host's loopback: every connection is checked from the start.
                api.check_peers();
            }
            Some(api)
        };
        let port = host_api.as_ref().map_or(RUNTIME_API_PORT, RuntimeApi::port);
        let go_port = if launch.go {
            Some(crate::go::port(mode.netns)?)
        } else {
            None
        };
        let web_port = match (launch.web, mode.netns) {
            (false, _) => None,
            (true, true) => Some(crate::web::WEB_PORT),
            (true, false) => Some(crate::web::free_port()?),
        };

        let (sender, receiver) = tokio::net::unix::pipe::pipe()?;
        let stdout = sender.into_blocking_fd()?;
        let stderr = stdout.try_clone()?;

        let mut cmd = match &mode.bwrap {
            Some(bwrap) => {
                let layout = Layout {
                    code_dir: &launch.code_dir,
                    tmp: &tmp,
                    home: &home,
                    runtime_dir: runtime_dir.as_deref(),
                    interpreter_prefixes: &launch.interpreter_prefixes,
                    resolv_conf: resolv_conf.as_deref(),
                    hidden: &launch.hidden,
                    opt: launch.layers.as_ref().map(|l| l.path()),
                };
                let mut cmd = tokio::process::Command::new(bwrap);
                cmd.args(mode.bwrap_args(&layout)).arg(&launch.program);
                cmd
            }
            None => tokio::process::Command::new(&launch.program),
        };
        cmd.args(&args)
            .current_dir(&launch.code_dir)
            .env_clear()
            .envs(launch.platform_env.iter().map(|(k, v)| (k, v)))
            .env("HOME", &home)
            .env("TMPDIR", &tmp)
            .envs(launch.function_env.iter().map(|(k, v)| (k, v)))
            .env("SCF_RUNTIME_API", "127.0.0.1")
            .env("SCF_RUNTIME_API_PORT", port.to_string())
            .env("_HANDLER", &launch.handler)
            .envs(
                frames
                    .as_ref()
                    .map(|f| (crate::frames::SOCKET_VAR, f.announced.as_str())),
            )
            .envs(go_port.map(|p| ("_LAMBDA_SERVER_PORT", p.to_string())))
            .envs(web_port.map(|p| ("PORT", p.to_string())))
            // In a sandbox, bwrap waits for a byte on stdin (`--block-fd 0`) before it
            // starts the bootstrap, which then reads end of file there.
            .stdin(if sandboxed {
                Stdio::piped()
            } else {
                Stdio::null()
            })
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
        let gate = child.stdin.take();

        let mut ns_init = None;
        let mut network = None;
        let api = match host_api {
            Some(api) => api,
            None => {
                // Private network namespace: the API socket is made inside it.
                let found = tokio::task::spawn_blocking(move || {
                    let init = crate::sandbox::namespace_init(pid, Duration::from_secs(5))?;
                    let listener = crate::netns::bind_in_netns(init).map_err(|e| {
                        format!("binding the Runtime API in its network namespace: {e}")
                    })?;
                    Ok::<_, String>((init, listener))
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
                let (init, listener) = found.map_err(|e| setup_failed(&mut child, e))?;
                ns_init = Some(init);
                RuntimeApi::serve(listener).map_err(|e| setup_failed(&mut child, e.to_string()))?
            }
        };
        if sandboxed && ns_init.is_none() {
            // The API is on the host's loopback: connections are refused until the
            // sandbox is known, then accepted from its processes only.
            let found = tokio::task::spawn_blocking(move || {
                crate::sandbox::namespace_init(pid, Duration::from_secs(5))
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let init = found.map_err(|e| setup_failed(&mut child, e))?;
            let owner = crate::peer::Owner::of_namespace(init).ok_or_else(|| {
                setup_failed(
                    &mut child,
                    "the sandbox's PID namespace cannot be read".into(),
                )
            })?;
            api.restrict_to(owner);
            ns_init = Some(init);
        }
        if let (Some(slirp), Some(init)) = (&mode.slirp4netns, ns_init) {
            match start_slirp4netns(slirp, init, &scratch.path().join("slirp4netns.log")).await {
                Ok(net) => network = Some(net),
                Err(e) => return Err(setup_failed(&mut child, e)),
            }
        }
        let cgroup = cgroup.and_then(|cg| {
            let added = cg.add(pid).and_then(|()| match ns_init {
                Some(init) => cg.add(u32::try_from(init).unwrap_or(0)),
                None => Ok(()),
            });
            match added {
                Ok(()) => Some(cg),
                Err(e) => {
                    tracing::warn!(error = %e, "could not move an instance into its memory cgroup");
                    None
                }
            }
        });
        if let Some(mut gate) = gate {
            use tokio::io::AsyncWriteExt;
            gate.write_all(b"x")
                .await
                .map_err(|e| setup_failed(&mut child, format!("starting the bootstrap: {e}")))?;
        }

        let web = match (web_port, ns_init) {
            (None, _) => None,
            (Some(port), Some(init)) if mode.netns => Some(crate::web::WebPort::new(
                port,
                Some(
                    crate::netns::open(init)
                        .map_err(|e| setup_failed(&mut child, e.to_string()))?,
                ),
            )),
            (Some(port), _) => Some(crate::web::WebPort::new(port, None)),
        };
        let sink = Arc::new(OutputSink::default());
        let output = OutputReader::spawn(receiver, sink.clone());
        let (exit_tx, exit) = watch::channel(None);
        let monitor = tokio::spawn(async move {
            let status = child.wait().await.ok();
            let _ = exit_tx.send(Some(Exit { status }));
        });
        let memory = match ns_init {
            Some(init) => MemoryProbe::in_namespace(init),
            None => MemoryProbe::new(i32::try_from(pid).unwrap_or(0)),
        };
        let ns_init = ns_init.and_then(Pid::from_raw).and_then(|init| {
            rustix::process::pidfd_open(init, rustix::process::PidfdFlags::empty()).ok()
        });
        if let Some(port) = go_port {
            crate::go::drive(crate::go::Driver {
                api: api.local(),
                exit: exit.clone(),
                pid,
                netns: ns_init
                    .as_ref()
                    .filter(|_| mode.netns)
                    .and_then(|fd| fd.try_clone().ok()),
                port,
            });
        }
        Ok(Self {
            pid,
            ns_init,
            api,
            frames,
            conn: None,
            sink,
            output,
            exit,
            monitor,
            memory,
            cgroup,
            network,
            scratch: Some(scratch),
            stopped: false,
            started,
            last_used: started,
            init: None,
            web,
            _permit: permit,
        })
    }

    /// How the bootstrap ended, if it has.
    pub(crate) fn exited(&self) -> Option<Exit> {
        self.exit.borrow().clone()
    }

    /// Whether the instance can take an invocation: its process runs and its tasks too
    /// (they end with the tokio runtime that started them). On the lean transport the
    /// bootstrap's connection tells (without a system call, see
    /// [`FrameConn::idle_alive`](crate::frames::FrameConn::idle_alive)); otherwise a
    /// `waitid` peek covers an exit the monitor has not reaped yet.
    pub(crate) fn is_usable(&self) -> bool {
        if self.exited().is_some() || self.monitor.is_finished() {
            return false;
        }
        match &self.conn {
            Some(conn) => conn.idle_alive(),
            None => !self.exited_unreaped(),
        }
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
        // The namespace's init: its death makes the kernel kill every process left in
        // the namespace (the outer bwrap's death does the same through its
        // PR_SET_PDEATHSIG, a moment later).
        if let Some(init) = &self.ns_init {
            // ESRCH: it is gone already.
            let _ = rustix::process::pidfd_send_signal(init, Signal::KILL);
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
        if let Some((mut slirp, exit_pipe)) = self.network.take() {
            drop(exit_pipe);
            let _ = slirp.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), slirp.wait()).await;
        }
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

/// Starts `slirp4netns` for the network namespace of `init` and waits until the
/// namespace has its default route through `tap0` (read from `/proc/<init>/net/route`,
/// which shows the namespace's table). It exits when its stdin (kept by the instance)
/// closes, and is killed when the instance drops it.
async fn start_slirp4netns(
    program: &Path,
    init: i32,
    log: &Path,
) -> Result<(tokio::process::Child, tokio::process::ChildStdin), String> {
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let said = || {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
    };
    let mut child = tokio::process::Command::new(program)
        .args(["--configure", "--mtu=65520", "--exit-fd=0"])
        .arg(init.to_string())
        .arg("tap0")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let Some(stdin) = child.stdin.take() else {
        return Err("slirp4netns has no stdin".into());
    };
    let end = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if crate::sandbox::has_default_route(init, "tap0") {
            return Ok((child, stdin));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{} exited ({status}) before the network was configured: {}",
                program.display(),
                said()
            ));
        }
        if tokio::time::Instant::now() >= end {
            return Err(format!(
                "{} did not configure the network within 5 s: {}",
                program.display(),
                said()
            ));
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}
