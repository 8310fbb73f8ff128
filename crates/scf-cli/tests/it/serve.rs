//! `scf serve` run as a real process: gateway routes, the cloud API, timers, and Ctrl-C.

use crate::common;

use std::time::Duration;

use common::{api, http, project, run, scf, text, Served};
use scf_logs::LogRecord;
use scf_store::LogStore;
use scf_store_sqlite::SqliteStore;

#[test]
fn serve_prints_what_it_serves_and_answers_a_gateway_route() {
    let data = tempfile::tempdir().unwrap();
    let mut s = Served::start(&project(), data.path(), &[]);
    s.wait_for_line(
        |l| l.contains("route: ANY") && l.ends_with("/hello -> hello"),
        Duration::from_secs(1),
    );
    s.wait_for_line(
        |l| l.contains("timer: every_second * * * * * * * -> ticker"),
        Duration::from_secs(1),
    );
    let (status, head, body) = http(&s.addr, "GET", "/hello?x=1", &[], "");
    assert_eq!(status, 200, "{head}\n{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"path": "/hello", "method": "GET"})
    );
    let rid = head
        .lines()
        .find_map(|l| l.strip_prefix("x-scf-requestid: "))
        .expect("the function request id is echoed in a header")
        .to_string();
    // One line per invocation: request id, function, status, duration.
    let line = s.wait_for_line(|l| l.starts_with(&rid), Duration::from_secs(5));
    assert!(line.contains(" default/hello 200 "), "{line}");
    let (status, _, body) = http(&s.addr, "GET", "/nope", &[], "");
    assert_eq!(status, 404);
    assert!(body.contains("GET") && body.contains("/nope"), "{body}");
}

#[test]
fn serve_answers_the_cloud_api_invoke_action() {
    let data = tempfile::tempdir().unwrap();
    let s = Served::start(&project(), data.path(), &[]);
    let body =
        r#"{"FunctionName":"hello","ClientContext":"{\"key\":\"abctest\"}","LogType":"Tail"}"#;
    let headers = [
        ("Content-Type", "application/json"),
        ("X-TC-Action", "Invoke"),
        ("X-TC-Version", "2018-04-16"),
        ("X-TC-Region", "ap-guangzhou"),
    ];
    let (status, _, body) = http(&s.addr, "POST", "/", &headers, body);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let result = &v["Response"]["Result"];
    assert_eq!(result["RetMsg"], "\"abctest\"", "{v}");
    assert_eq!(result["InvokeResult"], 0);
    assert!(result["Log"].as_str().unwrap().contains("got event"), "{v}");
}

#[test]
fn timers_fire_on_their_schedule() {
    let data = tempfile::tempdir().unwrap();
    let mut s = Served::start(&project(), data.path(), &[]);
    // `* * * * * * *` fires every second: two runs within a few seconds.
    let first = s.wait_for_line(
        |l| l.contains(" default/ticker 200 ") && l.ends_with("async"),
        Duration::from_secs(10),
    );
    let second = s.wait_for_line(
        |l| l.contains(" default/ticker 200 ") && l.ends_with("async") && *l != first,
        Duration::from_secs(10),
    );
    assert_ne!(first, second);
}

#[test]
fn ctrl_c_finishes_in_flight_invocations_then_exits() {
    let data = tempfile::tempdir().unwrap();
    let mut s = Served::start(&project(), data.path(), &[]);
    let addr = s.addr.clone();
    let slow = std::thread::spawn(move || http(&addr, "GET", "/slow", &[], ""));
    // Let the request reach the function (it sleeps 1.5 s), then interrupt.
    std::thread::sleep(Duration::from_millis(700));
    s.interrupt();
    let (status, _, body) = slow.join().unwrap();
    assert_eq!((status, body.as_str()), (200, "slept"));
    s.wait_for_line(|l| l == "scf serve: stopped", Duration::from_secs(15));
    let code = s.child.wait().unwrap();
    assert!(code.success(), "{code:?}");
}

#[test]
fn log_retention_deletes_older_records_when_serve_starts() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join(scf_cli::project::STORE_FILE);
    let now = time::OffsetDateTime::now_utc();
    {
        let store = SqliteStore::open(&db).unwrap();
        for (id, age) in [("two-days-old", 48), ("one-hour-old", 1)] {
            let started = now - time::Duration::hours(age);
            let record = LogRecord::new("hello", "default", "$LATEST", id, started);
            store.put(record).unwrap();
        }
        store.flush().unwrap();
    }
    let mut served = Served::start(&project(), data.path(), &["--log-retention", "24h"]);
    let line = served.wait_for_line(|l| l.starts_with("  logs: "), Duration::from_secs(1));
    assert!(
        line.ends_with("(records kept 1d; async event statuses 3 days after they end)"),
        "{line}"
    );
    let store = SqliteStore::open(&db).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !store.get("two-days-old").unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the two-day-old record is still there"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(store.get("one-hour-old").unwrap().len(), 1);
}

#[test]
fn a_bad_log_retention_is_refused_naming_the_option() {
    let data = tempfile::tempdir().unwrap();
    let out = run(scf()
        .args(["serve", "-t"])
        .arg(project())
        .args(["--log-retention", "7 days", "--data-dir"])
        .arg(data.path()));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(r#"--log-retention "7 days": expected a number followed by s, m, h or d"#),
        "{err}"
    );
}

#[test]
fn two_serves_on_one_data_dir_share_logs_and_queue_and_fire_each_tick_once() {
    let data = tempfile::tempdir().unwrap();
    // Before `a` starts: `a` fires the timer on its own while `b` starts (a second or more
    // on a loaded machine), and those ticks count too.
    let started = std::time::Instant::now();
    let mut a = Served::start(&project(), data.path(), &[]);
    let mut b = Served::start(&project(), data.path(), &[]);

    // Async events accepted by `a` run once, on whichever process claims them.
    let ids: Vec<String> = (0..8)
        .map(|n| {
            let r = api(
                &a.addr,
                "Invoke",
                serde_json::json!({
                    "FunctionName": "hello",
                    "InvocationType": "Event",
                    "ClientContext": format!("{{\"key\":\"event-{n}\"}}"),
                }),
            );
            r["Result"]["FunctionRequestId"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_owned()
        })
        .collect();
    for id in &ids {
        let status = || {
            let r = api(
                &b.addr,
                "GetAsyncEventStatus",
                serde_json::json!({ "InvokeRequestId": id }),
            );
            r["Result"]["Status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let end = std::time::Instant::now() + Duration::from_secs(20);
        while status() != "FINISHED" {
            assert!(std::time::Instant::now() < end, "{id} did not finish");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let printed = |s: &mut Served, id: &str| {
        s.lines_so_far()
            .iter()
            .filter(|l| l.starts_with(id))
            .count()
    };
    for id in &ids {
        let runs = printed(&mut a, id) + printed(&mut b, id);
        assert_eq!(runs, 1, "{id} ran {runs} times between the two processes");
        // Both answer for the log of a request the other accepted or ran (once the
        // writer that has it committed: records are written in batches).
        for s in [&a, &b] {
            let logs = || {
                api(
                    &s.addr,
                    "GetFunctionLogs",
                    serde_json::json!({ "FunctionName": "hello", "FunctionRequestId": id }),
                )
            };
            let end = std::time::Instant::now() + Duration::from_secs(5);
            let mut r = logs();
            while r["TotalCount"] != 1 && std::time::Instant::now() < end {
                std::thread::sleep(Duration::from_millis(50));
                r = logs();
            }
            assert_eq!(r["TotalCount"], 1, "{}: {r}", s.addr);
        }
    }

    // The every-second timer fires once a tick between them, not once per process.
    std::thread::sleep(Duration::from_secs(4));
    let ticks = |s: &mut Served| {
        s.lines_so_far()
            .iter()
            .filter(|l| l.contains(" default/ticker 200 "))
            .count()
    };
    let fired = ticks(&mut a) + ticks(&mut b);
    let seconds = started.elapsed().as_secs() as usize;
    assert!(fired >= 3, "{fired} ticks in {seconds} s");
    assert!(
        fired <= seconds + 1,
        "{fired} ticks in {seconds} s: both processes fired the timer"
    );
    let r = api(
        &a.addr,
        "ListAsyncEvents",
        serde_json::json!({ "FunctionName": "ticker", "Limit": 100 }),
    );
    let mut seconds_fired: Vec<i64> = r["EventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let start = e["StartTime"].as_str().unwrap();
            // "2006-01-02 15:04:05.000": one tick a second.
            start[..19].replace(['-', ' ', ':'], "").parse().unwrap()
        })
        .collect();
    let events = seconds_fired.len();
    seconds_fired.dedup();
    assert_eq!(seconds_fired.len(), events, "two events in one second: {r}");
}

#[test]
fn an_empty_secret_key_or_id_is_refused_at_start_naming_it() {
    let data = tempfile::tempdir().unwrap();
    let flag = run(scf()
        .args(["serve", "-t"])
        .arg(project())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--secret-id",
            "AKIDx",
            "--secret-key",
            "",
            "--data-dir",
        ])
        .arg(data.path()));
    assert!(!flag.status.success());
    let err = text(&flag.stderr);
    assert!(
        err.contains("--secret-key (or TENCENTCLOUD_SECRET_KEY) is empty"),
        "{err}"
    );
    assert!(
        text(&flag.stdout).is_empty(),
        "nothing was served: {}",
        text(&flag.stdout)
    );

    let env = run(scf()
        .args(["serve", "-t"])
        .arg(project())
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("TENCENTCLOUD_SECRET_ID", "")
        .env("TENCENTCLOUD_SECRET_KEY", "key"));
    assert!(!env.status.success());
    let err = text(&env.stderr);
    assert!(
        err.contains("--secret-id (or TENCENTCLOUD_SECRET_ID) is empty"),
        "{err}"
    );
}

#[test]
fn a_refused_start_runs_nothing_from_the_queue() {
    use scf_store::{AsyncQueue, AsyncStatus};
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join(scf_cli::project::STORE_FILE);
    let ids: Vec<String> = (0..10).map(|i| format!("queued-{i}")).collect();
    {
        let store = SqliteStore::open(&db).unwrap();
        for id in &ids {
            let ev = scf_store::AsyncEvent::new(
                id,
                "hello",
                "default",
                "$LATEST",
                "OTHERS",
                time::OffsetDateTime::now_utc(),
                "{}",
            );
            store.enqueue(&ev).unwrap();
        }
    }
    // No credentials and a non-loopback address: refused.
    let out = run(scf()
        .args(["serve", "-t"])
        .arg(project())
        .args(["--listen", "0.0.0.0:0", "--data-dir"])
        .arg(data.path()));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("may listen on loopback only"), "{err}");
    // A port already taken: refused too.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(scf()
        .args(["serve", "-t"])
        .arg(project())
        .args(["--listen", &addr, "--data-dir"])
        .arg(data.path()));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("cannot listen on {addr}")),
        "{}",
        text(&out.stderr)
    );

    let store = SqliteStore::open(&db).unwrap();
    for id in &ids {
        let ev = store.get_async(id).unwrap().expect("still queued");
        assert_eq!(
            (ev.status, ev.attempts),
            (AsyncStatus::Running, 0),
            "{id} was claimed: {ev:?}"
        );
    }
    assert!(
        store.get(&ids[0]).unwrap().is_empty(),
        "no attempt was logged"
    );
}

#[test]
fn log_records_are_kept_seven_days_by_default_and_for_ever_with_off() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join(scf_cli::project::STORE_FILE);
    let now = time::OffsetDateTime::now_utc();
    {
        let store = SqliteStore::open(&db).unwrap();
        for (id, days) in [("eight-days-old", 8), ("six-days-old", 6)] {
            let started = now - time::Duration::days(days);
            store
                .put(LogRecord::new("hello", "default", "$LATEST", id, started))
                .unwrap();
        }
        store.flush().unwrap();
    }
    {
        let mut off = Served::start(&project(), data.path(), &["--log-retention", "off"]);
        let line = off.wait_for_line(|l| l.starts_with("  logs: "), Duration::from_secs(1));
        assert!(
            line.ends_with("(records kept until deleted: --log-retention off; async event statuses 3 days after they end)"),
            "{line}"
        );
        std::thread::sleep(Duration::from_millis(500));
        let store = SqliteStore::open(&db).unwrap();
        assert_eq!(
            store.get("eight-days-old").unwrap().len(),
            1,
            "off keeps everything"
        );
    }
    let mut served = Served::start(&project(), data.path(), &[]);
    let line = served.wait_for_line(|l| l.starts_with("  logs: "), Duration::from_secs(1));
    assert!(
        line.ends_with("(records kept 7d; async event statuses 3 days after they end)"),
        "{line}"
    );
    let store = SqliteStore::open(&db).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !store.get("eight-days-old").unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the eight-day-old record is still there"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(store.get("six-days-old").unwrap().len(), 1);
}

#[test]
fn health_and_metrics_can_have_a_listener_of_their_own_or_be_off() {
    use scf_cli::serve::Ops;
    assert_eq!(
        Ops::default_for("0.0.0.0:9000".parse().unwrap()),
        Ops::Listen("127.0.0.1:9001".parse().unwrap())
    );
    assert_eq!(
        Ops::default_for("127.0.0.1:9000".parse().unwrap()),
        Ops::Same
    );

    let data = tempfile::tempdir().unwrap();
    let ops = format!("127.0.0.1:{}", common::free_port());
    let mut s = Served::start(&project(), data.path(), &["--ops-listen", &ops]);
    let line = s.wait_for_line(
        |l| l.starts_with("  health and metrics: "),
        Duration::from_secs(1),
    );
    assert_eq!(
        line,
        format!("  health and metrics: GET http://{ops}/healthz, /metrics")
    );
    assert_eq!(http(&ops, "GET", "/metrics", &[], "").0, 200);
    assert_eq!(http(&ops, "GET", "/healthz", &[], "").0, 200);
    assert_eq!(http(&s.addr, "GET", "/metrics", &[], "").0, 404);
    drop(s);

    let mut off = Served::start(&project(), data.path(), &["--ops-listen", "off"]);
    off.wait_for_line(|l| l == "  health and metrics: off", Duration::from_secs(1));
    assert_eq!(http(&off.addr, "GET", "/metrics", &[], "").0, 404);
}
