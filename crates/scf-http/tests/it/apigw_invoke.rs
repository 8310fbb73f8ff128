//! The API Gateway trigger end to end without a socket: a request runs the route's
//! function and its integration response (or failure) becomes the HTTP response.

use crate::common;

use common::{body_bytes, full, invoker, service_with};
use http::Request;
use http_body_util::BodyExt;
use scf_http::apigw::Route;
use scf_http::{Limits, ScfService, ServerConfig, Serves};
use serde_json::{json, Value};

fn gateway() -> ScfService {
    gateway_with(|c| c)
}

fn gateway_with(f: impl FnOnce(ServerConfig) -> ServerConfig) -> ScfService {
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap())
        .with_route(Route::new("ANY", "/web/{item}", "web").unwrap())
        .with_route(Route::new("GET", "/plain", "not-web").unwrap())
        .with_route(Route::new("POST", "/fails", "fails").unwrap())
        .with_route(Route::new("GET", "/slow", "slow").unwrap())
        .with_route(
            Route::new("GET", "/slow-web", "slow")
                .unwrap()
                .with_web(true),
        )
        .with_route(Route::new("GET", "/ghost", "ghost").unwrap())
        .with_route(Route::new("POST", "/", "web").unwrap());
    service_with(f(config), invoker())
}

async fn send(s: &ScfService, request: Request<Vec<u8>>) -> (http::response::Parts, Vec<u8>) {
    let response = s
        .call(
            full(request),
            "10.1.2.3:4567".parse().unwrap(),
            Serves::Both,
        )
        .await;
    let (parts, body) = response.into_parts();
    (parts, body.collect().await.unwrap().to_bytes().to_vec())
}

fn json_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_integration_response_becomes_the_http_response() {
    let request = Request::post("/web/42?a=1&a=2&flag")
        .body(b"hello".to_vec())
        .unwrap();
    let (parts, body) = send(&gateway(), request).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["content-type"], "application/json");
    let cookies: Vec<_> = parts.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    let request_id = parts.headers["x-api-requestid"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(parts.headers["x-scf-requestid"].to_str().unwrap()).is_ok());
    assert_eq!(
        json_body(&body),
        json!({
            "path": "/web/42",
            "pathParameters": {"item": "42"},
            "queryString": {"a": ["1", "2"], "flag": true},
            "body": "hello",
            "requestId": request_id,
            "sourceIp": "10.1.2.3",
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_value_that_is_not_an_integration_response_is_403() {
    let (parts, body) = send(&gateway(), Request::get("/plain").body(Vec::new()).unwrap()).await;
    assert_eq!(parts.status, 403);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"errno":403,"error":"Invalid scf response format. please check your scf response format."}"#
    );
    assert!(parts.headers.contains_key("x-api-requestid"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_is_200_with_the_scf_error_json() {
    let (parts, body) = send(
        &gateway(),
        Request::post("/fails").body(b"{}".to_vec()).unwrap(),
    )
    .await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["content-type"], "application/json");
    let function_id = parts.headers["x-scf-requestid"].to_str().unwrap();
    assert_eq!(
        json_body(&body),
        json!({
            "errorCode": -1,
            "errorMessage": "user code exception caught",
            "requestId": function_id,
            "stackTrace": "UserNameAlreadyExistsException: user tom already exists",
            "statusCode": 430,
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_200_with_the_scf_timeout_error() {
    let (parts, body) = send(&gateway(), Request::get("/slow").body(Vec::new()).unwrap()).await;
    assert_eq!(parts.status, 200);
    let function_id = parts.headers["x-scf-requestid"].to_str().unwrap();
    assert_eq!(
        json_body(&body),
        json!({"errorCode": -1, "errorMessage": "time out", "requestId": function_id, "stackTrace": "", "statusCode": 433})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_function_route_answers_a_timeout_with_status_433() {
    let (parts, body) = send(
        &gateway(),
        Request::get("/slow-web").body(Vec::new()).unwrap(),
    )
    .await;
    assert_eq!(parts.status, 433);
    assert_eq!(json_body(&body)["errorMessage"], "time out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_route_is_404_naming_method_and_path() {
    let (parts, body) = send(
        &gateway(),
        Request::delete("/nope/x").body(Vec::new()).unwrap(),
    )
    .await;
    assert_eq!(parts.status, 404);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(
        json_body(&body),
        json!({"errno": 404, "error": "There is no api match for DELETE /nope/x", "method": "DELETE", "path": "/nope/x"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_to_a_missing_function_is_502() {
    let (parts, body) = send(&gateway(), Request::get("/ghost").body(Vec::new()).unwrap()).await;
    assert_eq!(parts.status, 502);
    assert_eq!(
        json_body(&body),
        json!({"errno": 502, "error": "function \"ghost\" not found in namespace \"default\""})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    let s = gateway_with(|c| {
        let mut limits = Limits::default();
        limits.max_gateway_body_bytes = 16;
        c.with_limits(limits)
    });
    let (parts, body) = send(&s, Request::post("/web/1").body(vec![b'x'; 17]).unwrap()).await;
    assert_eq!(parts.status, 413);
    assert_eq!(
        json_body(&body),
        json!({"errno": 413, "error": "Request body is larger than 16 bytes"})
    );
    let (parts, _) = send(&s, Request::post("/web/1").body(vec![b'x'; 16]).unwrap()).await;
    assert_eq!(parts.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_body_reaches_the_function_as_base64() {
    let (_, body) = send(
        &gateway(),
        Request::put("/web/bin").body(vec![0xff, 0xfe]).unwrap(),
    )
    .await;
    assert_eq!(json_body(&body)["body"], "//4=");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_gateway_share_a_port() {
    let s = gateway();
    // POST / without X-TC-Action is a gateway request (the route `POST /`)...
    let (parts, body) = send(&s, Request::post("/").body(b"x".to_vec()).unwrap()).await;
    assert_eq!(parts.status, 200);
    assert_eq!(json_body(&body)["path"], "/");
    // ...and with it, a cloud API call (from loopback: without credentials the API
    // answers no other peer).
    let api = common::api_request("Invoke", br#"{"FunctionName":"hello"}"#);
    let response = s
        .call(full(api), "127.0.0.1:4567".parse().unwrap(), Serves::Both)
        .await;
    assert_eq!(response.status(), 200);
    let body = body_bytes(response).await;
    assert_eq!(
        json_body(&body)["Response"]["Result"]["RetMsg"],
        r#"{"hello":{}}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_only_listener_never_answers_the_api() {
    let api = common::api_request("Invoke", br#"{"FunctionName":"hello"}"#);
    let response = gateway()
        .call(full(api), "127.0.0.1:1".parse().unwrap(), Serves::Gateway)
        .await;
    // The route `POST /` takes it, as any gateway request.
    assert_eq!(response.status(), 200);
    let body = json_body(&body_bytes(response).await);
    assert!(body.get("Response").is_none(), "{body}");
}
