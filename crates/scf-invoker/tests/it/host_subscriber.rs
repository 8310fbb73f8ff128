//! The invoker installs nothing global: an application that sets its own global `tracing`
//! subscriber (`tracing_subscriber::fmt::init()`) before or after `Invoker::new` does not
//! panic, prints its own lines, sees its functions' lines, and the functions' lines
//! (`tracing`, and `log` through fmt's bridge; async, blocking and on an extra thread)
//! are in their SCF logs. Global state is per process, so the application is a child
//! process: the `#[ignore]`d entry below, started with `--exact NAME --ignored`.

use std::process::Command;

use scf_context::{Context, FunctionConfig};
use scf_handler::{blocking_fn, handler_fn, FunctionError};
use scf_invoker::{Execution, InvokeRequest, Invoker, InvokerConfig, LogType};
use serde_json::Value;

const APP_TEST: &str = "host_subscriber::application_process";
const ORDER_VAR: &str = "SCF_TEST_APP_SUBSCRIBER";
const BEGIN: &str = "=== SCF LOG ";
const END: &str = "=== END";

async fn chatty(event: Value, ctx: Context) -> Result<Value, FunctionError> {
    let n = &event["n"];
    tracing::info!("function tracing line {n}");
    log::info!("function log line {n}");
    tokio::task::yield_now().await;
    let task = ctx.wrap_thread_task(Box::new(move || {
        tracing::warn!("function thread line");
    }));
    std::thread::spawn(task).join().ok();
    Ok(event)
}

fn blocking(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    tracing::info!("blocking function line");
    log::warn!("blocking function log line");
    Ok(event)
}

async fn invoke_all(invoker: &Invoker, n: u32) {
    for name in ["chatty", "blocking"] {
        let request =
            InvokeRequest::new(name, format!(r#"{{"n":{n}}}"#)).with_log_type(LogType::Tail);
        let response = invoker.invoke(request).await.unwrap();
        assert_eq!(response.status.code(), 200, "{}", response.ret_msg);
        println!("{BEGIN}{name} {n}\n{}\n{END}", response.log);
    }
}

/// Not a test: the application of the tests below. `ORDER_VAR` says when it installs its
/// subscriber: `after` (an invoker made and used first) or `before`.
#[test]
#[ignore = "a helper process, started by the tests of this module"]
fn application_process() {
    let Ok(order) = std::env::var(ORDER_VAR) else {
        panic!("{APP_TEST} is the application process of the host subscriber tests, not a test: it runs only with {ORDER_VAR} set");
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        if order == "before" {
            tracing_subscriber::fmt::init();
        }
        for execution in [Execution::Isolated, Execution::Inline] {
            let mut config = InvokerConfig::default();
            config.execution = execution;
            let invoker = Invoker::new(config).unwrap();
            invoker
                .add_function(FunctionConfig::new("chatty"), handler_fn(chatty))
                .unwrap();
            invoker
                .add_function(FunctionConfig::new("blocking"), blocking_fn(blocking))
                .unwrap();
            invoke_all(&invoker, 1).await;
            if order == "after" && execution == Execution::Isolated {
                // Would panic with SetGlobalDefaultError if the invoker had set one.
                tracing_subscriber::fmt::init();
            }
            tracing::info!("application line {execution:?}");
            invoke_all(&invoker, 2).await;
        }
    });
}

struct AppRun {
    /// The SCF logs of the second round of invocations (the app's subscriber set).
    scf_logs: Vec<String>,
    /// What the application's subscriber printed (stdout outside the SCF logs).
    app_output: String,
}

fn run_application(order: &str) -> AppRun {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", APP_TEST, "--ignored", "--nocapture"])
        .env(ORDER_VAR, order)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "application ({order}) failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let mut scf_logs = Vec::new();
    let mut app_output = String::new();
    let mut current: Option<(bool, String)> = None;
    for line in stdout.lines() {
        if let Some(head) = line.strip_prefix(BEGIN) {
            current = Some((head.ends_with(" 2"), String::new()));
        } else if line == END {
            let (second, log) = current.take().unwrap();
            if second {
                scf_logs.push(log);
            }
        } else if let Some((_, log)) = &mut current {
            log.push_str(line);
            log.push('\n');
        } else {
            app_output.push_str(line);
            app_output.push('\n');
        }
    }
    assert_eq!(scf_logs.len(), 4, "{stdout}");
    AppRun {
        scf_logs,
        app_output,
    }
}

fn assert_function_lines_in_scf_logs(run: &AppRun) {
    for (i, log) in run.scf_logs.iter().enumerate() {
        if i % 2 == 0 {
            assert!(log.contains("\t[INFO]\tfunction tracing line 2"), "{log}");
            assert!(log.contains("\t[INFO]\tfunction log line 2"), "{log}");
            assert!(log.contains("\t[WARN]\tfunction thread line"), "{log}");
        } else {
            assert!(log.contains("\t[INFO]\tblocking function line"), "{log}");
            assert!(
                log.contains("\t[WARN]\tblocking function log line"),
                "{log}"
            );
        }
    }
}

fn assert_app_sees_its_own_and_the_functions_lines(run: &AppRun) {
    let app = &run.app_output;
    for want in [
        "application line Isolated",
        "application line Inline",
        "function tracing line 2",
        "function log line 2",
        "function thread line",
        "blocking function line",
        "blocking function log line",
    ] {
        assert!(
            app.lines().any(|l| l.contains(want) && !l.contains('\t')),
            "the application's subscriber did not print {want:?}:\n{app}"
        );
    }
}

#[test]
fn an_app_that_calls_fmt_init_after_invoker_new_keeps_its_lines_and_the_functions_logs() {
    let run = run_application("after");
    assert_function_lines_in_scf_logs(&run);
    assert_app_sees_its_own_and_the_functions_lines(&run);
}

#[test]
fn an_app_that_calls_fmt_init_before_invoker_new_keeps_its_lines_and_the_functions_logs() {
    let run = run_application("before");
    assert_function_lines_in_scf_logs(&run);
    assert_app_sees_its_own_and_the_functions_lines(&run);
}
