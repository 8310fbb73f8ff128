//! The async event actions: `GetAsyncEventStatus`, `ListAsyncEvents`,
//! `TerminateAsyncEvent`.

use crate::common;

use std::time::Duration;

use common::{api_error, assert_json, call, invoker, service_with};
use scf_context::{Context, FunctionConfig, RetryConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_http::{ScfService, ServerConfig};
use serde_json::{json, Value};

/// The test functions plus `sleepy` (sleeps 2 s, no retries) and `broken` (fails, no retries).
fn async_service() -> ScfService {
    let invoker = invoker();
    let mut sleepy = FunctionConfig::new("sleepy");
    sleepy.timeout = Duration::from_secs(10);
    sleepy.retry = RetryConfig::new(0, Duration::from_secs(1));
    invoker
        .add_function(
            sleepy,
            handler_fn(|_: Value, ctx: Context| async move {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = ctx.cancellation().cancelled() => {}
                }
                Ok::<_, FunctionError>(json!("done"))
            }),
        )
        .unwrap();
    let mut broken = FunctionConfig::new("broken");
    broken.retry = RetryConfig::new(0, Duration::from_secs(1));
    invoker
        .add_function(
            broken,
            handler_fn(|_: Value, _: Context| async {
                Err::<Value, _>(FunctionError::new("Boom", "broken"))
            }),
        )
        .unwrap();
    service_with(ServerConfig::new("127.0.0.1:0".parse().unwrap()), invoker)
}

async fn start(s: &ScfService, name: &str) -> String {
    let body = call(
        s,
        "Invoke",
        json!({"FunctionName": name, "InvocationType": "Event", "ClientContext": "{}"}),
    )
    .await;
    body["Response"]["Result"]["FunctionRequestId"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

async fn status(s: &ScfService, id: &str) -> Value {
    call(s, "GetAsyncEventStatus", json!({"InvokeRequestId": id})).await
}

async fn wait_for(s: &ScfService, id: &str, want: &str) -> Value {
    for _ in 0..200 {
        let body = status(s, id).await;
        if body["Response"]["Result"]["Status"] == want {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("event {id} never reached {want}: {}", status(s, id).await);
}

fn is_event_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 23 && s.as_bytes()[10] == b' ' && s.as_bytes()[19] == b'.'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_async_event_status_follows_the_event() {
    let s = async_service();
    let id = start(&s, "sleepy").await;
    let running = status(&s, &id).await;
    assert_json(
        &running,
        &json!({"Response": {"Result": {"Status": "RUNNING", "StatusCode": 0, "InvokeRequestId": id}, "RequestId": "<uuid>"}}),
    );
    let id = start(&s, "hello").await;
    let done = wait_for(&s, &id, "FINISHED").await;
    assert_json(
        &done,
        &json!({"Response": {"Result": {"Status": "FINISHED", "StatusCode": 200, "InvokeRequestId": id}, "RequestId": "<uuid>"}}),
    );
    let id = start(&s, "broken").await;
    let failed = wait_for(&s, &id, "FAILED").await;
    assert_eq!(failed["Response"]["Result"]["StatusCode"], 430);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_event_is_resource_not_found_async_event() {
    let body = status(&async_service(), "00000000-0000-0000-0000-000000000000").await;
    assert_json(
        &body,
        &api_error(
            "ResourceNotFound.AsyncEvent",
            "The async event 00000000-0000-0000-0000-000000000000 does not exist.",
        ),
    );
    let body = call(&async_service(), "GetAsyncEventStatus", json!({})).await;
    assert_json(
        &body,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `InvokeRequestId`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_async_events_lists_a_functions_events() {
    let s = async_service();
    let id = start(&s, "hello").await;
    wait_for(&s, &id, "FINISHED").await;
    let body = call(&s, "ListAsyncEvents", json!({"FunctionName": "hello"})).await;
    assert_json(
        &body,
        &json!({"Response": {
            "TotalCount": 1,
            "EventList": [{
                "InvokeRequestId": id,
                "InvokeType": "OTHERS",
                "Qualifier": "$LATEST",
                "Status": "FINISHED",
                "StartTime": "<string>",
                "EndTime": "<string>"
            }],
            "RequestId": "<uuid>"
        }}),
    );
    let event = &body["Response"]["EventList"][0];
    assert!(
        is_event_time(&event["StartTime"]) && is_event_time(&event["EndTime"]),
        "{event}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_async_events_filters_by_status_and_id() {
    let s = async_service();
    let running = start(&s, "sleepy").await;
    let body = call(
        &s,
        "ListAsyncEvents",
        json!({"FunctionName": "sleepy", "Status": ["RUNNING"]}),
    )
    .await;
    assert_eq!(body["Response"]["TotalCount"], 1);
    assert_eq!(body["Response"]["EventList"][0]["EndTime"], "");
    let body = call(
        &s,
        "ListAsyncEvents",
        json!({"FunctionName": "sleepy", "Status": ["FINISHED"]}),
    )
    .await;
    assert_json(
        &body,
        &json!({"Response": {"TotalCount": 0, "EventList": [], "RequestId": "<uuid>"}}),
    );
    let body = call(
        &s,
        "ListAsyncEvents",
        json!({"FunctionName": "sleepy", "InvokeRequestId": running, "Order": "ASC", "Orderby": "StartTime", "Offset": 0, "Limit": 100}),
    )
    .await;
    assert_eq!(
        body["Response"]["EventList"][0]["InvokeRequestId"],
        running.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_async_events_refuses_bad_values() {
    let s = async_service();
    assert_json(
        &call(&s, "ListAsyncEvents", json!({"FunctionName": "hello", "Status": ["DONE"]})).await,
        &api_error("InvalidParameterValue", "The value `DONE` of parameter `Status` is invalid: expected one of RUNNING, FINISHED, FAILED, ABORTED."),
    );
    assert_json(
        &call(
            &s,
            "ListAsyncEvents",
            json!({"FunctionName": "hello", "Limit": 101}),
        )
        .await,
        &api_error(
            "InvalidParameterValue",
            "The value `101` of parameter `Limit` is invalid: it must be at most 100.",
        ),
    );
    assert_json(
        &call(&s, "ListAsyncEvents", json!({"FunctionName": "hello", "Orderby": "Name"})).await,
        &api_error("InvalidParameterValue", "The value `Name` of parameter `Orderby` is invalid: expected one of StartTime, EndTime."),
    );
    assert_json(
        &call(
            &s,
            "ListAsyncEvents",
            json!({"FunctionName": "hello", "StartTimeInterval": {"Start": "2020-01-01 00:00:00"}}),
        )
        .await,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `StartTimeInterval.End`.",
        ),
    );
    assert_json(
        &call(&s, "ListAsyncEvents", json!({})).await,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `FunctionName`.",
        ),
    );
    assert_json(
        &call(&s, "ListAsyncEvents", json!({"FunctionName": "nope"})).await,
        &api_error("ResourceNotFound.Function", "Function nope does not exist."),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_async_events_takes_time_intervals() {
    let s = async_service();
    let id = start(&s, "hello").await;
    wait_for(&s, &id, "FINISHED").await;
    let body = call(
        &s,
        "ListAsyncEvents",
        json!({"FunctionName": "hello", "StartTimeInterval": {"Start": "2020-01-01 00:00:00", "End": "2020-01-02 00:00:00"}}),
    )
    .await;
    assert_eq!(body["Response"]["TotalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_aborts_a_running_event() {
    let s = async_service();
    let id = start(&s, "sleepy").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let body = call(
        &s,
        "TerminateAsyncEvent",
        json!({"FunctionName": "sleepy", "InvokeRequestId": id, "GraceShutdown": true}),
    )
    .await;
    assert_json(&body, &json!({"Response": {"RequestId": "<uuid>"}}));
    let aborted = wait_for(&s, &id, "ABORTED").await;
    assert_eq!(aborted["Response"]["Result"]["Status"], "ABORTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_a_finished_event_is_failed_operation() {
    let s = async_service();
    let id = start(&s, "hello").await;
    wait_for(&s, &id, "FINISHED").await;
    let body = call(
        &s,
        "TerminateAsyncEvent",
        json!({"FunctionName": "hello", "InvokeRequestId": id}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "FailedOperation.AsyncEventStatus",
            &format!("The async event {id} has already ended with status FINISHED; only a RUNNING event can be terminated."),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_an_unknown_event_is_resource_not_found() {
    let s = async_service();
    let body = call(
        &s,
        "TerminateAsyncEvent",
        json!({"FunctionName": "hello", "InvokeRequestId": "x"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "ResourceNotFound.AsyncEvent",
            "The async event x does not exist.",
        ),
    );
    let body = call(
        &s,
        "TerminateAsyncEvent",
        json!({"FunctionName": "nope", "InvokeRequestId": "x"}),
    )
    .await;
    assert_json(
        &body,
        &api_error("ResourceNotFound.Function", "Function nope does not exist."),
    );
    let body = call(
        &s,
        "TerminateAsyncEvent",
        json!({"FunctionName": "hello", "InvokeRequestId": "x", "GraceShutdown": "yes"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidParameter",
            "The parameter `GraceShutdown` must be a boolean.",
        ),
    );
}
