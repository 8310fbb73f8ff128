//! The two conversions: an API Gateway event as an `http::Request`, an `http::Response`
//! as an integration response.

use crate::common;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use scf_event::{ApiGatewayRequest, HeaderValue};
use scf_http_handler::{from_response, into_request, is_text, EventError, GatewayContext};

fn request(fixture: &str) -> http::Request<scf_http_handler::Body> {
    let event: ApiGatewayRequest = serde_json::from_value(common::fixture(fixture)).unwrap();
    into_request(event).unwrap()
}

async fn body_of(request: http::Request<scf_http_handler::Body>) -> Bytes {
    request.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test]
async fn an_event_becomes_a_request_with_its_method_path_query_and_headers() {
    let request = request("apigw_get_hello.json");
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri().path(), "/axum/hello/scf");
    // Sorted keys, one pair per value of a repeated key, a flag as a bare key, and every
    // component percent-encoded.
    assert_eq!(
        request.uri().query(),
        Some("bob=alice&bob=carol&debug&foo=bar&q=a%20b%26c")
    );
    assert_eq!(request.headers()["accept-language"], "en-US,en,cn");
    assert_eq!(
        request.headers()["x-api-requestid"],
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    );
    let gateway = request.extensions().get::<GatewayContext>().unwrap();
    assert_eq!(gateway.request_context.stage, "release");
    assert_eq!(gateway.request_context.path, "/axum/hello/{name}");
    assert_eq!(gateway.path_parameters["name"], "scf");
    assert_eq!(
        gateway.stage_variables.as_ref().unwrap()["stage"],
        "release"
    );
    assert!(body_of(request).await.is_empty());
}

#[tokio::test]
async fn a_base64_body_is_decoded() {
    let request = request("apigw_post_echo_base64.json");
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(&body_of(request).await[..], br#"{"key":"abctest"}"#);
}

#[test]
fn a_bad_method_header_or_body_is_an_error_naming_the_field() {
    let mut event: ApiGatewayRequest = serde_json::from_value(common::event("GE T", "/x")).unwrap();
    assert_eq!(
        into_request(event.clone()).unwrap_err(),
        EventError::Method("GE T".into())
    );
    event.http_method = "GET".into();
    event.headers.insert("bad header", "v".into());
    let err = into_request(event.clone()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("headers.\"bad header\" is not a valid HTTP header"),
        "{err}"
    );
    event.headers.remove("bad header");
    event.body = Some("not base64!".into());
    event.is_base64_encoded = Some(true);
    let err = into_request(event).unwrap_err();
    assert!(matches!(err, EventError::Body(_)), "{err}");
}

fn response(content_type: Option<&str>, body: &'static [u8]) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(201);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(Bytes::from_static(body)).unwrap()
}

#[test]
fn a_text_response_keeps_its_body_as_text() {
    for ct in [
        Some("text/html; charset=utf-8"),
        Some("application/json"),
        Some("application/problem+json"),
        Some("application/xml"),
        None,
    ] {
        let out = from_response(response(ct, b"<p>hi</p>"));
        assert_eq!(out.status_code, 201);
        assert!(!out.is_base64_encoded, "{ct:?}");
        assert_eq!(out.body, "<p>hi</p>");
    }
}

#[test]
fn a_binary_response_is_base64_with_is_base64_encoded() {
    let out = from_response(response(Some("image/png"), common::PIXEL));
    assert!(out.is_base64_encoded);
    assert_eq!(out.body, "iVBORw0KGgr/AA==");
    assert_eq!(out.body_bytes().unwrap(), common::PIXEL);
    // Text that is not UTF-8 cannot be sent as text either.
    let out = from_response(response(Some("text/plain"), b"\xff\xfe"));
    assert!(out.is_base64_encoded);
    // A compressed body is binary whatever its type.
    let mut gz = response(Some("application/json"), b"{}");
    gz.headers_mut()
        .insert("content-encoding", http::HeaderValue::from_static("gzip"));
    assert!(from_response(gz).is_base64_encoded);
    // An empty body is "" either way.
    let out = from_response(response(Some("image/png"), b""));
    assert!(!out.is_base64_encoded && out.body.is_empty());
}

#[test]
fn a_header_sent_twice_is_an_array() {
    let res = http::Response::builder()
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .header("content-type", "text/plain")
        .body(Bytes::new())
        .unwrap();
    let out = from_response(res);
    assert_eq!(
        out.headers.get("Set-Cookie"),
        Some(&HeaderValue::Multi(vec!["a=1".into(), "b=2".into()]))
    );
    assert_eq!(
        out.headers.get("content-type"),
        Some(&HeaderValue::Single("text/plain".into()))
    );
    assert_eq!(out.status_code, 200);
}

#[test]
fn text_types_are_the_documented_list() {
    assert!(is_text(Some("text/csv"), None));
    assert!(is_text(Some("application/javascript"), Some("identity")));
    assert!(is_text(Some("application/x-www-form-urlencoded"), None));
    assert!(!is_text(Some("application/octet-stream"), None));
    assert!(!is_text(Some("application/pdf"), None));
    assert!(!is_text(Some("text/plain"), Some("br")));
    assert!(!is_text(Some("garbage"), None));
}
