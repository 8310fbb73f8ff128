//! The Python runtime: the seed's examples, the context dict, logs, errors and return values.

use crate::common;

use common::{call, config, example, fixture, function};
use serde_json::json;

#[tokio::test]
async fn seed_main_handler_returns_the_key_and_prints_the_event() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-seed", "index.main_handler");
    let f = function(&cfg, &example("python-seed"), python);
    let (out, log) = call(&f, &cfg, json!({"key": "abctest"})).await;
    assert_eq!(out.unwrap(), json!("abctest"));
    assert!(
        log.contains("{'key': 'abctest'}"),
        "print(event) is in the log: {log}"
    );
}

#[tokio::test]
async fn seed_always_failed_handler_shows_the_exception_and_its_line() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-seed", "index.always_failed_handler");
    let f = function(&cfg, &example("python-seed"), python);
    let (out, _log) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "Exception");
    assert_eq!(err.message(), "I failed!");
    let scf = err.to_scf_json("req");
    assert_eq!(scf.error_message, "user code exception caught");
    assert!(
        scf.stack_trace
            .starts_with("Traceback (most recent call last):\n"),
        "{}",
        scf.stack_trace
    );
    assert!(
        scf.stack_trace
            .contains("index.py\", line 19, in always_failed_handler"),
        "{}",
        scf.stack_trace
    );
    assert!(
        scf.stack_trace.contains("raise Exception('I failed!')"),
        "{}",
        scf.stack_trace
    );
    assert!(
        scf.stack_trace.ends_with("\nException: I failed!"),
        "{}",
        scf.stack_trace
    );
    assert!(
        !scf.stack_trace.contains("bootstrap.py"),
        "the runtime's own frames are hidden: {}",
        scf.stack_trace
    );
}

#[tokio::test]
async fn user_defined_exception_keeps_its_class_name() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-seed", "index.register_handler");
    let f = function(&cfg, &example("python-seed"), python);
    let (out, _) = call(&f, &cfg, json!({"username": "alice"})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "UserNameAlreadyExistsException");
    assert_eq!(err.message(), "user name alice already exists");
    assert!(err
        .to_scf_json("r")
        .stack_trace
        .ends_with("UserNameAlreadyExistsException: user name alice already exists"));
}

#[tokio::test]
async fn missing_handler_function_is_437_with_the_seed_message() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-seed", "index.xxx");
    let f = function(&cfg, &example("python-seed"), python);
    for _ in 0..2 {
        let (out, _) = call(&f, &cfg, json!({})).await;
        let err = out.unwrap_err();
        assert_eq!(err.status().code(), 437);
        assert_eq!(err.message(), "'module' object has no attribute 'xxx'");
    }
}

#[tokio::test]
async fn missing_handler_file_is_437() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("python-seed", "nofile.main_handler");
    let f = function(&cfg, &example("python-seed"), python);
    let (out, _) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 437);
    assert_eq!(err.message(), "No module named 'nofile'");
}

#[tokio::test]
async fn module_that_fails_to_import_reports_its_import_error_on_every_invocation() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("import-error", "index.main_handler");
    let f = function(&cfg, &fixture("python-import-error"), python);
    let (out, log) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "ModuleNotFoundError");
    assert_eq!(
        err.message(),
        "No module named 'module_that_does_not_exist'"
    );
    assert!(err
        .to_scf_json("r")
        .stack_trace
        .contains("import module_that_does_not_exist"));
    assert!(
        log.contains("importing a module that does not exist"),
        "the init log is in the first invocation's log: {log}"
    );
    let (again, _) = call(&f, &cfg, json!({})).await;
    assert_eq!(
        again.unwrap_err().message(),
        "No module named 'module_that_does_not_exist'"
    );
}

#[tokio::test]
async fn context_is_a_dict_with_exactly_the_platform_fields() {
    let python = runtime_or_skip!("Python3.9");
    let mut cfg = config("ctx-fn", "index.context_handler");
    cfg.environment.insert("GREETING".into(), "héllo".into());
    cfg.memory_mb = 256;
    let f = function(&cfg, &fixture("python"), python);
    let ctx = common::ctx(&cfg);
    let expected = serde_json::to_value(&ctx).unwrap();
    let out = {
        use scf_handler::Handler;
        f.call(json!({"a": 1}), ctx).await.unwrap()
    };
    assert_eq!(out["is_dict"], json!(true));
    assert_eq!(out["event_is_dict"], json!(true));
    assert_eq!(out["context"], expected);
    assert_eq!(
        out["keys"],
        json!([
            "memory_limit_in_mb",
            "time_limit_in_ms",
            "request_id",
            "environment",
            "environ",
            "function_version",
            "function_name",
            "namespace",
            "tencentcloud_region",
            "tencentcloud_appid",
            "tencentcloud_uin"
        ]),
        "the fields in SCF's order"
    );
    assert_eq!(out["context"]["memory_limit_in_mb"], json!(256));
    assert_eq!(
        out["context"]["environ"],
        json!("SCF_NAMESPACE=default;GREETING=héllo")
    );
}

#[tokio::test]
async fn megabytes_logged_in_one_invocation_all_land_in_its_log_in_order() {
    // The output pipe is quiet while an invocation runs (read at its ticks and its end):
    // a function that writes far more than the pipe holds is not held up, and loses
    // nothing.
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("chatty-fn", "index.chatty_handler");
    let f = function(&cfg, &fixture("python"), python);
    let (out, log) = call(&f, &cfg, json!({"lines": 20000})).await;
    assert_eq!(out.unwrap(), json!("done"));
    let numbers: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("chatty line ").nth(1))
        .map(|rest| &rest[..6])
        .collect();
    assert_eq!(numbers.len(), 20000, "every line is in the log");
    let expected: Vec<String> = (0..20000).map(|i| format!("{i:06}")).collect();
    assert!(
        numbers.iter().zip(&expected).all(|(a, b)| a == b),
        "in order"
    );
}

#[tokio::test]
async fn print_logging_and_stderr_all_land_in_the_invocation_log_in_order() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("log-fn", "index.log_handler");
    let f = function(&cfg, &fixture("python"), python);
    let (out, log) = call(&f, &cfg, json!({})).await;
    assert_eq!(out.unwrap(), json!("ok"));
    let expect = [
        "printed line",
        "[DEBUG]",
        "debug line",
        "[INFO]",
        "info line",
        "[WARNING]",
        "warning line",
        "[ERROR]",
        "error line",
        "stderr line",
        "no newline at the end",
    ];
    let mut at = 0;
    for needle in expect {
        let found = log[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} after byte {at} in:\n{log}"));
        at += found + needle.len();
    }
    let logging_line = log.lines().find(|l| l.contains("info line")).unwrap();
    let fields: Vec<&str> = logging_line.split('\t').collect();
    assert_eq!(fields[0], "[INFO]");
    assert!(fields[1].ends_with('Z'), "UTC timestamp: {logging_line}");
    assert_eq!(fields.len(), 4, "{logging_line}");
}

#[tokio::test]
async fn first_invocation_carries_the_init_log_and_init_report() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("init-fn", "index.echo");
    let f = function(&cfg, &fixture("python"), python);
    let (out, log) = call(&f, &cfg, json!({"n": 1})).await;
    assert_eq!(out.unwrap(), json!({"n": 1}));
    let lines: Vec<&str> = log.lines().collect();
    let init = lines
        .iter()
        .position(|l| *l == "init: module index loaded")
        .expect("init log");
    let report = lines
        .iter()
        .position(|l| l.starts_with("Init Report RequestId: "))
        .expect("Init Report line");
    assert!(init < report, "{log}");
    assert!(
        lines[report].contains(" InitDuration: ") && lines[report].contains("Memory: 128MB"),
        "{log}"
    );
    let (_, warm_log) = call(&f, &cfg, json!({"n": 2})).await;
    assert!(
        !warm_log.contains("Init Report"),
        "only the first invocation has it: {warm_log}"
    );
    assert!(!warm_log.contains("init: module"), "{warm_log}");
}

#[tokio::test]
async fn return_values_are_json_encoded_without_ascii_escapes() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("unicode-fn", "index.unicode_handler");
    let f = function(&cfg, &fixture("python"), python);
    let (out, log) = call(&f, &cfg, json!({"k": "ü"})).await;
    assert_eq!(
        out.unwrap(),
        json!({"greeting": "你好", "echo": {"k": "ü"}})
    );
    assert!(log.contains("日志 ✓"), "{log}");
}

#[tokio::test]
async fn return_value_that_is_not_json_fails_with_a_clear_message() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("bad-return", "index.bad_return_handler");
    let f = function(&cfg, &fixture("python"), python.clone());
    let (out, _) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "TypeError");
    assert!(
        err.message().contains("cannot be encoded as JSON"),
        "{}",
        err.message()
    );
    assert!(err.message().contains("set"), "{}", err.message());

    let cfg = config("nan-return", "index.nan_handler");
    let f = function(&cfg, &fixture("python"), python);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.error_type(), "ValueError");
    assert!(
        err.message().contains("Out of range float"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn chained_exceptions_keep_the_whole_traceback() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("chained", "index.chained_handler");
    let f = function(&cfg, &fixture("python"), python);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.error_type(), "ValueError");
    assert_eq!(err.message(), "lookup failed");
    let trace = err.to_scf_json("r").stack_trace;
    assert!(trace.contains("KeyError: 'missing'"), "{trace}");
    assert!(
        trace.contains("The above exception was the direct cause"),
        "{trace}"
    );
    assert!(trace.ends_with("ValueError: lookup failed"), "{trace}");
}

#[tokio::test]
async fn the_bundled_bootstrap_talks_frames_on_the_socket_scf_serve_offers() {
    let python = runtime_or_skip!("Python3.9");
    let cfg = config("transport-fn", "index.transport_handler");
    let f = function(&cfg, &fixture("python"), python);
    common::answers_twice(&f, &cfg, json!("_Frames")).await;
}
