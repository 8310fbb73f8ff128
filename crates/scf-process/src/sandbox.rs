//! Each instance in a sandbox of its own, built with bubblewrap (`bwrap`) at instance
//! start, never per invocation.
//!
//! An instance runs as `bwrap … -- <bootstrap>` with new user (where the host allows it),
//! PID, mount, IPC, UTS and network namespaces:
//!
//! - **PID namespace** with `--die-with-parent`: the instance sees only its own processes
//!   in its own `/proc`; when the namespace's first process (bwrap's init) dies, the kernel
//!   kills every process left in the namespace, whatever it did (`setsid`, double fork,
//!   ignoring `SIGTERM`). Killing the outer `bwrap` (the host's child) kills that init
//!   through `PR_SET_PDEATHSIG`; the outer `bwrap` has the same signal tied to the host's
//!   thread that started it, so a crash of the host ends the sandbox too.
//! - **Mount namespace**: a new root with the system's `/usr` (and the merged `/bin`,
//!   `/lib`…) read-only, a short list of `/etc` files (no `shadow`, no keys), the
//!   interpreter's prefix and the code directory read-only, the instance's own scratch
//!   `tmp` writable at `/tmp` and at its host path (`TMPDIR`), its `HOME`, a private
//!   `/proc` and a minimal `/dev`. Paths named by [`ProcessSpec::with_hidden_path`]
//!   (the data directory) are covered by an empty tmpfs where they fall inside one of
//!   those directories.
//! - **Network namespace**: the instance has a loopback of its own, so ports never
//!   collide between instances. Its Runtime API socket is created inside that namespace
//!   (a short-lived thread of the host `setns`es into it and binds `127.0.0.1:9001`), so no
//!   process outside the instance can connect to it at all. Outbound traffic goes through
//!   `slirp4netns` (user-mode TCP/IP), which also maps the host's loopback to `10.0.2.2`
//!   and serves DNS on `10.0.2.3` (the instance's `/etc/resolv.conf` says so).
//!
//! What the host refuses is found once by [`Sandbox::probe`] and reported per guarantee
//! ([`Sandbox::guarantees`]); the instance then runs with what is left.
//!
//! [`ProcessSpec::with_hidden_path`]: crate::ProcessSpec::with_hidden_path

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The port of the Runtime API inside an instance's own network namespace, as on SCF.
pub(crate) const RUNTIME_API_PORT: u16 = 9001;

/// `/etc` entries an instance sees (read-only): name resolution, users and groups (no
/// passwords: `shadow` is not among them), time zone, the dynamic linker's cache, TLS
/// certificates, the alternatives' symlinks.
const ETC_ENTRIES: &[&str] = &[
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "localtime",
    "timezone",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    // Debian's php-cli: php.ini and the conf.d that loads its extensions.
    "php",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "pki",
    "alternatives",
    "mime.types",
    "protocols",
    "services",
    "os-release",
];

/// The system's read-only directories (those that exist are bound; `/bin` and the like
/// are symlinks into `/usr` on merged-`/usr` systems, which bwrap follows).
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// Which isolation mechanisms to try. What the host actually allows is found by
/// [`Sandbox::probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// The bubblewrap executable; `None`: no sandbox (instances are plain process groups).
    pub bwrap: Option<PathBuf>,
    /// Whether to ask for a user namespace (needed by an unprivileged host; root can do
    /// without, and then falls back to bwrap's privileged mode if user namespaces fail).
    pub user_namespace: bool,
    /// Whether each instance gets a network namespace of its own.
    pub network_namespace: bool,
    /// The `slirp4netns` executable that gives a private network namespace outbound
    /// connectivity; `None`: a private namespace has loopback only.
    pub slirp4netns: Option<PathBuf>,
}

impl SandboxConfig {
    /// Everything, with `bwrap` and `slirp4netns` looked up on `PATH` (and in `/usr/bin`).
    pub fn detect() -> Self {
        Self {
            bwrap: find_program("bwrap"),
            user_namespace: true,
            network_namespace: true,
            slirp4netns: find_program("slirp4netns"),
        }
    }

    /// No sandbox: instances run as process groups of the host's user, as before.
    pub fn off() -> Self {
        Self {
            bwrap: None,
            user_namespace: false,
            network_namespace: false,
            slirp4netns: None,
        }
    }

    /// [`SandboxConfig::detect`] with mechanisms left out as `spec` says: a comma-separated
    /// list of `off` (no sandbox), `no-userns`, `no-netns`, `no-slirp4netns`, or `auto`
    /// (nothing left out). This is the grammar of the `SCF_SANDBOX` variable.
    pub fn detect_except(spec: &str) -> Result<Self, String> {
        let mut config = Self::detect();
        for word in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "auto" => {}
                "off" => config = Self::off(),
                "no-userns" => config.user_namespace = false,
                "no-netns" => config.network_namespace = false,
                "no-slirp4netns" => config.slirp4netns = None,
                other => {
                    return Err(format!(
                        "SCF_SANDBOX: unknown word {other:?} (use auto, off, no-userns, no-netns, no-slirp4netns, comma-separated)"
                    ))
                }
            }
        }
        Ok(config)
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|p| crate::spec::is_executable(p))
}

/// One of the guarantees of the sandbox, and whether it holds on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Guarantee {
    /// Short name: `secrets`, `runtime-api`, `files`, `containment`, `network`.
    pub name: &'static str,
    /// Whether it holds.
    pub holds: bool,
    /// How it holds, or why not and what it takes.
    pub detail: String,
}

impl fmt::Display for Guarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.holds { "holds" } else { "DOES NOT HOLD" };
        write!(f, "{}: {verdict}: {}", self.name, self.detail)
    }
}

/// What the host allows, found once: how instances are sandboxed.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub(crate) mode: Arc<Mode>,
}

#[derive(Debug)]
pub(crate) struct Mode {
    /// `None`: no sandbox.
    pub(crate) bwrap: Option<PathBuf>,
    pub(crate) userns: bool,
    /// A private network namespace with the Runtime API socket inside it.
    pub(crate) netns: bool,
    pub(crate) slirp4netns: Option<PathBuf>,
    /// Why the sandbox is off, if it is.
    no_bwrap: Option<String>,
    /// Why there is no private network namespace, if there is none.
    no_netns: Option<String>,
    /// Why slirp4netns, though configured, is not used.
    no_slirp: Option<String>,
}

impl Sandbox {
    /// Tries each mechanism of `config` on this host (a throw-away sandbox or two, some
    /// 10 ms) and keeps those that work.
    pub fn probe(config: &SandboxConfig) -> Self {
        let mut mode = Mode {
            bwrap: None,
            userns: false,
            netns: false,
            slirp4netns: None,
            no_bwrap: None,
            no_netns: None,
            no_slirp: None,
        };
        let Some(bwrap) = &config.bwrap else {
            mode.no_bwrap = Some("no sandbox is configured (bwrap not found, or SCF_SANDBOX=off); apt-get install bubblewrap".into());
            mode.no_netns = mode.no_bwrap.clone();
            return Self {
                mode: Arc::new(mode),
            };
        };
        let mut tried = Vec::new();
        let userns_choices: &[bool] = if config.user_namespace {
            &[true, false]
        } else {
            &[false]
        };
        for &userns in userns_choices {
            match probe_run(bwrap, userns, false) {
                Ok(()) => {
                    mode.bwrap = Some(bwrap.clone());
                    mode.userns = userns;
                    break;
                }
                Err(e) => tried.push(format!(
                    "{} {}: {e}",
                    bwrap.display(),
                    if userns {
                        "with a user namespace"
                    } else {
                        "without a user namespace"
                    }
                )),
            }
        }
        if mode.bwrap.is_none() {
            mode.no_bwrap = Some(format!(
                "the host refused the sandbox's namespaces ({})",
                tried.join("; ")
            ));
            mode.no_netns = mode.no_bwrap.clone();
            return Self {
                mode: Arc::new(mode),
            };
        }
        if !config.network_namespace {
            mode.no_netns =
                Some("private network namespaces are turned off (SCF_SANDBOX=no-netns)".into());
        } else {
            match probe_run(bwrap, mode.userns, true) {
                Ok(()) => mode.netns = true,
                Err(e) => mode.no_netns = Some(format!("the host cannot place an instance's Runtime API inside its network namespace ({e}); that needs CAP_SYS_ADMIN (run scf serve as root)")),
            }
        }
        if mode.netns {
            if let Some(slirp) = &config.slirp4netns {
                match probe_slirp4netns(bwrap, mode.userns, slirp) {
                    Ok(()) => mode.slirp4netns = Some(slirp.clone()),
                    Err(e) => mode.no_slirp = Some(e),
                }
            }
        }
        Self {
            mode: Arc::new(mode),
        }
    }

    /// The sandbox of [`SandboxConfig::detect`] less what `SCF_SANDBOX` leaves out,
    /// probed once per process.
    pub fn detected() -> &'static Sandbox {
        static DETECTED: OnceLock<Sandbox> = OnceLock::new();
        DETECTED.get_or_init(|| {
            let spec = std::env::var("SCF_SANDBOX").unwrap_or_default();
            match SandboxConfig::detect_except(&spec) {
                Ok(config) => Self::probe(&config),
                Err(e) => {
                    // Leaving nothing out is the safe reading of a value we cannot parse.
                    tracing::warn!("{e}; the whole sandbox is used");
                    Self::probe(&SandboxConfig::detect())
                }
            }
        })
    }

    /// No sandbox at all.
    pub fn off() -> Self {
        Self::probe(&SandboxConfig::off())
    }

    /// Whether instances run in a sandbox at all.
    pub fn is_on(&self) -> bool {
        self.mode.bwrap.is_some()
    }

    /// Whether each instance has a network namespace of its own.
    pub fn has_private_network(&self) -> bool {
        self.mode.netns
    }

    /// The address at which a function reaches the host's loopback: `10.0.2.2` through
    /// slirp4netns, `127.0.0.1` when instances share the host's network, `None` in a
    /// private network namespace without slirp4netns.
    pub fn host_loopback(&self) -> Option<std::net::Ipv4Addr> {
        match (self.mode.netns, &self.mode.slirp4netns) {
            (true, Some(_)) => Some(std::net::Ipv4Addr::new(10, 0, 2, 2)),
            (true, None) => None,
            (false, _) => Some(std::net::Ipv4Addr::LOCALHOST),
        }
    }

    /// One line per guarantee: which hold on this host and which do not (what
    /// `scf serve` prints at start).
    pub fn guarantees(&self) -> Vec<Guarantee> {
        let m = &*self.mode;
        let on = m.bwrap.is_some();
        let why = m.no_bwrap.clone().unwrap_or_default();
        let g = |name, holds, detail: String| Guarantee {
            name,
            holds,
            detail,
        };
        let users = if m.userns {
            "user, PID, mount, IPC and UTS namespaces"
        } else {
            "PID, mount, IPC and UTS namespaces (bwrap privileged mode, no user namespace)"
        };
        let mut out = vec![
            if on {
                g("secrets", true, format!("no server process is visible to a function (its own /proc in a PID namespace) and no server file is mounted in its root ({users})"))
            } else {
                g("secrets", false, format!("a function can read /proc/<server pid>/environ and cmdline and the host's files: {why}"))
            },
            if m.netns {
                g("runtime-api", true, "each instance's Runtime API listens on 127.0.0.1:9001 inside the instance's own network namespace; no other process can connect to it".into())
            } else if on {
                g("runtime-api", true, format!("each instance's Runtime API listens on a port of the host's loopback and serves only connections opened by the instance's own processes (a connection from any other process is refused and logged); no private network namespace: {}", m.no_netns.clone().unwrap_or_default()))
            } else {
                g("runtime-api", false, format!("the Runtime API listens on the host's loopback, where any local process can connect: {}", m.no_netns.clone().unwrap_or_default()))
            },
            if on {
                g("files", true, "a function sees its code (read-only), its own /tmp and HOME, the system's /usr and a few /etc files (read-only); not other functions' code or scratch, not the data directory".into())
            } else {
                g(
                    "files",
                    false,
                    format!("a function reads whatever the server's user can: {why}"),
                )
            },
            if on {
                g("containment", true, "everything an instance starts ends with it (its PID namespace dies with its init; --die-with-parent)".into())
            } else {
                g("containment", false, format!("a process that leaves the instance's process group (setsid) outlives the instance: {why}"))
            },
        ];
        out.push(match (m.netns, &m.slirp4netns) {
            (true, Some(_)) => g("network", true, "outbound connections through slirp4netns; the host's loopback is 10.0.2.2 (e.g. a local database at 10.0.2.2:5432); ports never collide between instances".into()),
            (true, None) => g("network", false, match &m.no_slirp {
                Some(why) => format!("private network namespaces have loopback only, so functions make no outbound connections: slirp4netns failed ({why})"),
                None => "private network namespaces have loopback only: slirp4netns is not installed (apt-get install slirp4netns) or is turned off (SCF_SANDBOX=no-slirp4netns), so functions make no outbound connections".into(),
            }),
            (false, _) => g("network", true, "the host's network is shared (outbound works, the host's loopback is 127.0.0.1), but ports are shared by all instances".into()),
        });
        out
    }
}

/// The arguments of a throw-away sandbox: the host's root read-only, a `/proc` and `/dev`
/// of its own, `true` run once the host writes a byte to its stdin (`--block-fd 0`).
fn probe_args(userns: bool, netns: bool) -> Vec<OsString> {
    let mut args = namespace_args(userns, netns);
    args.extend(
        [
            "--ro-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--block-fd",
            "0",
            "--",
            "true",
        ]
        .map(OsString::from),
    );
    args
}

/// Runs a throw-away sandbox (`true`), with a network namespace whose listening socket
/// the host creates when `netns`.
fn probe_run(bwrap: &Path, userns: bool, netns: bool) -> Result<(), String> {
    let args = probe_args(userns, netns);
    let mut child = Command::new(bwrap)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let outcome = (|| {
        if netns {
            let init = namespace_init(child.id(), Duration::from_secs(2))?;
            crate::netns::bind_in_netns(init)
                .map_err(|e| format!("setns into the instance's network namespace: {e}"))?;
        }
        Ok::<(), String>(())
    })();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"x");
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    outcome?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", stderr.trim()))
    }
}

/// Runs a throw-away sandbox with a network namespace and `slirp4netns` for it, and
/// waits until the namespace has its default route (some 30 ms).
fn probe_slirp4netns(bwrap: &Path, userns: bool, slirp: &Path) -> Result<(), String> {
    let args = probe_args(userns, true);
    let mut sandbox = Command::new(bwrap)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start bwrap: {e}"))?;
    let outcome = (|| {
        let init = namespace_init(sandbox.id(), Duration::from_secs(2))?;
        let mut net = Command::new(slirp)
            .args(["--configure", "--mtu=65520", "--exit-fd=0"])
            .arg(init.to_string())
            .arg("tap0")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", slirp.display()))?;
        let end = Instant::now() + Duration::from_secs(5);
        let result = loop {
            if has_default_route(init, "tap0") {
                break Ok(());
            }
            if let Ok(Some(status)) = net.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = net.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                break Err(format!(
                    "{} exited ({status}): {}",
                    slirp.display(),
                    err.trim()
                ));
            }
            if Instant::now() >= end {
                break Err(format!(
                    "{} did not configure the namespace within 5 s",
                    slirp.display()
                ));
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        let _ = net.kill();
        let _ = net.wait();
        result
    })();
    if let Some(mut stdin) = sandbox.stdin.take() {
        let _ = stdin.write_all(b"x");
    }
    let _ = sandbox.wait();
    outcome
}

/// Whether the network namespace of process `pid` has a default route through `dev`
/// (`/proc/<pid>/net/route` shows that namespace's table).
pub(crate) fn has_default_route(pid: i32, dev: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/net/route")).is_ok_and(|text| {
        text.lines().any(|l| {
            let mut f = l.split_ascii_whitespace();
            f.next() == Some(dev) && f.next() == Some("00000000")
        })
    })
}

/// The namespace options of bwrap.
pub(crate) fn namespace_args(userns: bool, netns: bool) -> Vec<OsString> {
    let mut args: Vec<&str> = Vec::new();
    if userns {
        args.push("--unshare-user");
    }
    args.extend([
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]);
    if netns {
        args.push("--unshare-net");
    }
    args.push("--die-with-parent");
    args.into_iter().map(OsString::from).collect()
}

/// What an instance's root holds, beside the system directories.
#[derive(Debug)]
pub(crate) struct Layout<'a> {
    pub(crate) code_dir: &'a Path,
    pub(crate) tmp: &'a Path,
    pub(crate) home: &'a Path,
    /// The bundled bootstrap's directory (read-only).
    pub(crate) runtime_dir: Option<&'a Path>,
    /// The interpreter's installation prefixes (read-only), when outside `/usr`.
    pub(crate) interpreter_prefixes: &'a [PathBuf],
    /// The `resolv.conf` to show at `/etc/resolv.conf` (`None`: the host's).
    pub(crate) resolv_conf: Option<&'a Path>,
    /// Covered by an empty tmpfs where they lie inside a bound directory.
    pub(crate) hidden: &'a [PathBuf],
    /// The merged layers, shown at `/opt` (`layers.rs`).
    pub(crate) opt: Option<&'a Path>,
}

impl Mode {
    /// bwrap's arguments up to (and including) `--`, the command to follow.
    pub(crate) fn bwrap_args(&self, layout: &Layout<'_>) -> Vec<OsString> {
        let mut args = namespace_args(self.userns, self.netns);
        let mut push =
            |items: &[&std::ffi::OsStr]| args.extend(items.iter().map(|s| s.to_os_string()));
        let ro = std::ffi::OsStr::new("--ro-bind");
        let ro_try = std::ffi::OsStr::new("--ro-bind-try");
        let bind = std::ffi::OsStr::new("--bind");
        for dir in SYSTEM_DIRS {
            push(&[ro_try, dir.as_ref(), dir.as_ref()]);
        }
        for entry in ETC_ENTRIES {
            let path = Path::new("/etc").join(entry);
            push(&[ro_try, path.as_os_str(), path.as_os_str()]);
        }
        match layout.resolv_conf {
            Some(file) => push(&[ro, file.as_os_str(), "/etc/resolv.conf".as_ref()]),
            None => push(&[
                ro_try,
                "/etc/resolv.conf".as_ref(),
                "/etc/resolv.conf".as_ref(),
            ]),
        }
        // /tmp first: a code directory or scratch root under the host's /tmp is bound
        // over it below.
        push(&[
            "--proc".as_ref(),
            "/proc".as_ref(),
            "--dev".as_ref(),
            "/dev".as_ref(),
        ]);
        push(&[bind, layout.tmp.as_os_str(), "/tmp".as_ref()]);
        let opt = crate::layers::opt_mounts(layout.opt);
        push(&opt.iter().map(OsString::as_os_str).collect::<Vec<_>>());
        let mut bound: Vec<&Path> = vec![layout.code_dir];
        for prefix in layout.interpreter_prefixes {
            push(&[ro, prefix.as_os_str(), prefix.as_os_str()]);
            bound.push(prefix);
        }
        push(&[ro, layout.code_dir.as_os_str(), layout.code_dir.as_os_str()]);
        for hidden in layout.hidden {
            if bound.iter().any(|dir| hidden.starts_with(dir)) && hidden.is_dir() {
                push(&["--tmpfs".as_ref(), hidden.as_os_str()]);
            }
        }
        push(&[bind, layout.tmp.as_os_str(), layout.tmp.as_os_str()]);
        push(&[bind, layout.home.as_os_str(), layout.home.as_os_str()]);
        if let Some(dir) = layout.runtime_dir {
            push(&[ro, dir.as_os_str(), dir.as_os_str()]);
        }
        if layout.opt.is_some() {
            push(&crate::layers::OPT_SEAL.map(std::ffi::OsStr::new));
        }
        push(&[
            "--chdir".as_ref(),
            layout.code_dir.as_os_str(),
            "--block-fd".as_ref(),
            "0".as_ref(),
            "--".as_ref(),
        ]);
        args
    }
}

/// The installation prefixes of an interpreter outside the system directories
/// (`…/versions/3.11/bin/python3` → `…/versions/3.11`), of the path as given and of the
/// executable it resolves to (a virtualenv's `bin/python3` and its base interpreter),
/// which the sandbox must show for their libraries.
pub(crate) fn interpreter_prefixes(interpreter: &Path) -> Vec<PathBuf> {
    let real = interpreter
        .canonicalize()
        .unwrap_or_else(|_| interpreter.to_path_buf());
    let mut out: Vec<PathBuf> = Vec::new();
    for path in [interpreter, real.as_path()] {
        if SYSTEM_DIRS.iter().any(|d| path.starts_with(d)) {
            continue;
        }
        let Some(dir) = path.parent() else { continue };
        let prefix = if dir.file_name().is_some_and(|n| n == "bin") {
            dir.parent().unwrap_or(dir)
        } else {
            dir
        };
        if prefix != Path::new("/") && !out.iter().any(|p| prefix.starts_with(p)) {
            out.push(prefix.to_path_buf());
        }
    }
    out
}

/// The host pid of the sandbox's first process (bwrap's init in the new PID namespace),
/// the child of the outer `bwrap` process `outer`, once it has built the sandbox and waits
/// on `--block-fd 0` (bwrap reads it last, after its loopback, mounts and root are set up,
/// so nothing of ours races with bwrap's own setup).
pub(crate) fn namespace_init(outer: u32, wait: Duration) -> Result<i32, String> {
    let end = Instant::now() + wait;
    let init = find_init(outer, wait)?;
    loop {
        if blocked_on_stdin(init) {
            return Ok(init);
        }
        if !Path::new(&format!("/proc/{init}")).exists() {
            return Err(format!(
                "the sandbox's init (pid {init}) ended while it was being set up"
            ));
        }
        if Instant::now() >= end {
            return Err(format!(
                "the sandbox (pid {init}) was not set up within {wait:?}"
            ));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The number of `read` on this architecture, as `/proc/<pid>/syscall` shows it.
#[cfg(target_arch = "x86_64")]
const READ_SYSCALL: &str = "0";
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
))]
const READ_SYSCALL: &str = "63";
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
)))]
const READ_SYSCALL: &str = "";

/// Whether process `pid` sleeps in `read(0, …)`: bwrap waiting on its block fd.
fn blocked_on_stdin(pid: i32) -> bool {
    if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/syscall")) {
        let mut fields = text.split_ascii_whitespace();
        if let (Some(nr), Some(fd)) = (fields.next(), fields.next()) {
            return nr == READ_SYSCALL && fd == "0x0";
        }
    }
    // Without /proc/<pid>/syscall: the kernel function it sleeps in.
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("pipe_read"))
}

fn find_init(outer: u32, wait: Duration) -> Result<i32, String> {
    let own = std::fs::read_link("/proc/self/ns/pid").ok();
    let end = Instant::now() + wait;
    let children = format!("/proc/{outer}/task/{outer}/children");
    loop {
        if let Ok(text) = std::fs::read_to_string(&children) {
            for pid in text
                .split_ascii_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
                if ns.is_some() && ns != own {
                    return Ok(pid);
                }
            }
        }
        if Instant::now() >= end {
            return Err(format!(
                "bwrap (pid {outer}) started no sandbox within {wait:?}"
            ));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_outside_usr_brings_its_prefix_and_a_system_one_none() {
        assert!(interpreter_prefixes(Path::new("/usr/bin/python3")).is_empty());
        assert_eq!(
            interpreter_prefixes(Path::new("/opt/py/3.11/bin/python3")),
            vec![PathBuf::from("/opt/py/3.11")]
        );
    }

    #[test]
    fn tmp_comes_before_the_code_directory_and_the_hidden_data_directory_after_it() {
        let mode = Mode {
            bwrap: Some(PathBuf::from("/usr/bin/bwrap")),
            userns: true,
            netns: true,
            slirp4netns: None,
            no_bwrap: None,
            no_netns: None,
            no_slirp: None,
        };
        let code = std::env::temp_dir();
        let hidden = [code.clone()];
        let layout = Layout {
            code_dir: &code,
            tmp: Path::new("/scratch/i/tmp"),
            home: Path::new("/scratch/i/home"),
            runtime_dir: None,
            interpreter_prefixes: &[],
            resolv_conf: None,
            hidden: &hidden,
            opt: None,
        };
        let args: Vec<String> = mode
            .bwrap_args(&layout)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let at = |w: &[&str]| {
            args.windows(w.len())
                .position(|x| x == w)
                .unwrap_or_else(|| panic!("{w:?} not in {args:?}"))
        };
        let code = code.to_string_lossy().into_owned();
        let tmp = at(&["--bind", "/scratch/i/tmp", "/tmp"]);
        let code_at = at(&["--ro-bind", &code, &code]);
        let hide = at(&["--tmpfs", &code]);
        assert!(tmp < code_at && code_at < hide, "{args:?}");
        for flag in [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-net",
            "--die-with-parent",
        ] {
            assert!(args.iter().any(|a| a == flag), "{flag}: {args:?}");
        }
        assert!(!args.iter().any(|a| a == "/etc/shadow"), "{args:?}");
        assert_eq!(&args[args.len() - 3..], ["--block-fd", "0", "--"]);
    }
}
