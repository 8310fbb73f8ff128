//! `MemUsage`: what the invoker measures by default, and a handler's own report.

use crate::common;

use common::{function, invoker};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{InvokeRequest, MemSource};
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
                    assert!(ctx.report_mem_usage(3_207_168));
                    let on_thread = ctx.clone();
                    let reported =
                        std::thread::spawn(move || on_thread.report_mem_usage(8_253_440))
                            .join()
                            .unwrap();
                    assert!(reported, "the context reports from any thread");
                    let hostless = Context::default();
                    assert!(
                        !hostless.report_mem_usage(1),
                        "a context without a host reports nothing"
                    );
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
