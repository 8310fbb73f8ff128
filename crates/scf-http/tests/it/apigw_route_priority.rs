//! Which route a request hits, as Tencent's API Gateway decides it (API Gateway FAQ, "How
//! do I determine the API hit priority?",
//! https://www.tencentcloud.com/document/product/628/11939): `=` exact first, `^~`
//! preferred prefix second, paths with variables third, plain paths last by longest
//! prefix. The table starts with the FAQ's own example (`/product/` is hit by
//! `/product/apigw/document`); the rows marked "ours" are rules the FAQ does not state.

use http::Method;
use scf_http::apigw::{PathKind, PathTemplate, Route, Routes};

/// (method, path) → function, one route per row, in the order added.
const ROUTES: &[(&str, &str, &str)] = &[
    ("ANY", "/product/", "plain-product"),
    ("ANY", "/product/apigw/", "plain-product-apigw"),
    ("ANY", "/product/{id}", "vars-product-id"),
    ("GET", "/item/{id}/{part}", "vars-get-two"),
    ("ANY", "/item/{id}/{part}", "vars-any-two"),
    ("ANY", "/item/{id}/price", "vars-price"),
    ("ANY", "^~/static/", "preferred-static"),
    ("ANY", "^~/static/img/", "preferred-static-img"),
    ("ANY", "/static/{file}", "vars-static-file"),
    ("ANY", "=/static/robots.txt", "exact-robots"),
    ("ANY", "/", "plain-root"),
    ("POST", "=/product/new", "exact-post-new"),
    ("ANY", "/api", "plain-api"),
];

/// (method, request path, function hit, why).
const TABLE: &[(&str, &str, &str, &str)] = &[
    // The FAQ's example: a plain path is a prefix.
    (
        "GET",
        "/product/apigw/document",
        "plain-product-apigw",
        "FAQ: plain path, longest prefix (/product/apigw/ over /product/)",
    ),
    (
        "GET",
        "/product/a/b/c",
        "plain-product",
        "FAQ: plain path, longest prefix (no variable path has four segments)",
    ),
    // Variables (third) before plain paths (fourth).
    (
        "GET",
        "/product/42",
        "vars-product-id",
        "FAQ: a path with variables before a plain path",
    ),
    (
        "GET",
        "/product/apigw",
        "vars-product-id",
        "FAQ: variables before the plain /product/apigw/",
    ),
    // `=` first.
    (
        "POST",
        "/product/new",
        "exact-post-new",
        "FAQ: = before variables",
    ),
    (
        "GET",
        "/product/new",
        "vars-product-id",
        "ours: the = route is POST only, so a GET falls through",
    ),
    (
        "GET",
        "/static/robots.txt",
        "exact-robots",
        "FAQ: = before ^~",
    ),
    // `^~` second, the longest first.
    (
        "GET",
        "/static/app.js",
        "preferred-static",
        "FAQ: ^~ before variables",
    ),
    (
        "GET",
        "/static/img/a.png",
        "preferred-static-img",
        "FAQ: ^~, the longest prefix",
    ),
    // Ours: among variable paths, more literal segments win; an exact method beats ANY.
    (
        "GET",
        "/item/1/price",
        "vars-price",
        "ours: most literal segments",
    ),
    (
        "GET",
        "/item/1/size",
        "vars-get-two",
        "ours: exact method over ANY",
    ),
    (
        "PUT",
        "/item/1/size",
        "vars-any-two",
        "ours: ANY when the method differs",
    ),
    // Ours: prefixes match whole segments, trailing slashes are ignored.
    (
        "GET",
        "/api",
        "plain-api",
        "ours: a prefix matches its own path",
    ),
    ("GET", "/api/", "plain-api", "ours: trailing slash ignored"),
    (
        "GET",
        "/api/v1/users",
        "plain-api",
        "ours: a prefix matches below it",
    ),
    (
        "GET",
        "/apix",
        "plain-root",
        "ours: /api is not a prefix of /apix",
    ),
    (
        "DELETE",
        "/anything/else",
        "plain-root",
        "FAQ: / is the shortest plain prefix, a catch-all",
    ),
];

fn routes() -> Routes {
    ROUTES.iter().fold(Routes::new(), |r, (m, p, f)| {
        r.with(Route::new(m, p, *f).unwrap())
    })
}

#[test]
fn each_request_hits_the_route_tencents_priority_gives() {
    let routes = routes();
    let mut wrong = Vec::new();
    for (method, path, want, why) in TABLE {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let got = routes
            .find(&method, path)
            .map(|m| m.route.function_name.clone());
        if got.as_deref() != Some(*want) {
            wrong.push(format!("{method} {path}: got {got:?}, want {want} ({why})"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_prefix_route_keeps_the_whole_request_path_and_has_no_parameters() {
    let routes = routes();
    let m = routes
        .find(&Method::GET, "/product/apigw/document")
        .unwrap();
    assert_eq!(m.path, "/product/apigw/document");
    assert!(m.path_parameters.is_empty());
    assert_eq!(m.route.path.path(), "/product/apigw/");
}

#[test]
fn the_markers_are_parsed_and_left_out_of_the_path() {
    let exact = PathTemplate::parse("=/a/b").unwrap();
    assert_eq!(
        (exact.kind(), exact.path(), exact.as_str()),
        (PathKind::Exact, "/a/b", "=/a/b")
    );
    let preferred = PathTemplate::parse("^~/a/").unwrap();
    assert_eq!(
        (preferred.kind(), preferred.path()),
        (PathKind::PreferredPrefix, "/a/")
    );
    assert_eq!(
        PathTemplate::parse("/a/{b}").unwrap().kind(),
        PathKind::Variables
    );
    assert_eq!(PathTemplate::parse("/a").unwrap().kind(), PathKind::Prefix);
}

#[test]
fn exact_and_preferred_paths_cannot_have_variables() {
    for path in ["=/a/{b}", "^~/a/{b}"] {
        let error = PathTemplate::parse(path).unwrap_err().to_string();
        assert!(
            error.contains("cannot have `{variables}`"),
            "{path}: {error}"
        );
    }
    let error = PathTemplate::parse("=a").unwrap_err().to_string();
    assert!(error.contains("must start with `/`"), "{error}");
}
