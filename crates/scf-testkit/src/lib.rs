//! What the workspace's tests need from the machine, in one place.
//!
//! Some tests drive real programs: Python and Node.js functions run under `python3` and
//! `node`, SCF's own Custom Runtime examples call `curl`, and the client tests run the
//! official Tencent Cloud SDKs and `tccli`. Each such program is a [`Requirement`] here,
//! with the way to install it. A test asks for what it needs with [`require`]:
//!
//! - by default a missing requirement **fails** the test, with a message naming what is
//!   missing and how to install it — a test never passes by doing nothing;
//! - only when `SCF_ALLOW_SKIPS=1` is set (as `cargo xtask ci --allow-skips` does) does
//!   `require` return `false`, so that the test returns early; the skip is printed and,
//!   when `SCF_SKIP_LOG` names a file, appended to it as one line (`test<TAB>requirement
//!   <TAB>how to install`), which `cargo xtask ci` lists at the end of its run.
//!
//! `cargo xtask ci` checks the same list ([`ALL`]) before it starts, so a machine that
//! lacks something fails in one line instead of sixty test failures.
//!
//! [`go::build`] builds a test's Go program (the `Go1` function stand-ins, the gob
//! checker) offline with the machine's `go`.
//!
//! [`PgCluster`] starts a private PostgreSQL cluster for a test (see the `postgres`
//! module: what `SCF_TEST_POSTGRES_URL` names, and running as root).
//!
//! This crate is for the workspace's own tests (a dev-dependency only) and has no
//! dependencies.
//!
//! ```
//! use scf_testkit::{require, CURL};
//!
//! fn a_test_that_needs_curl() {
//!     if !require(&CURL) {
//!         return; // only with SCF_ALLOW_SKIPS=1, and the skip is reported
//!     }
//!     // … run the Custom Runtime example that calls curl …
//! }
//! # let _ = a_test_that_needs_curl;
//! ```

pub mod go;
mod postgres;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use postgres::{postgres_bin_dir, test_postgres_url, PgCluster, TEST_POSTGRES_URL};

/// A program or installation some tests need.
#[derive(Debug)]
pub struct Requirement {
    /// What is needed, as a person would name it (`node`, `the official clients`).
    pub name: &'static str,
    /// How to install it on this project's machines (Debian).
    pub install: &'static str,
    /// Whether `--allow-skips` may run without it. `python3` may not: the README's main
    /// job serves a Python function, and every `scf` command test runs one.
    pub skippable: bool,
    check: fn() -> Result<(), String>,
}

impl Requirement {
    /// Whether it is present: `Err` says what was looked for and not found.
    pub fn check(&self) -> Result<(), String> {
        (self.check)()
    }
}

/// `python3`, which runs Python functions.
pub static PYTHON3: Requirement = Requirement {
    name: "python3",
    install: "apt-get install python3 python3-venv",
    skippable: false,
    check: || on_path("python3").map(drop),
};

/// `node`, which runs Node.js functions (and the Node.js SDK).
pub static NODE: Requirement = Requirement {
    name: "node",
    install: "apt-get install nodejs",
    skippable: true,
    check: || on_path("node").map(drop),
};

/// `curl` in a system directory, which SCF's Custom Runtime examples call from their
/// shell `bootstrap` (instances run with a fixed system `PATH`).
pub static CURL: Requirement = Requirement {
    name: "curl",
    install: "apt-get install curl",
    skippable: true,
    check: || {
        let dirs = ["/usr/local/bin/curl", "/usr/bin/curl", "/bin/curl"];
        if dirs.iter().any(|p| Path::new(p).is_file()) {
            Ok(())
        } else {
            Err(format!("no curl in {}", dirs.join(", ")))
        }
    },
};

/// The official clients: the Python SDK and `tccli` in a virtualenv, and the Node.js SDK.
pub static OFFICIAL_CLIENTS: Requirement = Requirement {
    name: "the official Tencent Cloud clients (Python SDK, tccli, Node.js SDK)",
    install: "crates/scf-http/tests/clients/install.sh",
    skippable: true,
    check: || {
        let clients = Clients::locate();
        let missing: Vec<String> = [
            (&clients.python, "the Python SDK's virtualenv"),
            (&clients.tccli, "tccli"),
        ]
        .into_iter()
        .filter(|(path, _)| !path.is_file())
        .map(|(path, what)| format!("{} ({what})", path.display()))
        .chain((!clients.node_sdk().is_dir()).then(|| format!("{}", clients.node_sdk().display())))
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("missing {}", missing.join(", ")))
        }
    },
};

/// PostgreSQL, which the `scf-store-postgres` tests run against: the server named by
/// `SCF_TEST_POSTGRES_URL`, or the binaries to start a private one ([`PgCluster`]).
pub static POSTGRES: Requirement = Requirement {
    name: "PostgreSQL (initdb, pg_ctl, postgres)",
    install: "apt-get install postgresql",
    skippable: true,
    check: || {
        if postgres::test_postgres_url().is_some() {
            return Ok(());
        }
        postgres::postgres_bin_dir().map(drop)
    },
};

/// `bwrap` (bubblewrap), which sandboxes out-of-process functions.
pub static BWRAP: Requirement = Requirement {
    name: "bwrap",
    install: "apt-get install bubblewrap",
    skippable: true,
    check: || on_path("bwrap").map(drop),
};

/// `slirp4netns`, which gives a sandboxed function outbound network and the host's
/// loopback at 10.0.2.2.
pub static SLIRP4NETNS: Requirement = Requirement {
    name: "slirp4netns",
    install: "apt-get install slirp4netns",
    skippable: true,
    check: || on_path("slirp4netns").map(drop),
};

/// `php` (Debian's php-cli), which runs the bundled PHP runtime (`Php7.4` functions).
pub static PHP: Requirement = Requirement {
    name: "php",
    install: "apt-get install php-cli",
    skippable: true,
    check: || on_path("php").map(drop),
};

/// `go` (Debian's golang-go), which builds the Go test programs that stand in for
/// `Go1` functions built with scf-go-lib, and the gob encoder the gob codec is checked
/// against.
pub static GO: Requirement = Requirement {
    name: "go",
    install: "apt-get install golang-go",
    skippable: true,
    check: || on_path("go").map(drop),
};

/// Chromium, the browser the console's tests drive (`chromium`, or `SCF_CHROMIUM`).
pub static CHROMIUM: Requirement = Requirement {
    name: "chromium",
    install: "apt-get install chromium",
    skippable: true,
    check: || chromium().map(drop),
};

/// `chromedriver`, the WebDriver server that drives Chromium (`SCF_CHROMEDRIVER` names
/// another).
pub static CHROMEDRIVER: Requirement = Requirement {
    name: "chromedriver",
    install: "apt-get install chromium-driver",
    skippable: true,
    check: || chromedriver().map(drop),
};

/// The Chromium binary: `SCF_CHROMIUM`, else `chromium` on the `PATH`.
pub fn chromium() -> Result<PathBuf, String> {
    program_or_env("SCF_CHROMIUM", "chromium")
}

/// The chromedriver binary: `SCF_CHROMEDRIVER`, else `chromedriver` on the `PATH`.
pub fn chromedriver() -> Result<PathBuf, String> {
    program_or_env("SCF_CHROMEDRIVER", "chromedriver")
}

fn program_or_env(var: &str, name: &str) -> Result<PathBuf, String> {
    match std::env::var_os(var) {
        Some(p) if Path::new(&p).is_file() => Ok(PathBuf::from(p)),
        Some(p) => Err(format!("{var}={} is not a file", Path::new(&p).display())),
        None => on_path(name),
    }
}

/// Everything in this list, in the order `cargo xtask ci` reports it.
pub static ALL: [&Requirement; 11] = [
    &PYTHON3,
    &NODE,
    &CURL,
    &OFFICIAL_CLIENTS,
    &POSTGRES,
    &BWRAP,
    &SLIRP4NETNS,
    &PHP,
    &GO,
    &CHROMIUM,
    &CHROMEDRIVER,
];

/// Where the official clients are installed: `<repo>/.venv-clients` and
/// `crates/scf-http/tests/clients/node`, or `SCF_CLIENTS_VENV` and
/// `SCF_CLIENTS_NODE_DIR`.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The virtualenv's Python, which has the Python SDK.
    pub python: PathBuf,
    /// The virtualenv's `tccli`.
    pub tccli: PathBuf,
    /// The directory whose `node_modules` holds the Node.js SDK.
    pub node_dir: PathBuf,
}

impl Clients {
    /// Their paths (whether or not they are installed).
    pub fn locate() -> Self {
        let venv = std::env::var_os("SCF_CLIENTS_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".venv-clients"));
        let node_dir = std::env::var_os("SCF_CLIENTS_NODE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("crates/scf-http/tests/clients/node"));
        Clients {
            python: venv.join("bin/python"),
            tccli: venv.join("bin/tccli"),
            node_dir,
        }
    }

    fn node_sdk(&self) -> PathBuf {
        self.node_dir
            .join("node_modules/tencentcloud-sdk-nodejs-scf")
    }
}

/// The workspace's root directory.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The first executable file called `program` in a directory of `PATH`.
pub fn on_path(program: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| format!("no `{program}` on PATH ({})", path.to_string_lossy()))
}

/// The environment variable that lets [`require`] skip instead of fail.
pub const ALLOW_SKIPS: &str = "SCF_ALLOW_SKIPS";
/// The environment variable naming the file each skip is appended to.
pub const SKIP_LOG: &str = "SCF_SKIP_LOG";

/// Whether `req` is present. When it is not, this panics (failing the test) with a
/// message that names it and how to install it, unless it is skippable and
/// `SCF_ALLOW_SKIPS=1`: then it
/// reports the skip (on stderr, and in `SCF_SKIP_LOG`) and returns `false`.
#[track_caller]
pub fn require(req: &Requirement) -> bool {
    let Err(detail) = req.check() else {
        return true;
    };
    // libtest runs each test on a thread named after it; cargo and nextest say whose
    // test binary this is.
    let test = format!(
        "{}::{}",
        std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<crate>".into()),
        std::thread::current()
            .name()
            .unwrap_or("<unnamed test thread>")
    );
    if !req.skippable || std::env::var(ALLOW_SKIPS).as_deref() != Ok("1") {
        let or_skip = if req.skippable {
            ", or run `cargo xtask ci --allow-skips` to skip the tests that need it"
        } else {
            ""
        };
        panic!(
            "{test} needs {} ({detail}): install it with `{}`{or_skip}",
            req.name, req.install
        );
    }
    let line = format!("{test}\t{}\t{}\n", req.name, req.install);
    // Written to the stderr handle itself, which the test harness does not capture.
    let _ = std::io::stderr().write_all(
        format!(
            "SKIPPED {test}: needs {} ({detail}); install it with `{}`\n",
            req.name, req.install
        )
        .as_bytes(),
    );
    if let Some(log) = std::env::var_os(SKIP_LOG) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = appended {
            panic!(
                "{test}: could not record its skip in {}: {e}",
                Path::new(&log).display()
            );
        }
    }
    false
}
