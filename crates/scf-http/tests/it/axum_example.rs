//! `examples/axum_gateway.rs` driven without a socket (tower's `oneshot`): the same
//! `app`, a catch-all gateway route under `/api` and the cloud API under `/scf`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use http::Request;
use tower::ServiceExt as _;

use crate::common::{self, body_bytes};

#[path = "../../examples/axum_gateway.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;

fn app(peer: &str) -> axum::Router {
    let peer: SocketAddr = peer.parse().unwrap();
    example::app(example::invoker().unwrap())
        .unwrap()
        .layer(MockConnectInfo(peer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_under_api_reaches_the_function_with_the_prefix_kept() {
    for path in ["/api", "/api/", "/api/any/deep/path?x=1"] {
        let request = Request::put(path).body(Body::empty()).unwrap();
        let response = app("198.51.100.7:5000").oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().contains_key("x-scf-requestid"), "{path}");
        let text = String::from_utf8(body_bytes(response).await).unwrap();
        let want_path = path.split('?').next().unwrap();
        assert_eq!(text, format!("PUT {want_path} from 198.51.100.7\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_api_under_scf_invokes_for_loopback_and_refuses_others() {
    let call = || {
        let mut request = common::api_request("Invoke", br#"{"FunctionName":"site"}"#);
        *request.uri_mut() = "/scf".parse().unwrap();
        request.map(Body::from)
    };
    let response = app("127.0.0.1:5000").oneshot(call()).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(body["Response"]["Result"]["InvokeResult"], 0, "{body}");

    let response = app("198.51.100.7:5000").oneshot(call()).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(
        body["Response"]["Error"]["Code"], "AuthFailure.UnauthorizedOperation",
        "{body}"
    );
}
