//! Building the tests' Go programs (standard library only) with the machine's `go`,
//! offline: no module download, no cgo, a build cache of the tests' own.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the Go program whose `*.go` files are in `src` into `out_dir/<name>` (made if
/// missing; an integration test's `CARGO_TARGET_TMPDIR` keeps it for the next test
/// process), a static executable, and returns its path. Panics (failing the test) with Go's output when the
/// build fails; call [`crate::require`] with [`crate::GO`] first.
///
/// The build cache and `GOPATH` are in the system's temporary directory
/// (`scf-testkit-go/`), shared by the test processes so that the standard library is
/// compiled once; `GOPROXY=off` keeps the build offline (the programs import nothing outside the standard
/// library).
pub fn build(src: &Path, out_dir: &Path, name: &str) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "go"))
        .filter(|p| !p.to_string_lossy().ends_with("_test.go"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .go files in {}", src.display());
    let root = std::env::temp_dir().join("scf-testkit-go");
    std::fs::create_dir_all(out_dir).unwrap_or_else(|e| panic!("{}: {e}", out_dir.display()));
    let out = out_dir.join(name);
    // Built beside and renamed into place, so that test processes building the same
    // program at once never run a half-written file.
    let partial = out_dir.join(format!(".{name}.{}", std::process::id()));
    let output = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&partial)
        .args(&files)
        .current_dir(src)
        .env("GOCACHE", root.join("cache"))
        .env("GOPATH", root.join("path"))
        .env("GOPROXY", "off")
        .env("GO111MODULE", "auto")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .output()
        .unwrap_or_else(|e| panic!("starting `go build`: {e}"));
    assert!(
        output.status.success(),
        "go build of {} failed ({}):\n{}{}",
        src.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &out)
        .unwrap_or_else(|e| panic!("{} → {}: {e}", partial.display(), out.display()));
    out
}
