//! API Gateway routes: method or ANY, `{name}` path templates, stages, and the 404 for a
//! request no route takes (the priority table is in `apigw_route_priority`).

use http::Method;
use scf_http::apigw::{GatewayError, Route, RouteError, Routes};

fn routes() -> Routes {
    Routes::new()
        .with(Route::new("ANY", "/test/{path}", "any-fn").unwrap())
        .with(Route::new("GET", "/test/{path}", "get-fn").unwrap())
        .with(Route::new("GET", "/test/fixed", "fixed-fn").unwrap())
        .with(Route::new("POST", "/users/{id}/orders/{order}", "orders-fn").unwrap())
        .with(Route::new("GET", "/", "root-fn").unwrap())
}

fn target(routes: &Routes, method: Method, path: &str) -> Option<String> {
    routes
        .find(&method, path)
        .map(|m| m.route.function_name.clone())
}

#[test]
fn a_path_parameter_matches_one_segment() {
    let r = routes();
    let m = r.find(&Method::POST, "/test/value").unwrap();
    assert_eq!(m.route.function_name, "any-fn");
    assert_eq!(m.path_parameters["path"], "value");
    assert_eq!(m.path, "/test/value");
    assert!(r.find(&Method::POST, "/test/a/b").is_none());
    assert!(r.find(&Method::POST, "/test").is_none());
}

#[test]
fn an_exact_method_wins_over_any() {
    assert_eq!(
        target(&routes(), Method::GET, "/test/value").as_deref(),
        Some("get-fn")
    );
    assert_eq!(
        target(&routes(), Method::DELETE, "/test/value").as_deref(),
        Some("any-fn")
    );
}

#[test]
fn a_path_with_variables_wins_over_a_plain_path_unless_that_is_exact() {
    // Tencent's order: variables (third) before plain paths (fourth), so the plain
    // `/test/fixed` takes only what no variable path takes...
    assert_eq!(
        target(&routes(), Method::GET, "/test/fixed").as_deref(),
        Some("get-fn")
    );
    assert_eq!(
        target(&routes(), Method::GET, "/test/fixed/more").as_deref(),
        Some("fixed-fn")
    );
    // ...and `=/test/fixed` (first) takes its own path.
    let r = routes().with(Route::new("GET", "=/test/fixed", "exact-fn").unwrap());
    assert_eq!(
        target(&r, Method::GET, "/test/fixed").as_deref(),
        Some("exact-fn")
    );
}

#[test]
fn several_parameters_are_decoded() {
    let r = routes();
    let m = r
        .find(&Method::POST, "/users/a%20b/orders/%E4%B8%AD")
        .unwrap();
    assert_eq!(m.path_parameters["id"], "a b");
    assert_eq!(m.path_parameters["order"], "中");
}

#[test]
fn a_trailing_slash_is_ignored() {
    assert_eq!(
        target(&routes(), Method::GET, "/test/value/").as_deref(),
        Some("get-fn")
    );
    assert_eq!(
        target(&routes(), Method::GET, "/").as_deref(),
        Some("root-fn")
    );
}

#[test]
fn only_routes_of_the_method_take_part() {
    // `POST /users/{id}/orders/{order}` does not take a GET, which falls through to the
    // plain `GET /`, a prefix of every path.
    assert_eq!(
        target(&routes(), Method::GET, "/users/1/orders/2").as_deref(),
        Some("root-fn")
    );
    assert!(routes().find(&Method::PUT, "/users/1/orders/2").is_none());
}

#[test]
fn the_first_of_equal_routes_wins() {
    let r = Routes::new()
        .with(Route::new("GET", "/a/{x}", "first").unwrap())
        .with(Route::new("GET", "/a/{y}", "second").unwrap());
    assert_eq!(target(&r, Method::GET, "/a/1").as_deref(), Some("first"));
}

#[test]
fn stage_defaults_to_release_and_is_reachable_without_a_prefix() {
    let route = Route::new("GET", "/a", "f")
        .unwrap()
        .with_stage("test")
        .unwrap();
    let r = Routes::new().with(route);
    assert_eq!(r.find(&Method::GET, "/a").unwrap().route.stage, "test");
    assert_eq!(Route::new("GET", "/a", "f").unwrap().stage, "release");
}

#[test]
fn with_stage_in_path_the_first_segment_selects_the_stage() {
    let r = Routes::new()
        .with_stage_in_path(true)
        .with(Route::new("GET", "/a/{x}", "release-fn").unwrap())
        .with(
            Route::new("GET", "/a/{x}", "test-fn")
                .unwrap()
                .with_stage("test")
                .unwrap(),
        );
    let m = r.find(&Method::GET, "/test/a/1").unwrap();
    assert_eq!(m.route.function_name, "test-fn");
    assert_eq!(m.path, "/a/1");
    assert_eq!(
        target(&r, Method::GET, "/release/a/1").as_deref(),
        Some("release-fn")
    );
    assert!(r.find(&Method::GET, "/a/1").is_none());
    assert!(r.find(&Method::GET, "/prepub/a/1").is_none());
}

#[test]
fn invalid_routes_say_what_is_wrong() {
    assert_eq!(
        Route::new("FETCH ME", "/a", "f").unwrap_err(),
        RouteError::Method("FETCH ME".into())
    );
    assert_eq!(
        Route::new("GET", "a", "f").unwrap_err().to_string(),
        "route path \"a\" is invalid: it must start with `/`"
    );
    assert!(Route::new("GET", "/a/{}", "f").is_err());
    assert!(Route::new("GET", "/a/{x}/{x}", "f").is_err());
    assert!(Route::new("GET", "/a/x{y}", "f").is_err());
    assert!(Route::new("GET", "/a//b", "f").is_err());
    assert!(Route::new("GET", "/a", "f")
        .unwrap()
        .with_stage("a/b")
        .is_err());
    assert!(Route::new("any", "/a", "f").is_ok());
    assert!(Route::new("get", "/a", "f").is_ok());
}

#[test]
fn an_unmatched_request_is_a_404_naming_method_and_path() {
    let err = GatewayError::NoRoute {
        method: "DELETE".into(),
        path: "/nope".into(),
    };
    let response = err.to_response();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&err.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "errno": 404,
            "error": "There is no api match for DELETE /nope",
            "method": "DELETE",
            "path": "/nope"
        })
    );
}
