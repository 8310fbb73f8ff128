//! Panics: a handler that panics (in `call`, at its first poll or after an await) yields a
//! failed invocation with the panic message, and the invoker keeps serving.

use crate::common;

use std::time::Duration;

use common::{echo, function, invoker, MODES};
use scf_context::Context;
use scf_handler::{blocking_fn, handler_fn, FunctionError, FunctionStatus, Handler};
use scf_invoker::{InvokeRequest, Invoker, LogType};
use serde_json::Value;

/// Panics in `call` itself, before any future exists (a hand-written `Handler`).
struct PanicsInCall;

impl Handler for PanicsInCall {
    fn call<'a, 'b>(
        &'a self,
        _event: Value,
        _context: Context,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Value, FunctionError>> + Send + 'b>,
    >
    where
        'a: 'b,
    {
        panic!("panic in call")
    }
}

async fn assert_panicked(invoker: &Invoker, name: &str, message: &str) {
    let response = invoker
        .invoke(InvokeRequest::new(name, "{}").with_log_type(LogType::Tail))
        .await
        .unwrap();
    assert_eq!(response.status, FunctionStatus::UserCodeException, "{name}");
    assert_eq!(response.invoke_result, 1);
    let error: Value = serde_json::from_str(&response.err_msg).unwrap();
    assert_eq!(error["stackTrace"], format!("panic: {message}"));
    assert_eq!(error["errorMessage"], "user code exception caught");
    assert!(response.log.contains("ERROR RequestId:"));
    let record = &invoker.request_logs(&response.request_id).await.unwrap()[0];
    assert_eq!(record.status_code, 430);
    assert_eq!(record.ret_code, 1);
}

fn register_panickers(invoker: &Invoker) {
    invoker
        .add_function(
            function("first-poll"),
            handler_fn(|_: Value, _: Context| async {
                if true {
                    panic!("before the first await");
                }
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    invoker
        .add_function(
            function("after-await"),
            handler_fn(|_: Value, _: Context| async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let v: Vec<u8> = Vec::new();
                let _ = v[3];
                Ok::<_, FunctionError>(())
            }),
        )
        .unwrap();
    invoker
        .add_function(function("in-call"), PanicsInCall)
        .unwrap();
    invoker
        .add_function(
            function("blocking"),
            blocking_fn(|_: Value, _: Context| -> Result<(), FunctionError> {
                panic!("in a blocking handler")
            }),
        )
        .unwrap();
    invoker
        .add_function(function("echo"), handler_fn(echo))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_yields_a_failed_invocation_with_the_panic_message() {
    for mode in MODES {
        let invoker = invoker(mode);
        register_panickers(&invoker);
        assert_panicked(&invoker, "first-poll", "before the first await").await;
        assert_panicked(
            &invoker,
            "after-await",
            "index out of bounds: the len is 0 but the index is 3",
        )
        .await;
        assert_panicked(&invoker, "in-call", "panic in call").await;
        assert_panicked(&invoker, "blocking", "in a blocking handler").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoker_keeps_serving_after_panics() {
    for mode in MODES {
        let invoker = invoker(mode);
        register_panickers(&invoker);
        for _ in 0..20 {
            for name in ["first-poll", "after-await", "in-call"] {
                let response = invoker
                    .invoke(InvokeRequest::new(name, "{}"))
                    .await
                    .unwrap();
                assert_eq!(response.status.code(), 430);
            }
            let ok = invoker
                .invoke(InvokeRequest::new("echo", "{}"))
                .await
                .unwrap();
            assert!(ok.is_success(), "{mode:?}");
        }
        assert_eq!(invoker.in_flight(), 0);
    }
}
