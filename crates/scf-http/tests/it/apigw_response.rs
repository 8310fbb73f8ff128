//! A function's integration response → the HTTP response, and the gateway's own answers
//! when the return value is not one.

use crate::common;

use common::{body_bytes, fixture};
use scf_http::apigw::{integration_response, GatewayError, INVALID_RESPONSE_BODY};
use serde_json::json;

#[tokio::test]
async fn status_headers_and_body_are_taken_from_the_integration_response() {
    let response = integration_response(&fixture("apigw/integration_response.json")).unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.headers()["x-custom"], "yes");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(
        body_bytes(response).await,
        b"<html><body><h1>Heading</h1><p>Paragraph.</p></body></html>"
    );
}

#[tokio::test]
async fn a_base64_body_is_decoded() {
    let response = integration_response(&json!({
        "isBase64Encoded": true, "statusCode": 200, "body": "/9j/4AAQ",
        "headers": {"Content-Type": "image/jpeg"}
    }))
    .unwrap();
    assert_eq!(
        body_bytes(response).await,
        vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]
    );
}

#[tokio::test]
async fn only_status_code_is_required() {
    let response = integration_response(&json!({"statusCode": 204})).unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.headers().is_empty());
    assert!(body_bytes(response).await.is_empty());
}

#[test]
fn invalid_integration_responses_are_the_gateways_403() {
    let cases = [
        json!("hello"),
        json!(null),
        json!({"body": "no status"}),
        json!({"statusCode": "200"}),
        json!({"statusCode": 99}),
        json!({"statusCode": 600}),
        json!({"statusCode": 200, "body": {"not": "a string"}}),
        json!({"statusCode": 200, "headers": "x"}),
        json!({"statusCode": 200, "headers": {"a": 1}}),
        json!({"statusCode": 200, "headers": {"a": ["ok", 2]}}),
        json!({"statusCode": 200, "headers": {"bad name": "v"}}),
        json!({"statusCode": 200, "headers": {"x": "line\nbreak"}}),
        json!({"statusCode": 200, "isBase64Encoded": "yes"}),
        json!({"statusCode": 200, "isBase64Encoded": true, "body": "***"}),
    ];
    for case in cases {
        let err = integration_response(&case).unwrap_err();
        assert!(
            matches!(err, GatewayError::InvalidResponse { .. }),
            "{case}"
        );
        assert_eq!(err.status(), 403);
        assert_eq!(err.body(), INVALID_RESPONSE_BODY);
    }
    assert_eq!(
        INVALID_RESPONSE_BODY,
        r#"{"errno":403,"error":"Invalid scf response format. please check your scf response format."}"#
    );
}

#[tokio::test]
async fn a_failed_function_is_a_200_with_the_scf_error_json() {
    let error = r#"{"errorCode":-1,"errorMessage":"time out","requestId":"r","stackTrace":"","statusCode":433}"#;
    let err = GatewayError::FunctionFailed { body: error.into() };
    let response = err.to_response();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(body_bytes(response).await, error.as_bytes());
}

#[test]
fn gateway_refusals_have_their_status_and_errno_body() {
    let err = GatewayError::Refused {
        status: 429,
        message: "concurrency exceeded".into(),
    };
    assert_eq!(err.status(), 429);
    assert_eq!(
        err.body(),
        r#"{"errno":429,"error":"concurrency exceeded"}"#
    );
    let err = GatewayError::BodyTooLarge { limit: 6291456 };
    assert_eq!(err.status(), 413);
    assert_eq!(
        err.body(),
        r#"{"errno":413,"error":"Request body is larger than 6291456 bytes"}"#
    );
}
