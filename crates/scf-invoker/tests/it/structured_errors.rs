//! A failed invocation's `InvokeResponse::error` carries the failure as fields (status,
//! error type, message, trace), the same failure the SCF JSON in `ErrMsg` is made from;
//! a success carries none.

use crate::common;

use std::time::Duration;

use common::{echo, function, function_with_timeout_1s, invoker, MODES};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError, FunctionStatus};
use scf_invoker::InvokeRequest;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("user name {0} already exists")]
struct UserNameAlreadyExistsException(String);

#[derive(Debug, thiserror::Error)]
#[error("the database refused the insert")]
struct InsertFailed(#[source] std::io::Error);

async fn register(event: Value, _ctx: Context) -> Result<Value, UserNameAlreadyExistsException> {
    Err(UserNameAlreadyExistsException(
        event["username"].as_str().unwrap_or("").to_owned(),
    ))
}

async fn insert(_event: Value, _ctx: Context) -> Result<Value, InsertFailed> {
    Err(InsertFailed(std::io::Error::other("disk full")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_error_has_its_type_message_and_status_as_fields() {
    for mode in MODES {
        let invoker = invoker(mode);
        invoker
            .add_function(function("register"), handler_fn(register))
            .unwrap();
        let response = invoker
            .invoke(InvokeRequest::new("register", r#"{"username":"alice"}"#))
            .await
            .unwrap();
        let error = response.error.as_ref().expect("a failure has its error");
        assert_eq!(error.status(), FunctionStatus::UserCodeException);
        assert_eq!(error.status(), response.status);
        assert_eq!(error.error_type(), "UserNameAlreadyExistsException");
        assert_eq!(error.message(), "user name alice already exists");
        assert_eq!(error.stack_trace(), None);
        // The SCF JSON beside it is made from the same failure.
        let json: Value = serde_json::from_str(&response.err_msg).unwrap();
        assert_eq!(
            json,
            serde_json::to_value(error.to_scf_json(&response.request_id)).unwrap()
        );
        assert_eq!(
            json["stackTrace"],
            "UserNameAlreadyExistsException: user name alice already exists"
        );
        assert_eq!(response.ret_msg, response.err_msg);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_with_a_source_keeps_the_chain_as_its_trace() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("insert"), handler_fn(insert))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("insert", "{}"))
        .await
        .unwrap();
    let error = response.error.unwrap();
    assert_eq!(error.error_type(), "InsertFailed");
    assert_eq!(error.message(), "the database refused the insert");
    let trace = error.stack_trace().expect("the source chain is the trace");
    assert!(trace.contains("disk full"), "{trace}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_an_error_of_type_panic_with_its_message() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("boom"),
            handler_fn(|_: Value, _: Context| async move {
                if true {
                    panic!("the handler fell over");
                }
                Ok::<Value, FunctionError>(Value::Null)
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("boom", "{}"))
        .await
        .unwrap();
    let error = response.error.unwrap();
    assert_eq!(error.status(), FunctionStatus::UserCodeException);
    assert_eq!(error.error_type(), "panic");
    assert_eq!(error.message(), "the handler fell over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_a_platform_error_with_status_433_and_time_out() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function_with_timeout_1s("slow"),
            handler_fn(|_: Value, _: Context| async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<Value, FunctionError>(Value::Null)
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("slow", "{}"))
        .await
        .unwrap();
    let error = response.error.unwrap();
    assert_eq!(error.status(), FunctionStatus::TimeLimitReached);
    assert_eq!(error.status().code(), 433);
    assert_eq!(error.message(), "time out");
    assert_eq!(error.error_type(), FunctionStatus::TimeLimitReached.name());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_does_not_fit_the_handler_is_an_invalid_event_error() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Typed {
        key: u32,
    }
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("typed"),
            handler_fn(|_: Typed, _: Context| async move { Ok::<_, FunctionError>(1) }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("typed", r#"{"key":"x"}"#))
        .await
        .unwrap();
    let error = response.error.unwrap();
    assert_eq!(error.error_type(), "InvalidEvent");
    assert!(error.message().contains("key"), "{}", error.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_has_no_error() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("echo", r#"{"a":1}"#))
        .await
        .unwrap();
    assert!(response.is_success());
    assert_eq!(response.error, None);
    assert!(response.err_msg.is_empty());
}
