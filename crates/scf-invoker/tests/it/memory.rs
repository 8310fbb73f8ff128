//! `MemUsage`: what the invoker measures by default, and a handler's own report.

use crate::common;

use common::{function, invoker};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{report_mem_usage, InvokeRequest, MemSource};
use serde_json::Value;

#[tokio::test]
async fn without_the_counting_allocator_the_process_rss_is_reported() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("echo"), handler_fn(common::echo))
        .unwrap();
    let response = invoker
        .invoke(InvokeRequest::new("echo", "{}"))
        .await
        .unwrap();
    assert_eq!(response.mem_source, MemSource::ProcessRss);
    assert!(response.mem_usage_bytes > 1024 * 1024);
    let record = &invoker.request_logs(&response.request_id).await.unwrap()[0];
    assert_eq!(record.mem_usage_bytes, response.mem_usage_bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_reported_figure_wins_also_from_its_own_threads() {
    for mode in common::MODES {
        let invoker = invoker(mode);
        invoker
            .add_function(
                function("runtime"),
                handler_fn(|_: Value, ctx: Context| async move {
                    assert!(report_mem_usage(3_207_168));
                    let task = ctx.wrap_thread_task(Box::new(|| {
                        assert!(
                            report_mem_usage(8_253_440),
                            "the hook makes the thread part of the invocation"
                        );
                    }));
                    std::thread::spawn(task).join().unwrap();
                    let outside = std::thread::spawn(|| report_mem_usage(1)).join().unwrap();
                    assert!(!outside, "an unwrapped thread is not in the invocation");
                    Ok::<_, FunctionError>(())
                }),
            )
            .unwrap();
        let response = invoker
            .invoke(InvokeRequest::new("runtime", "{}").with_log_type(scf_invoker::LogType::Tail))
            .await
            .unwrap();
        assert!(response.is_success(), "{}", response.err_msg);
        assert_eq!(response.mem_source, MemSource::Reported);
        assert_eq!(response.mem_usage_bytes, 8_253_440, "the largest report");
        assert!(
            response.log.contains("MemUsage:7.87109375MB"),
            "{}",
            response.log
        );
    }
}
