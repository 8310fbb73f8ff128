//! The peer rule of the cloud API without credentials: loopback peers only, wherever the
//! API runs (the ready-made server's service, `ApiService` on its own, mounted in axum),
//! and a request whose peer is unknown is refused too.

use std::net::SocketAddr;

use http::Request;
use scf_http::{ApiService, Credentials, PeerAddr, Serves};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::common::{self, body_bytes, full, invoker, SECRET_ID, SECRET_KEY};

const INVOKE: &[u8] = br#"{"FunctionName":"hello","ClientContext":"{\"k\":1}"}"#;

fn from(peer: &str, request: Request<Vec<u8>>) -> Request<Vec<u8>> {
    let mut request = request;
    let addr: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(PeerAddr(addr));
    request
}

async fn answer(api: &ApiService, request: Request<Vec<u8>>) -> Value {
    let response = api.clone().oneshot(full(request)).await.unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&body_bytes(response).await).unwrap()
}

#[track_caller]
fn assert_refused(body: &Value, peer_in_message: &str) {
    let error = &body["Response"]["Error"];
    assert_eq!(error["Code"], "AuthFailure.UnauthorizedOperation", "{body}");
    let message = error["Message"].as_str().unwrap();
    assert!(message.contains(peer_in_message), "{message}");
    assert!(body["Response"].get("Result").is_none(), "{body}");
}

#[track_caller]
fn assert_ran(body: &Value) {
    assert_eq!(
        body["Response"]["Result"]["RetMsg"], r#"{"hello":{"k":1}}"#,
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_a_non_loopback_peer_is_refused() {
    let api = ApiService::new(invoker(), Credentials::new());
    let request = from("203.0.113.5:40000", common::api_request("Invoke", INVOKE));
    assert_refused(&answer(&api, request).await, "203.0.113.5:40000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_loopback_peers_are_answered() {
    let api = ApiService::new(invoker(), Credentials::new());
    for peer in [
        "127.0.0.1:1",
        "127.8.9.10:2",
        "[::1]:3",
        "[::ffff:127.0.0.1]:4",
    ] {
        let request = from(peer, common::api_request("Invoke", INVOKE));
        assert_ran(&answer(&api, request).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_a_request_with_no_known_peer_is_refused() {
    let api = ApiService::new(invoker(), Credentials::new());
    let body = answer(&api, common::api_request("Invoke", INVOKE)).await;
    assert_refused(&body, "did not say who sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_a_signed_request_from_any_peer_is_answered() {
    let api = ApiService::new(invoker(), Credentials::single(SECRET_ID, SECRET_KEY));
    assert!(api.is_signed());
    let request = common::signed_request("Invoke", INVOKE, common::now());
    assert_ran(&answer(&api, from("203.0.113.5:40000", request)).await);
    // Unsigned, even from loopback, it is refused by the signature check.
    let request = from("127.0.0.1:1", common::api_request("Invoke", INVOKE));
    let body = answer(&api, request).await;
    assert_eq!(
        body["Response"]["Error"]["Code"],
        "AuthFailure.InvalidAuthorization"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_service_applies_the_rule_to_each_request() {
    let s = common::service();
    let api = || full(common::api_request("Invoke", INVOKE));
    let remote = s
        .call(api(), "203.0.113.5:40000".parse().unwrap(), Serves::Api)
        .await;
    assert_refused(
        &serde_json::from_slice(&body_bytes(remote).await).unwrap(),
        "203.0.113.5",
    );
    let local = s
        .call(api(), "127.0.0.1:40000".parse().unwrap(), Serves::Api)
        .await;
    assert_ran(&serde_json::from_slice(&body_bytes(local).await).unwrap());
}
