//! Several `scf serve` processes on one store are one deployment, proved with real
//! processes on a shared store: async events accepted anywhere run once (or again only
//! after a node died holding them), every node answers the API the same, a timer fires
//! once per tick between them, and a deployment-wide concurrency limit holds across them.
//!
//! Each test runs twice, on the two stores a deployment can share ([`Backend`]): an
//! SQLite file, and a PostgreSQL server of the test's own (a [`scf_testkit::PgCluster`],
//! so that every run starts from an empty database). `database_restart` adds what only a
//! server can do: go away under load and come back.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{http, run, scf, text, Served};
use scf_cli::project::{open_store_url, SharedStore};
use scf_cli::store_url::StoreUrl;
use scf_store::{AsyncQuery, AsyncStatus, FunctionRef};
use serde_json::{json, Value};

fn template(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/deployment")
        .join(name)
}

/// Which store the nodes of a test share.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// The store the nodes of one test share, alive as long as the value.
pub(crate) enum Shared {
    Sqlite(tempfile::TempDir),
    Postgres(scf_testkit::PgCluster),
}

impl Shared {
    /// A new, empty store; `None` only when PostgreSQL is missing and skips are allowed.
    pub(crate) fn new(backend: Backend) -> Option<Shared> {
        match backend {
            Backend::Sqlite => Some(Shared::Sqlite(tempfile::tempdir().unwrap())),
            Backend::Postgres => {
                if !scf_testkit::require(&scf_testkit::POSTGRES) {
                    return None;
                }
                Some(Shared::Postgres(scf_testkit::PgCluster::start().unwrap()))
            }
        }
    }

    /// Its `--store` URL.
    pub(crate) fn url(&self) -> String {
        match self {
            Shared::Sqlite(dir) => format!("sqlite:{}", dir.path().join("shared.sqlite").display()),
            Shared::Postgres(cluster) => cluster.url(),
        }
    }
}

/// Two `#[test]`s of one test body, `$name::on_sqlite` and `$name::on_postgres`.
macro_rules! on_both_stores {
    ($(fn $name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($backend: Backend) $body

            #[test]
            fn on_sqlite() {
                run(Backend::Sqlite)
            }

            #[test]
            fn on_postgres() {
                run(Backend::Postgres)
            }
        }
    )*};
}

/// The test's own view of the shared store (what it reads node ids and attempts from).
pub(crate) fn open(url: &str) -> SharedStore {
    open_store_url(&url.parse::<StoreUrl>().unwrap(), None).unwrap()
}

/// One `scf serve` node: the process and its own data directory (scratch space).
struct Node {
    served: Served,
    id: String,
    _data: tempfile::TempDir,
}

impl Node {
    fn start(template: &Path, store: &str, id: &str, extra: &[&str]) -> Node {
        let data = tempfile::tempdir().unwrap();
        let mut args = vec!["--store", store, "--node-id", id];
        args.extend_from_slice(extra);
        let mut served = Served::start(template, data.path(), &args);
        let line = served.wait_for_line(|l| l.starts_with("  node: "), Duration::from_secs(1));
        assert!(line.starts_with(&format!("  node: {id} (")), "{line}");
        Node {
            served,
            id: id.to_owned(),
            _data: data,
        }
    }

    fn addr(&self) -> &str {
        &self.served.addr
    }

    /// The `Response` of an API 3.0 call (unauthenticated, as `scf serve` on loopback).
    fn api(&self, action: &str, body: Value) -> Value {
        api(self.addr(), action, &body)
    }
}

fn api(addr: &str, action: &str, body: &Value) -> Value {
    let headers = [
        ("Content-Type", "application/json"),
        ("X-TC-Action", action),
        ("X-TC-Version", "2018-04-16"),
        ("X-TC-Region", "ap-guangzhou"),
    ];
    let (status, _, text) = http(addr, "POST", "/", &headers, &body.to_string());
    assert_eq!(status, 200, "{action}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["Response"].clone()
}

/// An answer without its per-call `RequestId`, to compare answers of two nodes.
fn answer(mut response: Value) -> Value {
    if let Some(o) = response.as_object_mut() {
        o.remove("RequestId");
    }
    response
}

/// Sends an async `Invoke` of `function` with `event`; its `InvokeRequestId`.
fn invoke_event(addr: &str, function: &str, event: &Value) -> String {
    let r = api(
        addr,
        "Invoke",
        &json!({"FunctionName": function, "InvocationType": "Event", "ClientContext": event.to_string()}),
    );
    match r["Result"]["FunctionRequestId"].as_str() {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => panic!("async Invoke of {function} on {addr} was not accepted: {r}"),
    }
}

fn running_count(addr: &str, function: &str) -> u64 {
    let r = api(
        addr,
        "ListAsyncEvents",
        &json!({"FunctionName": function, "Status": ["RUNNING"], "Limit": 1}),
    );
    r["TotalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("ListAsyncEvents: {r}"))
}

fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Event `i` of the 1,000: events 400 to 499 take half a second, so that the nodes are
/// busy with them when the test kills one right after sending the 500th.
fn event(i: u32) -> Value {
    if (400..500).contains(&i) {
        json!({ "n": i, "sleep": 0.5 })
    } else {
        json!({ "n": i })
    }
}

/// Sends events `range` round robin over `addrs`, one thread per node; their ids.
fn send_events(addrs: &[String], range: std::ops::Range<u32>) -> Vec<String> {
    let n = addrs.len() as u32;
    std::thread::scope(|scope| {
        let senders: Vec<_> = addrs
            .iter()
            .enumerate()
            .map(|(k, addr)| {
                let range = range.clone();
                scope.spawn(move || {
                    range
                        .filter(|i| i % n == k as u32)
                        .map(|i| invoke_event(addr, "work", &event(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        senders
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect()
    })
}

on_both_stores! {
fn three_nodes_run_1000_async_events_through_a_kill_9_and_lose_none(backend) {
    let Some(shared) = Shared::new(backend) else {
        return;
    };
    let store = shared.url();
    let extra = ["--lease", "2s", "--default-concurrency", "4"];
    let t = template("template.yaml");
    let a = Node::start(&t, &store, "node-a", &extra);
    let b = Node::start(&t, &store, "node-b", &extra);
    let mut c = Node::start(&t, &store, "node-c", &extra);
    let started = Instant::now();
    let all = |nodes: &[&Node]| {
        nodes
            .iter()
            .map(|n| n.addr().to_owned())
            .collect::<Vec<_>>()
    };

    let mut accepted = send_events(&all(&[&a, &b, &c]), 0..500);
    // Mid-way, with events running on every node: kill -9 one of them.
    c.served.child.kill().unwrap();
    c.served.child.wait().unwrap();
    let killed = c.id.clone();
    accepted.extend(send_events(&all(&[&a, &b]), 500..750));
    // Later it comes back, as a new process (a new node id).
    c = Node::start(&t, &store, "node-c2", &extra);
    accepted.extend(send_events(&all(&[&a, &b, &c]), 750..1000));
    assert_eq!(accepted.len(), 1000);

    wait_until(Duration::from_secs(45), "every event ends", || {
        running_count(a.addr(), "work") == 0
    });
    let elapsed = started.elapsed();

    // Every accepted event ended FINISHED or FAILED: none lost, none left RUNNING.
    let total = |statuses: &[&str]| {
        api(
            b.addr(),
            "ListAsyncEvents",
            &json!({"FunctionName": "work", "Status": statuses, "Limit": 1}),
        )["TotalCount"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(total(&[]), 1000, "events in the queue");
    assert_eq!(total(&["FINISHED", "FAILED"]), 1000, "ended events");
    let view = open(&store);
    let mut by_node: std::collections::BTreeMap<String, u32> = Default::default();
    let (mut duplicates, mut reclaimed_unrun) = (0, 0);
    let mut finished_on_killed = Vec::new();
    for id in &accepted {
        let event = view
            .queue
            .get_async(id)
            .unwrap()
            .expect("an accepted event is stored");
        assert!(
            matches!(event.status, AsyncStatus::Finished | AsyncStatus::Failed),
            "{id}: {event:?}"
        );
        let records = view.log.get(id).unwrap();
        let last = records
            .last()
            .unwrap_or_else(|| panic!("{id} has no log record"));
        assert!(
            records.iter().all(|r| !r.is_running()),
            "{id}: a record left running: {records:?}"
        );
        assert_eq!(
            last.ret_code, 0,
            "{id}'s last attempt succeeded: {records:?}"
        );
        *by_node.entry(last.node.clone()).or_default() += 1;
        if last.node == killed {
            finished_on_killed.push(id.clone());
        }
        // A run twice is explained only by the lost lease of the killed node: every run but
        // the last is the killed node's.
        if records.len() > 1 {
            duplicates += 1;
            for r in &records[..records.len() - 1] {
                assert_eq!(
                    r.node, killed,
                    "{id}: an earlier run not on the killed node: {records:?}"
                );
            }
        }
        if event.attempts as usize > records.len() {
            // Claimed by the killed node and waiting for room when it died: re-claimed
            // once its lease ran out, never run twice.
            reclaimed_unrun += 1;
        }
    }
    eprintln!(
        "1000 events on 3 nodes (one killed): {elapsed:?}; last runs by node {by_node:?}; \
         {duplicates} run twice, {reclaimed_unrun} re-claimed unrun"
    );
    assert!(
        !finished_on_killed.is_empty(),
        "the killed node ran events before it died: {by_node:?}"
    );
    assert!(by_node.len() >= 3, "every node ran events: {by_node:?}");
    assert!(
        duplicates + reclaimed_unrun > 0,
        "the killed node held events when it died (its slow ones)"
    );
    // GetFunctionLogs on a surviving node returns the killed node's finished records.
    for id in finished_on_killed.iter().take(20) {
        let r = a.api(
            "GetFunctionLogs",
            json!({"FunctionName": "work", "FunctionRequestId": id}),
        );
        let data = r["Data"].as_array().unwrap_or_else(|| panic!("{r}"));
        assert!(
            data.iter()
                .any(|l| l["RequestId"] == id.as_str() && l["RetCode"] == 0),
            "{id} finished on {killed}, as node-a reports it: {r}"
        );
    }
}
}

on_both_stores! {
fn every_node_answers_the_api_the_same(backend) {
    let Some(shared) = Shared::new(backend) else {
        return;
    };
    let store = shared.url();
    let t = template("template.yaml");
    let a = Node::start(&t, &store, "node-a", &["--lease", "2s"]);
    let b = Node::start(&t, &store, "node-b", &["--lease", "2s"]);

    let sync = a.api(
        "Invoke",
        json!({"FunctionName": "work", "ClientContext": "{\"n\":1}"}),
    );
    let sync_id = sync["Result"]["FunctionRequestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = invoke_event(b.addr(), "work", &json!({"n": 2}));
    let sleepy = invoke_event(a.addr(), "sleepy", &json!({"secs": 30}));
    wait_until(Duration::from_secs(20), "the async work event ends", || {
        a.api("GetAsyncEventStatus", json!({"InvokeRequestId": done}))["Result"]["Status"]
            == "FINISHED"
    });
    // The sleepy event runs on some node; terminate it through the other one.
    wait_until(Duration::from_secs(20), "the sleepy event starts", || {
        let r = b.api(
            "GetRequestStatus",
            json!({"FunctionName": "sleepy", "FunctionRequestId": sleepy}),
        );
        r["Data"].as_array().is_some_and(|d| !d.is_empty())
    });
    let terminated = b.api(
        "TerminateAsyncEvent",
        json!({"FunctionName": "sleepy", "InvokeRequestId": sleepy}),
    );
    assert!(terminated.get("Error").is_none(), "{terminated}");
    // The holder learns it at its next renewal; let every record settle.
    std::thread::sleep(Duration::from_millis(1500));

    let queries = [
        (
            "GetFunctionLogs",
            json!({"FunctionName": "work", "Order": "asc"}),
        ),
        ("GetFunctionLogs", json!({"FunctionName": "sleepy"})),
        (
            "GetRequestStatus",
            json!({"FunctionName": "work", "FunctionRequestId": sync_id}),
        ),
        (
            "GetRequestStatus",
            json!({"FunctionName": "work", "FunctionRequestId": done}),
        ),
        ("GetAsyncEventStatus", json!({"InvokeRequestId": done})),
        ("GetAsyncEventStatus", json!({"InvokeRequestId": sleepy})),
        ("ListAsyncEvents", json!({"FunctionName": "work"})),
        ("ListAsyncEvents", json!({"FunctionName": "sleepy"})),
        // A second termination fails the same way on both.
        (
            "TerminateAsyncEvent",
            json!({"FunctionName": "sleepy", "InvokeRequestId": sleepy}),
        ),
    ];
    for (action, body) in queries {
        let on_a = answer(a.api(action, body.clone()));
        let on_b = answer(b.api(action, body.clone()));
        assert_eq!(on_a, on_b, "{action} {body} differs between the nodes");
        assert!(
            on_a.as_object().is_some_and(|o| !o.is_empty()),
            "{action}: {on_a}"
        );
    }
    let status = a.api("GetAsyncEventStatus", json!({"InvokeRequestId": sleepy}));
    assert_eq!(status["Result"]["Status"], "ABORTED", "{status}");
    let again = a.api(
        "TerminateAsyncEvent",
        json!({"FunctionName": "sleepy", "InvokeRequestId": sleepy}),
    );
    assert_eq!(
        again["Error"]["Code"], "FailedOperation.AsyncEventStatus",
        "{again}"
    );
    let logs = a.api("GetFunctionLogs", json!({"FunctionName": "work"}));
    assert_eq!(logs["TotalCount"], 2, "{logs}");
}
}

on_both_stores! {
fn a_timer_fires_once_per_tick_for_two_nodes(backend) {
    let Some(shared) = Shared::new(backend) else {
        return;
    };
    let store = shared.url();
    let t = template("timer.yaml");
    let a = Node::start(&t, &store, "node-a", &[]);
    let b = Node::start(&t, &store, "node-b", &[]);
    // Both nodes race for every tick from here on.
    std::thread::sleep(Duration::from_millis(4500));
    drop((a, b));
    let view = open(&store);
    let q = AsyncQuery {
        function_name: Some("ticker".into()),
        limit: 100,
        ..AsyncQuery::default()
    };
    let (total, events) = view.queue.list_async(&q).unwrap();
    let mut ticks: Vec<String> = events
        .iter()
        .map(|e| {
            let event: Value = serde_json::from_str(&e.event).unwrap();
            assert_eq!(e.invoke_type, "TRIGGER_TIMER");
            assert!(e.node == "node-a" || e.node == "node-b", "{e:?}");
            event["Time"].as_str().unwrap().to_owned()
        })
        .collect();
    ticks.sort();
    let fired = ticks.len();
    ticks.dedup();
    assert_eq!(ticks.len(), fired, "a tick fired twice: {ticks:?}");
    assert!(total >= 4, "ticks fired in 4.5 s of two nodes: {ticks:?}");
}
}

on_both_stores! {
fn a_deployment_wide_concurrency_limit_holds_across_two_nodes(backend) {
    let Some(shared) = Shared::new(backend) else {
        return;
    };
    let store = shared.url();
    let t = template("template.yaml");
    let extra = [
        "--concurrency",
        "deployment",
        "--default-concurrency",
        "2",
        "--lease",
        "2s",
    ];
    let a = Node::start(&t, &store, "node-a", &extra);
    let b = Node::start(&t, &store, "node-b", &extra);
    let call = |addr: String| {
        std::thread::spawn(move || api(&addr, "Invoke", &json!({"FunctionName": "slow"})))
    };
    let first = call(a.addr().to_owned());
    let second = call(b.addr().to_owned());
    let view = open(&store);
    let slow = FunctionRef::new("default", "slow");
    wait_until(Duration::from_secs(10), "both slots are held", || {
        view.slots
            .held_slots(&slow, time::OffsetDateTime::now_utc())
            .unwrap()
            == 2
    });
    // One runs on each node (each under its own limit of 2): a third is refused on both.
    for node in [&a, &b] {
        let refused = node.api("Invoke", json!({"FunctionName": "slow"}));
        assert_eq!(refused["Error"]["Code"], "LimitExceeded.Quota", "{refused}");
    }
    for call in [first, second] {
        let r = call.join().unwrap();
        assert_eq!(r["Result"]["RetMsg"], "\"slept\"", "{r}");
    }
    let r = b.api("Invoke", json!({"FunctionName": "slow"}));
    assert_eq!(
        r["Result"]["RetMsg"], "\"slept\"",
        "a slot is free again: {r}"
    );
}
}

#[test]
fn a_bad_store_url_or_node_id_is_one_line_and_a_failed_exit() {
    let data = tempfile::tempdir().unwrap();
    let t = template("template.yaml");
    for (args, expected) in [
        (
            vec!["--store", "mysql://db/scf"],
            r#"error: --store "mysql://db/scf": unknown scheme "mysql"; use sqlite:PATH or postgres://user@host:port/database"#,
        ),
        (
            vec!["--store", "postgres://scf:secret@db:70000/scf"],
            r#"error: --store "postgres://scf:***@db:70000/scf": port "70000" is not a number from 1 to 65535"#,
        ),
        (
            vec!["--store", "postgres://scf@db/"],
            r#"error: --store "postgres://scf@db/": names no database (postgres://user@host:port/DATABASE)"#,
        ),
        (
            vec!["--node-id", "a b"],
            r#"error: --node-id "a b": must be 1 to 64 characters of letters, digits, '.', '_' and '-'"#,
        ),
    ] {
        let out = run(scf()
            .args(["serve", "-t"])
            .arg(&t)
            .arg("--data-dir")
            .arg(data.path())
            .args(&args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr).trim_end(), expected, "{args:?}");
    }
}

#[test]
fn a_store_that_cannot_be_opened_is_refused_at_start_in_one_line() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("not-a-database.sqlite");
    std::fs::write(&db, vec![b'x'; 8192]).unwrap();
    let out = run(scf()
        .args(["serve", "-t"])
        .arg(template("template.yaml"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("--store")
        .arg(format!("sqlite:{}", db.display())));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: cannot open the store sqlite:{}: ",
            db.display()
        )),
        "{err}"
    );
}

/// The value of metric `name` in a node's `/metrics`.
fn metric(addr: &str, name: &str) -> u64 {
    let (status, _, text) = http(addr, "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// The database stopped and started again under load (`pg_ctl stop`, then start on the
/// same port): the node keeps serving sync invocations throughout, refuses an async
/// `Invoke` with a clear error while the queue cannot be written, reconnects by itself,
/// and afterwards the store holds a record of every invocation it answered (none lost).
#[test]
fn the_database_going_away_under_load_loses_no_record_and_refuses_async_clearly() {
    let Some(shared) = Shared::new(Backend::Postgres) else {
        return;
    };
    let Shared::Postgres(cluster) = &shared else {
        unreachable!()
    };
    let store = shared.url();
    let node = Node::start(&template("template.yaml"), &store, "node-a", &[]);
    let addr = node.addr().to_owned();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let answered = std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let mut answered = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = api(&addr, "Invoke", &json!({"FunctionName": "work", "ClientContext": json!({"n": answered}).to_string()}));
                assert_eq!(r["Result"]["InvokeResult"], 0, "a sync Invoke during the outage: {r}");
                assert_eq!(r["Result"]["RetMsg"], answered.to_string(), "{r}");
                answered += 1;
            }
            answered
        });
        std::thread::sleep(Duration::from_millis(700));
        cluster.stop().unwrap();
        // While the database is away: the queue cannot be written, so an async Invoke is
        // refused, and says why.
        let refused = api(
            &addr,
            "Invoke",
            &json!({"FunctionName": "work", "InvocationType": "Event", "ClientContext": "{}"}),
        );
        assert_eq!(
            refused["Error"]["Code"], "InternalError.System",
            "{refused}"
        );
        let message = refused["Error"]["Message"].as_str().unwrap_or_default();
        assert!(
            message.contains("queue"),
            "the refusal names the queue: {refused}"
        );
        std::thread::sleep(Duration::from_millis(700));
        cluster.start_again().unwrap();
        std::thread::sleep(Duration::from_millis(700));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        load.join().unwrap()
    });
    assert!(answered > 10, "sync invocations answered: {answered}");
    // Back: async invocations are accepted again, and every answered invocation's record
    // reaches the database.
    wait_until(
        Duration::from_secs(20),
        "an async Invoke is accepted again",
        || {
            let r = api(
                &addr,
                "Invoke",
                &json!({"FunctionName": "sleepy", "InvocationType": "Event", "ClientContext": "{\"secs\": 0}"}),
            );
            r["Result"]["FunctionRequestId"].is_string()
        },
    );
    let mut total = 0;
    wait_until(
        Duration::from_secs(20),
        "every answered invocation's record is in the store",
        || {
            let logs = node.api(
                "GetFunctionLogs",
                json!({"FunctionName": "work", "Limit": 1}),
            );
            total = logs["TotalCount"].as_u64().unwrap_or(0);
            total == answered
        },
    );
    assert_eq!(metric(&addr, "scf_log_records_lost_total"), 0);
    assert_eq!(metric(&addr, "scf_log_records_buffered"), 0);
    drop(node);
}
