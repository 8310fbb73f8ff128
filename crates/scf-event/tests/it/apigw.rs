//! API Gateway request quirks and integration response checks.
#![cfg(feature = "apigw")]

use scf_event::{ApiGatewayRequest, ApiGatewayResponse, HeaderValue, InvalidResponse, QueryValue};
use serde_json::json;

fn real_request() -> ApiGatewayRequest {
    serde_json::from_str(include_str!("../fixtures/apigw_request_real.json"))
        .unwrap_or_else(|e| panic!("apigw_request_real.json: {e}"))
}

#[test]
fn documented_sample_parses_with_every_field() {
    let request: ApiGatewayRequest =
        serde_json::from_str(include_str!("../fixtures/apigw_request.json")).unwrap();
    let ctx = &request.request_context;
    assert_eq!(ctx.service_id, "service-f94sy04v");
    assert_eq!(ctx.path, "/test/{path}");
    assert_eq!(ctx.http_method, "POST");
    assert_eq!(
        ctx.request_id.as_deref(),
        Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
    );
    assert_eq!(ctx.identity["secretId"], "abdcdxxxxxxxsdfs");
    assert_eq!(ctx.source_ip, "10.0.2.14");
    assert_eq!(ctx.stage, "release");
    assert_eq!(request.body.as_deref(), Some(r#"{"test":"body"}"#));
    assert_eq!(request.path_parameters["path"], "value");
    assert_eq!(request.query_string_parameters["foo"], "bar");
    assert_eq!(request.header_parameters["Refer"], "10.0.2.14");
    assert_eq!(
        request.stage_variables.as_ref().unwrap()["stage"],
        "release"
    );
    assert_eq!(request.path, "/test/value");
    assert_eq!(request.http_method, "POST");
    assert_eq!(
        request.query("bob"),
        Some(&QueryValue::Single("alice".into()))
    );
    assert_eq!(request.is_base64_encoded, None);
}

#[test]
fn lowercase_headers_are_found_by_their_canonical_names() {
    let request = real_request();
    assert_eq!(request.header("User-Agent"), Some("curl/7.64.1"));
    assert_eq!(request.header("X-Qualifier"), Some("$LATEST"));
    assert_eq!(request.header("Endpoint-Timeout"), Some("15"));
    assert!(request.headers.get_exact("User-Agent").is_none());
}

#[test]
fn query_string_values_may_be_string_array_or_true() {
    let request = real_request();
    assert_eq!(request.query("x"), Some(&QueryValue::Single("y".into())));
    assert_eq!(
        request.query("a"),
        Some(&QueryValue::Multi(vec!["b".into(), "c".into()]))
    );
    assert_eq!(request.query("i"), Some(&QueryValue::Flag(true)));
    assert_eq!(request.query("a").unwrap().values(), ["b", "c"]);
    assert_eq!(request.query("a").unwrap().first(), Some("b"));
    assert!(request.query("i").unwrap().values().is_empty());
    let back = serde_json::to_value(&request.query_string).unwrap();
    assert_eq!(back, json!({"a": ["b", "c"], "x": "y", "i": true}));
}

#[test]
fn absent_optional_fields_stay_absent() {
    let request = real_request();
    assert_eq!(request.request_context.request_id, None);
    assert_eq!(request.stage_variables, None);
    assert_eq!(request.body, None);
    let back = serde_json::to_value(&request).unwrap();
    for key in ["stageVariables", "body", "isBase64Encoded"] {
        assert!(back.get(key).is_none(), "{key} appeared");
    }
    assert!(back["requestContext"].get("requestId").is_none());
    assert!(request.body_bytes().unwrap().is_empty());
}

#[test]
fn unknown_fields_are_ignored() {
    let request: ApiGatewayRequest = serde_json::from_value(json!({
        "requestContext": {"serviceId": "s", "websocketEnable": true, "newField": 1},
        "websocket": {"action": "connecting"},
        "path": "/",
        "httpMethod": "GET"
    }))
    .unwrap();
    assert_eq!(request.request_context.service_id, "s");
}

#[test]
fn request_body_is_decoded_when_base64() {
    let request = ApiGatewayRequest {
        body: Some("aGVsbG8=".into()),
        is_base64_encoded: Some(true),
        ..ApiGatewayRequest::default()
    };
    assert_eq!(request.body_bytes().unwrap(), b"hello");
    let plain = ApiGatewayRequest {
        body: Some("aGVsbG8=".into()),
        ..ApiGatewayRequest::default()
    };
    assert_eq!(plain.body_bytes().unwrap(), b"aGVsbG8=");
}

#[test]
fn response_headers_may_hold_arrays() {
    let response: ApiGatewayResponse =
        serde_json::from_str(include_str!("../fixtures/apigw_response.json")).unwrap();
    assert_eq!(response.status_code, 200);
    assert!(!response.is_base64_encoded);
    assert_eq!(
        response.headers.get("set-cookie"),
        Some(&HeaderValue::Multi(vec![
            "value1".into(),
            "value2".into(),
            "value3".into()
        ]))
    );
    assert_eq!(
        response.headers.get("content-type").unwrap().first(),
        Some("text/html")
    );
}

#[test]
fn response_from_value_accepts_the_documented_shape() {
    let value: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/apigw_response.json")).unwrap();
    assert!(ApiGatewayResponse::is_valid(&value));
    let checked = ApiGatewayResponse::from_value(&value).unwrap();
    let parsed: ApiGatewayResponse = serde_json::from_value(value).unwrap();
    assert_eq!(checked, parsed);
}

#[test]
fn response_from_value_defaults_missing_optional_fields() {
    let response = ApiGatewayResponse::from_value(&json!({"statusCode": 204, "extra": 1})).unwrap();
    assert_eq!(response, ApiGatewayResponse::new(204, ""));
}

fn error_of(value: serde_json::Value) -> (InvalidResponse, String) {
    let err = ApiGatewayResponse::from_value(&value)
        .err()
        .unwrap_or_else(|| panic!("{value} was accepted"));
    let message = err.to_string();
    (err, message)
}

#[test]
fn response_errors_name_the_wrong_field() {
    let cases = [
        (json!("hello"), "scf response must be a JSON object, got a string"),
        (
            json!({"body": "x"}),
            "scf response field `statusCode` is missing; it must be an integer HTTP status (100-599)",
        ),
        (
            json!({"statusCode": "200"}),
            "scf response field `statusCode` must be an integer HTTP status (100-599), got \"200\"",
        ),
        (
            json!({"statusCode": 200.5}),
            "scf response field `statusCode` must be an integer HTTP status (100-599), got 200.5",
        ),
        (
            json!({"statusCode": 99}),
            "scf response field `statusCode` must be an integer HTTP status (100-599), got 99",
        ),
        (
            json!({"statusCode": 200, "isBase64Encoded": "false"}),
            "scf response field `isBase64Encoded` must be a boolean, got a string",
        ),
        (
            json!({"statusCode": 200, "headers": ["a"]}),
            "scf response field `headers` must be an object of string or string-array values, got an array",
        ),
        (
            json!({"statusCode": 200, "headers": {"X-Num": 1}}),
            "scf response header `headers.X-Num` must be a string or an array of strings, got a number",
        ),
        (
            json!({"statusCode": 200, "headers": {"X-List": ["a", 2]}}),
            "scf response header `headers.X-List` must be a string or an array of strings, got an array containing a number",
        ),
        (
            json!({"statusCode": 200, "body": {"a": 1}}),
            "scf response field `body` must be a string, got an object",
        ),
    ];
    for (value, expected) in cases {
        let (_, message) = error_of(value);
        assert_eq!(message, expected);
    }
    assert!(matches!(
        error_of(json!({"statusCode": 200, "body": 1})).0,
        InvalidResponse::Body { found: "a number" }
    ));
}

#[test]
fn response_body_is_decoded_when_base64() {
    let mut response = ApiGatewayResponse::new(200, "AAEC/w==");
    response.is_base64_encoded = true;
    assert_eq!(response.body_bytes().unwrap(), [0, 1, 2, 255]);
    response.body = "not base64!".into();
    assert_eq!(
        response.body_bytes().unwrap_err().to_string(),
        "`body` is marked isBase64Encoded but is not valid base64: Invalid symbol 32, offset 3."
    );
}

#[test]
fn with_header_builds_a_response() {
    let response = ApiGatewayResponse::new(302, "")
        .with_header("Location", "/next")
        .with_header("Set-Cookie", vec!["a=1".to_owned(), "b=2".to_owned()]);
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"isBase64Encoded": false, "statusCode": 302,
               "headers": {"Location": "/next", "Set-Cookie": ["a=1", "b=2"]}, "body": ""})
    );
}
