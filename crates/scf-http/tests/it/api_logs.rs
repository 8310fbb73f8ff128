//! `GetFunctionLogs` (filters, order, paging, errors) and `GetRequestStatus`.

use crate::common;

use std::time::Duration;

use common::{api_error, assert_json, call, fixture, service};
use scf_http::ScfService;
use serde_json::{json, Value};

async fn invoke(s: &ScfService, name: &str, event: &str) -> String {
    let body = call(
        s,
        "Invoke",
        json!({"FunctionName": name, "ClientContext": event}),
    )
    .await;
    body["Response"]["Result"]["FunctionRequestId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn logs(s: &ScfService, params: Value) -> Value {
    call(s, "GetFunctionLogs", params).await
}

fn ids(body: &Value) -> Vec<String> {
    body["Response"]["Data"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|r| r["RequestId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_one_request_by_function_request_id() {
    let s = service();
    let id = invoke(&s, "hello", r#"{"key":"abctest"}"#).await;
    invoke(&s, "hello", "{}").await;
    let body = logs(
        &s,
        json!({"FunctionName": "hello", "Limit": 10, "Order": "desc", "FunctionRequestId": id}),
    )
    .await;
    assert_json(&body, &fixture("api/get_function_logs_one.json"));
    assert_eq!(ids(&body), std::slice::from_ref(&id));
    let log = body["Response"]["Data"][0]["Log"].as_str().unwrap();
    assert!(log.contains(&id) && log.contains("hello got"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_invoke_then_logs_by_request_id() {
    let s = service();
    let body = call(
        &s,
        "Invoke",
        json!({"FunctionName": "hello", "InvocationType": "Event", "ClientContext": "{\"key\":\"abctest\"}"}),
    )
    .await;
    let id = body["Response"]["Result"]["FunctionRequestId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut last = Value::Null;
    for _ in 0..100 {
        last = logs(
            &s,
            json!({"FunctionName": "hello", "FunctionRequestId": id}),
        )
        .await;
        if last["Response"]["Data"][0]["RetCode"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_json(&last, &fixture("api/get_function_logs_one.json"));
    assert_eq!(ids(&last), [id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ret_code_filter_selects_outcomes() {
    let s = service();
    let ok = invoke(&s, "hello", "{}").await;
    let failed = invoke(&s, "fails", "{}").await;
    let timed_out = invoke(&s, "slow", "{}").await;
    let by = |ns: &'static str, f: &'static str| {
        let s = s.clone();
        async move { ids(&logs(&s, json!({"Namespace": ns, "Filter": {"RetCode": f}})).await) }
    };
    assert_eq!(by("default", "is0").await, std::slice::from_ref(&ok));
    let mut not0 = by("default", "not0").await;
    not0.sort();
    let mut expected = vec![failed.clone(), timed_out.clone()];
    expected.sort();
    assert_eq!(not0, expected);
    assert_eq!(by("default", "UserCodeException").await, [failed]);
    assert_eq!(by("default", "TimeLimitExceeded").await, [timed_out]);
    assert!(by("default", "ResourceLimitExceeded").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_offset_and_limit_page_through_the_logs() {
    let s = service();
    let mut sent = Vec::new();
    for _ in 0..4 {
        sent.push(invoke(&s, "hello", "{}").await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asc = logs(
        &s,
        json!({"FunctionName": "hello", "Order": "asc", "OrderBy": "start_time"}),
    )
    .await;
    assert_eq!(ids(&asc), sent);
    assert_eq!(asc["Response"]["TotalCount"], 4);
    let desc = logs(
        &s,
        json!({"FunctionName": "hello", "Order": "desc", "Offset": 1, "Limit": 2}),
    )
    .await;
    assert_eq!(ids(&desc), [sent[2].clone(), sent[1].clone()]);
    assert_eq!(desc["Response"]["TotalCount"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_window_filters_by_start_time() {
    let s = service();
    invoke(&s, "hello", "{}").await;
    let past = logs(
        &s,
        json!({"StartTime": "2017-05-16 20:00:00", "EndTime": "2017-05-16 20:59:59"}),
    )
    .await;
    assert_eq!(past["Response"]["TotalCount"], 0);
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| scf_logs::record::format_api_datetime(t);
    let around = logs(
        &s,
        json!({"StartTime": fmt(now - time::Duration::minutes(5)), "EndTime": fmt(now + time::Duration::minutes(5))}),
    )
    .await;
    assert_eq!(around["Response"]["TotalCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_plus_limit_over_10000_is_limit_exceeded_offset() {
    let body = logs(&service(), json!({"Offset": 9995, "Limit": 10})).await;
    assert_json(
        &body,
        &api_error(
            "LimitExceeded.Offset",
            "Offset + Limit must be at most 10000, got 9995 + 10 = 10005.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_are_invalid_parameter_value() {
    let s = service();
    let cases = [
        (json!({"Order": "up"}), "The value `up` of parameter `Order` is invalid: expected one of asc, desc."),
        (
            json!({"OrderBy": "size"}),
            "The value `size` of parameter `OrderBy` is invalid: expected one of function_name, duration, mem_usage, start_time.",
        ),
        (
            json!({"Filter": {"RetCode": "NotAvailable"}}),
            "The value `NotAvailable` of parameter `Filter.RetCode` is invalid: expected one of not0, is0, TimeLimitExceeded, ResourceLimitExceeded, UserCodeException.",
        ),
        (
            json!({"StartTime": "2017-05-16T20:00:00Z"}),
            "The value `2017-05-16T20:00:00Z` of parameter `StartTime` is invalid: it must be a time as `YYYY-MM-DD HH:MM:SS` (UTC), e.g. `2017-05-16 20:00:00`.",
        ),
        (
            json!({"StartTime": "2017-05-16 21:00:00", "EndTime": "2017-05-16 20:00:00"}),
            "The value of `StartTime` must not be later than `EndTime`.",
        ),
        (
            json!({"StartTime": "2017-05-14 20:00:00", "EndTime": "2017-05-16 20:00:00"}),
            "`StartTime` and `EndTime` must be at most one day apart.",
        ),
        (json!({"Offset": -1}), "The value `-1` of parameter `Offset` is invalid: it must be a non-negative integer."),
    ];
    for (params, message) in cases {
        assert_json(
            &logs(&s, params).await,
            &api_error("InvalidParameterValue", message),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_and_unknown_fields_are_refused() {
    let s = service();
    assert_json(
        &logs(&s, json!({"Limit": "10"})).await,
        &api_error(
            "InvalidParameter",
            "The parameter `Limit` must be an integer.",
        ),
    );
    assert_json(
        &logs(&s, json!({"Filter": {"Code": "is0"}})).await,
        &api_error(
            "UnknownParameter",
            "The parameter `Filter.Code` is not recognized by action `GetFunctionLogs`.",
        ),
    );
    assert_json(
        &logs(&s, json!({"SearchKey": [{"Key": "a", "Value": "b"}]})).await,
        &api_error(
            "UnknownParameter",
            "The parameter `SearchKey` is not recognized by action `GetFunctionLogs`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_an_unknown_function_are_resource_not_found() {
    assert_json(
        &logs(&service(), json!({"FunctionName": "nope"})).await,
        &api_error("ResourceNotFound.Function", "Function nope does not exist."),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_request_status_reports_one_request() {
    let s = service();
    let id = invoke(&s, "hello", r#"{"key":"abctest"}"#).await;
    let body = call(
        &s,
        "GetRequestStatus",
        json!({"FunctionName": "hello", "FunctionRequestId": id}),
    )
    .await;
    assert_json(&body, &fixture("api/get_request_status_one.json"));
    assert_eq!(body["Response"]["Data"][0]["RequestId"], id.as_str());

    let failed = invoke(&s, "fails", "{}").await;
    let body = call(
        &s,
        "GetRequestStatus",
        json!({"FunctionName": "fails", "FunctionRequestId": failed}),
    )
    .await;
    assert_eq!(body["Response"]["Data"][0]["RetCode"], -1);

    let body = call(&s, "GetRequestStatus", json!({"FunctionName": "hello", "FunctionRequestId": "00000000-0000-0000-0000-000000000000"})).await;
    assert_json(
        &body,
        &json!({"Response": {"TotalCount": 0, "Data": [], "RequestId": "<uuid>"}}),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_request_status_needs_function_and_request_id() {
    let s = service();
    assert_json(
        &call(&s, "GetRequestStatus", json!({"FunctionName": "hello"})).await,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `FunctionRequestId`.",
        ),
    );
    assert_json(
        &call(
            &s,
            "GetRequestStatus",
            json!({"FunctionName": "nope", "FunctionRequestId": "x"}),
        )
        .await,
        &api_error("ResourceNotFound.Function", "Function nope does not exist."),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_context_keyword_finds_the_records_whose_log_contains_it() {
    let s = service();
    let id = invoke(&s, "hello", r#"{"key":"abctest"}"#).await;
    invoke(&s, "hello", "{}").await;
    let body = logs(
        &s,
        json!({"FunctionName": "hello", "SearchContext": {"Keyword": id}}),
    )
    .await;
    assert_eq!(ids(&body), std::slice::from_ref(&id));
    let all = logs(
        &s,
        json!({"FunctionName": "hello", "SearchContext": {"Keyword": ""}}),
    )
    .await;
    assert_eq!(ids(&all).len(), 2, "an empty keyword selects nothing out");
    let bad = logs(
        &s,
        json!({"FunctionName": "hello", "SearchContext": {"Keyword": 1}}),
    )
    .await;
    assert_eq!(
        bad["Response"]["Error"]["Code"], "InvalidParameter",
        "{bad}"
    );
}
