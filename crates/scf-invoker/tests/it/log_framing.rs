//! Each invocation's log follows SCF's platform framing.

use crate::common;

use common::{function, invoker, register_user};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{InvokeRequest, LogType};
use serde_json::Value;

#[tokio::test]
async fn a_successful_run_is_framed_start_lines_response_end_report() {
    let invoker = invoker(Default::default());
    let mut config = function("hello");
    config.memory_mb = 256;
    invoker
        .add_function(
            config,
            handler_fn(|_: Value, _: Context| async {
                tracing::info!("hello");
                Ok::<_, FunctionError>("Hello World")
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("hello", "{}").with_log_type(LogType::Tail))
        .await
        .unwrap();
    let id = &response.request_id;
    let lines: Vec<&str> = response.log.lines().collect();
    assert_eq!(lines.len(), 5, "{}", response.log);
    assert_eq!(lines[0], format!("START RequestId:{id}"));
    assert!(lines[1].ends_with(&format!("\t{id}\t[INFO]\thello")));
    assert_eq!(
        lines[2],
        format!("Response RequestId:{id} RetMsg:\"Hello World\"")
    );
    assert_eq!(lines[3], format!("END RequestId:{id}"));
    let report = lines[4];
    assert!(report.starts_with(&format!("Report RequestId:{id} Duration:")));
    assert!(report.contains("ms Memory:256MB MemUsage:"));
    assert!(report.ends_with("MB"));
    let stored = &invoker.request_logs(id).await.unwrap()[0];
    assert_eq!(stored.log, response.log, "the whole log is under 4 KB here");
}

#[tokio::test]
async fn a_failed_run_has_an_error_line_with_the_scf_error_json() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("register"), handler_fn(register_user))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("register", "{}").with_log_type(LogType::Tail))
        .await
        .unwrap();
    let id = &response.request_id;
    let lines: Vec<&str> = response.log.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], format!("START RequestId:{id}"));
    assert_eq!(
        lines[1],
        format!("ERROR RequestId:{id} Result:{}", response.err_msg)
    );
    assert_eq!(lines[2], format!("END RequestId:{id}"));
    assert!(lines[3].starts_with(&format!("Report RequestId:{id} Duration:")));
}

#[tokio::test]
async fn a_user_line_over_8_kb_is_cut() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(
            function("long"),
            handler_fn(|_: Value, _: Context| async {
                tracing::info!("{}", "y".repeat(20_000));
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("long", "{}"))
        .await
        .unwrap();
    let stored = &invoker.request_logs(&response.request_id).await.unwrap()[0];
    let longest = stored.log.lines().map(str::len).max().unwrap();
    assert_eq!(longest, 8 * 1024);
}
