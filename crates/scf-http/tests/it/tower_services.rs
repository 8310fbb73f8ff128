//! The services as plain `tower::Service`s over any body type, outside axum: a host that
//! passes the whole path (`GatewayService::strip_prefix`), and the services' own bodies.

use http::Request;
use http_body_util::{Empty, Full};
use scf_http::apigw::{Route, Routes};
use scf_http::GatewayService;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::common::{body_bytes, invoker};

fn gateway() -> GatewayService {
    let routes = Routes::new().with(Route::new("ANY", "/hello/{name}", "web").unwrap());
    GatewayService::new(invoker(), routes).strip_prefix("/api/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strip_prefix_matches_below_it_and_keeps_it_in_the_event_path() {
    let request = Request::get("/api/hello/scf")
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = gateway().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let echoed: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(echoed["path"], "/api/hello/scf");
    assert_eq!(echoed["pathParameters"]["name"], "scf");
    // No peer was given: the source IP says so.
    assert_eq!(echoed["sourceIp"], "0.0.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_outside_the_prefix_is_a_404_naming_it() {
    for path in ["/apix/hello/scf", "/hello/scf"] {
        let request = Request::post(path)
            .body(Full::new(bytes::Bytes::from_static(b"{}")))
            .unwrap();
        let response = gateway().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
        assert_eq!(body["path"], path);
    }
}
