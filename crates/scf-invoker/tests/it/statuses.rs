//! Every function status the invoker produces, in one table: how each is reached and
//! whether it is a refusal (`InvokeError`, not recorded) or a run (`InvokeResponse`, recorded).

use crate::common;

use std::time::Duration;

use common::{echo, function, function_with_timeout_1s, invoker_with, register_user};
use scf_context::Context;
use scf_handler::{handler_fn, FunctionError, FunctionStatus};
use scf_invoker::{InvokeRequest, Invoker};
use serde_json::Value;

async fn code_of(invoker: &Invoker, request: InvokeRequest) -> (u16, bool) {
    match invoker.invoke(request).await {
        Ok(response) => (response.status.code(), true),
        Err(err) => (err.status().code(), false),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_is_produced_by_its_cause() {
    let invoker = invoker_with(|c| c.max_response_bytes = 100);
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
    invoker
        .add_function(function("register"), handler_fn(register_user))
        .unwrap();
    invoker
        .add_function(
            function_with_timeout_1s("sleeper"),
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    invoker
        .add_function(
            function("oom"),
            handler_fn(|_: Value, _: Context| async {
                Err::<(), _>(FunctionError::platform(
                    FunctionStatus::MemoryLimitReached,
                    "over 128 MB",
                ))
            }),
        )
        .unwrap();
    let mut single = function("single");
    single.max_concurrency = Some(1);
    invoker
        .add_function(
            single,
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    let busy = {
        let invoker = invoker.clone();
        tokio::spawn(async move { invoker.invoke(InvokeRequest::new("single", "{}")).await })
    };
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);

    let big = format!("\"{}\"", "x".repeat(200));
    let cases: Vec<(InvokeRequest, u16, bool)> = vec![
        (InvokeRequest::new("echo", "{}"), 200, true),
        (InvokeRequest::new("echo", "{nope"), 400, false),
        (
            InvokeRequest::new("echo", "x".repeat(7 * 1024 * 1024)),
            406,
            false,
        ),
        (InvokeRequest::new("echo", big), 407, true),
        (InvokeRequest::new("register", "{}"), 430, true),
        (InvokeRequest::new("single", "{}"), 432, false),
        (InvokeRequest::new("sleeper", "{}"), 433, true),
        (InvokeRequest::new("oom", "{}"), 434, true),
        (InvokeRequest::new("missing", "{}"), 435, false),
        (
            InvokeRequest::new("echo", "{}").with_qualifier("9"),
            442,
            false,
        ),
    ];
    for (request, code, ran) in cases {
        let name = request.function_name.clone();
        assert_eq!(
            code_of(&invoker, request).await,
            (code, ran),
            "{name} → {code}"
        );
    }
    assert!(busy.await.unwrap().unwrap().is_success());

    // 499: a terminated async event's attempt.
    invoker
        .add_function(
            function("endless"),
            handler_fn(|_: Value, _: Context| async {
                std::future::pending::<()>().await;
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    let id = invoker
        .invoke(InvokeRequest::event("endless", "{}"))
        .await
        .unwrap()
        .request_id;
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
    invoker.terminate(&id, "default", "endless").await.unwrap();
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 0).await);
    assert_eq!(invoker.request_logs(&id).await.unwrap()[0].status_code, 499);

    // 402: shutting down.
    invoker.shutdown(Duration::from_millis(10)).await;
    assert_eq!(
        code_of(&invoker, InvokeRequest::new("echo", "{}")).await,
        (402, false)
    );

    // Runs are recorded, refusals are not: 200, 407, 430, 433, 434, the busy 200, 499.
    let page = invoker.get_logs(Default::default()).await.unwrap();
    assert_eq!(page.total_count, 7);
}
