//! The one-shot subcommands run as a real process: invoke, logs, generate-event, validate, init.

use crate::common;

use common::{project, run, scf, text};

#[test]
fn invoke_prints_the_log_and_the_result() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["hello", "--event", r#"{"key":"abctest"}"#, "--data-dir"])
        .arg(data.path()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "\"abctest\"");
    let log = text(&out.stderr);
    assert!(log.contains("START RequestId:"), "{log}");
    assert!(log.contains("got event"), "{log}");
    assert!(log.contains("Report RequestId:"), "{log}");
}

#[test]
fn invoke_output_json_is_the_invoke_results_shape() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args([
            "hello",
            "--event",
            r#"{"key":"abctest"}"#,
            "--output",
            "json",
            "--data-dir",
        ])
        .arg(data.path()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["RetMsg"], "\"abctest\"");
    assert_eq!(v["InvokeResult"], 0);
    assert!(v["FunctionRequestId"].as_str().unwrap().len() == 36);
    assert!(
        v.get("Duration").is_some()
            && v.get("BillDuration").is_some()
            && v.get("MemUsage").is_some()
    );
}

#[test]
fn invoke_of_a_failing_function_exits_non_zero_with_the_traceback() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["failing", "--data-dir"])
        .arg(data.path()));
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Exception: I failed!"), "{stdout}");
    assert!(stdout.contains("\"statusCode\":430"), "{stdout}");
}

#[test]
fn invoke_reads_the_event_from_a_file_and_from_stdin() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("event.json");
    std::fs::write(&file, r#"{"key":"from-file"}"#).unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["hello", "--event-file"])
        .arg(&file)
        .arg("--data-dir")
        .arg(data.path()));
    assert_eq!(text(&out.stdout).trim(), "\"from-file\"");
    let mut child = scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["hello", "-", "--data-dir"])
        .arg(data.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"key":"from-stdin"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        text(&out.stdout).trim(),
        "\"from-stdin\"",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn invoke_async_waits_for_the_run_and_reports_its_status() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args([
            "hello",
            "--async",
            "--event",
            r#"{"key":"a"}"#,
            "--data-dir",
        ])
        .arg(data.path()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("FunctionRequestId: "), "{stdout}");
    assert!(stdout.contains("Status: FINISHED"), "{stdout}");
}

#[test]
fn an_unknown_function_is_one_clear_line() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["nope", "--data-dir"])
        .arg(data.path()));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("no function named \"nope\""),
        "{err}"
    );
}

#[test]
fn logs_finds_invocations_by_request_id_and_failure() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args([
            "hello",
            "--output",
            "json",
            "--event",
            r#"{"key":"x"}"#,
            "--data-dir",
        ])
        .arg(data.path()));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rid = v["FunctionRequestId"].as_str().unwrap().to_string();
    run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["hello", "--event", "{}", "--data-dir"])
        .arg(data.path()));

    let out = run(scf()
        .args(["logs", "-t"])
        .arg(project())
        .args(["hello", "--data-dir"])
        .arg(data.path()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).trim(), "2 of 2 record(s)");

    let out = run(scf()
        .args(["logs", "-t"])
        .arg(project())
        .args(["hello", "--request-id", &rid, "--data-dir"])
        .arg(data.path()));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&rid) && stdout.contains("got event"),
        "{stdout}"
    );
    assert_eq!(text(&out.stderr).trim(), "1 of 1 record(s)");

    run(scf()
        .args(["invoke", "-t"])
        .arg(project())
        .args(["failing", "--data-dir"])
        .arg(data.path()));
    let out = run(scf()
        .args(["logs", "-t"])
        .arg(project())
        .args(["failing", "--failed", "--since", "10m", "--data-dir"])
        .arg(data.path()));
    assert!(
        text(&out.stdout).contains("StatusCode:430"),
        "{}",
        text(&out.stdout)
    );
    let out = run(scf()
        .args(["logs", "-t"])
        .arg(project())
        .args(["hello", "--failed", "--data-dir"])
        .arg(data.path()));
    assert_eq!(text(&out.stderr).trim(), "0 of 0 record(s)");
}

#[test]
fn generate_event_prints_pretty_json() {
    let out = run(scf().args(["generate-event", "timer", "timeup", "--message", "hi"]));
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\n  \"Type\": \"Timer\""),
        "pretty-printed: {stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["Message"], "hi");
    let out = run(scf().args(["generate-event", "s3", "put"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: unknown service \"s3\""));
}

#[test]
fn validate_lists_functions_and_reports_template_errors_with_line_and_key() {
    let out = run(scf().args(["validate", "-t"]).arg(project()));
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("4 function(s)") && stdout.contains("every_second: Timer * * * * * * *"),
        "{stdout}"
    );
    let bad = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/templates/bad_memory.yaml");
    let out = run(scf().args(["validate", "-t"]).arg(&bad));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
    assert!(err.contains("bad_memory.yaml:8:21: Resources.default.hello.Properties.MemorySize: MemorySize 100 MB is invalid"), "{err}");
}

#[test]
fn init_writes_a_project_that_validates_and_invokes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(scf().arg("init").arg(dir.path()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let template = dir.path().join("template.yaml");
    let out = run(scf().args(["validate", "-t"]).arg(&template));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(scf()
        .args(["invoke", "-t"])
        .arg(&template)
        .args(["hello", "--event", r#"{"a":1}"#, "--data-dir"])
        .arg(dir.path().join(".scf")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("hello from scf"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "serve",
        "invoke",
        "logs",
        "generate-event",
        "validate",
        "init",
    ] {
        let out = run(scf().args([sub, "--help"]));
        assert!(out.status.success(), "{sub}");
        assert!(text(&out.stdout).contains("Usage: scf"), "{sub}");
    }
}

#[test]
fn validate_lists_web_functions_as_served_without_a_handler() {
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web/template.yaml");
    let out = run(scf().args(["validate", "-t"]).arg(&template));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.contains("default/exits  handler -")
            && listed.contains("(web function: scf_bootstrap on port 9000)")
            && !listed.contains("not served"),
        "{listed}"
    );
}
