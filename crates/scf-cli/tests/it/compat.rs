//! Behaviours of SCF's runtimes that depend on the runtime's version and that functions
//! written for them rely on: Python 3.6's built-in COS SDK name, and Node.js before 15
//! going on after an unhandled promise rejection.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{run, scf, text};

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat/template.yaml")
}

/// `scf invoke --output json` of `function`: the API's answer.
fn invoke(function: &str) -> Value {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args([function, "--output", "json", "--data-dir"])
        .arg(data.path()));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{function}: {e}: {}", text(&out.stderr)))
}

#[test]
fn python_3_6_imports_qcloud_cos_v5_as_the_installed_qcloud_cos_and_later_runtimes_do_not() {
    let r = invoke("cos36");
    assert_eq!(r["InvokeResult"], 0, "{r}");
    let ret: Value = serde_json::from_str(r["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(
        ret,
        serde_json::json!({"config": "ap-guangzhou", "same_package": true, "same_submodule": true})
    );
    let r = invoke("cos39");
    assert_ne!(r["InvokeResult"], 0, "{r}");
    assert!(
        r["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("No module named 'qcloud_cos_v5'"),
        "{r}"
    );
}

#[test]
fn nodejs_before_15_goes_on_after_an_unhandled_rejection_and_16_exits() {
    let r = invoke("rejection12");
    assert_eq!(r["InvokeResult"], 0, "{r}");
    assert_eq!(r["RetMsg"], "\"still running\"", "{r}");
    // The warning is in the invocation's log (which plain `scf invoke` prints).
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["rejection12", "--data-dir"])
        .arg(data.path()));
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("UnhandledPromiseRejectionWarning: Error: nobody catches this"),
        "{log}"
    );
    let r = invoke("rejection16");
    let err: Value = serde_json::from_str(r["ErrMsg"].as_str().unwrap()).unwrap();
    assert_eq!(err["statusCode"], 439, "{r}");
}

#[test]
fn a_callback_never_called_times_out_instead_of_ending_the_instance() {
    let r = invoke("forgotten");
    let err: Value = serde_json::from_str(r["ErrMsg"].as_str().unwrap()).unwrap();
    assert_eq!(err["statusCode"], 433, "{r}");
    assert_eq!(err["errorMessage"], "time out", "{r}");
}
