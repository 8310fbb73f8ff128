//! The Custom Runtime API as third-party bootstraps use it: SCF's own Bash/curl example,
//! unchanged, and a curl client that checks the contract of each endpoint.

use crate::common;

use common::{call, config, fixture, function};
use scf_process::RuntimeKind;
use serde_json::json;

#[tokio::test]
async fn scf_documentation_bash_bootstrap_runs_unchanged() {
    if !common::has_curl() {
        return;
    }
    let cfg = config("bash-echo", "index.main_handler");
    let f = function(&cfg, &fixture("custom-curl"), RuntimeKind::Custom);
    for n in 0..3 {
        let (out, log) = call(&f, &cfg, json!({"key": "abctest", "n": n})).await;
        let event = format!(r#"{{"key":"abctest","n":{n}}}"#);
        assert_eq!(out.unwrap(), json!(format!("Echoing request: '{event}'")));
        assert!(
            log.lines().any(|l| l == event),
            "the function's stderr is its log: {log}"
        );
    }
    assert_eq!(f.stats().started, 1, "one warm instance served all three");
}

#[tokio::test]
async fn next_repeats_the_event_within_an_invocation_and_the_first_push_wins() {
    if !common::has_curl() {
        return;
    }
    let mut cfg = config("protocol", "index.main_handler");
    cfg.memory_mb = 256;
    let f = function(&cfg, &fixture("custom-protocol"), RuntimeKind::Custom);
    for n in 0..2 {
        let ctx = common::ctx(&cfg);
        let request_id = ctx.request_id.clone();
        let log = scf_logs::LogBuffer::new(request_id.clone());
        let out = log
            .scope(scf_handler::Handler::call(&f, json!({"n": n}), ctx))
            .await
            .unwrap();
        assert_eq!(
            out["same"],
            json!(true),
            "a second next returns the same event: {out}"
        );
        assert_eq!(out["request_id"], json!(request_id));
        assert_eq!(out["memory_limit_in_mb"], json!("256"));
        assert_eq!(out["time_limit_in_ms"], json!("5000"));
        assert_eq!(
            out["event"],
            json!({"n": n}),
            "later pushes of the previous invocation were ignored"
        );
        assert!(
            log.text().contains(&format!("got {request_id}")),
            "{}",
            log.text()
        );
    }
}

#[tokio::test]
async fn error_endpoint_with_text_fails_the_invocation_with_that_text() {
    if !common::has_curl() {
        return;
    }
    let cfg = config("protocol-error", "index.main_handler");
    let f = function(&cfg, &fixture("custom-protocol"), RuntimeKind::Custom);
    let (out, _) = call(&f, &cfg, json!({"mode": "error"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.message(), "parse event error");
    let (ok, _) = call(&f, &cfg, json!({"mode": "fine"})).await;
    assert_eq!(
        ok.unwrap()["event"],
        json!({"mode": "fine"}),
        "an error does not end the instance"
    );
    assert_eq!(f.stats().started, 1);
}

#[tokio::test]
async fn init_log_goes_to_the_first_invocation() {
    if !common::has_curl() {
        return;
    }
    let cfg = config("protocol-init", "index.main_handler");
    let f = function(&cfg, &fixture("custom-protocol"), RuntimeKind::Custom);
    let (_, first) = call(&f, &cfg, json!({})).await;
    let lines: Vec<&str> = first.lines().collect();
    let init = lines
        .iter()
        .position(|l| *l == "protocol runtime starting")
        .expect("init log");
    let report = lines
        .iter()
        .position(|l| l.starts_with("Init Report RequestId:"))
        .expect("Init Report");
    let got = lines
        .iter()
        .position(|l| l.starts_with("got "))
        .expect("invocation log");
    assert!(init < report && report < got, "{first}");
    let (_, second) = call(&f, &cfg, json!({})).await;
    assert!(
        !second.contains("protocol runtime starting") && !second.contains("Init Report"),
        "{second}"
    );
}

#[test]
fn a_missing_or_non_executable_bootstrap_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("no-bootstrap", "index.main_handler");
    let spec = scf_process::ProcessSpec::new(cfg.clone(), dir.path(), RuntimeKind::Custom);
    let err = scf_process::ProcessFunction::new(spec)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bootstrap") && err.contains(&dir.path().display().to_string()),
        "{err}"
    );

    std::fs::write(dir.path().join("bootstrap"), "#!/bin/sh\n").unwrap();
    let spec = scf_process::ProcessSpec::new(cfg, dir.path(), RuntimeKind::Custom);
    let err = scf_process::ProcessFunction::new(spec)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not executable") && err.contains("chmod"),
        "{err}"
    );
}

#[tokio::test]
async fn misuse_of_the_api_gets_clear_http_errors_and_does_not_disturb_the_invocation() {
    if !common::has_curl() {
        return;
    }
    let cfg = config("probe", "index.main_handler");
    let f = function(&cfg, &fixture("custom-probe"), RuntimeKind::Custom);
    let (out, _) = call(&f, &cfg, json!({"k": 1})).await;
    let out = out.unwrap();
    assert_eq!(
        out["early_push"],
        json!(400),
        "a push before fetching the event is refused"
    );
    assert_eq!(out["unknown_path"], json!(404));
    assert_eq!(out["wrong_method"], json!(405));
    assert_eq!(out["event"], json!({"k": 1}));
}
