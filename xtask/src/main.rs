//! Project tasks, in Rust so they run wherever cargo runs: `cargo xtask <task>`.
//!
//! - `ci [--allow-skips]`: everything CI checks, in order: what the machine must have,
//!   fmt, clippy (warnings denied), `cargo hack check --each-feature`, `cargo deny`
//!   (licences, bans, sources; offline), the tests under nextest, doctests, docs
//!   (warnings denied); every build with `--locked`.
//!
//!   It first checks that the machine has everything the checks and the tests need (the
//!   list is `scf-testkit`'s, which the tests use too) and stops in one line naming what
//!   is missing and how to install it. With `--allow-skips` it runs anyway: the tests that
//!   need a missing program skip, and the run ends by listing each skipped test and why.
//!
//!   The PostgreSQL tests need a server: when `SCF_TEST_POSTGRES_URL` is unset, `ci`
//!   starts a throwaway cluster (`scf_testkit::PgCluster`: initdb in a temporary
//!   directory, a free loopback port, as user `postgres` or `nobody` when run as root),
//!   passes its URL to the tests and stops it at the end; a test that restarts its server
//!   starts one of its own.
//! - `bench [crate…]`: the criterion benchmarks (all benchmarked crates by default).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => match args[1..] {
            [] => ci(false),
            [ref flag] if flag == "--allow-skips" => ci(true),
            _ => Err(format!("unknown arguments to ci: {}", args[1..].join(" "))),
        },
        Some("bench") => bench(&args[1..]),
        _ => Err("usage: cargo xtask <ci [--allow-skips] | bench [crate…]>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(step: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("\n==> {step}");
    let status = cmd
        .status()
        .map_err(|e| format!("{step}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// A cargo subcommand that a check needs, and how to install it.
struct Tool {
    subcommand: &'static str,
    install: &'static str,
    /// Whether `--allow-skips` may leave its step out.
    skippable: bool,
}

const TOOLS: [Tool; 3] = [
    Tool {
        subcommand: "nextest",
        install: "cargo install --locked cargo-nextest",
        skippable: false,
    },
    Tool {
        subcommand: "hack",
        install: "cargo install --locked cargo-hack",
        skippable: true,
    },
    Tool {
        subcommand: "deny",
        install: "cargo install --locked cargo-deny",
        skippable: true,
    },
];

impl Tool {
    fn present(&self) -> bool {
        cargo()
            .args([self.subcommand, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

/// What the machine lacks: the steps to leave out (with why), and the test requirements
/// that will skip. Fails when something is missing that may not be skipped, or anything
/// at all without `--allow-skips`.
fn preflight(allow_skips: bool) -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    let mut skipped_steps = Vec::new();
    let mut hard = false;
    for tool in &TOOLS {
        if !tool.present() {
            missing.push(format!("cargo-{} ({})", tool.subcommand, tool.install));
            hard |= !tool.skippable;
            skipped_steps.push(tool.subcommand);
        }
    }
    for req in scf_testkit::ALL {
        if req.check().is_err() {
            missing.push(format!("{} ({})", req.name, req.install));
            hard |= !req.skippable;
        }
    }
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let list = missing.join("; ");
    if hard {
        return Err(format!(
            "this machine lacks what the checks need: {list} (--allow-skips cannot leave out cargo-nextest or python3)"
        ));
    }
    if !allow_skips {
        return Err(format!(
            "this machine lacks what the checks need: {list}; install it, or run `cargo xtask ci --allow-skips` to skip what needs it"
        ));
    }
    eprintln!("xtask: --allow-skips: running without {list}");
    Ok(skipped_steps.into_iter().map(String::from).collect())
}

fn ci(allow_skips: bool) -> Result<(), String> {
    let left_out = preflight(allow_skips)?;
    let skip_log = root().join("target/xtask-skipped-tests.tsv");
    if let Some(dir) = skip_log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    match std::fs::remove_file(&skip_log) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", skip_log.display()))
        }
        _ => {}
    }

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("cargo fmt --all --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]);
    run("cargo clippy (warnings denied)", clippy)?;

    let mut steps_skipped = Vec::new();
    if left_out.iter().any(|s| s == "hack") {
        steps_skipped.push("cargo hack check --each-feature (cargo-hack is not installed)");
    } else {
        let mut hack = cargo();
        hack.args(["hack", "check", "--workspace", "--each-feature", "--locked"]);
        run("cargo hack check --each-feature", hack)?;
    }

    if left_out.iter().any(|s| s == "deny") {
        steps_skipped.push("cargo deny check (cargo-deny is not installed)");
    } else {
        // cargo-deny reads every platform's crates; fetching them is a no-op once cached.
        let mut fetch = cargo();
        fetch.args(["fetch", "--locked"]);
        run("cargo fetch --locked", fetch)?;
        let mut deny = cargo();
        deny.args([
            "deny",
            "--locked",
            "--offline",
            "check",
            "bans",
            "licenses",
            "sources",
        ]);
        run("cargo deny check bans licenses sources", deny)?;
    }

    // One throwaway PostgreSQL cluster for the tests that need a server (each keeps to a
    // schema of its own on it), unless one is named; dropped (stopped) when `ci` returns.
    let mut postgres_url = scf_testkit::test_postgres_url();
    let _cluster = match (&postgres_url, scf_testkit::postgres_bin_dir()) {
        (None, Ok(_)) => {
            let cluster = scf_testkit::PgCluster::start()
                .map_err(|e| format!("starting a PostgreSQL cluster for the tests: {e}"))?;
            eprintln!("xtask: PostgreSQL for the tests at {}", cluster.url());
            postgres_url = Some(cluster.url());
            Some(cluster)
        }
        _ => None,
    };

    let mut t = cargo();
    if let Some(url) = &postgres_url {
        t.env(scf_testkit::TEST_POSTGRES_URL, url);
    }
    t.args([
        "nextest",
        "run",
        "--workspace",
        "--all-features",
        "--locked",
        "--no-fail-fast",
    ])
    .env(scf_testkit::SKIP_LOG, &skip_log);
    if allow_skips {
        t.env(scf_testkit::ALLOW_SKIPS, "1");
    } else {
        t.env_remove(scf_testkit::ALLOW_SKIPS);
    }
    run("cargo nextest run", t)?;

    let mut doctest = cargo();
    doctest.args(["test", "--workspace", "--all-features", "--locked", "--doc"]);
    run("doctests", doctest)?;

    let mut doc = cargo();
    doc.args([
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
        "--locked",
    ])
    .env("RUSTDOCFLAGS", "-D warnings");
    run("cargo doc (warnings denied)", doc)?;

    report_skips(&skip_log, &steps_skipped)
}

/// Lists what `--allow-skips` left out: steps, and each skipped test with its reason.
fn report_skips(skip_log: &Path, steps: &[&str]) -> Result<(), String> {
    let tests = match std::fs::read_to_string(skip_log) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", skip_log.display())),
    };
    let mut tests: Vec<&str> = tests.lines().collect();
    tests.sort_unstable();
    tests.dedup();
    if steps.is_empty() && tests.is_empty() {
        eprintln!("\nci: all checks passed, nothing skipped");
        return Ok(());
    }
    eprintln!(
        "\nci: passed with {} step(s) and {} test(s) skipped (--allow-skips):",
        steps.len(),
        tests.len()
    );
    for step in steps {
        eprintln!("  step {step}");
    }
    for line in tests {
        let mut fields = line.splitn(3, '\t');
        let (test, needs, install) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        eprintln!("  test {test}: needs {needs} ({install})");
    }
    Ok(())
}

fn bench(crates: &[String]) -> Result<(), String> {
    let default = [
        "scf-store-sqlite",
        "scf-store-postgres",
        "scf-invoker",
        "scf-http",
    ];
    let list: Vec<&str> = if crates.is_empty() {
        default.to_vec()
    } else {
        crates.iter().map(String::as_str).collect()
    };
    for krate in list {
        let mut b = cargo();
        b.args(["bench", "-p", krate]);
        run(&format!("cargo bench -p {krate}"), b)?;
    }
    Ok(())
}
