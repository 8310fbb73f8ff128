//! The console of `scf serve`, driven in a real headless Chromium through WebDriver: the
//! test page (and the warm instance it leaves), the failure filter of the logs,
//! terminating an async event, the monitoring chart and its throttle series, and the
//! sign-in with credentials (and a forged cross-site POST refused).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::browser::{available, Browser};
use crate::common::{http, Served};

fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console/template.yaml")
}

fn serve(data: &Path, extra: &[&str]) -> Served {
    Served::start(&template(), data, extra)
}

/// Invokes `function` from its test page with `event`, synchronously; the result's text.
async fn invoke_from_test_page(b: &Browser, base: &str, function: &str, event: &str) -> String {
    b.goto(&format!("{base}/console/#/function/default/{function}"))
        .await;
    b.wait_for("#event-editor").await;
    b.set_value("#event-editor", event).await;
    b.click("#invoke-button").await;
    b.wait_for_text("#invoke-result", |t| t.contains("Request id"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_page_invokes_hello_and_shows_abctest_and_its_log() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &[]);
    let base = format!("http://{}", served.addr);
    let b = Browser::start().await;

    // An event that is not JSON is refused before anything is sent.
    b.goto(&format!("{base}/console/#/function/default/hello"))
        .await;
    b.wait_for("#event-editor").await;
    b.set_value("#event-editor", "{\"key\": ").await;
    let problem = b
        .wait_for_text("#event-error", |t| t.contains("not valid JSON"))
        .await;
    assert!(problem.contains("not valid JSON"), "{problem}");
    b.click("#invoke-button").await;
    assert_eq!(
        b.attr("#invoke-result", "hidden").await.as_deref(),
        Some("true")
    );

    // The templates of `scf generate-event` are offered.
    let templates = b
        .wait_for_text("#event-template", |t| t.contains("cos put"))
        .await;
    assert!(
        templates.contains("Hello World") && templates.contains("apigateway proxy"),
        "{templates}"
    );

    let result = invoke_from_test_page(&b, &base, "hello", r#"{"key":"abctest"}"#).await;
    let retmsg = b.wait_for_text("#result-retmsg", |t| !t.is_empty()).await;
    assert_eq!(retmsg, "\"abctest\"", "{result}");
    let log = b
        .wait_for_text("#result-log", |t| t.contains("Report RequestId"))
        .await;
    assert!(log.contains("START RequestId:"), "{log}");
    assert!(
        log.contains("'key': 'abctest'"),
        "the function's print is in the log: {log}"
    );
    assert_eq!(
        b.wait_for_text("#result-status", |t| !t.is_empty()).await,
        "200"
    );
    assert!(b
        .wait_for_text("#result-billed", |t| t.ends_with(" ms"))
        .await
        .ends_with(" ms"));
    assert!(b
        .wait_for_text("#result-memory", |t| t.contains('B'))
        .await
        .contains('B'));
    b.screenshot("function.png").await;

    // The event is saved (in the store), and after a reload loads back into the editor.
    b.set_value("#saved-name", "abctest event").await;
    b.click("#save-event").await;
    let saved = "span.saved-event[data-name=\"abctest event\"]";
    b.wait_for(saved).await;
    b.goto(&format!("{base}/console/#/functions")).await;
    b.goto(&format!("{base}/console/#/function/default/hello"))
        .await;
    b.set_value("#event-editor", "{}").await;
    b.click(&format!("{saved} button.load-event")).await;
    assert_eq!(b.value("#event-editor").await, r#"{"key":"abctest"}"#);

    // The functions page counts it.
    b.goto(&format!("{base}/console/#/functions")).await;
    let count = b
        .wait_for_text("tr[data-function=hello] td.invocations", |t| t == "1")
        .await;
    assert_eq!(count, "1");
    let row = b
        .wait_for_text("tr[data-function=hello]", |t| !t.is_empty())
        .await;
    assert!(
        row.contains("Python3.9") && row.contains("API Gateway ANY"),
        "{row}"
    );
    // Its Python instance stays warm after the invocation; nothing runs now.
    let browser = &b;
    let cell = move |function: &str, class: &str| {
        let css = format!("tr[data-function={function}] td.{class}");
        async move { browser.wait_for_text(&css, |t| !t.is_empty()).await }
    };
    assert_eq!(
        cell("hello", "warm").await,
        "1",
        "one warm instance of hello"
    );
    assert_eq!(cell("hello", "busy-instances").await, "0");
    assert_eq!(
        cell("slow", "warm").await,
        "0",
        "slow never ran: no instance"
    );
    b.screenshot("functions.png").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_invocation_is_found_with_the_failure_filter() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &[]);
    let base = format!("http://{}", served.addr);
    let b = Browser::start().await;

    invoke_from_test_page(&b, &base, "failing", "{}").await;
    let status = b.wait_for_text("#result-status", |t| !t.is_empty()).await;
    assert_eq!(status, "430");
    let failed_id = b
        .wait_for_text("#result-request-id", |t| !t.is_empty())
        .await;

    // Filter the logs of the function on failures, through the form.
    b.goto(&format!("{base}/console/#/logs")).await;
    b.set_value("#logs-function", "default/failing").await;
    b.set_value("#logs-filter", "not0").await;
    b.click("#logs-search").await;
    let row = format!("tr.log-row[data-request-id=\"{failed_id}\"]");
    b.wait_for(&row).await;
    assert_eq!(b.attr(&row, "data-ret-code").await.as_deref(), Some("1"));
    // The success filter does not show it.
    b.set_value("#logs-filter", "is0").await;
    b.click("#logs-search").await;
    b.wait_for_text("#logs-total", |t| t.starts_with("0 record"))
        .await;
    // The keyword search finds it by its log text.
    b.set_value("#logs-filter", "").await;
    b.set_value("#logs-keyword", "I failed!").await;
    b.click("#logs-search").await;
    b.wait_for(&row).await;
    b.screenshot("logs.png").await;
    // Its full log.
    b.click(&format!("{row} a.full-log")).await;
    let full = b
        .wait_for_text("pre.full-log-text", |t| t.contains("I failed!"))
        .await;
    assert!(
        full.contains(&format!("START RequestId:{failed_id}")),
        "{full}"
    );
    b.screenshot("log.png").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_event_to_a_slow_function_is_terminated_from_the_console() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &[]);
    let base = format!("http://{}", served.addr);
    let b = Browser::start().await;

    b.goto(&format!("{base}/console/#/function/default/slow"))
        .await;
    b.set_value("#event-editor", "{}").await;
    b.set_value("#invocation-type", "Event").await;
    b.click("#invoke-button").await;
    let id = b
        .wait_for_text("code#result-request-id", |t| !t.is_empty())
        .await;

    b.goto(&format!(
        "{base}/console/#/async?fn=default%2Fslow&status=RUNNING"
    ))
    .await;
    let row = format!("tr.async-row[data-request-id=\"{id}\"]");
    b.wait_for(&row).await;
    assert_eq!(
        b.attr(&row, "data-status").await.as_deref(),
        Some("RUNNING")
    );
    b.screenshot("async.png").await;
    b.click(&format!("{row} button.terminate")).await;
    // The page reloads the list: the RUNNING filter no longer shows it, the ABORTED one does.
    b.wait_until_gone(&row).await;
    b.goto(&format!(
        "{base}/console/#/async?fn=default%2Fslow&status=ABORTED"
    ))
    .await;
    b.wait_for(&row).await;
    assert_eq!(
        b.attr(&row, "data-status").await.as_deref(),
        Some("ABORTED")
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_chart_gains_points_when_the_function_runs() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &[]);
    let base = format!("http://{}", served.addr);
    let b = Browser::start().await;

    b.goto(&format!(
        "{base}/console/#/monitoring?fn=default%2Fhello&minutes=15"
    ))
    .await;
    b.wait_for("#chart-invocations .uplot").await;
    assert_eq!(
        b.attr("#mon-summary", "data-invocations").await.as_deref(),
        Some("0")
    );
    assert_eq!(
        b.attr("#chart-invocations", "data-points").await.as_deref(),
        Some("0")
    );

    for _ in 0..3 {
        let (status, _, body) = http(
            &served.addr,
            "POST",
            "/",
            &[
                ("X-TC-Action", "Invoke"),
                ("X-TC-Version", "2018-04-16"),
                ("Content-Type", "application/json"),
            ],
            r#"{"FunctionName":"hello","ClientContext":"{\"key\":\"abctest\"}"}"#,
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("abctest"), "{body}");
    }
    // The store commits in batches: refresh until the minute shows them.
    let mut invocations = String::new();
    for _ in 0..50 {
        b.click("#mon-refresh").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        invocations = b
            .attr("#mon-summary", "data-invocations")
            .await
            .unwrap_or_default();
        if invocations == "3" {
            break;
        }
    }
    assert_eq!(invocations, "3");
    let points: u32 = b
        .attr("#chart-invocations", "data-points")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(points >= 1, "{points}");
    let duration_points: u32 = b
        .attr("#chart-duration", "data-points")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(duration_points >= 1);
    b.screenshot("monitoring.png").await;

    // The whole deployment too.
    b.goto(&format!("{base}/console/#/monitoring?fn=&minutes=60"))
        .await;
    b.wait_for("#chart-invocations .uplot").await;
    assert_eq!(
        b.attr("#mon-summary", "data-invocations").await.as_deref(),
        Some("3")
    );
    b.close().await;
}

/// With a concurrency limit of 1, a sync call while an async event of the function runs
/// is refused with 432 (no log record) and shows in the monitoring chart's throttle
/// series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_invocation_shows_in_the_monitoring_throttle_series() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &["--default-concurrency", "1"]);
    let base = format!("http://{}", served.addr);
    let invoke = |invocation_type: &str| {
        http(
            &served.addr,
            "POST",
            "/",
            &[
                ("X-TC-Action", "Invoke"),
                ("X-TC-Version", "2018-04-16"),
                ("Content-Type", "application/json"),
            ],
            &format!(r#"{{"FunctionName":"slow","InvocationType":"{invocation_type}"}}"#),
        )
    };
    // The async event takes slow's one slot for 100 s.
    let (status, _, body) = invoke("Event");
    assert_eq!(status, 200, "{body}");
    let b = Browser::start().await;
    // Refused while it runs (it may take a moment to start).
    let mut refused = String::new();
    for _ in 0..100 {
        let (_, _, body) = invoke("RequestResponse");
        if body.contains("concurrency exceeded") {
            refused = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused.contains("LimitExceeded"), "{refused}");
    b.goto(&format!(
        "{base}/console/#/monitoring?fn=default%2Fslow&minutes=15"
    ))
    .await;
    b.wait_for("#chart-throttles .uplot").await;
    let mut total = String::new();
    for _ in 0..50 {
        total = b
            .attr("#chart-throttles", "data-total")
            .await
            .unwrap_or_default();
        if total == "1" {
            break;
        }
        b.click("#mon-refresh").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.wait_for("#chart-throttles .uplot").await;
    }
    assert_eq!(total, "1", "one throttle in the chart");
    b.scroll_to("#chart-throttles").await;
    b.screenshot("monitoring-throttles.png").await;
    // A throttle is not a log record: the function's log holds only the async event.
    b.goto(&format!("{base}/console/#/logs?fn=default%2Fslow"))
        .await;
    let shown = b
        .wait_for_text("#logs-total", |t| t.contains("record(s)"))
        .await;
    assert!(shown.starts_with("1 record(s)"), "{shown}");
    b.close().await;
}

/// A page on another origin whose form posts an `Invoke` to the console when it loads.
fn forged_page(console: &str) -> String {
    format!(
        "<!doctype html><html><body><form id=f method=post enctype=text/plain \
         action=\"http://{console}/console/api/action/Invoke\">\
         <input name='{{\"FunctionName\":\"hello\",\"ClientContext\":\"{{}}\",\"x\":\"' value='\"}}'></form>\
         <script>document.getElementById('f').submit()</script></body></html>"
    )
}

/// Serves `page` to every request on a free loopback port; returns the port.
fn serve_page(page: String) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_the_console_needs_a_sign_in_and_refuses_a_forged_cross_site_post() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let served = serve(
        dir.path(),
        &[
            "--secret-id",
            "AKIDconsoletest",
            "--secret-key",
            "console-secret-key",
        ],
    );
    let base = format!("http://{}", served.addr);
    let b = Browser::start().await;

    // Nothing without signing in: the page sends to the sign-in form, the JSON is 401.
    b.goto(&format!("{base}/console/")).await;
    b.wait_for("#login-form").await;
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/console/login"));
    let (status, _, _) = http(&served.addr, "GET", "/console/api/functions", &[], "");
    assert_eq!(status, 401);
    b.screenshot("login.png").await;

    // A wrong key is refused.
    b.set_value("#secret-id", "AKIDconsoletest").await;
    b.set_value("#secret-key", "wrong").await;
    b.click("#sign-in").await;
    let error = b.wait_for_text("#login-error", |t| !t.is_empty()).await;
    assert!(error.contains("wrong"), "{error}");

    // The right one signs in.
    b.set_value("#secret-id", "AKIDconsoletest").await;
    b.set_value("#secret-key", "console-secret-key").await;
    b.click("#sign-in").await;
    b.wait_for("tr[data-function=hello]").await;
    let who = b.wait_for_text("#who", |t| !t.is_empty()).await;
    assert!(who.contains("AKIDconsoletest"), "{who}");
    let cookies = b.client.get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == scf_console::SESSION_COOKIE)
        .expect("the session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.path(), Some("/console"));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");

    // A page of another origin (same host, another port: same-site, so the Strict
    // cookie goes along) posts an Invoke: refused, nothing runs.
    let port = serve_page(forged_page(&served.addr));
    b.goto(&format!("http://127.0.0.1:{port}/")).await;
    let refusal = b.wait_for_text("body", |t| t.contains("error")).await;
    assert!(refusal.contains("may not change anything"), "{refusal}");
    b.goto(&format!("{base}/console/#/functions")).await;
    let count = b
        .wait_for_text("tr[data-function=hello] td.invocations", |t| !t.is_empty())
        .await;
    assert_eq!(count, "0", "the forged POST invoked nothing");

    // Signing out ends the session.
    b.click("#sign-out").await;
    b.wait_for("#login-form").await;
    b.goto(&format!("{base}/console/")).await;
    b.wait_for("#login-form").await;
    b.close().await;
}
