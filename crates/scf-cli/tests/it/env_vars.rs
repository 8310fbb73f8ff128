//! `--env-vars FILE` (issue 16): variables by function name over the template's, as SCF
//! CLI's `--env-vars`, checked with the platform's rules; a bad file is refused naming
//! the file, the function and the key.

use crate::common;

use std::path::{Path, PathBuf};

use common::{http, run, scf, text, Served};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layers")
        .join(name)
}

/// `scf invoke pylayers --env-vars FILE`: (success, stdout, stderr).
fn invoke_with(file: &str) -> (bool, String, String) {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .env("SCF_SANDBOX", "off")
        .args(["invoke", "-t"])
        .arg(fixture("template.yaml"))
        .args(["pylayers", "--output", "json", "--env-vars"])
        .arg(fixture(file))
        .arg("--data-dir")
        .arg(data.path()));
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn invoke_env_vars_override_a_template_variable_and_add_one() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let (ok, out, err) = invoke_with("env.json");
    assert!(ok, "{out}\n{err}");
    let api: Value = serde_json::from_str(&out).unwrap();
    let ret: Value = serde_json::from_str(api["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(ret["env"], "from-env-file", "{ret}");
    // A number is passed as its text.
    assert_eq!(ret["extra"], "3", "{ret}");
}

#[test]
fn a_reserved_key_is_refused_naming_the_file_function_and_key() {
    let (ok, _, err) = invoke_with("env_reserved.json");
    assert!(!ok);
    assert!(
        err.contains("env_reserved.json")
            && err.contains("function pylayers")
            && err.contains("SCF_TOKEN")
            && err.contains("reserved"),
        "{err}"
    );
}

#[test]
fn an_unknown_function_a_nested_value_and_bad_json_are_refused() {
    let (ok, _, err) = invoke_with("env_unknown_function.json");
    assert!(!ok);
    assert!(
        err.contains("env_unknown_function.json") && err.contains("function nosuch: not in"),
        "{err}"
    );
    let (ok, _, err) = invoke_with("env_nested.json");
    assert!(!ok);
    assert!(
        err.contains("env_nested.json: function pylayers: A: must be a string, number or boolean"),
        "{err}"
    );
    let (ok, _, err) = invoke_with("env_not_json.json");
    assert!(!ok);
    assert!(
        err.contains("env_not_json.json:1:") && err.contains("not JSON"),
        "{err}"
    );
}

#[test]
fn serve_env_vars_override_a_template_variable() {
    if !scf_testkit::require(&scf_testkit::PYTHON3) {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let env = fixture("env.json");
    let s = Served::start_with_env(
        &fixture("template.yaml"),
        data.path(),
        &["--env-vars", env.to_str().unwrap()],
        &[("SCF_SANDBOX", "off")],
    );
    let headers = [
        ("Content-Type", "application/json"),
        ("X-TC-Action", "Invoke"),
        ("X-TC-Version", "2018-04-16"),
        ("X-TC-Region", "ap-guangzhou"),
    ];
    let (status, _, body) = http(
        &s.addr,
        "POST",
        "/",
        &headers,
        r#"{"FunctionName":"pylayers"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let ret: Value =
        serde_json::from_str(v["Response"]["Result"]["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(ret["env"], "from-env-file", "{v}");
}

#[test]
fn serve_refuses_a_bad_env_vars_file_at_start() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["serve", "-t"])
        .arg(fixture("template.yaml"))
        .args(["--listen", "127.0.0.1:0", "--env-vars"])
        .arg(fixture("env_reserved.json"))
        .arg("--data-dir")
        .arg(data.path()));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("env_reserved.json: function pylayers: ") && err.contains("SCF_TOKEN"),
        "{err}"
    );
}
