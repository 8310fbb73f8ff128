//! Requests refused before the function runs: each bad input gets its SCF status and a
//! message naming what was wrong, and nothing is recorded or billed.

use crate::common;

use common::{echo, function, invoker};
use scf_handler::{handler_fn, FunctionStatus};
use scf_invoker::{InvokeError, InvokeRequest, MAX_ASYNC_EVENT_BYTES, MAX_SYNC_EVENT_BYTES};
use scf_store::LogQuery;

fn big_event(bytes: usize) -> String {
    // {"k":"xxxx…"} of exactly `bytes` bytes.
    format!(r#"{{"k":"{}"}}"#, "x".repeat(bytes - 8))
}

async fn nothing_recorded(invoker: &scf_invoker::Invoker) {
    let page = invoker.get_logs(LogQuery::default()).await.unwrap();
    assert_eq!(page.total_count, 0, "refused requests leave no record");
}

#[tokio::test]
async fn a_sync_event_over_6_mb_is_refused_with_406() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let at_limit = big_event(MAX_SYNC_EVENT_BYTES);
    assert_eq!(at_limit.len(), MAX_SYNC_EVENT_BYTES);
    let ok = invoker.invoke(InvokeRequest::new("echo", at_limit)).await;
    assert!(ok.unwrap().is_success(), "exactly 6 MB is accepted");

    let invoker = common::invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let err = invoker
        .invoke(InvokeRequest::new(
            "echo",
            big_event(MAX_SYNC_EVENT_BYTES + 1),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status(), FunctionStatus::RequestTooLarge);
    assert!(
        matches!(err, InvokeError::RequestTooLarge { size, limit, .. } if size == MAX_SYNC_EVENT_BYTES + 1 && limit == MAX_SYNC_EVENT_BYTES)
    );
    assert_eq!(
        err.to_string(),
        "the event is 6291457 bytes: synchronous (RequestResponse) events may be at most 6291456 bytes"
    );
    nothing_recorded(&invoker).await;
}

#[tokio::test]
async fn an_async_event_over_128_kb_is_refused_with_406() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let err = invoker
        .invoke(InvokeRequest::event(
            "echo",
            big_event(MAX_ASYNC_EVENT_BYTES + 1),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status().code(), 406);
    assert!(err
        .to_string()
        .contains("asynchronous (Event) events may be at most 131072 bytes"));
    let (total, _) = invoker.list_async(Default::default()).await.unwrap();
    assert_eq!(total, 0, "a refused async event is not queued");
    let accepted = invoker
        .invoke(InvokeRequest::event(
            "echo",
            big_event(MAX_ASYNC_EVENT_BYTES),
        ))
        .await;
    assert!(accepted.is_ok(), "exactly 128 KB is accepted");
}

#[tokio::test]
async fn an_event_given_as_a_value_is_sized_by_its_json_text() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let value: serde_json::Value =
        serde_json::from_str(&big_event(MAX_ASYNC_EVENT_BYTES + 1)).unwrap();
    let err = invoker
        .invoke(InvokeRequest::event("echo", value))
        .await
        .unwrap_err();
    assert!(
        matches!(err, InvokeError::RequestTooLarge { size, .. } if size == MAX_ASYNC_EVENT_BYTES + 1)
    );
}

#[tokio::test]
async fn an_event_that_is_not_json_is_refused_with_400() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    for bad in ["{\"key\": ", "not json", "", "{\"a\":1} trailing"] {
        let err = invoker
            .invoke(InvokeRequest::new("echo", bad))
            .await
            .unwrap_err();
        assert_eq!(
            err.status(),
            FunctionStatus::InvalidParameterValue,
            "{bad:?}"
        );
        assert!(err.to_string().starts_with("the event is not valid JSON: "));
        assert!(err.to_string().contains("line 1 column"), "{err}");
        let err = invoker
            .invoke(InvokeRequest::event("echo", bad))
            .await
            .unwrap_err();
        assert_eq!(err.status().code(), 400);
    }
    let err = invoker
        .invoke(InvokeRequest::new("echo", vec![0xff, 0xfe]))
        .await
        .unwrap_err();
    assert_eq!(
        err.status().code(),
        400,
        "bytes that are not UTF-8 are not JSON"
    );
    nothing_recorded(&invoker).await;
}

#[tokio::test]
async fn an_unknown_function_is_refused_with_435() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let err = invoker
        .invoke(InvokeRequest::new("nope", "{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), FunctionStatus::FunctionNotFound);
    assert_eq!(
        err.to_string(),
        r#"function "nope" not found in namespace "default""#
    );
    let err = invoker
        .invoke(InvokeRequest::new("echo", "{}").with_namespace("other"))
        .await
        .unwrap_err();
    assert_eq!(err.status().code(), 435, "functions are per namespace");
    let err = invoker
        .invoke(InvokeRequest::event("nope", "{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status().code(), 435);
    nothing_recorded(&invoker).await;
}

#[tokio::test]
async fn an_unknown_qualifier_is_refused_with_442() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let err = invoker
        .invoke(InvokeRequest::new("echo", "{}").with_qualifier("7"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), FunctionStatus::QualifierNotFound);
    assert_eq!(
        err.to_string(),
        r#"function "echo" in namespace "default" has no version "7""#
    );
    nothing_recorded(&invoker).await;
}

#[tokio::test]
async fn the_default_alias_resolves_to_latest() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("echo", "{}").with_qualifier("$DEFAULT"))
        .await
        .unwrap();
    assert!(response.is_success());
}

#[tokio::test]
async fn a_missing_event_is_an_empty_object() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let mut request = InvokeRequest::new("echo", "{}");
    request.event = Default::default();
    let response = invoker.invoke(request).await.unwrap();
    assert_eq!(response.ret_msg, "{}");
}
