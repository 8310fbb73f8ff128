//! PostgreSQL for the tests: the server the `POSTGRES` requirement finds, and
//! [`PgCluster`], a private, throwaway cluster (initdb in a temporary directory, started on
//! a free loopback port, stopped and deleted on drop).
//!
//! Tests get a server in one of two ways:
//!
//! - [`TEST_POSTGRES_URL`] (`SCF_TEST_POSTGRES_URL`) names one (`cargo xtask ci` starts a
//!   throwaway cluster and sets it when it is unset); each test keeps to a schema of its own
//!   on it, so they run in parallel;
//! - otherwise, and for a test that stops or restarts its server, the test starts its own
//!   [`PgCluster`] (about a second).
//!
//! PostgreSQL refuses to run as root. As root (as CI runs), the cluster's directory is
//! given to the user `postgres` (or `nobody` where there is none) and `initdb` and
//! `pg_ctl` run as that user through `runuser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming a PostgreSQL server for the tests
/// (`postgres://USER@HOST:PORT/DATABASE`).
pub const TEST_POSTGRES_URL: &str = "SCF_TEST_POSTGRES_URL";

/// The server named by [`TEST_POSTGRES_URL`], if set.
pub fn test_postgres_url() -> Option<String> {
    std::env::var(TEST_POSTGRES_URL)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: on `PATH`, in
/// `/usr/local/bin`, or Debian's `/usr/lib/postgresql/<version>/bin` (the newest).
pub fn postgres_bin_dir() -> Result<PathBuf, String> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Ok(initdb) = crate::on_path("initdb") {
        if let Some(dir) = initdb.parent().filter(|d| has_all(d)) {
            return Ok(dir.to_path_buf());
        }
    }
    let local = Path::new("/usr/local/bin");
    if has_all(local) {
        return Ok(local.to_path_buf());
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    debian.sort();
    debian.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no initdb, pg_ctl and postgres on PATH, in /usr/local/bin or in /usr/lib/postgresql/*/bin"
            .to_owned()
    })
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The user the cluster runs as when this process is root.
fn cluster_user() -> Result<String, String> {
    for user in ["postgres", "nobody"] {
        let known = Command::new("id")
            .args(["-u", user])
            .output()
            .is_ok_and(|o| o.status.success());
        if known {
            return Ok(user.to_owned());
        }
    }
    Err(
        "running as root, and neither user `postgres` nor `nobody` exists to run PostgreSQL as"
            .into(),
    )
}

/// A free TCP port on 127.0.0.1 (free when this returns; the server binds it soon after).
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// A private PostgreSQL cluster, deleted on drop. Superuser `postgres`, trust
/// authentication on 127.0.0.1 only, its socket in its own directory, `fsync` off (a
/// test's data need not survive a power loss).
#[derive(Debug)]
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    /// `Some(user)` when the commands run as that user (this process is root).
    run_as: Option<String>,
    port: u16,
    /// More `-c name=value` options.
    settings: String,
}

impl PgCluster {
    /// Initialises and starts a cluster, or says which step failed and why.
    pub fn start() -> Result<Self, String> {
        Self::start_with(&[])
    }

    /// The same, with more server settings (`name=value`, as `postgres -c` takes them;
    /// later ones win, so `fsync=on` turns durability back on for a benchmark).
    pub fn start_with(settings: &[&str]) -> Result<Self, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let bin = postgres_bin_dir()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let run_as = if is_root() {
            Some(cluster_user()?)
        } else {
            None
        };
        // The cluster's user must reach its directory: as root, `/tmp` (a `TMPDIR` under
        // `/root` would not do), else the temporary directory.
        let base = if run_as.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "scf-pg-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let cluster = PgCluster {
            dir,
            bin,
            run_as,
            port: free_port()?,
            settings: settings.iter().map(|s| format!(" -c {s}")).collect(),
        };
        if let Some(user) = &cluster.run_as {
            let out = Command::new("chown")
                .args(["-R", user])
                .arg(&cluster.dir)
                .output()
                .map_err(|e| format!("running chown: {e}"))?;
            check("chown", &out)?;
        }
        let data = cluster.dir.join("data");
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .output()
            .map_err(|e| format!("running initdb: {e}"))?;
        check("initdb", &out)?;
        cluster.pg_ctl_start()?;
        Ok(cluster)
    }

    /// A command running `program` of the cluster's binaries, as the cluster's user.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    /// The URL of the cluster's `postgres` database as its superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200{}",
            self.port,
            self.dir.display(),
            self.settings
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .map_err(|e| format!("running pg_ctl start: {e}"))?;
        check("pg_ctl start", &out).map_err(|e| format!("{e}\nserver log:\n{}", self.log()))
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port.
    pub fn start_again(&self) -> Result<(), String> {
        self.pg_ctl_start()
    }

    /// Stops the server (`pg_ctl stop -m fast`: connections are closed at once).
    pub fn stop(&self) -> Result<(), String> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-t", "60", "-m", "fast", "stop"])
            .output()
            .map_err(|e| format!("running pg_ctl stop: {e}"))?;
        check("pg_ctl stop", &out)
    }

    /// Stops and starts the server (`pg_ctl restart -m fast`).
    pub fn restart(&self) -> Result<(), String> {
        self.stop()?;
        self.start_again()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn check(step: &str, out: &Output) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{step} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
