//! The API envelope and the protocol-level errors: action, version, method, content
//! type, body size and body shape.

use crate::common;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use common::{api_error, api_request, assert_json, body_bytes, call, full, send_api, service};
use hyper::body::{Body, Frame, SizeHint};
use scf_http::{ScfService, Serves};
use serde_json::{json, Value};

async fn raw(service: &ScfService, request: http::Request<Vec<u8>>) -> Value {
    send_api(service, request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_action_is_invalid_action() {
    let body = call(
        &service(),
        "DeleteFunction",
        json!({"FunctionName": "hello"}),
    )
    .await;
    assert_json(
        &body,
        &api_error(
            "InvalidAction",
            "The action `DeleteFunction` does not exist. Supported: Invoke, InvokeFunction, GetFunctionLogs, GetRequestStatus, GetAsyncEventStatus, ListAsyncEvents, TerminateAsyncEvent, ListFunctions, GetFunction.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_version_is_no_such_version() {
    let mut request = api_request("Invoke", br#"{"FunctionName":"hello"}"#);
    request
        .headers_mut()
        .insert("X-TC-Version", "2017-03-12".parse().unwrap());
    assert_json(
        &raw(&service(), request).await,
        &api_error(
            "NoSuchVersion",
            "The API version `2017-03-12` does not exist for service scf; use `2018-04-16`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_version_is_missing_parameter() {
    let mut request = api_request("Invoke", br#"{"FunctionName":"hello"}"#);
    request.headers_mut().remove("X-TC-Version");
    assert_json(
        &raw(&service(), request).await,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `X-TC-Version`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_only_listener_needs_an_action() {
    let mut request = api_request("Invoke", br#"{}"#);
    request.headers_mut().remove("X-TC-Action");
    let response = service()
        .call(full(request), "127.0.0.1:1".parse().unwrap(), Serves::Api)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_json(
        &body,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `X-TC-Action`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_is_unsupported_protocol() {
    let mut request = api_request("Invoke", b"");
    *request.method_mut() = http::Method::GET;
    assert_json(
        &raw(&service(), request).await,
        &api_error(
            "UnsupportedProtocol",
            "The HTTP method GET is not supported: this endpoint takes POST with Content-Type application/json, signed with TC3-HMAC-SHA256.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_body_is_unsupported_protocol() {
    let mut request = api_request("Invoke", b"FunctionName=hello");
    request.headers_mut().insert(
        "Content-Type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    assert_json(
        &raw(&service(), request).await,
        &api_error(
            "UnsupportedProtocol",
            "The Content-Type \"application/x-www-form-urlencoded\" is not supported: this endpoint takes application/json (signature v3, TC3-HMAC-SHA256).",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_with_a_charset_is_accepted() {
    let mut request = api_request("Invoke", br#"{"FunctionName":"hello"}"#);
    request.headers_mut().insert(
        "Content-Type",
        "application/json; charset=utf-8".parse().unwrap(),
    );
    let body = raw(&service(), request).await;
    assert_eq!(body["Response"]["Result"]["RetMsg"], r#"{"hello":{}}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_json_object_is_invalid_parameter() {
    let s = service();
    assert_json(
        &raw(&s, api_request("Invoke", b"{nope")).await,
        &api_error(
            "InvalidParameter",
            "The request body is not valid JSON: key must be a string at line 1 column 2.",
        ),
    );
    assert_json(
        &raw(&s, api_request("Invoke", b"[1]")).await,
        &api_error(
            "InvalidParameter",
            "The request body must be a JSON object of the action's parameters, got an array.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_has_no_parameters() {
    assert_json(
        &raw(&service(), api_request("Invoke", b"")).await,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `FunctionName`.",
        ),
    );
}

const TOO_LARGE: &str = "The request body is larger than 10485760 bytes, the limit of a POST request signed with TC3-HMAC-SHA256.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_10_mb_is_request_too_large() {
    let body = vec![b' '; 10 * 1024 * 1024 + 1];
    assert_json(
        &raw(&service(), api_request("Invoke", &body)).await,
        &api_error("InvalidParameter.RequestTooLarge", TOO_LARGE),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_10_mb_is_refused_before_reading() {
    let mut request = api_request("Invoke", b"{}");
    request.headers_mut().insert(
        "Content-Length",
        (11 * 1024 * 1024).to_string().parse().unwrap(),
    );
    assert_json(
        &raw(&service(), request).await,
        &api_error("InvalidParameter.RequestTooLarge", TOO_LARGE),
    );
}

/// A body that never ends, counting what was read of it.
struct Endless(Arc<AtomicU64>);

impl Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.fetch_add(1 << 20, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; 1 << 20])))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_is_refused_after_10_mb() {
    let read = Arc::new(AtomicU64::new(0));
    let (parts, _) = api_request("Invoke", b"").into_parts();
    let request = http::Request::from_parts(parts, Endless(read.clone()));
    let response = service().oneshot(request).await;
    let body: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_json(
        &body,
        &api_error("InvalidParameter.RequestTooLarge", TOO_LARGE),
    );
    assert!(read.load(Ordering::SeqCst) <= 11 << 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_has_a_fresh_request_id() {
    let s = service();
    let a = call(&s, "Invoke", json!({"FunctionName": "hello"})).await;
    let b = call(&s, "Invoke", json!({"FunctionName": "nope"})).await;
    assert_ne!(a["Response"]["RequestId"], b["Response"]["RequestId"]);
}
