//! `tccli`, the official command-line client, unchanged, against `scf serve`.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::{project, text, Served};

/// The `tccli` that `crates/scf-http/tests/clients/install.sh` installs; `None` only when
/// skips are allowed.
fn tccli() -> Option<PathBuf> {
    scf_testkit::require(&scf_testkit::OFFICIAL_CLIENTS)
        .then(|| scf_testkit::Clients::locate().tccli)
}

#[test]
fn tccli_invokes_a_served_function_with_a_signed_request() {
    let Some(tccli) = tccli() else { return };
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let s = Served::start(
        &project(),
        data.path(),
        &["--secret-id", "AKIDtest", "--secret-key", "testkey"],
    );
    let run = |key: &str| {
        Command::new(&tccli)
            .args([
                "scf",
                "Invoke",
                "--endpoint",
                &format!("http://{}", s.addr),
                "--region",
                "ap-guangzhou",
            ])
            .args([
                "--FunctionName",
                "hello",
                "--LogType",
                "Tail",
                "--ClientContext",
                r#"{"key":"abctest"}"#,
            ])
            .env("TENCENTCLOUD_SECRET_ID", "AKIDtest")
            .env("TENCENTCLOUD_SECRET_KEY", key)
            .env("HOME", home.path())
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .output()
            .expect("tccli runs")
    };
    let out = run("testkey");
    assert!(
        out.status.success(),
        "stdout {} stderr {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Result"]["RetMsg"], "\"abctest\"", "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 0);
    assert!(
        v["Result"]["Log"].as_str().unwrap().contains("got event"),
        "{v}"
    );

    let out = run("wrongkey");
    assert_eq!(out.status.code(), Some(255));
    assert!(
        text(&out.stderr).contains("code:AuthFailure.SignatureFailure"),
        "{}",
        text(&out.stderr)
    );
}
