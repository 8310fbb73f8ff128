//! Project tasks, in Rust so they run wherever cargo runs: `cargo xtask <task>`.
//!
//! - `ci`: everything CI checks, in order: fmt, clippy (warnings denied), tests (nextest
//!   where installed, else `cargo test`), doctests, docs (warnings denied).
//! - `bench [crate…]`: the criterion benchmarks (all benchmarked crates by default).

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci | bench [crate…]>");
            return ExitCode::from(2);
        }
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

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn ci() -> Result<(), String> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("cargo fmt --all --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    run("cargo clippy (warnings denied)", clippy)?;

    if has_nextest() {
        let mut t = cargo();
        t.args([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]);
        run("cargo nextest run", t)?;
    } else {
        let mut t = cargo();
        t.args([
            "test",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
        ]);
        run("cargo test", t)?;
    }

    let mut doctest = cargo();
    doctest.args(["test", "--workspace", "--all-features", "--doc"]);
    run("doctests", doctest)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run("cargo doc (warnings denied)", doc)?;
    eprintln!("\nci: all checks passed");
    Ok(())
}

fn bench(crates: &[String]) -> Result<(), String> {
    let default = ["scf-logs", "scf-invoker", "scf-http"];
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
