//! Real processes sharing one SQLite file as one async queue: two workers under load, one
//! killed with SIGKILL mid-way and started again later. Every accepted event ends, none
//! stays RUNNING, each duplicate run is explained by a lost lease (the interrupted attempt
//! is recorded with RetCode 3 and the event ran again with the next RetryNum), and a retry
//! scheduled before the kill runs after it, on time.
//!
//! The workers are this test binary re-executed as [`worker_process`], an `#[ignore]`d
//! entry point that fails when run alone.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scf_context::{Context, FunctionConfig, RetryConfig};
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{Invoker, InvokerConfig};
use scf_store::{AsyncEvent, AsyncQueue, AsyncStatus, LogStore};
use scf_store_sqlite::SqliteStore;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The full name of [`worker_process`] in the test binary.
const WORKER_TEST: &str = "kill9::worker_process";
/// The SQLite file the worker serves (set by the parent).
const DB_VAR: &str = "SCF_KILL9_DB";
/// The file each run of a function appends a line to: `id worker`.
const RUNS_VAR: &str = "SCF_KILL9_RUNS";
/// The worker's name, in the runs file and its lease.
const NAME_VAR: &str = "SCF_KILL9_NAME";
const READY: &str = "SCF-KILL9-WORKER-READY";

/// Lease and renewal of the workers: a dead worker's events run again within ~1 s.
const LEASE: Duration = Duration::from_secs(1);
const RENEWAL: Duration = Duration::from_millis(200);
/// The retry interval of the `flaky` function, long enough to kill its worker in it.
const RETRY_INTERVAL: Duration = Duration::from_secs(3);

fn functions() -> [FunctionConfig; 2] {
    let job = FunctionConfig::new("job");
    let mut flaky = FunctionConfig::new("flaky");
    flaky.retry = RetryConfig::new(2, RETRY_INTERVAL);
    [job, flaky]
}

/// Not a test: one worker process of the tests below, serving the queue in `DB_VAR` until
/// it is killed.
#[test]
#[ignore = "a helper process, started by the kill -9 tests of this module"]
fn worker_process() {
    let (Ok(db), Ok(runs), Ok(name)) = (
        std::env::var(DB_VAR),
        std::env::var(RUNS_VAR),
        std::env::var(NAME_VAR),
    ) else {
        panic!("{WORKER_TEST} is the helper process of the kill -9 tests, not a test: it runs only with {DB_VAR}, {RUNS_VAR} and {NAME_VAR} set");
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        let mut config = InvokerConfig::default().with_store(store);
        config.node_id = name.clone();
        config.lease = LEASE;
        config.lease_renewal = RENEWAL;
        config.async_poll = Duration::from_millis(100);
        config.async_workers = 8;
        let invoker = Invoker::new(config).unwrap();
        let [job, flaky] = functions();
        let log = |runs: &str, name: &str| {
            let (runs, name) = (runs.to_owned(), name.to_owned());
            move |id: &str| {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&runs)
                    .unwrap();
                // One write per line: O_APPEND keeps lines of both processes whole.
                f.write_all(format!("{id} {name}\n").as_bytes()).unwrap();
            }
        };
        let record = log(&runs, &name);
        invoker
            .add_function(
                job,
                handler_fn(move |event: Value, ctx: Context| {
                    record(&ctx.request_id);
                    async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok::<_, FunctionError>(event)
                    }
                }),
            )
            .unwrap();
        let record = log(&runs, &name);
        invoker
            .add_function(
                flaky,
                handler_fn(move |_: Value, ctx: Context| {
                    let first =
                        !std::fs::read_to_string(std::env::var(RUNS_VAR).unwrap_or_default())
                            .unwrap_or_default()
                            .lines()
                            .any(|l| l.starts_with(&format!("{} ", ctx.request_id)));
                    record(&ctx.request_id);
                    async move {
                        if first {
                            Err(FunctionError::new("FlakyError", "the first attempt fails"))
                        } else {
                            Ok(json!("second time lucky"))
                        }
                    }
                }),
            )
            .unwrap();
        invoker.recover().await.unwrap();
        println!("{READY}");
        std::future::pending::<()>().await;
    });
}

/// A worker process on `db`, started and ready.
fn start_worker(db: &Path, runs: &Path, name: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", WORKER_TEST, "--ignored", "--nocapture"])
        .env(DB_VAR, db)
        .env(RUNS_VAR, runs)
        .env(NAME_VAR, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.any(|l| l.is_ok_and(|l| l.contains(READY)));
    assert!(ready, "worker {name} did not start");
    // Keep reading (and dropping) its output so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn event(id: &str, function: &str, n: u64) -> AsyncEvent {
    AsyncEvent::new(
        id,
        function,
        "default",
        "$LATEST",
        "OTHERS",
        OffsetDateTime::now_utc(),
        json!({ "n": n }).to_string(),
    )
}

/// `id → [worker]` of every run in the runs file, in the order they started.
fn runs(path: &Path) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let mut fields = line.split(' ');
        if let (Some(id), Some(worker)) = (fields.next(), fields.next()) {
            out.entry(id.to_owned())
                .or_default()
                .push(worker.to_owned());
        }
    }
    out
}

/// Waits until no event is RUNNING; the unfinished ones after `limit`.
fn wait_until_all_ended(store: &SqliteStore, limit: Duration) -> Vec<AsyncEvent> {
    let end = Instant::now() + limit;
    loop {
        let left = store.unfinished().unwrap();
        if left.is_empty() || Instant::now() > end {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_workers_on_one_file_survive_a_kill_9_and_every_duplicate_is_a_lost_lease() {
    const EVENTS: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.sqlite");
    let runs_file = dir.path().join("runs.txt");
    let store = SqliteStore::open(&db).unwrap();
    store.enqueue(&event("flaky-1", "flaky", 0)).unwrap();
    for n in 0..EVENTS {
        store
            .enqueue(&event(&format!("job-{n}"), "job", n as u64))
            .unwrap();
    }

    let mut a = start_worker(&db, &runs_file, "a");
    let mut b = start_worker(&db, &runs_file, "b");
    // Mid-way: a has run some and holds some, and `flaky-1` failed once and waits in the
    // store for its retry (3 s), wherever it ran.
    let midway = Instant::now() + Duration::from_secs(10);
    let retry_waits = || {
        AsyncQueue::get_async(&store, "flaky-1")
            .unwrap()
            .is_some_and(|e| e.status == AsyncStatus::Running && e.status_code != 0)
    };
    while runs(&runs_file).len() < EVENTS / 4 || !retry_waits() {
        assert!(Instant::now() < midway, "the workers did not get going");
        std::thread::sleep(Duration::from_millis(20));
    }
    let flaky_failed_at = Instant::now();
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();
    let ran_before_restart = runs(&runs_file).len();
    std::thread::sleep(Duration::from_millis(500));
    let mut a = start_worker(&db, &runs_file, "a2");

    let left = wait_until_all_ended(&store, Duration::from_secs(60));
    b.kill().unwrap();
    a.kill().unwrap();
    let _ = (b.wait(), a.wait());
    assert!(left.is_empty(), "events still RUNNING: {left:?}");
    assert!(ran_before_restart < EVENTS, "the kill came mid-way");

    let runs = runs(&runs_file);
    let mut duplicates = 0;
    let mut lost = 0;
    for n in 0..EVENTS {
        let id = format!("job-{n}");
        let event = AsyncQueue::get_async(&store, &id).unwrap().unwrap();
        assert_eq!(event.status, AsyncStatus::Finished, "{id}");
        let ran = runs.get(&id).map_or(0, Vec::len);
        assert!(ran >= 1, "{id} never ran");
        let records = store.get(&id).unwrap();
        let codes: Vec<(u32, i64)> = records.iter().map(|r| (r.retry_num, r.ret_code)).collect();
        let lost_a_lease = event.attempts == 2;
        if lost_a_lease {
            lost += 1;
            // a died holding it: the next claim ran RetryNum 1, which finished. If a had
            // started it, that run's record is closed as interrupted (RetCode 3), unless a
            // died before its writer committed the running record.
            assert_eq!(codes.last(), Some(&(1, 0)), "{id}: {codes:?}");
            assert!(
                codes == [(0, 3), (1, 0)] || codes == [(1, 0)],
                "{id}: {codes:?}"
            );
            if ran == 2 {
                duplicates += 1;
                assert_eq!(runs[&id][0], "a", "only a's runs were cut short: {id}");
            }
            assert!(ran <= 2, "{id} ran {ran} times: {codes:?}");
        } else {
            assert_eq!(event.attempts, 1, "{id}");
            assert_eq!(ran, 1, "{id} ran {ran} times with one attempt: {codes:?}");
            assert_eq!(codes, [(0, 0)], "{id}");
        }
    }
    // a held at most its 8 workers' claims when it died, and under this load it held some.
    eprintln!("kill -9: {lost} leases lost, {duplicates} duplicate runs, of {EVENTS} events");
    assert!(
        lost >= 1,
        "a held no event when it was killed: the test proved nothing"
    );
    assert!(
        lost <= 8,
        "{lost} leases lost, more than a's 8 workers held"
    );

    // The retry scheduled before the kill ran after it, once, on time, and finished.
    let flaky = AsyncQueue::get_async(&store, "flaky-1").unwrap().unwrap();
    assert_eq!(flaky.status, AsyncStatus::Finished);
    let records = store.get("flaky-1").unwrap();
    let attempts: Vec<(u32, bool)> = records
        .iter()
        .map(|r| (r.retry_num, r.ret_code == 0))
        .collect();
    assert_eq!(
        attempts,
        [(0, false), (1, true)],
        "one failure, one retry that finished"
    );
    let gap = records[1].start_time - records[0].start_time;
    assert!(
        gap >= time::Duration::try_from(RETRY_INTERVAL).unwrap(),
        "the retry started {gap} after the failure, before the interval"
    );
    assert!(
        flaky_failed_at.elapsed() < Duration::from_secs(60),
        "the retry ran in the test's time"
    );
}
