//! `Headers`: case-insensitive lookup, original spelling kept.

use scf_event::{HeaderValue, Headers};

#[test]
fn get_ignores_ascii_case() {
    let headers: Headers =
        serde_json::from_str(r#"{"user-agent":"curl","X-Api-RequestId":"abc"}"#).unwrap();
    assert_eq!(headers.get("User-Agent").map(String::as_str), Some("curl"));
    assert_eq!(headers.get("USER-AGENT").map(String::as_str), Some("curl"));
    assert_eq!(
        headers.get("x-api-requestid").map(String::as_str),
        Some("abc")
    );
    assert!(headers.contains_key("x-API-requestID"));
    assert_eq!(headers.get("accept"), None);
}

#[test]
fn get_exact_is_case_sensitive() {
    let headers: Headers = serde_json::from_str(r#"{"Host":"h"}"#).unwrap();
    assert_eq!(headers.get_exact("Host").map(String::as_str), Some("h"));
    assert_eq!(headers.get_exact("host"), None);
}

#[test]
fn exact_spelling_wins_when_two_spellings_exist() {
    let headers: Headers = serde_json::from_str(r#"{"Host":"upper","host":"lower"}"#).unwrap();
    assert_eq!(headers.get("host").map(String::as_str), Some("lower"));
    assert_eq!(headers.get("Host").map(String::as_str), Some("upper"));
    assert_eq!(headers.len(), 2);
}

#[test]
fn original_keys_survive_a_round_trip() {
    let text = r#"{"Accept":"*/*","content-type":"text/plain","X-Mixed-CASE":"1"}"#;
    let headers: Headers = serde_json::from_str(text).unwrap();
    let keys: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["Accept", "X-Mixed-CASE", "content-type"]);
    let back: serde_json::Value = serde_json::to_value(&headers).unwrap();
    assert_eq!(
        back,
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
}

#[test]
fn insert_replaces_every_spelling() {
    let mut headers: Headers =
        serde_json::from_str(r#"{"content-type":"a","Content-Type":"b"}"#).unwrap();
    headers.insert("CONTENT-TYPE", "c".to_owned());
    assert_eq!(headers.len(), 1);
    assert_eq!(
        headers.get_exact("CONTENT-TYPE").map(String::as_str),
        Some("c")
    );
}

#[test]
fn remove_ignores_case() {
    let mut headers: Headers = [("Host", "h".to_owned())].into_iter().collect();
    assert_eq!(headers.remove("host").as_deref(), Some("h"));
    assert!(headers.is_empty());
}

#[test]
fn response_header_values_are_strings_or_arrays() {
    let headers: Headers<HeaderValue> =
        serde_json::from_str(r#"{"Content-Type":"text/html","set-cookie":["a=1","b=2"]}"#).unwrap();
    assert_eq!(
        headers.get("content-type"),
        Some(&HeaderValue::Single("text/html".into()))
    );
    let cookies = headers.get("Set-Cookie").unwrap();
    assert_eq!(cookies.values(), ["a=1", "b=2"]);
    assert_eq!(cookies.first(), Some("a=1"));
    assert_eq!(
        serde_json::to_string(&headers).unwrap(),
        r#"{"Content-Type":"text/html","set-cookie":["a=1","b=2"]}"#
    );
}
