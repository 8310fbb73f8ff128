//! The PHP runtime: the seed's examples, the context object, logs, errors, fatal errors
//! and return values.

use crate::common;

use std::time::Duration;

use common::{call, config, example, fixture, function, runtime};
use serde_json::json;

#[tokio::test]
async fn seed_main_handler_returns_the_key_and_echoes_the_event() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-seed", "index.main_handler");
    let f = function(&cfg, &example("php-seed"), php);
    let (out, log) = call(&f, &cfg, json!({"key": "abctest"})).await;
    assert_eq!(out.unwrap(), json!("abctest"));
    assert!(
        log.contains(r#"{"key":"abctest"}"#),
        "echo is in the log: {log}"
    );
}

#[tokio::test]
async fn every_php_version_name_runs_on_the_machine_s_php() {
    for name in ["Php5.6", "Php7.2", "Php7.4", "Php8.0"] {
        let Some(php) = runtime(name) else { return };
        let cfg = config("php-seed", "index.main_handler");
        let f = function(&cfg, &example("php-seed"), php);
        let out = call(&f, &cfg, json!({"key": name})).await.0;
        assert_eq!(out.unwrap(), json!(name));
    }
}

#[tokio::test]
async fn seed_always_failed_handler_shows_the_exception_its_file_and_line() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-seed", "index.always_failed_handler");
    let f = function(&cfg, &example("php-seed"), php);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "Exception");
    assert_eq!(err.message(), "I failed!");
    let scf = err.to_scf_json("req");
    assert_eq!(scf.error_message, "user code exception caught");
    let trace = scf.stack_trace;
    assert!(
        trace.starts_with("Uncaught Exception: I failed! in ") && trace.contains("index.php:19\n"),
        "{trace}"
    );
    assert!(trace.contains("Stack trace:\n#0 {main}"), "{trace}");
    assert!(trace.ends_with("\nException: I failed!"), "{trace}");
    assert!(
        !trace.contains("bootstrap.php"),
        "the runtime's frames are hidden: {trace}"
    );
}

#[tokio::test]
async fn user_defined_exception_keeps_its_class_name() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-seed", "index.register_handler");
    let f = function(&cfg, &example("php-seed"), php);
    let err = call(&f, &cfg, json!({"username": "alice"}))
        .await
        .0
        .unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "UserNameAlreadyExistsException");
    assert_eq!(err.message(), "user name alice already exists");
    assert!(err
        .to_scf_json("r")
        .stack_trace
        .ends_with("UserNameAlreadyExistsException: user name alice already exists"));
}

#[tokio::test]
async fn a_caught_exception_is_a_normal_return() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-seed", "index.try_catch_handler");
    let f = function(&cfg, &example("php-seed"), php);
    let (out, log) = call(&f, &cfg, json!({})).await;
    assert_eq!(out.unwrap(), json!({"caught": "I failed!"}));
    assert!(log.contains("caught: I failed!"), "{log}");
}

#[tokio::test]
async fn nested_frames_and_the_previous_exception_are_in_the_trace() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-nested", "index.nested_failure_handler");
    let f = function(&cfg, &fixture("php"), php);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.error_type(), "InvalidArgumentException");
    let trace = err.to_scf_json("r").stack_trace;
    assert!(trace.contains(": helper_that_throws()\n"), "{trace}");
    assert!(
        trace.contains("Previous RuntimeException: the cause in "),
        "{trace}"
    );
    assert!(!trace.contains("bootstrap.php"), "{trace}");
}

#[tokio::test]
async fn missing_handler_function_and_file_are_437() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-seed", "index.xxx");
    let f = function(&cfg, &example("php-seed"), php.clone());
    for _ in 0..2 {
        let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
        assert_eq!(err.status().code(), 437);
        assert_eq!(err.message(), "'module' object has no attribute 'xxx'");
    }
    let cfg = config("php-seed", "nofile.main_handler");
    let f = function(&cfg, &example("php-seed"), php);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 437);
    assert_eq!(err.message(), "Cannot find the entry file 'nofile.php'");
}

#[tokio::test]
async fn a_file_that_does_not_parse_reports_its_parse_error_on_every_invocation() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-parse", "index.main_handler");
    let f = function(&cfg, &fixture("php-parse-error"), php);
    for _ in 0..2 {
        let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
        assert_eq!(err.status().code(), 430);
        assert_eq!(err.error_type(), "ParseError");
        assert!(
            err.to_scf_json("r").stack_trace.contains("index.php:6"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn event_and_context_are_objects_with_the_platform_fields() {
    let php = runtime_or_skip!("Php7.4");
    let mut cfg = config("php-ctx", "index.context_handler");
    cfg.environment.insert("GREETING".into(), "héllo".into());
    cfg.memory_mb = 256;
    let f = function(&cfg, &fixture("php"), php);
    let ctx = common::ctx(&cfg);
    let expected = serde_json::to_value(&ctx).unwrap();
    let out = scf_handler::Handler::call(&f, json!({"a": 1}), ctx)
        .await
        .unwrap();
    assert_eq!(out["event_is_object"], json!(true));
    assert_eq!(out["context_is_object"], json!(true));
    assert_eq!(out["context"], expected);
    assert_eq!(out["keys"][0], json!("memory_limit_in_mb"));
    assert_eq!(out["context"]["memory_limit_in_mb"], json!(256));
    assert_eq!(out["greeting"], json!("héllo"));
}

#[tokio::test]
async fn echo_print_error_log_and_stderr_land_in_the_log_in_order() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-log", "index.log_handler");
    let f = function(&cfg, &fixture("php"), php);
    let (out, log) = call(&f, &cfg, json!({})).await;
    assert_eq!(out.unwrap(), json!("ok"));
    let mut at = 0;
    for needle in [
        "init: index.php loaded",
        "echo line",
        "print line",
        "error_log line",
        "stderr line",
        "[print_r] => 1",
        "no newline at the end",
    ] {
        let found = log[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} after byte {at} in:\n{log}"));
        at += found + needle.len();
    }
    let (_, warm) = call(&f, &cfg, json!({})).await;
    assert!(!warm.contains("init: index.php loaded"), "{warm}");
}

#[tokio::test]
async fn arrays_are_json_lists_or_objects_as_json_encode_makes_them() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-values", "index.values_handler");
    let f = function(&cfg, &fixture("php"), php);
    let out = call(&f, &cfg, json!({"k": "ü", "list": [1, {"x": []}]}))
        .await
        .0
        .unwrap();
    assert_eq!(
        out,
        json!({
            "list": [1, 2, 3],
            "assoc": {"a": 1, "b": []},
            "sparse": {"1": "x", "3": "y"},
            "object": {},
            "float": 1.5,
            "unicode": "你好",
            "slash": "a/b",
            "null": null,
            "echo": {"k": "ü", "list": [1, {"x": []}]},
        })
    );
}

#[tokio::test]
async fn a_return_value_json_encode_refuses_fails_with_a_message_that_says_so() {
    let php = runtime_or_skip!("Php7.4");
    for (handler, reason) in [
        ("index.resource_handler", "Type is not supported"),
        ("index.nan_handler", "Inf and NaN cannot be JSON encoded"),
    ] {
        let cfg = config("php-bad-return", handler);
        let f = function(&cfg, &fixture("php"), php.clone());
        let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
        assert_eq!(err.status().code(), 430, "{handler}");
        assert_eq!(err.error_type(), "JsonException", "{handler}");
        assert!(
            err.message().contains("cannot be encoded as JSON") && err.message().contains(reason),
            "{handler}: {}",
            err.message()
        );
        assert_eq!(
            err.to_scf_json("r").stack_trace,
            format!("JsonException: {}", err.message()),
            "the last line once"
        );
    }
}

#[tokio::test]
async fn an_error_thrown_by_php_itself_is_reported_like_an_exception() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-undefined", "index.undefined_function_handler");
    let f = function(&cfg, &fixture("php"), php);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.error_type(), "Error");
    assert!(
        err.message()
            .contains("Call to undefined function function_that_does_not_exist()"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn a_fatal_error_is_reported_with_its_file_and_line_and_the_instance_replaced() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-fatal", "index.fatal_handler");
    let f = function(&cfg, &fixture("php"), php);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "PHP Fatal error");
    assert!(
        err.message()
            .starts_with("Allowed memory size of 33554432 bytes exhausted"),
        "{}",
        err.message()
    );
    let trace = err.to_scf_json("r").stack_trace;
    assert!(trace.contains("index.php:71\n"), "{trace}");
    // The process ended after reporting; the next invocation gets a new one.
    let again = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(again.error_type(), "PHP Fatal error", "{again:?}");
}

#[tokio::test]
async fn die_fails_the_invocation_and_its_output_is_in_the_log() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-exit", "index.exit_handler");
    let f = function(&cfg, &fixture("php"), php);
    let (out, log) = call(&f, &cfg, json!({})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "Exit");
    assert!(log.contains("about to die"), "{log}");
    assert!(log.contains("dying words"), "{log}");
}

#[tokio::test]
async fn the_instance_is_reused_between_invocations() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-counter", "index.counter_handler");
    let f = function(&cfg, &fixture("php"), php);
    assert_eq!(call(&f, &cfg, json!({})).await.0.unwrap(), json!(1));
    assert_eq!(call(&f, &cfg, json!({})).await.0.unwrap(), json!(2));
}

#[tokio::test]
async fn a_handler_past_its_timeout_is_time_out_and_the_instance_replaced() {
    let php = runtime_or_skip!("Php7.4");
    let mut cfg = config("php-sleep", "index.sleep_handler");
    cfg.timeout = Duration::from_secs(1);
    let f = function(&cfg, &fixture("php"), php);
    assert_eq!(call(&f, &cfg, json!({})).await.0.unwrap(), json!(1));
    let started = std::time::Instant::now();
    let (out, log) = call(&f, &cfg, json!({"sleep": true})).await;
    let err = out.unwrap_err();
    assert_eq!(err.status().code(), 433);
    assert_eq!(err.message(), "time out");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ends at the deadline"
    );
    assert!(log.contains("going to sleep"), "{log}");
    assert_eq!(
        call(&f, &cfg, json!({})).await.0.unwrap(),
        json!(1),
        "a fresh instance serves the next invocation"
    );
}

#[tokio::test]
async fn the_bundled_bootstrap_talks_frames_on_the_socket_scf_serve_offers() {
    let php = runtime_or_skip!("Php7.4");
    let cfg = config("php-transport", "index.transport_handler");
    let f = function(&cfg, &fixture("php"), php);
    common::answers_twice(&f, &cfg, json!("frames")).await;
}
