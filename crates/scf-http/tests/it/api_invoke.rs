//! `Invoke` and `InvokeFunction`: the result of a run, a function's own failure as a
//! successful call, and every refusal with its API error code.

use crate::common;

use common::{api_error, assert_json, call, fixture, invoker, service, service_with};
use scf_context::{Context, FunctionConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_http::ServerConfig;
use serde_json::{json, Value};

fn result(body: &Value) -> &Value {
    &body["Response"]["Result"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_invoke_returns_the_result_fields() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "InvocationType": "RequestResponse", "ClientContext": "{\"key\": \"abctest\"}"}),
    )
    .await;
    assert_json(&body, &fixture("api/invoke_hello_sync.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_invoke_with_log_type_tail_returns_the_run_log() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "ClientContext": "{\"key\": \"abctest\"}", "LogType": "Tail"}),
    )
    .await;
    let r = result(&body);
    let id = r["FunctionRequestId"].as_str().unwrap();
    let log = r["Log"].as_str().unwrap();
    let first = log.lines().next().unwrap();
    assert!(
        first.starts_with("START RequestId:") && first.ends_with(id),
        "{log}"
    );
    assert!(
        log.contains(&format!("{id}\t[INFO]\thello got {{\"key\":\"abctest\"}}")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("END RequestId:") && l.contains(id)),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_without_client_context_runs_with_an_empty_event() {
    let body = call(&service(), "Invoke", json!({"FunctionName": "hello"})).await;
    assert_eq!(result(&body)["RetMsg"], r#"{"hello":{}}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_invoke_returns_only_the_function_request_id() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "InvocationType": "Event", "ClientContext": "{}"}),
    )
    .await;
    assert_json(&body, &fixture("api/invoke_async_accepted.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_is_a_successful_call_whose_result_says_so() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "fails", "ClientContext": "{\"name\":\"tom\"}"}),
    )
    .await;
    let r = result(&body);
    let id = r["FunctionRequestId"].as_str().unwrap();
    let error = json!({
        "errorCode": -1,
        "errorMessage": "user code exception caught",
        "requestId": id,
        "stackTrace": "UserNameAlreadyExistsException: user tom already exists",
        "statusCode": 430,
    });
    assert_eq!(
        serde_json::from_str::<Value>(r["ErrMsg"].as_str().unwrap()).unwrap(),
        error
    );
    assert_eq!(
        serde_json::from_str::<Value>(r["RetMsg"].as_str().unwrap()).unwrap(),
        error
    );
    assert_eq!(r["InvokeResult"], 1);
    assert!(body["Response"].get("Error").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_a_successful_call_with_status_433() {
    let body = call(&service(), "Invoke", json!({"FunctionName": "slow"})).await;
    let r = result(&body);
    let error: Value = serde_json::from_str(r["ErrMsg"].as_str().unwrap()).unwrap();
    assert_eq!(error["statusCode"], 433);
    assert_eq!(error["errorMessage"], "time out");
    assert_eq!(r["InvokeResult"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_function_takes_the_event_and_defaults_to_default_qualifier() {
    let body = call(
        &service(),
        "InvokeFunction",
        json!({"FunctionName": "hello", "Event": "{\"key\":\"abctest\"}", "LogType": "None"}),
    )
    .await;
    assert_json(&body, &fixture("api/invoke_hello_sync.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_function_has_no_client_context_or_invocation_type() {
    let s = service();
    let body = call(
        &s,
        "InvokeFunction",
        json!({"FunctionName": "hello", "ClientContext": "{}"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "UnknownParameter",
            "The parameter `ClientContext` is not recognized by action `InvokeFunction`.",
        ),
    );
    let body = call(
        &s,
        "InvokeFunction",
        json!({"FunctionName": "hello", "InvocationType": "Event"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "UnknownParameter",
            "The parameter `InvocationType` is not recognized by action `InvokeFunction`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_selects_the_function() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "Namespace": "other"}),
    )
    .await;
    assert_eq!(result(&body)["RetMsg"], "\"other\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_function_is_resource_not_found_function() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "no-such-function-4f1c"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "ResourceNotFound.Function",
            "Function no-such-function-4f1c does not exist.",
        ),
    );
    let body = call(
        &service(),
        "InvokeFunction",
        json!({"FunctionName": "no-such-function-4f1c"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "ResourceNotFound.Function",
            "Function no-such-function-4f1c does not exist.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_qualifier_is_resource_not_found_qualifier() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "Qualifier": "7"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "ResourceNotFound.Qualifier",
            "Version 7 of function hello does not exist.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_namespace_is_resource_not_found_namespace() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "Namespace": "nope"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "ResourceNotFound.Namespace",
            "Namespace nope does not exist.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_is_not_json_is_invalid_parameter_value_param() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "ClientContext": "{not json"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameterValue.Param",
            "The event is not valid JSON: key must be a string at line 1 column 2.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_event_over_6_mb_is_request_too_large() {
    let big = format!("{{\"k\":\"{}\"}}", "x".repeat(6 * 1024 * 1024));
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "ClientContext": big}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameter.RequestTooLarge",
            "The event is 6291464 bytes: RequestResponse events may be at most 6291456 bytes.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_event_over_128_kb_is_request_too_large() {
    let big = format!("{{\"k\":\"{}\"}}", "x".repeat(128 * 1024));
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "InvocationType": "Event", "ClientContext": big}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameter.RequestTooLarge",
            "The event is 131080 bytes: Event events may be at most 131072 bytes.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_enum_values_are_invalid_parameter_value() {
    let s = service();
    let body = call(
        &s,
        "Invoke",
        json!({"FunctionName": "hello", "InvocationType": "Sync"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameterValue",
            "The value `Sync` of parameter `InvocationType` is invalid: expected one of RequestResponse, Event.",
        ),
    );
    let body = call(
        &s,
        "Invoke",
        json!({"FunctionName": "hello", "LogType": "Head"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameterValue",
            "The value `Head` of parameter `LogType` is invalid: expected one of None, Tail.",
        ),
    );
    let body = call(
        &s,
        "Invoke",
        json!({"FunctionName": "hello", "RoutingKey": "[1]"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameterValue",
            "The value `[1]` of parameter `RoutingKey` is invalid: it must be a JSON object string, e.g. {\"k\":\"v\"}.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_function_name_is_missing_parameter() {
    let body = call(&service(), "Invoke", json!({"ClientContext": "{}"})).await;
    assert_json(
        &body,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `FunctionName`.",
        ),
    );
    let body = call(&service(), "Invoke", json!({"FunctionName": ""})).await;
    assert_json(
        &body,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `FunctionName`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_parameter_is_unknown_parameter() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "Event": "{}"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "UnknownParameter",
            "The parameter `Event` is not recognized by action `Invoke`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_of_the_wrong_type_is_invalid_parameter() {
    let body = call(
        &service(),
        "Invoke",
        json!({"FunctionName": "hello", "ClientContext": {"key": 1}}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameter",
            "The parameter `ClientContext` must be a string.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_is_limit_exceeded_quota() {
    let invoker = invoker();
    let mut config = FunctionConfig::new("one-at-a-time");
    config.max_concurrency = Some(1);
    invoker
        .add_function(
            config,
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                Ok::<_, FunctionError>(json!(1))
            }),
        )
        .unwrap();
    let s = service_with(ServerConfig::new("127.0.0.1:0".parse().unwrap()), invoker);
    let first = {
        let s = s.clone();
        tokio::spawn(
            async move { call(&s, "Invoke", json!({"FunctionName": "one-at-a-time"})).await },
        )
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let body = call(&s, "Invoke", json!({"FunctionName": "one-at-a-time"})).await;
    assert_json(
        &body,
        &api_error(
            "LimitExceeded.Quota",
            "Function [ one-at-a-time ] concurrency exceeded reserved quota 128 MB.",
        ),
    );
    assert_eq!(first.await.unwrap()["Response"]["Result"]["RetMsg"], "1");
}

#[test]
fn an_async_event_the_queue_cannot_take_is_internal_error_system() {
    let error = scf_invoker::InvokeError::Store(scf_store::StoreError::WriterStopped);
    let api = scf_http::ApiError::from_invoke_error(&error, true);
    assert_eq!(api.code(), scf_http::ErrorCode::InternalErrorSystem);
    assert_eq!(api.code().as_str(), "InternalError.System");
    assert!(api.message().contains("not accepted"), "{}", api.message());
}
