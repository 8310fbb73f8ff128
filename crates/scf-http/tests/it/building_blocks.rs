//! A gateway of one's own from the public building blocks alone: the body read within a
//! limit, the event of a route matched some other way, the invocation it asks for, the
//! outcome as a response, and the request-id headers.

use std::net::IpAddr;

use http::Request;
use http_body_util::Full;
use scf_http::apigw::{self, EventSource, Route, RouteMatch};
use scf_http::body::{self, BodyError};
use scf_http::{FUNCTION_REQUEST_ID_HEADER, REQUEST_ID_HEADER};
use serde_json::Value;

use crate::common::{body_bytes, invoker};

/// What a hand-made gateway does with one request for `route`, matched by its own router.
async fn my_gateway(
    route: &Route,
    request: Request<Full<bytes::Bytes>>,
) -> http::Response<Full<bytes::Bytes>> {
    let (parts, incoming) = request.into_parts();
    let request_id = body::new_request_id();
    let body = match body::read_limited(incoming, 64).await {
        Ok(b) => b,
        Err(e) => {
            let mut r = apigw::GatewayError::BodyTooLarge { limit: 64 }.to_response();
            assert_eq!(e, BodyError::TooLarge { limit: 64 });
            body::set_id_header(&mut r, REQUEST_ID_HEADER, &request_id);
            return r;
        }
    };
    let matched = RouteMatch::new(route, parts.uri.path()).with_path_parameter("id", "7");
    let source_ip: IpAddr = "198.51.100.7".parse().unwrap();
    let event = apigw::build_event_json(
        &matched,
        EventSource::new(&parts, &body, source_ip, &request_id, "service-mine"),
    );
    let invoker = invoker();
    let outcome = invoker.invoke(apigw::invoke_request(route, event)).await;
    let mut response = apigw::invoke_outcome_response(outcome.as_ref());
    body::set_id_header(&mut response, REQUEST_ID_HEADER, &request_id);
    response
}

fn post(path: &str, body: &'static str) -> Request<Full<bytes::Bytes>> {
    Request::post(path)
        .header("host", "example.com")
        .body(Full::new(bytes::Bytes::from_static(body.as_bytes())))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_built_for_a_route_matched_elsewhere_with_its_stage() {
    let route = Route::new("POST", "/orders/{id}", "web")
        .unwrap()
        .with_stage("test")
        .unwrap();
    let response = my_gateway(&route, post("/orders/7", "hi")).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key(FUNCTION_REQUEST_ID_HEADER));
    let request_id = response.headers()[REQUEST_ID_HEADER]
        .to_str()
        .unwrap()
        .to_string();
    let echoed: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    // `web` echoes parts of the event it got.
    assert_eq!(echoed["path"], "/orders/7");
    assert_eq!(echoed["pathParameters"]["id"], "7");
    assert_eq!(echoed["body"], "hi");
    assert_eq!(echoed["requestId"], request_id.as_str());
    assert_eq!(echoed["sourceIp"], "198.51.100.7");
}

#[test]
fn the_event_of_a_matched_route_carries_its_stage_and_method() {
    let route = Route::new("ANY", "/orders/{id}", "web")
        .unwrap()
        .with_stage("test")
        .unwrap();
    let (parts, ()) = Request::delete("/orders/9?x=1")
        .header("host", "example.com")
        .body(())
        .unwrap()
        .into_parts();
    let matched = RouteMatch::new(&route, "/orders/9").with_path_parameter("id", "9");
    let event = apigw::build_event_json(
        &matched,
        EventSource::new(&parts, b"", "::1".parse().unwrap(), "rid-1", "service-mine"),
    );
    assert_eq!(event["requestContext"]["stage"], "test");
    assert_eq!(event["requestContext"]["httpMethod"], "ANY");
    assert_eq!(event["requestContext"]["path"], "/orders/{id}");
    assert_eq!(event["requestContext"]["serviceId"], "service-mine");
    assert_eq!(event["stageVariables"]["stage"], "test");
    assert_eq!(event["httpMethod"], "DELETE");
    assert_eq!(event["pathParameters"]["id"], "9");
    assert_eq!(event["headers"]["x-api-requestid"], "rid-1");
    assert_eq!(event["queryString"]["x"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_failure_is_200_with_the_scf_error_and_a_refusal_is_502() {
    let fails = Route::new("POST", "/f", "fails").unwrap();
    let response = my_gateway(&fails, post("/f", "{}")).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key(FUNCTION_REQUEST_ID_HEADER));
    let error: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(error["errorMessage"], "user code exception caught");

    let ghost = Route::new("POST", "/g", "ghost").unwrap();
    let response = my_gateway(&ghost, post("/g", "{}")).await;
    assert_eq!(response.status(), 502);
    assert!(!response.headers().contains_key(FUNCTION_REQUEST_ID_HEADER));
    assert!(response.headers().contains_key(REQUEST_ID_HEADER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_before_the_function_runs() {
    let route = Route::new("POST", "/orders/{id}", "web").unwrap();
    let big = "x".repeat(65).leak();
    let response = my_gateway(&route, post("/orders/7", big)).await;
    assert_eq!(response.status(), 413);
    assert!(!response.headers().contains_key(FUNCTION_REQUEST_ID_HEADER));
}

#[test]
fn a_typed_integration_response_becomes_an_http_response() {
    let typed =
        scf_event::ApiGatewayResponse::new(200, "aGk=").with_header("Content-Type", "text/plain");
    let mut typed = typed;
    typed.is_base64_encoded = true;
    let response = apigw::http_response(&typed).unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain");
    let body = futures_body(response);
    assert_eq!(body, b"hi");
}

fn futures_body(response: http::Response<Full<bytes::Bytes>>) -> Vec<u8> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(body_bytes(response))
}
