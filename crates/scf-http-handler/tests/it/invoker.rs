//! An axum `Router` as a function embedded in an `Invoker`, invoked with API Gateway
//! events: the return value is the integration response, the router's log lines are in
//! the invocation's log.

use crate::common;

use scf_context::FunctionConfig;
use scf_event::ApiGatewayResponse;
use scf_http_handler::service_handler;
use scf_invoker::{InvokeRequest, Invoker, InvokerConfig, LogType};
use serde_json::{json, Value};

fn invoker() -> Invoker {
    let invoker = Invoker::new(InvokerConfig::default()).unwrap();
    invoker
        .add_function(
            FunctionConfig::new("axum"),
            service_handler(common::router()),
        )
        .unwrap();
    invoker
}

async fn invoke(
    invoker: &Invoker,
    event: Value,
) -> (ApiGatewayResponse, scf_invoker::InvokeResponse) {
    let response = invoker
        .invoke(InvokeRequest::new("axum", event).with_log_type(LogType::Tail))
        .await
        .unwrap();
    assert!(response.is_success(), "{}", response.ret_msg);
    let value = response.return_value.clone().unwrap();
    (ApiGatewayResponse::from_value(&value).unwrap(), response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_is_routed_by_path_and_its_log_line_is_captured() {
    let invoker = invoker();
    let (out, response) = invoke(&invoker, common::fixture("apigw_get_hello.json")).await;
    assert_eq!(out.status_code, 200);
    assert_eq!(out.body, "hello, scf");
    assert!(!out.is_base64_encoded);
    assert!(
        response.log.contains("\t[INFO]\tsaying hello to scf"),
        "{}",
        response.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_with_a_base64_json_body_reaches_the_json_extractor() {
    let invoker = invoker();
    let (out, _) = invoke(&invoker, common::fixture("apigw_post_echo_base64.json")).await;
    assert_eq!(out.status_code, 200);
    let body: Value = serde_json::from_str(&out.body).unwrap();
    assert_eq!(
        body,
        json!({"query": {"n": "1"}, "body": {"key": "abctest"}, "x-custom": "1"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_and_the_gateway_context_are_extensions() {
    let invoker = invoker();
    let mut event = common::event("GET", "/axum/whoami");
    event["pathParameters"] = json!({"name": "n1"});
    let (out, response) = invoke(&invoker, event).await;
    let body: Value = serde_json::from_str(&out.body).unwrap();
    assert_eq!(body["request_id"], response.request_id.as_str());
    assert_eq!(body["function"], "axum");
    assert_eq!(body["stage"], "release");
    assert_eq!(body["source_ip"], "10.0.0.1");
    assert_eq!(body["name"], "n1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_bodies_cookies_and_unknown_routes_come_back_as_the_router_made_them() {
    let invoker = invoker();
    let (png, _) = invoke(&invoker, common::event("GET", "/axum/pixel.png")).await;
    assert!(png.is_base64_encoded);
    assert_eq!(png.body_bytes().unwrap(), common::PIXEL);
    assert_eq!(
        png.headers.get("content-type").unwrap().first(),
        Some("image/png")
    );

    let (cookies, _) = invoke(&invoker, common::event("GET", "/axum/cookies")).await;
    assert_eq!(
        cookies.headers.get("set-cookie").unwrap().values(),
        ["a=1", "b=2"]
    );

    let (missing, _) = invoke(&invoker, common::event("GET", "/nowhere")).await;
    assert_eq!(missing.status_code, 404);
    let (wrong_method, _) = invoke(&invoker, common::event("DELETE", "/axum/echo")).await;
    assert_eq!(wrong_method.status_code, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_is_not_an_api_gateway_event_is_an_invalid_event_error() {
    let invoker = invoker();
    let response = invoker
        .invoke(InvokeRequest::new("axum", r#"{"httpMethod": 3}"#))
        .await
        .unwrap();
    let error = response.error.unwrap();
    assert_eq!(error.status().code(), 430);
    assert_eq!(error.error_type(), "InvalidEvent");
    assert!(
        error.message().contains("httpMethod"),
        "{}",
        error.message()
    );
}
