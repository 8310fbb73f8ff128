//! The Node.js runtime: the seed's examples (async and callback style), the context,
//! console output, errors and return values.

use crate::common;

use common::{call, config, example, fixture, function};
use serde_json::json;

#[tokio::test]
async fn seed_async_handler_returns_the_key_and_logs_the_event() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-seed", "index.main_handler");
    let f = function(&cfg, &example("node-seed"), node);
    let (out, log) = call(&f, &cfg, json!({"key": "abctest"})).await;
    assert_eq!(out.unwrap(), json!("abctest"));
    assert!(
        log.contains("{ key: 'abctest' }"),
        "console.log(event) is in the log: {log}"
    );
}

#[tokio::test]
async fn seed_callback_handler_returns_through_the_callback() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-seed", "index.callback_handler");
    let f = function(&cfg, &example("node-seed"), node);
    let (out, _) = call(&f, &cfg, json!({"key": "abctest"})).await;
    assert_eq!(out.unwrap(), json!("abctest"));
}

#[tokio::test]
async fn seed_failing_handler_reports_error_message_and_stack() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-seed", "index.always_failed_handler");
    let f = function(&cfg, &example("node-seed"), node);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 430);
    assert_eq!(err.error_type(), "Error");
    assert_eq!(err.message(), "I failed!");
    let trace = err.to_scf_json("r").stack_trace;
    assert!(trace.contains("index.js:"), "{trace}");
    assert!(!trace.contains("bootstrap.js"), "{trace}");
}

#[tokio::test]
async fn user_defined_error_class_keeps_its_name() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-seed", "index.register_handler");
    let f = function(&cfg, &example("node-seed"), node);
    let err = call(&f, &cfg, json!({"username": "alice"}))
        .await
        .0
        .unwrap_err();
    assert_eq!(err.error_type(), "UserNameAlreadyExistsException");
    assert_eq!(err.message(), "user name alice already exists");
}

#[tokio::test]
async fn missing_export_is_437_and_a_missing_file_too() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-seed", "index.xxx");
    let f = function(&cfg, &example("node-seed"), node.clone());
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 437);
    assert_eq!(err.message(), "'module' object has no attribute 'xxx'");

    let cfg = config("node-seed", "nofile.main_handler");
    let f = function(&cfg, &example("node-seed"), node);
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.status().code(), 437);
    assert_eq!(err.message(), "Cannot find module 'nofile'");
}

#[tokio::test]
async fn context_has_the_platform_fields_and_node_extras() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-ctx", "index.context_handler");
    let f = function(&cfg, &fixture("node"), node);
    let ctx = common::ctx(&cfg);
    let mut expected = serde_json::to_value(&ctx).unwrap();
    expected["callbackWaitsForEmptyEventLoop"] = json!(true);
    let out = scf_handler::Handler::call(&f, json!({}), ctx)
        .await
        .unwrap();
    assert_eq!(out["context"], expected);
    assert_eq!(out["keys"][0], json!("memory_limit_in_mb"));
    assert_eq!(out["has_done"], json!(true));
}

#[tokio::test]
async fn console_output_lands_in_the_log() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-log", "index.log_handler");
    let f = function(&cfg, &fixture("node"), node);
    let (out, log) = call(&f, &cfg, json!({})).await;
    assert_eq!(out.unwrap(), json!("ok"));
    let lines: Vec<&str> = log.lines().collect();
    let at = |s: &str| {
        lines
            .iter()
            .position(|l| *l == s)
            .unwrap_or_else(|| panic!("{s:?} in {log}"))
    };
    assert!(at("init: module index loaded") < at("log line"));
    assert!(
        at("log line") < at("error line") && at("error line") < at("info line"),
        "{log}"
    );
}

#[tokio::test]
async fn sync_callback_succeed_and_error_styles_all_work() {
    let node = runtime_or_skip!("Nodejs16.13");
    for (handler, event, expect) in [
        (
            "index.sync_handler",
            json!({"n": 21}),
            Ok(json!({"doubled": 42})),
        ),
        (
            "index.returning_callback_handler",
            json!({"n": 7}),
            Ok(json!({"returned": 7})),
        ),
        (
            "index.context_succeed_handler",
            json!({}),
            Ok(json!({"via": "succeed"})),
        ),
        (
            "index.unicode_handler",
            json!({"k": "ü"}),
            Ok(json!({"greeting": "你好", "echo": {"k": "ü"}})),
        ),
        (
            "index.callback_error_handler",
            json!({}),
            Err(("TypeError", "bad input")),
        ),
        (
            "index.not_a_function",
            json!({}),
            Err((
                "HandlerNotFound",
                "'module' object attribute 'not_a_function' is not a function",
            )),
        ),
    ] {
        let cfg = config("node-styles", handler);
        let f = function(&cfg, &fixture("node"), node.clone());
        let out = call(&f, &cfg, event).await.0;
        match expect {
            Ok(value) => assert_eq!(out.unwrap(), value, "{handler}"),
            Err((ty, msg)) => {
                let err = out.unwrap_err();
                assert_eq!((err.error_type(), err.message()), (ty, msg), "{handler}");
            }
        }
    }
}

#[tokio::test]
async fn unencodable_return_and_process_exit_fail_clearly() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-circular", "index.circular_handler");
    let f = function(&cfg, &fixture("node"), node.clone());
    let err = call(&f, &cfg, json!({})).await.0.unwrap_err();
    assert_eq!(err.error_type(), "TypeError");
    assert!(
        err.message().contains("cannot be encoded as JSON") && err.message().contains("circular"),
        "{}",
        err.message()
    );

    let cfg = config("node-exit", "index.exit_handler");
    let f = function(&cfg, &fixture("node"), node);
    let (out, log) = call(&f, &cfg, json!({})).await;
    assert_eq!(out.unwrap_err().status().code(), 439);
    assert!(log.contains("fatal: giving up"), "{log}");
}

#[tokio::test]
async fn an_es_module_is_imported_when_there_is_no_commonjs_file() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-esm", "index.main_handler");
    let f = function(&cfg, &fixture("node-esm"), node);
    let out = call(&f, &cfg, json!({"key": "abctest"})).await.0.unwrap();
    assert_eq!(out["esm"], json!(true));
    assert_eq!(out["key"], json!("abctest"));
}

#[tokio::test]
async fn the_bundled_bootstrap_talks_frames_on_the_socket_scf_serve_offers() {
    let node = runtime_or_skip!("Nodejs16.13");
    let cfg = config("node-transport", "index.transport_handler");
    let f = function(&cfg, &fixture("node"), node);
    common::answers_twice(&f, &cfg, json!("unix")).await;
}
