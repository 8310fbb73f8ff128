//! Authentication of the cloud API: with credentials configured every request is checked
//! with TC3-HMAC-SHA256 and refused with the `AuthFailure.*` codes.

use crate::common;

use common::{api_error, api_request, assert_json, now, send_api, signed_request, signed_service};
use scf_http::{Server, ServerConfig, ServerError};
use serde_json::json;

const BODY: &[u8] = br#"{"FunctionName": "hello", "ClientContext": "{\"key\": \"abctest\"}"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correctly_signed_request_runs() {
    let body = send_api(&signed_service(), signed_request("Invoke", BODY, now())).await;
    assert_eq!(
        body["Response"]["Result"]["RetMsg"],
        r#"{"hello":{"key":"abctest"}}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_authorization_is_invalid_authorization() {
    let body = send_api(&signed_service(), api_request("Invoke", BODY)).await;
    assert_json(
        &body,
        &api_error(
            "AuthFailure.InvalidAuthorization",
            "Authorization header is invalid: the header is missing. Expected `TC3-HMAC-SHA256 Credential=<SecretId>/<YYYY-MM-DD>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<64 hex digits>`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_authorization_is_invalid_authorization() {
    let mut request = signed_request("Invoke", BODY, now());
    request.headers_mut().insert(
        "Authorization",
        "TC3-HMAC-SHA256 Credential=AKIDstubid".parse().unwrap(),
    );
    let body = send_api(&signed_service(), request).await;
    assert_json(
        &body,
        &api_error(
            "AuthFailure.InvalidAuthorization",
            "Authorization header is invalid: `SignedHeaders` is missing. Expected `TC3-HMAC-SHA256 Credential=<SecretId>/<YYYY-MM-DD>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<64 hex digits>`.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_secret_id_is_secret_id_not_found() {
    let mut request = signed_request("Invoke", BODY, now());
    let auth = request.headers()["Authorization"]
        .to_str()
        .unwrap()
        .replace("AKIDstubid", "AKIDnobody");
    request
        .headers_mut()
        .insert("Authorization", auth.parse().unwrap());
    let body = send_api(&signed_service(), request).await;
    assert_json(
        &body,
        &api_error(
            "AuthFailure.SecretIdNotFound",
            "The SecretId `AKIDnobody` is not found, please ensure that your SecretId is correct.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_timestamp_is_signature_expire() {
    let ts = now() - 600;
    let body = send_api(&signed_service(), signed_request("Invoke", BODY, ts)).await;
    assert_json(&body, &api_error("AuthFailure.SignatureExpire", "<string>"));
    let message = body["Response"]["Error"]["Message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("Signature expired: X-TC-Timestamp {ts} is 6")),
        "{message}"
    );
    assert!(
        message.ends_with("; at most 300 s is allowed."),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timestamp_from_the_future_is_signature_expire() {
    let body = send_api(
        &signed_service(),
        signed_request("Invoke", BODY, now() + 600),
    )
    .await;
    assert_json(&body, &api_error("AuthFailure.SignatureExpire", "<string>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signature_is_signature_failure() {
    let mut request = signed_request("Invoke", BODY, now());
    *request.body_mut() =
        br#"{"FunctionName": "hello", "ClientContext": "{\"key\": \"tampered\"}"}"#.to_vec();
    let body = send_api(&signed_service(), request).await;
    assert_json(
        &body,
        &api_error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_comes_before_the_action() {
    let mut request = signed_request("NoSuchAction", b"{}", now());
    request
        .headers_mut()
        .insert("X-TC-Timestamp", "1".parse().unwrap());
    let body = send_api(&signed_service(), request).await;
    assert_json(&body, &api_error("AuthFailure.SignatureExpire", "<string>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_timestamp_is_missing_parameter() {
    let mut request = signed_request("Invoke", BODY, now());
    request.headers_mut().remove("X-TC-Timestamp");
    let body = send_api(&signed_service(), request).await;
    assert_json(
        &body,
        &api_error(
            "MissingParameter",
            "The request is missing a required parameter `X-TC-Timestamp` (the signing time in UNIX seconds).",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_requests_are_not_checked() {
    let body = common::call(
        &common::service(),
        "Invoke",
        json!({"FunctionName": "hello"}),
    )
    .await;
    assert!(body["Response"].get("Result").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_api_may_not_listen_beyond_loopback() {
    let config = ServerConfig::new("0.0.0.0:0".parse().unwrap());
    let err = Server::new(config, common::invoker()).unwrap_err();
    assert!(matches!(
        err,
        ServerError::UnauthenticatedNonLoopback { .. }
    ));
    assert_eq!(
        err.to_string(),
        "no credentials are configured, so the cloud API would accept unsigned requests: it may listen on loopback only, not on 0.0.0.0:0. Configure ServerConfig.credentials, or listen on 127.0.0.1 / [::1]"
    );
    let gateway_only = ServerConfig::new("0.0.0.0:0".parse().unwrap())
        .listen_on("0.0.0.0:0".parse().unwrap(), scf_http::Serves::Gateway);
    assert!(Server::new(gateway_only, common::invoker()).is_ok());
    let loopback6 = ServerConfig::new("[::1]:0".parse().unwrap());
    assert!(Server::new(loopback6, common::invoker()).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_secret_id_or_key_is_refused_by_the_constructor_and_the_server() {
    use scf_http::{Credentials, CredentialsError};
    assert_eq!(
        Credentials::try_single("", "key").unwrap_err(),
        CredentialsError::EmptySecretId
    );
    assert_eq!(
        Credentials::try_single("AKIDx", " ").unwrap_err().to_string(),
        "the SecretKey of SecretId `AKIDx` is empty: give a SecretKey (an unset variable is not one)"
    );
    let config = ServerConfig::new("0.0.0.0:0".parse().unwrap())
        .with_credentials(Credentials::single("AKIDx", ""));
    let err = Server::new(config, common::invoker()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ServerConfig.credentials: the SecretKey of SecretId `AKIDx` is empty: give a SecretKey (an unset variable is not one)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_signed_with_an_empty_key_is_never_accepted() {
    // An embedder that skips Server::new (ApiService::new) with a pair whose key is "":
    // the pair is no key, so the SecretId is unknown.
    let api = scf_http::ApiService::new(
        common::invoker(),
        scf_http::Credentials::single(common::SECRET_ID, ""),
    );
    let auth =
        scf_http::auth::SigningRequest::new(common::SECRET_ID, "", "127.0.0.1:9000", now(), BODY)
            .authorization()
            .unwrap();
    let mut request = api_request("Invoke", BODY);
    request
        .headers_mut()
        .insert("Authorization", auth.parse().unwrap());
    request
        .extensions_mut()
        .insert(scf_http::PeerAddr("127.0.0.1:1".parse().unwrap()));
    let response = api.handle(common::full(request)).await;
    let body: serde_json::Value =
        serde_json::from_slice(&common::body_bytes(response).await).unwrap();
    assert_eq!(
        body["Response"]["Error"]["Code"], "AuthFailure.SecretIdNotFound",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_header_is_checked_before_the_body_is_read() {
    // A body that never ends: answering at all shows it was not waited for.
    for (auth, code) in [
        (None, "AuthFailure.InvalidAuthorization"),
        (
            Some("TC3-HMAC-SHA256 Credential=AKIDnobody/2026-01-01/scf/tc3_request, SignedHeaders=content-type;host, Signature=0000000000000000000000000000000000000000000000000000000000000000"),
            "AuthFailure.SecretIdNotFound",
        ),
    ] {
        let mut request = http::Request::post("/")
            .header("Host", "127.0.0.1:9000")
            .header("Content-Type", "application/json")
            .header("X-TC-Action", "Invoke")
            .header("X-TC-Version", "2018-04-16")
            .header("X-TC-Timestamp", now().to_string());
        if let Some(a) = auth {
            request = request.header("Authorization", a);
        }
        let request = request.body(Endless).unwrap();
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            signed_service().oneshot(request),
        )
        .await
        .expect("answered without the body");
        let v: serde_json::Value =
            serde_json::from_slice(&common::body_bytes(response).await).unwrap();
        assert_eq!(v["Response"]["Error"]["Code"], code, "{v}");
    }
}

/// A request body that never sends a byte nor ends.
struct Endless;

impl http_body::Body for Endless {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_signature_is_accepted_by_default_and_refused_with_the_replay_cache() {
    let ts = now();
    // Off by default, as on SCF: the same signed request runs twice.
    let plain = signed_service();
    for _ in 0..2 {
        let body = send_api(&plain, signed_request("Invoke", BODY, ts)).await;
        assert!(body["Response"].get("Result").is_some(), "{body}");
    }
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap()).with_credentials(
        scf_http::Credentials::single(common::SECRET_ID, common::SECRET_KEY),
    );
    config.replay_cache = true;
    let cached = common::service_with(config, common::invoker());
    let first = send_api(&cached, signed_request("Invoke", BODY, ts)).await;
    assert!(first["Response"].get("Result").is_some(), "{first}");
    let again = send_api(&cached, signed_request("Invoke", BODY, ts)).await;
    assert_json(
        &again,
        &api_error(
            "AuthFailure.SignatureExpire",
            "This signature was already used: the server refuses a signed request sent a second time within the 300 s timestamp window (its replay cache is on). Sign the request again.",
        ),
    );
    // Signed again (another timestamp, so another signature): accepted.
    let resigned = send_api(&cached, signed_request("Invoke", BODY, ts - 1)).await;
    assert!(resigned["Response"].get("Result").is_some(), "{resigned}");
}
