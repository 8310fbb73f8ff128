//! `scf serve --watch` (issue 16): an edited handler serves the next request; a broken
//! template keeps the previous one serving, and a fixed one brings its new routes; a
//! request running during a reload finishes on the code it started with.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{http, Served};

/// The watch fixture copied to a temporary directory (the tests edit it), with the data
/// directory inside the code directory, as `scf serve` run from a project's root has it.
fn project() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watch");
    let dir = tempfile::tempdir().unwrap();
    for f in ["template.yaml", "index.py"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    let template = dir.path().join("template.yaml");
    let data = dir.path().join(".scf");
    (dir, template, data)
}

fn get(s: &Served, path: &str) -> (u16, String) {
    let (status, _, body) = http(&s.addr, "GET", path, &[], "");
    (status, body)
}

/// Writes `text` to `path` the way editors do: a new file renamed over the old one.
fn save(path: &Path, text: &str) {
    let tmp = path.with_extension("swp-tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn an_edited_handler_serves_the_next_request_after_one_reload_line() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let (dir, template, data) = project();
    let mut s = Served::start(&template, &data, &["--watch"]);
    s.wait_for_line(|l| l.contains("watching:"), Duration::from_secs(5));
    assert_eq!(get(&s, "/hello"), (200, "v1 from-template".into()));
    let code = dir.path().join("index.py");
    let text = std::fs::read_to_string(&code).unwrap();
    save(&code, &text.replace("VERSION = \"v1\"", "VERSION = \"v2\""));
    let line = s.wait_for_line(|l| l.starts_with("reload: "), Duration::from_secs(10));
    assert!(
        line.contains("default/watched") && line.contains("index.py"),
        "{line}"
    );
    assert_eq!(get(&s, "/hello"), (200, "v2 from-template".into()));
    // The invocations' own writes to the data directory (inside the code directory) are
    // not changes of the project: no further reload.
    std::thread::sleep(Duration::from_millis(800));
    let reloads = s
        .lines_so_far()
        .iter()
        .filter(|l| l.starts_with("reload: "))
        .count();
    assert_eq!(reloads, 1, "{:?}", s.lines_so_far());
}

#[test]
fn a_broken_template_keeps_the_old_one_serving_and_a_fixed_one_brings_new_routes() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let (_dir, template, data) = project();
    let mut s = Served::start(&template, &data, &["--watch"]);
    s.wait_for_line(|l| l.contains("watching:"), Duration::from_secs(5));
    assert_eq!(get(&s, "/hello").0, 200);
    let good = std::fs::read_to_string(&template).unwrap();
    // MemorySize 100 breaks the platform's rule (64, or 128 to 3072 in steps of 128).
    save(
        &template,
        &good.replace("Timeout: 10", "Timeout: 10\n        MemorySize: 100"),
    );
    let line = s.wait_for_line(|l| l.starts_with("reload: "), Duration::from_secs(10));
    assert!(
        line.contains("is broken, the previous one keeps serving") && line.contains("MemorySize"),
        "{line}"
    );
    assert_eq!(get(&s, "/hello"), (200, "v1 from-template".into()));
    // Fixed, with the route moved and the variable changed.
    save(
        &template,
        &good
            .replace("Path: /hello", "Path: /moved")
            .replace("from-template", "reloaded"),
    );
    let line = s.wait_for_line(
        |l| l.starts_with("reload: ") && !l.contains("broken"),
        Duration::from_secs(10),
    );
    assert!(line.contains("1 function(s), 1 route(s)"), "{line}");
    assert_eq!(get(&s, "/moved"), (200, "v1 reloaded".into()));
    assert_eq!(get(&s, "/hello").0, 404);
}

#[test]
fn a_request_running_during_a_reload_finishes_on_the_old_code() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let (dir, template, data) = project();
    let mut s = Served::start(&template, &data, &["--watch"]);
    s.wait_for_line(|l| l.contains("watching:"), Duration::from_secs(5));
    let addr = s.addr.clone();
    let slow = std::thread::spawn(move || http(&addr, "GET", "/hello?sleep=2", &[], ""));
    std::thread::sleep(Duration::from_millis(700));
    let code = dir.path().join("index.py");
    let text = std::fs::read_to_string(&code).unwrap();
    save(&code, &text.replace("VERSION = \"v1\"", "VERSION = \"v3\""));
    s.wait_for_line(|l| l.starts_with("reload: "), Duration::from_secs(10));
    assert_eq!(get(&s, "/hello"), (200, "v3 from-template".into()));
    let (status, _, body) = slow.join().unwrap();
    assert_eq!((status, body.as_str()), (200, "v1 from-template"));
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The cloud API's `Invoke` of `function`: its return value.
fn invoke(s: &Served, function: &str) -> serde_json::Value {
    let headers = [
        ("Content-Type", "application/json"),
        ("X-TC-Action", "Invoke"),
        ("X-TC-Version", "2018-04-16"),
        ("X-TC-Region", "ap-guangzhou"),
    ];
    let body = format!(r#"{{"FunctionName":"{function}"}}"#);
    let (status, _, body) = http(&s.addr, "POST", "/", &headers, &body);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ret = v["Response"]["Result"]["RetMsg"]
        .as_str()
        .unwrap_or_default();
    serde_json::from_str(ret).unwrap_or_else(|e| panic!("{e}: {v}"))
}

#[test]
fn an_edited_layer_reloads_the_functions_that_use_it() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers");
    copy_dir(&fixture, dir.path());
    let data = dir.path().join(".scf");
    let mut s = Served::start(&dir.path().join("template.yaml"), &data, &["--watch"]);
    s.wait_for_line(|l| l.contains("watching:"), Duration::from_secs(5));
    assert_eq!(
        invoke(&s, "pylayers")["greeting"],
        "hello, scf (from a layer)"
    );
    let module = dir.path().join("layers/py-common/python/greeting.py");
    let text = std::fs::read_to_string(&module).unwrap();
    save(
        &module,
        &text.replace("(from a layer)", "(from the edited layer)"),
    );
    let line = s.wait_for_line(|l| l.starts_with("reload: "), Duration::from_secs(10));
    // Only the function using the layer is reloaded.
    assert!(
        line.contains("default/pylayers") && !line.contains("nodelayers"),
        "{line}"
    );
    assert_eq!(
        invoke(&s, "pylayers")["greeting"],
        "hello, scf (from the edited layer)"
    );
}
