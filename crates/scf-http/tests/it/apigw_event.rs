//! The request → SCF API Gateway event mapping (scf-spec 2.1), checked against fixture
//! files of the exact JSON.

use std::net::IpAddr;
use std::path::Path;

use http::Request;
use proptest::prelude::*;
use scf_event::{ApiGatewayRequest, QueryValue};
use scf_http::apigw::{build_event, build_event_json, parse_query, EventSource, Route, Routes};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apigw")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn event_for(
    routes: &Routes,
    request: Request<Vec<u8>>,
    ip: &str,
    request_id: &str,
    service_id: &str,
) -> Value {
    let (parts, body) = request.into_parts();
    let matched = routes
        .find(&parts.method, parts.uri.path())
        .expect("a route");
    let ip: IpAddr = ip.parse().unwrap();
    let source = EventSource::new(&parts, &body, ip, request_id, service_id);
    let typed = serde_json::to_value(build_event(&matched, source)).unwrap();
    let json = build_event_json(&matched, source);
    assert_eq!(typed, json, "the typed event and the JSON event agree");
    json
}

#[test]
fn the_documented_sample_request_gives_the_documented_event() {
    let routes = Routes::new().with(
        Route::new("ANY", "/test/{path}", "hello")
            .unwrap()
            .with_query_parameter("foo")
            .with_header_parameter("Refer"),
    );
    let request = Request::post("/test/value?foo=bar&bob=alice")
        .header("Accept-Language", "en-US,en,cn")
        .header("Accept", "text/html,application/xml,application/json")
        .header(
            "Host",
            "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com",
        )
        .header("User-Agent", "User Agent String")
        .header("Content-Type", "application/json")
        .header("Refer", "10.0.2.14")
        .body(br#"{"test":"body"}"#.to_vec())
        .unwrap();
    let event = event_for(
        &routes,
        request,
        "10.0.2.14",
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "service-f94sy04v",
    );
    assert_eq!(event, fixture("post_test_value_event.json"));
}

#[test]
fn query_shapes_repeated_headers_and_stage_variables() {
    let routes = Routes::new().with(
        Route::new("GET", "/items", "items")
            .unwrap()
            .with_stage("test")
            .unwrap()
            .with_stage_variable("env", "staging"),
    );
    let request = Request::get("/items?a=b&a=c&x=y+z&i&name=%E4%B8%AD")
        .header("Cookie", "a=1")
        .header("Cookie", "b=2")
        .header("X-Multi", "one")
        .header("X-Multi", "two")
        .body(Vec::new())
        .unwrap();
    let event = event_for(
        &routes,
        request,
        "127.0.0.1",
        "00000000-0000-0000-0000-000000000001",
        "service-local",
    );
    assert_eq!(event, fixture("get_query_shapes_event.json"));
}

#[test]
fn a_body_that_is_not_utf8_is_base64() {
    let routes = Routes::new().with(Route::new("PUT", "/upload", "up").unwrap());
    let request = Request::put("/upload")
        .header("content-type", "application/octet-stream")
        .body(vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10])
        .unwrap();
    let event = event_for(
        &routes,
        request,
        "::1",
        "00000000-0000-0000-0000-000000000002",
        "service-local",
    );
    assert_eq!(event, fixture("binary_body_event.json"));
    let typed: ApiGatewayRequest = serde_json::from_value(event).unwrap();
    assert_eq!(
        typed.body_bytes().unwrap(),
        vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]
    );
}

#[test]
fn an_http2_request_gets_its_host_from_the_authority() {
    let routes = Routes::new().with(Route::new("GET", "/", "root").unwrap());
    let request = Request::get("http://example.test:8080/")
        .body(Vec::new())
        .unwrap();
    let event = event_for(&routes, request, "127.0.0.1", "id", "service-local");
    assert_eq!(event["headers"]["host"], "example.test:8080");
    assert!(event.get("body").is_none());
}

#[test]
fn the_event_reads_back_as_the_typed_request() {
    let routes = Routes::new().with(Route::new("ANY", "/test/{path}", "hello").unwrap());
    let request = Request::post("/test/value?a=1&a=2&flag")
        .header("Content-Type", "application/json")
        .body(b"{}".to_vec())
        .unwrap();
    let event = event_for(&routes, request, "10.0.0.1", "rid", "service-local");
    let typed: ApiGatewayRequest = serde_json::from_value(event.clone()).unwrap();
    assert_eq!(typed.header("Content-Type"), Some("application/json"));
    assert_eq!(typed.query("a").unwrap().values(), vec!["1", "2"]);
    assert_eq!(typed.query("flag"), Some(&QueryValue::Flag(true)));
    assert_eq!(typed.request_context.source_ip, "10.0.0.1");
    assert_eq!(serde_json::to_value(&typed).unwrap(), event);
}

#[test]
fn parse_query_keeps_empty_values_and_skips_empty_pairs() {
    let q = parse_query("a=&&b&a=1");
    assert_eq!(q["a"], QueryValue::Multi(vec![String::new(), "1".into()]));
    assert_eq!(q["b"], QueryValue::Flag(true));
    assert_eq!(q.len(), 2);
}

proptest! {
    #[test]
    fn parse_query_never_panics_and_keeps_every_key(query in "[a-z=&%+0-9A-F中]{0,64}") {
        let parsed = parse_query(&query);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            let decoded = scf_http_test_decode(key);
            prop_assert!(parsed.contains_key(&decoded), "{key} -> {decoded} missing from {parsed:?}");
        }
    }
}

/// Decodes a key the way `parse_query` must (via the public API: a lone key is a flag).
fn scf_http_test_decode(key: &str) -> String {
    parse_query(key).into_keys().next().unwrap_or_default()
}
