//! What an out-of-process function is: its configuration, code, runtime and pool, and
//! the errors that describe a spec that cannot run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scf_context::{ConfigError, FunctionConfig};

/// Instances a function may run at once when neither the spec nor the function's
/// `max_concurrency` says.
pub const DEFAULT_MAX_INSTANCES: usize = 10;

/// How long an instance may sit idle before it is stopped, by default.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The interpreters and bootstraps this crate knows how to start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeKind {
    /// `CustomRuntime`: the executable `<code_dir>/bootstrap` speaks the Custom Runtime API.
    Custom,
    /// `Python3.x`: the bundled Python bootstrap, run by `interpreter`.
    Python {
        /// Absolute path of the Python 3 interpreter.
        interpreter: PathBuf,
    },
    /// `Nodejs…`: the bundled Node.js bootstrap, run by `interpreter`.
    Node {
        /// Absolute path of the `node` executable.
        interpreter: PathBuf,
    },
    /// `Php5.6`/`Php7.2`/`Php7.4`/`Php8.0`: the bundled PHP bootstrap, run by `interpreter`.
    Php {
        /// Absolute path of the `php` command-line interpreter.
        interpreter: PathBuf,
    },
    /// `Go1`: the function's own executable `<code_dir>/<handler>`, built with Tencent's
    /// scf-go-lib (`cloudfunction.Start`), which serves Go's net/rpc on the port in
    /// `_LAMBDA_SERVER_PORT`; the host calls it (see `docs/runtimes.md`).
    Go,
}

impl RuntimeKind {
    /// The runtime for an SCF runtime name: `CustomRuntime`, `Python3.6`/`3.7`/`3.9`/`3.10`/…,
    /// `Nodejs10.15`/`12.16`/`16.13`/…, `Php5.6`/`7.2`/`7.4`/`8.0`, `Go1` (case does not
    /// matter).
    ///
    /// Python, Node.js and PHP functions run with the interpreter found on this machine's
    /// `PATH` (`python3`, `node`, `php`), whatever its version; the version in the name is not
    /// enforced. The interpreter is asked for its real executable (so that a version
    /// manager's shim is not started for every instance), which starts it once.
    pub fn from_scf_name(name: &str) -> Result<Self, ProcessError> {
        let lower = name.to_ascii_lowercase();
        if lower == "customruntime" {
            Ok(RuntimeKind::Custom)
        } else if let Some(version) = lower.strip_prefix("python") {
            if !version.starts_with('3') {
                return Err(ProcessError::UnsupportedRuntime {
                    name: name.to_owned(),
                    reason: "only Python 3 functions are supported (Python3.6, Python3.7, Python3.9, Python3.10, …)",
                });
            }
            let interpreter =
                find_interpreter(name, "python3", PYTHON_PROBE, |v| v.starts_with("3."))?;
            Ok(RuntimeKind::Python { interpreter })
        } else if lower.starts_with("nodejs") {
            let interpreter = find_interpreter(name, "node", NODE_PROBE, |_| true)?;
            Ok(RuntimeKind::Node { interpreter })
        } else if lower == "go1" {
            Ok(RuntimeKind::Go)
        } else if lower.starts_with("php") {
            let interpreter = find_interpreter(name, "php", PHP_PROBE, crate::php::version_ok)?;
            Ok(RuntimeKind::Php { interpreter })
        } else {
            Err(ProcessError::UnsupportedRuntime {
                name: name.to_owned(),
                reason:
                    "supported runtimes are CustomRuntime, Python3.x, Nodejs…, Php5.6/7.2/7.4/8.0",
            })
        }
    }

    /// The family name used in messages (`CustomRuntime`, `Python`, `Nodejs`).
    pub fn family(&self) -> &'static str {
        match self {
            RuntimeKind::Custom => "CustomRuntime",
            RuntimeKind::Python { .. } => "Python",
            RuntimeKind::Node { .. } => "Nodejs",
            RuntimeKind::Php { .. } => "Php",
            RuntimeKind::Go => "Go1",
        }
    }
}

const PYTHON_PROBE: &[&str] = &[
    "-c",
    "import sys; sys.stdout.write(sys.executable + '\\n' + '%d.%d.%d' % sys.version_info[:3])",
];
const NODE_PROBE: &[&str] = &[
    "-e",
    "process.stdout.write(process.execPath + '\\n' + process.versions.node)",
];
const PHP_PROBE: &[&str] = &["-r", "echo PHP_BINARY, \"\\n\", PHP_VERSION;"];

/// Finds `program` on `PATH` and asks it for its real executable path.
fn find_interpreter(
    runtime: &str,
    program: &str,
    probe: &[&str],
    version_ok: impl Fn(&str) -> bool,
) -> Result<PathBuf, ProcessError> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let not_found = |detail: String| ProcessError::InterpreterNotFound {
        runtime: runtime.to_owned(),
        program: program.to_owned(),
        detail,
    };
    let found = std::env::split_paths(&path_var)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            not_found(format!(
                "no executable `{program}` in any directory of PATH ({})",
                path_var.to_string_lossy()
            ))
        })?;
    let out = std::process::Command::new(&found)
        .args(probe)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| not_found(format!("{} could not be started: {e}", found.display())))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let (Some(exe), Some(version)) = (lines.next(), lines.next()) else {
        return Err(not_found(format!(
            "{} did not report its executable ({}): {}",
            found.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    };
    if !version_ok(version) {
        return Err(not_found(format!(
            "{} is version {version}, which cannot run {runtime} functions",
            found.display()
        )));
    }
    let exe = PathBuf::from(exe);
    Ok(if exe.is_absolute() && is_executable(&exe) {
        exe
    } else {
        found
    })
}

/// Whether `path` is a file with an execute bit set.
pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether instances get a cgroup v2 of their own with `memory.max`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CgroupPolicy {
    /// Use the host's own cgroup when it delegates the memory controller; otherwise rely
    /// on the resident-memory watchdog alone. The default.
    #[default]
    Auto,
    /// Never create cgroups; the watchdog enforces the limit.
    Disabled,
    /// Create instance cgroups under this cgroup v2 directory (it must delegate `memory`).
    Under(PathBuf),
}

/// How a function's instances are pooled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Most instances alive at once; an invocation that finds them all busy waits for one.
    pub max_instances: usize,
    /// How long an instance may sit idle before it is stopped.
    pub idle_timeout: Duration,
}

impl PoolConfig {
    /// The pool for `config`: up to its `max_concurrency` instances (or
    /// [`DEFAULT_MAX_INSTANCES`]), stopped after [`DEFAULT_IDLE_TIMEOUT`] idle.
    pub fn for_function(config: &FunctionConfig) -> Self {
        Self {
            max_instances: config
                .max_concurrency
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(DEFAULT_MAX_INSTANCES),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// A pool of at most `max_instances`, each stopped after `idle_timeout` idle.
    pub fn new(max_instances: usize, idle_timeout: Duration) -> Self {
        Self {
            max_instances,
            idle_timeout,
        }
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_INSTANCES, DEFAULT_IDLE_TIMEOUT)
    }
}

/// Everything needed to run a function out of process.
///
/// ```no_run
/// use scf_context::FunctionConfig;
/// use scf_process::{ProcessSpec, RuntimeKind};
///
/// let mut config = FunctionConfig::new("hello");
/// config.runtime = Some("Python3.9".into());
/// let spec = ProcessSpec::from_config(config, "./examples/python-seed")?;
/// assert!(matches!(spec.runtime, RuntimeKind::Python { .. }));
/// # Ok::<(), scf_process::ProcessError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessSpec {
    /// The function: handler, limits (memory, timeout, init timeout), identity and
    /// environment variables.
    pub config: FunctionConfig,
    /// The function's code: the instance's working directory.
    pub code_dir: PathBuf,
    /// What to start.
    pub runtime: RuntimeKind,
    /// How instances are pooled.
    pub pool: PoolConfig,
    /// Where each instance's scratch directory (its `TMPDIR` and `HOME`) is made.
    /// Default: the system's temporary directory.
    pub scratch_root: PathBuf,
    /// Whether instances get a memory cgroup. Default [`CgroupPolicy::Auto`].
    pub cgroup: CgroupPolicy,
    /// How instances are sandboxed. Default: [`Sandbox::detected`](crate::Sandbox::detected).
    pub sandbox: crate::Sandbox,
    /// Paths a sandboxed instance must not see even where they lie inside its code
    /// directory (the server's data directory); the scratch root is always among them.
    pub hidden: Vec<PathBuf>,
    /// The function's layers (directories or `.zip` files), in SCF's binding order: merged
    /// into one directory that instances see at `/opt`, a later layer over an earlier one
    /// (see `docs/layers.md`).
    pub layers: Vec<PathBuf>,
    /// A web function (`Type: HTTP`): the instance is `<code_dir>/scf_bootstrap`, an HTTP
    /// server on port 9000, and each invocation is an HTTP request to it (see
    /// [`ProcessSpec::web`]). `runtime` then only puts its interpreter on `PATH`.
    pub web: bool,
}

impl ProcessSpec {
    /// A spec with the default pool for `config` and scratch in the system's temporary
    /// directory.
    pub fn new(config: FunctionConfig, code_dir: impl Into<PathBuf>, runtime: RuntimeKind) -> Self {
        Self {
            pool: PoolConfig::for_function(&config),
            config,
            code_dir: code_dir.into(),
            runtime,
            scratch_root: std::env::temp_dir(),
            cgroup: CgroupPolicy::default(),
            sandbox: crate::Sandbox::detected().clone(),
            hidden: Vec::new(),
            layers: Vec::new(),
            web: false,
        }
    }

    /// A web function (`Type: HTTP`): its `scf_bootstrap` starts an HTTP server on port
    /// 9000 and every invocation is forwarded to it as an HTTP request; the event is an
    /// API Gateway event and the return value the integration response that stands for
    /// the server's answer. `config.runtime` (`Python3.9`, `Nodejs16.13`…), when set, puts
    /// that interpreter first on the instance's `PATH`; the handler is not used.
    pub fn web(config: FunctionConfig, code_dir: impl Into<PathBuf>) -> Result<Self, ProcessError> {
        let runtime = match config.runtime.as_deref() {
            Some(name) if !name.eq_ignore_ascii_case("customruntime") => {
                RuntimeKind::from_scf_name(name)?
            }
            _ => RuntimeKind::Custom,
        };
        let mut spec = Self::new(config, code_dir, runtime);
        spec.web = true;
        Ok(spec)
    }

    /// A spec whose runtime comes from `config.runtime` (see [`RuntimeKind::from_scf_name`]).
    pub fn from_config(
        config: FunctionConfig,
        code_dir: impl Into<PathBuf>,
    ) -> Result<Self, ProcessError> {
        let name = config.runtime.clone().ok_or(ProcessError::MissingRuntime)?;
        let runtime = RuntimeKind::from_scf_name(&name)?;
        Ok(Self::new(config, code_dir, runtime))
    }

    /// Uses `pool` for instances.
    pub fn with_pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// Makes instance scratch directories under `dir`.
    pub fn with_scratch_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scratch_root = dir.into();
        self
    }

    /// Sandboxes instances with `sandbox` (e.g. [`Sandbox::off`](crate::Sandbox::off), or
    /// one probed from a [`SandboxConfig`](crate::SandboxConfig)).
    pub fn with_sandbox(mut self, sandbox: crate::Sandbox) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Hides `path` (covered by an empty directory) from sandboxed instances, should it
    /// lie inside the code directory: the server's data directory, say.
    pub fn with_hidden_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.hidden.push(path.into());
        self
    }

    /// Gives the function `layers` (directories or `.zip` files), in SCF's binding order.
    pub fn with_layers(mut self, layers: impl IntoIterator<Item = PathBuf>) -> Self {
        self.layers = layers.into_iter().collect();
        self
    }

    /// Uses `policy` for memory cgroups.
    pub fn with_cgroup(mut self, policy: CgroupPolicy) -> Self {
        self.cgroup = policy;
        self
    }
}

/// A spec that cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The function configuration breaks a platform rule.
    #[error("invalid function configuration: {0}")]
    Config(#[from] ConfigError),
    /// `config.runtime` is not set, so the runtime cannot be chosen.
    #[error("FunctionConfig.runtime is not set: name the runtime (CustomRuntime, Python3.9, Nodejs16.13, …)")]
    MissingRuntime,
    /// The runtime name is not one this crate runs.
    #[error("runtime {name:?} is not supported: {reason}")]
    UnsupportedRuntime {
        /// The name given.
        name: String,
        /// Why, and what is supported.
        reason: &'static str,
    },
    /// No usable interpreter for the runtime on this machine.
    #[error("runtime {runtime:?} needs `{program}`, which was not found: {detail}")]
    InterpreterNotFound {
        /// The runtime name given.
        runtime: String,
        /// The program looked for (`python3`, `node`).
        program: String,
        /// Where it was looked for and what went wrong.
        detail: String,
    },
    /// The code directory is missing or not a directory.
    #[error("code directory {}: {problem}", path.display())]
    CodeDir {
        /// The directory given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A Custom Runtime's `bootstrap` is missing or cannot be run.
    #[error("{}: {problem}", path.display())]
    Bootstrap {
        /// The bootstrap's path.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// An interpreter given in [`RuntimeKind`] cannot be run.
    #[error("interpreter {}: {problem}", path.display())]
    Interpreter {
        /// The interpreter's path.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The handler is not a valid `file.method` for a Python, Node.js or PHP function.
    #[error("handler {handler:?} is invalid for a {runtime} function: {problem}")]
    Handler {
        /// The handler given.
        handler: String,
        /// The runtime family.
        runtime: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A pool setting breaks a rule.
    #[error("PoolConfig.{field} is invalid: {rule}")]
    Pool {
        /// The field.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The scratch root is missing or not a directory.
    #[error("scratch root {}: {problem}", path.display())]
    ScratchRoot {
        /// The directory given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A layer is missing, is neither a directory nor a `.zip` file, or cannot be unpacked.
    #[error("layer {}: {problem}", path.display())]
    Layer {
        /// The layer's directory or zip file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The cgroup directory named in [`CgroupPolicy::Under`] cannot hold instance cgroups.
    #[error("cgroup directory {}: {problem}", path.display())]
    Cgroup {
        /// The directory given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// Checks that `<code_dir>/<name>` is an executable file, which `who` needs.
fn check_bootstrap(code_dir: &Path, name: &str, who: &str) -> Result<(), ProcessError> {
    let path = code_dir.join(name);
    let problem = match std::fs::metadata(&path) {
        Err(e) => {
            format!("{who} needs an executable file named `{name}` in its code directory: {e}")
        }
        Ok(m) if !m.is_file() => format!("`{name}` must be a file"),
        Ok(_) if !is_executable(&path) => {
            format!("`{name}` is not executable: set its execute permission (chmod 755 {name})")
        }
        Ok(_) => return Ok(()),
    };
    Err(ProcessError::Bootstrap { path, problem })
}

impl ProcessSpec {
    /// Checks the spec: the configuration, the code directory, the bootstrap or
    /// interpreter, the handler, the pool, the scratch root and the layers.
    pub fn validate(&self) -> Result<(), ProcessError> {
        self.config.validate()?;
        match std::fs::metadata(&self.code_dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ProcessError::CodeDir {
                    path: self.code_dir.clone(),
                    problem: "is not a directory".into(),
                })
            }
            Err(e) => {
                return Err(ProcessError::CodeDir {
                    path: self.code_dir.clone(),
                    problem: format!("cannot be read: {e}"),
                })
            }
        }
        match &self.runtime {
            _ if self.web => check_bootstrap(&self.code_dir, "scf_bootstrap", "a web function")?,
            RuntimeKind::Custom => {
                check_bootstrap(&self.code_dir, "bootstrap", "a Custom Runtime function")?;
            }
            RuntimeKind::Go => crate::go::validate(&self.code_dir, &self.config.handler)?,
            RuntimeKind::Python { interpreter }
            | RuntimeKind::Node { interpreter }
            | RuntimeKind::Php { interpreter } => {
                if !is_executable(interpreter) {
                    return Err(ProcessError::Interpreter {
                        path: interpreter.clone(),
                        problem: "is not an executable file".into(),
                    });
                }
                if let Err(e) = scf_handler::HandlerSpec::parse(&self.config.handler) {
                    return Err(ProcessError::Handler {
                        handler: self.config.handler.clone(),
                        runtime: self.runtime.family(),
                        problem: e.to_string(),
                    });
                }
            }
        }
        if self.pool.max_instances == 0 {
            return Err(ProcessError::Pool {
                field: "max_instances",
                rule: "must be at least 1",
            });
        }
        if self.pool.idle_timeout.is_zero() {
            return Err(ProcessError::Pool {
                field: "idle_timeout",
                rule: "must be longer than zero",
            });
        }
        if !self.scratch_root.is_dir() {
            return Err(ProcessError::ScratchRoot {
                path: self.scratch_root.clone(),
                problem: "is not an existing directory".into(),
            });
        }
        for layer in &self.layers {
            crate::layers::check(layer)?;
        }
        if let CgroupPolicy::Under(dir) = &self.cgroup {
            if !crate::cgroup::delegates_memory(dir) {
                return Err(ProcessError::Cgroup {
                    path: dir.clone(),
                    problem:
                        "is not a cgroup v2 directory whose cgroup.subtree_control lists `memory`"
                            .into(),
                });
            }
        }
        Ok(())
    }
}
