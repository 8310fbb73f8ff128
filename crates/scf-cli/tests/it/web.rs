//! Web functions (`Type: HTTP`) served by `scf serve`: the Python (`http.server`) and
//! Node.js (`http`) examples behind API Gateway routes, beside the seed's event functions
//! from the same template; real processes, real sockets, in the sandbox the host allows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{api, request, Served};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/web-python/template.yaml")
}

/// `scf serve` on the example template; `None` when python3 or node is missing and skips
/// are allowed.
fn serve(env: &[(&str, &str)]) -> Option<(Served, tempfile::TempDir)> {
    if !scf_testkit::require(&scf_testkit::PYTHON3) || !scf_testkit::require(&scf_testkit::NODE) {
        return None;
    }
    let data = tempfile::tempdir().unwrap();
    let served = Served::start_with_env(&example(), data.path(), &[], env);
    Some((served, data))
}

fn all<'h>(headers: &'h [(String, String)], name: &str) -> Vec<&'h str> {
    headers
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The records of `function` in the store, once `n` of them are there.
fn logs(addr: &str, function: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let page = api(
            addr,
            "GetFunctionLogs",
            json!({"FunctionName": function, "Limit": 100}),
        );
        let data = page["Data"].as_array().cloned().unwrap_or_default();
        if data.len() >= n {
            return data;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("fewer than {n} records of {function}");
}

#[test]
fn python_and_node_web_functions_get_each_request_as_plain_http_and_answer_as_they_please() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    let addr = served.addr.clone();
    for prefix in ["/py", "/node"] {
        let (status, _, body) = request(&addr, "GET", &format!("{prefix}/"), &[], b"");
        assert_eq!(status, 200, "{prefix}");
        assert!(
            String::from_utf8_lossy(&body).starts_with("hello from a"),
            "{prefix}"
        );

        // POST with a JSON body, a query with a repeated key and an escaped space, headers.
        let (status, headers, body) = request(
            &addr,
            "POST",
            &format!("{prefix}/echo?x=1&x=2&y=a%20b"),
            &[
                ("Content-Type", "application/json"),
                ("X-Custom", "v1"),
                ("X-SCF-Spoof", "no"),
            ],
            br#"{"order":[1,2],"name":"\u00e9t\u00e9"}"#,
        );
        assert_eq!(status, 200, "{prefix}");
        assert_eq!(
            all(&headers, "content-type"),
            ["application/json"],
            "{prefix}"
        );
        let echo: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(echo["method"], "POST", "{prefix}");
        assert_eq!(echo["path"], format!("{prefix}/echo"), "{prefix}");
        assert_eq!(
            echo["query"],
            json!({"x": ["1", "2"], "y": ["a b"]}),
            "{prefix}"
        );
        assert_eq!(
            echo["json"],
            json!({"order": [1, 2], "name": "été"}),
            "{prefix}"
        );
        let sent = &echo["headers"];
        assert_eq!(sent["x-custom"], "v1", "{prefix}");
        assert!(
            sent.get("x-scf-spoof").is_none(),
            "x-scf-* is reserved: {sent}"
        );
        let request_id = sent["x-scf-request-id"].as_str().unwrap();
        assert_eq!(all(&headers, "x-scf-requestid"), [request_id], "{prefix}");

        // A binary body goes there and back byte for byte.
        let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let (status, headers, body) =
            request(&addr, "POST", &format!("{prefix}/binary"), &[], &binary);
        assert_eq!(status, 200, "{prefix}");
        assert_eq!(all(&headers, "content-type"), ["application/octet-stream"]);
        assert_eq!(body, binary, "{prefix}");

        // Repeated headers and cookies stay repeated, in order.
        let (status, headers, _) = request(&addr, "GET", &format!("{prefix}/cookies"), &[], b"");
        assert_eq!(status, 200);
        assert_eq!(
            all(&headers, "set-cookie"),
            ["a=1; Path=/", "b=2; HttpOnly"],
            "{prefix}"
        );
        assert_eq!(all(&headers, "x-multi"), ["one", "two"], "{prefix}");

        // The app's own 404 is its answer, not a gateway error.
        let (status, _, body) = request(&addr, "GET", &format!("{prefix}/nowhere"), &[], b"");
        assert_eq!(status, 404, "{prefix}");
        let answer: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["error"], "no such page", "{prefix}");
    }
}

#[test]
fn a_request_past_the_timeout_is_433_and_its_instance_is_killed() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    let addr = served.addr.clone();
    let (_, first, _) = request(&addr, "GET", "/py/", &[], b"");
    let (status, _, body) = request(&addr, "GET", "/py/slow?ms=6000", &[], b"");
    assert_eq!(status, 433);
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["statusCode"], 433);
    assert_eq!(error["errorMessage"], "time out");
    // The next request gets a new instance: the slow one was killed.
    let (status, after, _) = request(&addr, "GET", "/py/", &[], b"");
    assert_eq!(status, 200);
    assert_ne!(all(&first, "x-instance"), all(&after, "x-instance"));
}

#[test]
fn a_server_that_crashes_mid_request_is_405_and_the_next_request_gets_a_new_instance() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    let addr = served.addr.clone();
    for prefix in ["/py", "/node"] {
        let (_, first, _) = request(&addr, "GET", &format!("{prefix}/"), &[], b"");
        let (status, _, body) = request(&addr, "GET", &format!("{prefix}/crash"), &[], b"");
        assert_eq!(status, 405, "{prefix}: {}", String::from_utf8_lossy(&body));
        let error: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            error["errorMessage"], "ContainerStateExitedByUser",
            "{prefix}"
        );
        let trace = error["stackTrace"].as_str().unwrap();
        assert!(
            trace.contains("exited (exit status: 3)"),
            "{prefix}: {trace}"
        );
        let (status, after, _) = request(&addr, "GET", &format!("{prefix}/"), &[], b"");
        assert_eq!(status, 200, "{prefix}");
        assert_ne!(
            all(&first, "x-instance"),
            all(&after, "x-instance"),
            "{prefix}"
        );
    }
}

/// Three slow requests to one web function and one to the other, all at once.
fn concurrent_requests(addr: &str) {
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let addr = addr.to_owned();
            std::thread::spawn(move || request(&addr, "GET", "/py/slow?ms=1500", &[], b""))
        })
        .chain(std::iter::once({
            let addr = addr.to_owned();
            std::thread::spawn(move || request(&addr, "GET", "/node/slow?ms=1500", &[], b""))
        }))
        .collect();
    let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut instances = Vec::new();
    for (status, headers, body) in &answers {
        assert_eq!(*status, 200, "{}", String::from_utf8_lossy(body));
        assert_eq!(body, b"slept\n");
        instances.extend(all(headers, "x-instance").into_iter().map(str::to_owned));
    }
    instances.sort();
    instances.dedup();
    assert_eq!(
        instances.len(),
        4,
        "one instance per request at a time: {instances:?}"
    );
}

#[test]
fn three_concurrent_requests_to_one_web_function_run_on_three_instances_beside_another() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    concurrent_requests(&served.addr);
}

#[test]
fn without_a_private_network_namespace_each_instance_listens_on_the_port_in_port() {
    let Some((served, _data)) = serve(&[("SCF_SANDBOX", "no-netns")]) else {
        return;
    };
    concurrent_requests(&served.addr);
}

#[test]
fn the_seed_event_functions_are_served_beside_the_web_functions() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    for function in ["python-seed", "node-seed"] {
        let r = api(
            &served.addr,
            "Invoke",
            json!({"FunctionName": function, "ClientContext": "{\"key\":\"abctest\"}"}),
        );
        assert_eq!(r["Result"]["RetMsg"], "\"abctest\"", "{function}: {r}");
        assert_eq!(r["Result"]["InvokeResult"], 0, "{function}: {r}");
    }
}

#[test]
fn invoke_on_a_web_function_sends_an_api_gateway_event_as_its_request() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    let event = json!({"httpMethod": "GET", "path": "/cookies", "headers": {}, "queryString": {}});
    let r = api(
        &served.addr,
        "Invoke",
        json!({"FunctionName": "web-node", "ClientContext": event.to_string()}),
    );
    let result = &r["Result"];
    assert_eq!(result["InvokeResult"], 0, "{r}");
    let response: Value = serde_json::from_str(result["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(
        response["headers"]["set-cookie"],
        json!(["a=1; Path=/", "b=2; HttpOnly"])
    );
    assert_eq!(response["body"], "cookies set\n");
    assert_eq!(response["isBase64Encoded"], false);

    // Any other event is no HTTP request.
    let r = api(
        &served.addr,
        "Invoke",
        json!({"FunctionName": "web-node", "ClientContext": "{\"key\":\"abctest\"}"}),
    );
    assert_eq!(r["Result"]["InvokeResult"], 1, "{r}");
    let error: Value = serde_json::from_str(r["Result"]["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(error["statusCode"], 436, "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("httpMethod"),
        "{error}"
    );
}

#[test]
fn each_request_has_its_own_log_record_with_its_lines_and_the_first_an_init_report() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    let addr = served.addr.clone();
    let (_, h1, _) = request(&addr, "GET", "/py/", &[], b"");
    let (_, h2, _) = request(&addr, "GET", "/py/nowhere", &[], b"");
    let ids = [
        all(&h1, "x-scf-requestid")[0],
        all(&h2, "x-scf-requestid")[0],
    ];
    let records = logs(&addr, "web-python", 2);
    let find = |id: &str| {
        records
            .iter()
            .find(|r| r["RequestId"] == id)
            .unwrap_or_else(|| panic!("no record {id}: {records:?}"))
            .clone()
    };
    let first = find(ids[0]);
    let log = first["Log"].as_str().unwrap();
    assert!(
        log.contains("python web function listening on"),
        "init lines: {log}"
    );
    assert!(log.contains("Init Report"), "{log}");
    assert!(log.contains(&format!("hello request {}", ids[0])), "{log}");
    assert!(log.contains("\"GET /py/ HTTP/1.1\" 200"), "{log}");
    assert_eq!(first["RetCode"], 0);
    assert!(first["Duration"].as_f64().unwrap() > 0.0);
    let second = find(ids[1]);
    let log = second["Log"].as_str().unwrap();
    assert!(log.contains("\"GET /py/nowhere HTTP/1.1\" 404"), "{log}");
    assert!(
        !log.contains("Init Report") && !log.contains("hello request"),
        "{log}"
    );
    // The app's 404 is its answer: the invocation succeeded.
    assert_eq!(second["RetCode"], 0, "{second}");
}

#[test]
fn memory_over_the_limit_is_434_and_a_body_over_6_mb_is_410() {
    let Some((served, _data)) = serve(&[]) else {
        return;
    };
    let (status, _, body) = request(&served.addr, "GET", "/py/hog?mb=300", &[], b"");
    assert_eq!(status, 434, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = request(&served.addr, "GET", "/py/big?mb=7", &[], b"");
    assert_eq!(status, 410, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = request(&served.addr, "GET", "/py/big?mb=5", &[], b"");
    assert_eq!((status, body.len()), (200, 5 * 1024 * 1024));
}

#[test]
fn a_server_that_never_listens_is_446_and_one_that_exits_405_with_its_output_logged() {
    let data = tempfile::tempdir().unwrap();
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web/template.yaml");
    let served = Served::start(&template, data.path(), &[]);
    let (status, _, body) = request(&served.addr, "GET", "/deaf", &[], b"");
    assert_eq!(status, 446, "{}", String::from_utf8_lossy(&body));
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("port 9000"),
        "{error}"
    );
    let (status, _, body) = request(&served.addr, "GET", "/exits", &[], b"");
    assert_eq!(status, 405, "{}", String::from_utf8_lossy(&body));
    let records = logs(&served.addr, "exits", 1);
    let log = records[0]["Log"].as_str().unwrap();
    assert!(log.contains("starting, then giving up"), "{log}");
    let records = logs(&served.addr, "deaf", 1);
    assert!(records[0]["Log"]
        .as_str()
        .unwrap()
        .contains("running, not listening"));
}
