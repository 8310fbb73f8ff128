//! Cheap project rules, checked by CI rather than by memory (as rust-analyzer's `tidy`).

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_library_crate_starts_with_a_crate_doc() {
    let crates = root().join("crates");
    for entry in fs::read_dir(&crates).unwrap().flatten() {
        let lib = entry.path().join("src/lib.rs");
        if lib.exists() {
            let text = fs::read_to_string(&lib).unwrap();
            assert!(
                text.starts_with("//!"),
                "{} must begin with a `//!` doc",
                lib.display()
            );
        }
    }
}

#[test]
fn every_module_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    for f in files {
        if !f.components().any(|c| c.as_os_str() == "src") {
            continue;
        }
        let text = fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} must begin with a `//!` doc saying what it is for",
            f.display()
        );
    }
}

#[test]
fn no_trailing_whitespace_in_rust_sources() {
    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            assert!(
                !line.ends_with(' ') && !line.ends_with('\t'),
                "{}:{} has trailing whitespace",
                f.display(),
                i + 1
            );
        }
    }
}

#[test]
fn every_crate_inherits_the_workspace_lints() {
    let crates = root().join("crates");
    for entry in fs::read_dir(&crates).unwrap().flatten() {
        let manifest = entry.path().join("Cargo.toml");
        if manifest.exists() {
            let text = fs::read_to_string(&manifest).unwrap();
            assert!(
                text.contains("[lints]\nworkspace = true"),
                "{} must inherit [workspace.lints]",
                manifest.display()
            );
        }
    }
}
