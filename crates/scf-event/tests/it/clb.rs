//! CLB quirks: string `isBase64Encoded`, object payload; response shared with API Gateway.
#![cfg(feature = "clb")]

use scf_event::{ClbRequest, ClbResponse, LenientBool};
use serde_json::json;

fn request() -> ClbRequest {
    serde_json::from_str(include_str!("../fixtures/clb.json"))
        .unwrap_or_else(|e| panic!("clb.json: {e}"))
}

#[test]
fn is_base64_encoded_may_be_the_string_false() {
    let request = request();
    assert_eq!(
        request.is_base64_encoded,
        Some(LenientBool::Text("false".into()))
    );
    assert!(!request.is_base64_encoded());
    assert_eq!(
        serde_json::to_value(&request).unwrap()["isBase64Encoded"],
        json!("false")
    );
}

#[test]
fn lenient_bool_reads_strings_and_bools() {
    assert_eq!(LenientBool::Text("true".into()).as_bool(), Some(true));
    assert_eq!(LenientBool::Text(" TRUE ".into()).as_bool(), Some(true));
    assert_eq!(LenientBool::Text("false".into()).as_bool(), Some(false));
    assert_eq!(LenientBool::Text("yes".into()).as_bool(), None);
    assert_eq!(LenientBool::Bool(true).as_bool(), Some(true));
    let parsed: LenientBool = serde_json::from_str("true").unwrap();
    assert_eq!(parsed, LenientBool::Bool(true));
}

#[test]
fn clb_headers_are_case_insensitive() {
    let request = request();
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-uri"), Some("/scf_location"));
    assert_eq!(request.header("X-CLB-STGW-VIP"), Some("121.23.21.xx"));
}

#[test]
fn payload_bytes_follow_the_encoding() {
    let request = request();
    assert_eq!(
        request.body_bytes().unwrap(),
        br#"{"key1":"123","key2":"abc"}"#
    );

    let binary: ClbRequest = serde_json::from_value(json!({
        "headers": {}, "payload": "AAEC", "isBase64Encoded": "true"}))
    .unwrap();
    assert_eq!(binary.body_bytes().unwrap(), [0, 1, 2]);

    let bool_flag: ClbRequest = serde_json::from_value(json!({
        "headers": {}, "payload": "AAEC", "isBase64Encoded": true}))
    .unwrap();
    assert!(bool_flag.is_base64_encoded());

    let empty: ClbRequest = serde_json::from_value(json!({"headers": {}})).unwrap();
    assert!(empty.body_bytes().unwrap().is_empty());
    assert_eq!(
        serde_json::to_value(&empty).unwrap(),
        json!({"headers": {}})
    );
}

#[test]
fn clb_response_is_the_integration_response() {
    let response: ClbResponse =
        serde_json::from_str(include_str!("../fixtures/clb_response.json")).unwrap();
    assert_eq!(response.status_code, 201);
    assert_eq!(response.body_bytes().unwrap(), [0, 1, 2, 255]);
    assert_eq!(
        response.headers.get("x-multi").unwrap().values(),
        ["a", "b"]
    );
}
