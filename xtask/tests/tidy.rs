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

fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `cargo metadata` of the workspace's own packages.
fn metadata() -> serde_json::Value {
    let out = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// The workspace's packages under `crates/`.
fn crates(meta: &serde_json::Value) -> Vec<&serde_json::Value> {
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| m.contains("/crates/"))
        })
        .collect()
}

/// The crates of the layer diagram in `docs/architecture.md`, top (depends on the most)
/// first: the first word of each line of its first code block that names a crate.
fn layer_order() -> Vec<String> {
    let doc =
        fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let block = doc
        .split("```")
        .nth(1)
        .expect("docs/architecture.md begins with a layer diagram in a code block");
    block
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with("scf-"))
        .map(String::from)
        .collect()
}

#[test]
fn the_core_crates_pull_in_no_async_runtime_http_or_sqlite() {
    const RUNTIME_HTTP_SQLITE: &[&str] = &["tokio", "hyper", "rusqlite", "libsqlite3-sys"];
    const SQLITE: &[&str] = &["rusqlite", "libsqlite3-sys"];
    let rules = [
        ("scf-event", RUNTIME_HTTP_SQLITE),
        ("scf-context", RUNTIME_HTTP_SQLITE),
        ("scf-handler", RUNTIME_HTTP_SQLITE),
        // the function side of HTTP: `http` and `tower-service`, the service brings its runtime
        ("scf-http-handler", RUNTIME_HTTP_SQLITE),
        // the storage interface and log capture: no C build, no runtime
        ("scf-logs", RUNTIME_HTTP_SQLITE),
        ("scf-store", RUNTIME_HTTP_SQLITE),
        // an embedder with a store in memory compiles no database
        ("scf-invoker", SQLITE),
    ];
    for (core, banned) in rules {
        let out = cargo()
            .args([
                "tree",
                "-p",
                core,
                "-e",
                "normal",
                "--all-features",
                "--prefix",
                "none",
                "--format",
                "{p}",
                "--offline",
            ])
            .current_dir(root())
            .output()
            .expect("cargo tree runs");
        assert!(
            out.status.success(),
            "cargo tree -p {core} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = String::from_utf8_lossy(&out.stdout);
        for line in tree.lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            assert!(
                !banned.contains(&name),
                "{core} must not depend on {name} (found `{line}` in `cargo tree -p {core} -e normal`)"
            );
        }
    }
}

#[test]
fn no_crate_depends_on_a_crate_above_it_in_the_layer_diagram() {
    let order = layer_order();
    assert!(
        order.len() >= 9,
        "the layer diagram names too few crates: {order:?}"
    );
    let meta = metadata();
    let crates = crates(&meta);
    let name = |p: &serde_json::Value| p["name"].as_str().unwrap_or_default().to_owned();
    let outside: Vec<String> = crates
        .iter()
        .map(|p| name(p))
        .filter(|n| !order.contains(n))
        .collect();
    for p in &crates {
        let me = name(p);
        let normal_deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap_or_default().to_owned());
        match order.iter().position(|c| *c == me) {
            Some(level) => {
                for dep in normal_deps {
                    if let Some(dep_level) = order.iter().position(|c| *c == dep) {
                        assert!(
                            dep_level > level,
                            "{me} depends on {dep}, which is not below it in docs/architecture.md's layer diagram"
                        );
                    }
                    assert!(
                        !outside.contains(&dep),
                        "{me} depends on {dep}, which is outside the layers (a test helper)"
                    );
                }
            }
            None => assert!(
                p["publish"].as_array().is_some_and(|a| a.is_empty()),
                "{me} is not in docs/architecture.md's layer diagram: add it there, or make it `publish = false` test support"
            ),
        }
    }
}

#[test]
fn every_crate_has_a_description_of_its_own() {
    let meta = metadata();
    for p in crates(&meta) {
        let name = p["name"].as_str().unwrap();
        let description = p["description"].as_str().unwrap_or_default();
        let own = description
            .rsplit_once(": ")
            .map_or(description, |(_, tail)| tail)
            .trim();
        assert!(
            own.len() >= 20 && own != name && !own.contains(name),
            "{name}'s description ({description:?}) must say what the crate does, not be a placeholder"
        );
    }
}

#[test]
fn lints_are_set_once_in_the_workspace() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    for f in files {
        let crate_root = f.parent().is_some_and(|d| d.ends_with("src"))
            && (f.ends_with("lib.rs") || f.ends_with("main.rs"));
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start();
            let sets_level = ["#![warn(", "#![deny(", "#![forbid("]
                .iter()
                .any(|a| line.starts_with(a));
            // A library or binary takes the workspace's levels as a whole; one module may
            // allow what it alone needs (say `unsafe_code`, with its reason), and test,
            // bench and example crates may relax a lint (a test fails by panicking).
            let relaxes_a_crate = crate_root && line.starts_with("#![allow(");
            assert!(
                !sets_level && !relaxes_a_crate,
                "{}:{}: `{line}`: lint levels are set once, in Cargo.toml's [workspace.lints]",
                f.display(),
                i + 1
            );
        }
    }
}

/// Source files allowed past [`MAX_LINES`], each with the reason it is not split yet.
const LONG_FILES: &[(&str, &str)] = &[];
const MAX_LINES: usize = 800;

#[test]
fn no_source_file_outside_tests_is_over_800_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    let root = root().canonicalize().unwrap();
    for f in files {
        if f.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let rel = f.canonicalize().unwrap();
        let rel = rel
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lines = fs::read_to_string(&f).unwrap().lines().count();
        let allowed = LONG_FILES.iter().any(|(p, _)| *p == rel);
        assert!(
            lines <= MAX_LINES || allowed,
            "{rel} has {lines} lines, over {MAX_LINES}: split it by concern"
        );
        assert!(
            !allowed || lines > MAX_LINES,
            "{rel} is on the long-file allow-list but has only {lines} lines: take it off"
        );
    }
    for (p, _) in LONG_FILES {
        assert!(
            root.join(p).is_file(),
            "{p} is on the long-file allow-list but does not exist"
        );
    }
}

/// Test binaries beside each crate's `tests/it`, each with the reason it is separate.
const OWN_TEST_BINARIES: &[(&str, &str)] = &[(
    "crates/scf-invoker/tests/counting_allocator.rs",
    "a #[global_allocator] is the allocator of its whole binary",
)];

#[test]
fn each_crate_has_one_integration_test_binary() {
    for entry in fs::read_dir(root().join("crates")).unwrap().flatten() {
        let tests = entry.path().join("tests");
        let Ok(items) = fs::read_dir(&tests) else {
            continue;
        };
        for item in items.flatten() {
            let path = item.path();
            let rel = format!(
                "crates/{}/tests/{}",
                entry.file_name().to_string_lossy(),
                item.file_name().to_string_lossy()
            );
            let is_binary = path.extension().is_some_and(|e| e == "rs")
                || (path.is_dir() && path.join("main.rs").exists() && !path.ends_with("it"));
            assert!(
                !is_binary || OWN_TEST_BINARIES.iter().any(|(p, _)| *p == rel),
                "{rel} is a test binary of its own: make it a module of tests/it (or list it, with its reason, in OWN_TEST_BINARIES)"
            );
        }
    }
}

#[test]
fn every_published_crate_has_a_readme_keywords_categories_and_docs_rs_metadata() {
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            root().join(licence).is_file(),
            "{licence} must be at the workspace root: every crate's licence field names it"
        );
    }
    let meta = metadata();
    for p in crates(&meta) {
        let name = p["name"].as_str().unwrap();
        let published = !p["publish"].as_array().is_some_and(|a| a.is_empty());
        if !published {
            continue;
        }
        let dir = Path::new(p["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .to_path_buf();
        let readme = dir.join("README.md");
        let text = fs::read_to_string(&readme)
            .unwrap_or_else(|_| panic!("{name} must have a README.md ({})", readme.display()));
        assert!(
            text.contains("```rust"),
            "{name}'s README.md must show a Rust example"
        );
        let lib = dir.join("src/lib.rs");
        if lib.exists() {
            let lib = fs::read_to_string(&lib).unwrap();
            assert!(
                lib.contains("include_str!(\"../README.md\")"),
                "{name}'s README example must be compiled: include it as a doctest in src/lib.rs"
            );
        }
        for key in ["keywords", "categories"] {
            let n = p[key].as_array().map_or(0, Vec::len);
            assert!(
                (1..=5).contains(&n),
                "{name} must have 1 to 5 {key}, has {n}"
            );
        }
        let docs_rs = &p["metadata"]["docs"]["rs"];
        assert!(
            docs_rs["all-features"] == true
                && docs_rs["rustdoc-args"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "docsrs")),
            "{name} must have [package.metadata.docs.rs] with all-features and rustdoc-args --cfg docsrs"
        );
    }
}
