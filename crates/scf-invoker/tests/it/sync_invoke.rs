//! Sync (`RequestResponse`) invocations: the SCF result fields, billing and logs.

use crate::common;

use std::collections::HashSet;

use common::{echo, fixture, function, invoker, invoker_with, register_user, MODES};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError, FunctionStatus};
use scf_invoker::{BillPolicy, InvokeRequest, LogType, MemSource};
use scf_logs::InvocationType;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_returns_the_event_as_json_text_with_the_scf_result_fields() {
    for mode in MODES {
        let invoker = invoker(mode);
        invoker
            .add_function(function("echo"), handler_fn(echo))
            .unwrap();
        let response = invoker
            .invoke(InvokeRequest::new("echo", fixture("abctest_event.json")))
            .await
            .unwrap();
        assert_eq!(response.status, FunctionStatus::Success, "{mode:?}");
        assert_eq!(response.ret_msg, r#"{"key":"abctest"}"#);
        assert_eq!(response.return_value, Some(json!({"key": "abctest"})));
        assert_eq!(response.err_msg, "");
        assert_eq!(response.invoke_result, 0);
        assert_eq!(response.log, "", "no log without LogType Tail");
        assert!(response.duration_ms > 0.0 && response.duration_ms < 1000.0);
        assert!(response.bill_duration_ms >= 1);
        assert!(response.bill_duration_ms as f64 >= response.duration_ms);
        assert!(
            response.mem_usage_bytes > 0,
            "measured from the process on Linux"
        );
        assert_eq!(response.mem_source, MemSource::ProcessRss);
        assert_eq!(response.invocation_type, InvocationType::RequestResponse);
        let api = response.to_api();
        for field in [
            "Log",
            "RetMsg",
            "ErrMsg",
            "MemUsage",
            "Duration",
            "BillDuration",
            "FunctionRequestId",
            "InvokeResult",
        ] {
            assert!(api.get(field).is_some(), "Result.{field} is present");
        }
    }
}

#[tokio::test]
async fn a_string_return_value_keeps_its_json_quotes_in_ret_msg() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("hello"),
            handler_fn(|_: Value, _: Context| async { Ok::<_, FunctionError>("hello from scf") }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("hello", "{}"))
        .await
        .unwrap();
    assert_eq!(response.ret_msg, "\"hello from scf\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocation_gets_a_fresh_uuid_v4_request_id() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let mut ids = HashSet::new();
    for _ in 0..50 {
        let response = invoker
            .invoke(InvokeRequest::new("echo", "{}"))
            .await
            .unwrap();
        let id = uuid::Uuid::parse_str(&response.request_id).expect("a uuid");
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(response.request_id, id.hyphenated().to_string());
        ids.insert(response.request_id);
    }
    assert_eq!(ids.len(), 50);
}

#[tokio::test]
async fn the_context_carries_the_request_id_and_the_function_config() {
    let invoker = invoker(Default::default());
    let mut config = function("ctx-echo");
    config.memory_mb = 256;
    config.namespace = "prod".into();
    invoker
        .add_function(
            config,
            handler_fn(|_: Value, ctx: Context| async move {
                Ok::<_, FunctionError>(json!({
                    "request_id": ctx.request_id,
                    "memory": ctx.memory_limit_in_mb,
                    "limit": ctx.time_limit_in_ms,
                    "namespace": ctx.namespace,
                    "remaining": ctx.get_remaining_time_in_millis(),
                }))
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("ctx-echo", "{}").with_namespace("prod"))
        .await
        .unwrap();
    let out: Value = serde_json::from_str(&response.ret_msg).unwrap();
    assert_eq!(out["request_id"], response.request_id.as_str());
    assert_eq!(out["memory"], 256);
    assert_eq!(out["limit"], 3000);
    assert_eq!(out["namespace"], "prod");
    assert!(out["remaining"].as_u64().unwrap() > 2900);
}

#[tokio::test]
async fn log_type_tail_returns_the_framed_log() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("echo", "{}").with_log_type(LogType::Tail))
        .await
        .unwrap();
    let id = &response.request_id;
    assert!(response.log.starts_with(&format!("START RequestId:{id}\n")));
    assert!(response
        .log
        .contains(&format!("Response RequestId:{id} RetMsg:{{}}\n")));
    assert!(response.log.contains(&format!("END RequestId:{id}\n")));
    assert!(response
        .log
        .contains(&format!("Report RequestId:{id} Duration:")));
}

#[tokio::test]
async fn log_type_tail_returns_only_the_last_4_kb() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("chatty"),
            handler_fn(|_: Value, _: Context| async {
                for i in 0..200 {
                    tracing::info!("line {i} {}", "x".repeat(100));
                }
                Ok::<_, FunctionError>("done")
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("chatty", "{}").with_log_type(LogType::Tail))
        .await
        .unwrap();
    assert!(response.log.len() <= 4096);
    assert!(response.log.len() > 3000);
    assert!(
        response.log.contains("Report RequestId:"),
        "the tail keeps the end"
    );
    let stored = invoker.request_logs(&response.request_id).await.unwrap();
    assert!(
        stored[0].log.len() > 20_000,
        "the store keeps the whole log"
    );
    assert!(stored[0].log.contains("line 0 "));
}

#[tokio::test]
async fn bill_duration_is_whole_milliseconds_by_default_and_100_ms_blocks_in_legacy_mode() {
    let slow = || {
        handler_fn(|_: Value, _: Context| async {
            tokio::time::sleep(std::time::Duration::from_millis(120)).await;
            Ok::<_, FunctionError>(1)
        })
    };
    let current = invoker(Default::default());
    current.add_function(function("slow"), slow()).unwrap();
    let r = current
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap();
    assert_eq!(r.bill_duration_ms, r.duration_ms.ceil() as u64);

    let legacy = invoker_with(|c| c.bill_policy = BillPolicy::Per100Ms);
    legacy.add_function(function("slow"), slow()).unwrap();
    legacy
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let r = legacy
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap();
    assert_eq!(r.bill_duration_ms, 200, "120 ms bills as 200 ms");
    let r = legacy
        .invoke(InvokeRequest::new("echo", "{}"))
        .await
        .unwrap();
    assert_eq!(r.bill_duration_ms, 100, "a sub-ms run bills as 100 ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_error_yields_430_with_the_scf_error_json() {
    for mode in MODES {
        let invoker = invoker(mode);
        invoker
            .add_function(function("register"), handler_fn(register_user))
            .unwrap();
        let response = invoker
            .invoke(
                InvokeRequest::new("register", fixture("existing_user_event.json"))
                    .with_log_type(LogType::Tail),
            )
            .await
            .unwrap();
        assert_eq!(response.status, FunctionStatus::UserCodeException);
        assert_eq!(response.invoke_result, 1);
        let error: Value = serde_json::from_str(&response.err_msg).unwrap();
        assert_eq!(error["errorCode"], -1);
        assert_eq!(error["errorMessage"], "user code exception caught");
        assert_eq!(error["statusCode"], 430);
        assert_eq!(error["requestId"], response.request_id.as_str());
        assert_eq!(
            error["stackTrace"],
            "UserNameAlreadyExistsException: user alice already exists"
        );
        assert_eq!(response.ret_msg, response.err_msg);
        assert_eq!(response.return_value, None, "no return value on failure");
        assert!(response.log.contains(&format!(
            "ERROR RequestId:{} Result:{{",
            response.request_id
        )));
        assert!(!response.log.contains("Response RequestId:"));
    }
}

#[tokio::test]
async fn a_handler_chosen_status_is_kept() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("oom"),
            handler_fn(|_: Value, _: Context| async {
                Err::<Value, _>(FunctionError::platform(
                    FunctionStatus::MemoryLimitReached,
                    "memory limit exceeded",
                ))
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("oom", "{}"))
        .await
        .unwrap();
    assert_eq!(response.status.code(), 434);
    assert!(response.err_msg.contains("memory limit exceeded"));
}

#[tokio::test]
async fn a_return_value_that_is_not_json_yields_a_clear_error() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("nan"),
            handler_fn(|_: Value, _: Context| async { Ok::<_, FunctionError>(f64::NAN) }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("nan", "{}"))
        .await
        .unwrap();
    assert_eq!(response.status.code(), 430);
    assert!(
        response.err_msg.contains("the return value is not JSON"),
        "{}",
        response.err_msg
    );
    assert!(response.err_msg.contains("NaN"), "{}", response.err_msg);
}

#[tokio::test]
async fn a_return_value_over_the_response_limit_yields_407() {
    let invoker = invoker_with(|c| c.max_response_bytes = 1024);
    invoker
        .add_function(
            function("big"),
            handler_fn(|_: Value, _: Context| async { Ok::<_, FunctionError>("x".repeat(2000)) }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("big", "{}"))
        .await
        .unwrap();
    assert_eq!(response.status, FunctionStatus::ResponseTooLarge);
    assert!(response
        .err_msg
        .contains("The size of response exceeds the upper limit (6MB)"));
    assert!(response.err_msg.contains("2002 bytes"));
}

#[tokio::test]
async fn every_sync_invocation_is_recorded_in_the_store() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    invoker
        .add_function(function("register"), handler_fn(register_user))
        .unwrap();
    let ok = invoker
        .invoke(InvokeRequest::new("echo", "{}"))
        .await
        .unwrap();
    let failed = invoker
        .invoke(InvokeRequest::new("register", "{}"))
        .await
        .unwrap();
    let ok_record = &invoker.store().get(&ok.request_id).unwrap()[0];
    assert_eq!(ok_record.ret_code, 0);
    assert_eq!(ok_record.status_code, 200);
    assert!(ok_record.invoke_finished);
    assert_eq!(ok_record.ret_msg, "{}");
    assert_eq!(ok_record.function_name, "echo");
    assert_eq!(ok_record.qualifier, "$LATEST");
    assert_eq!(ok_record.retry_num, 0);
    assert_eq!(ok_record.duration_ms, ok.duration_ms);
    assert_eq!(ok_record.bill_duration_ms, ok.bill_duration_ms);
    assert_eq!(ok_record.mem_usage_bytes, ok.mem_usage_bytes);
    assert!(ok_record.log.starts_with("START RequestId:"));
    let failed_record = &invoker.store().get(&failed.request_id).unwrap()[0];
    assert_eq!(failed_record.ret_code, 1);
    assert_eq!(failed_record.status_code, 430);
    assert_eq!(failed_record.ret_msg, failed.err_msg);
}

#[tokio::test]
async fn an_event_given_as_a_value_is_passed_as_is() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new(
            "echo",
            json!({"a": [1, 2, {"b": null}]}),
        ))
        .await
        .unwrap();
    assert_eq!(response.ret_msg, r#"{"a":[1,2,{"b":null}]}"#);
}
