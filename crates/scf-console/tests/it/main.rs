//! The console as a service, one request at a time (no socket): who may use it, the CSRF
//! and cross-site rules, sessions, and the JSON endpoints over a `MemoryStore`. The
//! browser tests (crates/scf-cli/tests/it/console.rs) drive the pages themselves.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use scf_console::{Console, ConsoleConfig, CSRF_HEADER, SESSION_COOKIE};
use scf_http::{handler_fn, Credentials, FunctionConfig, FunctionError, PeerAddr, ResponseBody};
use scf_invoker::{Invoker, InvokerConfig};
use scf_store::MemoryStore;

const LOOPBACK: &str = "127.0.0.1:50000";

async fn echo(event: Value, _ctx: scf_http::Context) -> Result<Value, FunctionError> {
    Ok(event["key"].clone())
}

fn console_with(credentials: Credentials, ttl: Duration) -> (Console, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new(10_000));
    let invoker = Invoker::new(InvokerConfig::default().with_store(store.clone())).unwrap();
    invoker
        .add_function(FunctionConfig::new("hello"), handler_fn(echo))
        .unwrap();
    let mut config = ConsoleConfig::new(credentials);
    config.session_ttl = ttl;
    config.store = Some(store.clone());
    (Console::new(invoker, config).unwrap(), store)
}

fn console() -> Console {
    console_with(Credentials::new(), Duration::from_secs(60)).0
}

fn request(
    method: &str,
    path: &str,
    peer: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Request<Bytes> {
    let mut b = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| *k == "host") {
        b = b.header("host", "127.0.0.1:9000");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut r = b.body(Bytes::from(body.to_string())).unwrap();
    r.extensions_mut()
        .insert(PeerAddr(peer.parse::<SocketAddr>().unwrap()));
    r
}

async fn text(r: Response<ResponseBody>) -> String {
    String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

async fn get_json(c: &Console, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = c.handle(request("GET", path, LOOPBACK, headers, "")).await;
    let status = r.status();
    (
        status,
        serde_json::from_str(&text(r).await).unwrap_or(Value::Null),
    )
}

async fn csrf(c: &Console, headers: &[(&str, &str)]) -> String {
    let (status, session) = get_json(c, "/console/api/session", headers).await;
    assert_eq!(status, 200, "{session}");
    session["csrf"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn without_credentials_only_loopback_peers_and_hosts_are_served() {
    let c = console();
    let r = c
        .handle(request("GET", "/console/", "10.1.2.3:4000", &[], ""))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(text(r).await.contains("loopback peers only"));
    // A peer the host did not name is no peer allowed.
    let mut unknown = request("GET", "/console/", LOOPBACK, &[], "");
    unknown.extensions_mut().remove::<PeerAddr>();
    assert_eq!(c.handle(unknown).await.status(), StatusCode::FORBIDDEN);
    // DNS rebinding: a loopback peer asking for another host name.
    let r = c
        .handle(request(
            "GET",
            "/console/",
            LOOPBACK,
            &[("host", "evil.example:9000")],
            "",
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .handle(request("GET", "/console/", LOOPBACK, &[], ""))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn a_state_changing_request_needs_the_csrf_token_and_the_same_origin() {
    let c = console();
    let token = csrf(&c, &[]).await;
    let body = r#"{"FunctionName":"hello","ClientContext":"{\"key\":\"abctest\"}"}"#;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "must carry the x-csrf-token header"),
        (&[(CSRF_HEADER, "0000")], "CSRF token is wrong"),
        (
            &[(CSRF_HEADER, &token), ("sec-fetch-site", "cross-site")],
            "cross-site request",
        ),
        (
            &[(CSRF_HEADER, &token), ("origin", "http://evil.example")],
            "from origin http://evil.example",
        ),
    ];
    for (headers, why) in cases {
        let r = c
            .handle(request(
                "POST",
                "/console/api/action/Invoke",
                LOOPBACK,
                headers,
                body,
            ))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let t = text(r).await;
        assert!(t.contains(why), "{t}");
    }
    let headers = [
        (CSRF_HEADER, token.as_str()),
        ("sec-fetch-site", "same-origin"),
        ("origin", "http://127.0.0.1:9000"),
    ];
    let r = c
        .handle(request(
            "POST",
            "/console/api/action/Invoke",
            LOOPBACK,
            &headers,
            body,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&text(r).await).unwrap();
    assert_eq!(v["Response"]["Result"]["RetMsg"], "\"abctest\"", "{v}");
    // Only the console's actions run.
    let r = c
        .handle(request(
            "POST",
            "/console/api/action/InvokeFunction",
            LOOPBACK,
            &headers,
            "{}",
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

fn session_cookie(r: &Response<ResponseBody>) -> String {
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Strict")
            && set.contains("Path=/console"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn with_credentials_a_sign_in_gives_a_session_that_expires() {
    let (c, _) = console_with(
        Credentials::single("AKIDtest", "the-key"),
        Duration::from_millis(300),
    );
    // Not signed in: pages go to the sign-in form, JSON is 401, even from loopback.
    let r = c
        .handle(request("GET", "/console/", LOOPBACK, &[], ""))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/login");
    assert_eq!(get_json(&c, "/console/api/functions", &[]).await.0, 401);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for wrong in [
        "secret_id=AKIDtest&secret_key=the-kez",
        "secret_id=AKIDother&secret_key=the-key",
        "",
    ] {
        let r = c
            .handle(request("POST", "/console/login", LOOPBACK, &form, wrong))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{wrong}");
        assert!(r.headers().get("set-cookie").is_none());
    }
    // A sign-in form posted from another site is refused.
    let cross = [form[0], ("sec-fetch-site", "cross-site")];
    let r = c
        .handle(request(
            "POST",
            "/console/login",
            LOOPBACK,
            &cross,
            "secret_id=AKIDtest&secret_key=the-key",
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .handle(request(
            "POST",
            "/console/login",
            LOOPBACK,
            &form,
            "secret_id=AKIDtest&secret_key=the-key",
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&r);
    assert!(cookie.starts_with(&format!("{SESSION_COOKIE}=")));
    let headers = [("cookie", cookie.as_str())];
    let (status, session) = get_json(&c, "/console/api/session", &headers).await;
    assert_eq!(status, 200);
    assert_eq!(session["secretId"], "AKIDtest");
    assert_eq!(
        get_json(&c, "/console/api/functions", &headers).await.0,
        200
    );
    // Any peer may use a signed-in session (credentials make the console reachable).
    let far = c
        .handle(request(
            "GET",
            "/console/api/functions",
            "10.1.2.3:4000",
            &headers,
            "",
        ))
        .await;
    assert_eq!(far.status(), StatusCode::OK);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        get_json(&c, "/console/api/functions", &headers).await.0,
        401,
        "expired"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let (c, _) = console_with(
        Credentials::single("AKIDtest", "the-key"),
        Duration::from_secs(60),
    );
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let r = c
        .handle(request(
            "POST",
            "/console/login",
            LOOPBACK,
            &form,
            "secret_id=AKIDtest&secret_key=the-key",
        ))
        .await;
    let cookie = session_cookie(&r);
    let token = csrf(&c, &[("cookie", cookie.as_str())]).await;
    // Without the token, signing out is refused (a forged sign-out).
    let r = c
        .handle(request(
            "POST",
            "/console/logout",
            LOOPBACK,
            &[("cookie", cookie.as_str())],
            "",
        ))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let headers = [("cookie", cookie.as_str()), (CSRF_HEADER, token.as_str())];
    let r = c
        .handle(request("POST", "/console/logout", LOOPBACK, &headers, ""))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(get_json(&c, "/console/api/session", &headers).await.0, 401);
}

#[tokio::test]
async fn the_templates_are_hello_world_and_those_of_generate_event() {
    let (status, t) = get_json(&console(), "/console/api/templates", &[]).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = t
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "Hello World");
    let expected: usize = scf_event::samples::CATALOG
        .iter()
        .map(|(_, a)| a.len())
        .sum();
    assert_eq!(names.len(), expected + 1, "{names:?}");
    assert!(names.contains(&"cos put") && names.contains(&"timer timeup"));
}

#[tokio::test]
async fn metrics_are_one_entry_per_minute_with_zeros_where_nothing_ran() {
    let (c, store) = console_with(Credentials::new(), Duration::from_secs(60));
    let token = csrf(&c, &[]).await;
    let body = r#"{"FunctionName":"hello","ClientContext":"{\"key\":\"x\"}"}"#;
    for _ in 0..2 {
        let r = c
            .handle(request(
                "POST",
                "/console/api/action/Invoke",
                LOOPBACK,
                &[(CSRF_HEADER, &token)],
                body,
            ))
            .await;
        assert_eq!(r.status(), 200);
    }
    scf_store::LogStore::flush(store.as_ref()).unwrap();
    let (status, m) = get_json(&c, "/console/api/metrics?FunctionName=hello&Minutes=5", &[]).await;
    assert_eq!(status, 200, "{m}");
    let minutes = m["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 5);
    let total: u64 = minutes
        .iter()
        .map(|x| x["invocations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
    assert_eq!(m["memoryLimitMb"], 128);
    // The whole namespace too; a bad range is a clear 400.
    let (_, all) = get_json(&c, "/console/api/metrics?Minutes=5", &[]).await;
    assert_eq!(all["functionName"], Value::Null);
    let (status, bad) = get_json(&c, "/console/api/metrics?Minutes=99999", &[]).await;
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().unwrap().contains("Minutes"));
    // The functions page counts them from the aggregates.
    let (_, f) = get_json(&c, "/console/api/functions", &[]).await;
    assert_eq!(f["functions"][0]["invocationsLastHour"], 2, "{f}");
}

#[tokio::test]
async fn at_most_five_test_events_are_saved_per_function() {
    let c = console();
    let token = csrf(&c, &[]).await;
    let h = [(CSRF_HEADER, token.as_str())];
    for i in 0..5 {
        let body = json!({"Namespace": "default", "FunctionName": "hello", "Name": format!("e{i}"), "Event": "{\"key\":1}"});
        let r = c
            .handle(request(
                "POST",
                "/console/api/events",
                LOOPBACK,
                &h,
                &body.to_string(),
            ))
            .await;
        assert_eq!(r.status(), 200, "{}", text(r).await);
    }
    let sixth =
        json!({"Namespace": "default", "FunctionName": "hello", "Name": "e5", "Event": "{}"});
    let r = c
        .handle(request(
            "POST",
            "/console/api/events",
            LOOPBACK,
            &h,
            &sixth.to_string(),
        ))
        .await;
    assert_eq!(r.status(), 400);
    assert!(text(r).await.contains("5 saved test events"));
    let not_json =
        json!({"Namespace": "default", "FunctionName": "hello", "Name": "e0", "Event": "{"});
    let r = c
        .handle(request(
            "POST",
            "/console/api/events",
            LOOPBACK,
            &h,
            &not_json.to_string(),
        ))
        .await;
    assert_eq!(r.status(), 400);
    let del = json!({"Namespace": "default", "FunctionName": "hello", "Name": "e0"});
    let r = c
        .handle(request(
            "POST",
            "/console/api/events/delete",
            LOOPBACK,
            &h,
            &del.to_string(),
        ))
        .await;
    assert_eq!(text(r).await, r#"{"deleted":true}"#);
    let (_, list) = get_json(&c, "/console/api/events?FunctionName=hello", &[]).await;
    let names: Vec<&str> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["e1", "e2", "e3", "e4"]);
}
