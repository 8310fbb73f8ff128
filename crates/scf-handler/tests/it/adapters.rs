//! Plain functions become handlers: typed input and output, errors that name the cause.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use scf_context::Context;
use scf_handler::{blocking_fn, handler_fn, FunctionError, FunctionStatus, Handler};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Event {
    key: String,
}

#[derive(Serialize)]
struct Reply {
    hello: String,
}

async fn echo(event: Event, _ctx: Context) -> Result<Reply, FunctionError> {
    Ok(Reply { hello: event.key })
}

async fn call(h: &impl Handler, event: Value) -> Result<Value, FunctionError> {
    h.call(event, Context::default()).await
}

#[tokio::test]
async fn event_key_reaches_a_typed_async_function() {
    let out = call(&handler_fn(echo), json!({"key": "abctest"}))
        .await
        .unwrap();
    assert_eq!(out, json!({"hello": "abctest"}));
}

#[tokio::test]
async fn arc_box_and_cooperative_wrappers_call_the_handler_they_wrap() {
    let event = json!({"key": "abctest"});
    let expected = json!({"hello": "abctest"});
    let arc = std::sync::Arc::new(handler_fn(echo));
    assert_eq!(call(&arc, event.clone()).await.unwrap(), expected);
    assert!(!arc.is_cooperative());
    let boxed: Box<dyn Handler> = Box::new(handler_fn(echo));
    assert_eq!(call(&boxed, event.clone()).await.unwrap(), expected);
    let coop = scf_handler::cooperative(handler_fn(echo));
    assert_eq!(call(&coop, event.clone()).await.unwrap(), expected);
    assert!(coop.is_cooperative());
    let shared = std::sync::Arc::new(coop);
    assert_eq!(call(&shared, event).await.unwrap(), expected);
    assert!(
        shared.is_cooperative(),
        "Arc keeps what it wraps cooperative"
    );
}

#[tokio::test]
async fn an_untyped_handler_gets_the_event_as_json() {
    let h = handler_fn(|event: Value, _ctx: Context| async move {
        Ok::<_, FunctionError>(event["key"].clone())
    });
    assert_eq!(
        call(&h, json!({"key": "abctest"})).await.unwrap(),
        json!("abctest")
    );
}

#[tokio::test]
async fn an_event_that_does_not_fit_names_the_json_path() {
    #[derive(Deserialize)]
    struct Deep {
        #[allow(dead_code)]
        records: Vec<Item>,
    }
    #[derive(Deserialize)]
    struct Item {
        #[allow(dead_code)]
        size: u64,
    }
    let h = handler_fn(|_e: Deep, _ctx: Context| async { Ok::<_, FunctionError>(()) });
    let err = call(&h, json!({"records": [{"size": 1}, {"size": "big"}]}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert_eq!(
        err.message(),
        "the event does not fit the handler's input type at `records[1].size`: invalid type: string \"big\", expected u64"
    );
    assert_eq!(err.status(), FunctionStatus::UserCodeException);
}

#[tokio::test]
async fn a_nan_return_value_is_refused_with_its_cause() {
    let h = handler_fn(|_e: Value, _ctx: Context| async {
        Ok::<_, FunctionError>(vec![1.0, f64::NAN])
    });
    let err = call(&h, json!({})).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidReturnValue");
    assert_eq!(
        err.message(),
        "the return value is not JSON: it contains the float NaN, which JSON cannot represent"
    );
}

#[tokio::test]
async fn a_map_with_non_string_keys_is_refused_with_its_cause() {
    let h = handler_fn(|_e: Value, _ctx: Context| async {
        let mut m = HashMap::new();
        m.insert(vec![1u8], 1);
        Ok::<_, FunctionError>(m)
    });
    let err = call(&h, json!({})).await.unwrap_err();
    assert_eq!(
        err.message(),
        "the return value is not JSON: key must be a string"
    );
}

#[tokio::test]
async fn a_failing_serialize_is_refused_with_its_message() {
    struct Bad;
    impl Serialize for Bad {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("Bad cannot be serialized"))
        }
    }
    let h = handler_fn(|_e: Value, _ctx: Context| async { Ok::<_, FunctionError>(Bad) });
    let err = call(&h, json!({})).await.unwrap_err();
    assert_eq!(
        err.message(),
        "the return value is not JSON: Bad cannot be serialized"
    );
}

#[tokio::test]
async fn a_null_return_value_is_fine() {
    let h = handler_fn(|_e: Value, _ctx: Context| async { Ok::<_, FunctionError>(None::<u8>) });
    assert_eq!(call(&h, json!({})).await.unwrap(), Value::Null);
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_function_does_not_stall_the_runtime() {
    let h = blocking_fn(|e: Event, _ctx: Context| {
        std::thread::sleep(Duration::from_millis(200));
        Ok::<_, FunctionError>(Reply { hello: e.key })
    });
    let started = Instant::now();
    // On a single-threaded runtime, a timer must still fire while the function sleeps.
    let ticker = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        started.elapsed()
    });
    let out = call(&h, json!({"key": "abctest"})).await.unwrap();
    assert_eq!(out, json!({"hello": "abctest"}));
    let ticked = ticker.await.unwrap();
    assert!(
        ticked < Duration::from_millis(150),
        "timer fired after {ticked:?}"
    );
}

#[tokio::test]
async fn a_panicking_blocking_function_becomes_a_failed_invocation() {
    let h = blocking_fn(|_e: Value, _ctx: Context| -> Result<(), FunctionError> {
        panic!("blocking boom")
    });
    let err = call(&h, json!({})).await.unwrap_err();
    assert_eq!(
        (err.error_type(), err.message()),
        ("panic", "blocking boom")
    );
}

#[tokio::test]
async fn a_blocking_function_runs_under_the_contexts_thread_hook() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let hook = scf_context::ThreadHook::new(move |task| {
        let log = log.clone();
        Box::new(move || {
            log.lock().unwrap().push("before");
            task();
        })
    });
    let h = blocking_fn(|_e: Value, _ctx: Context| Ok::<_, FunctionError>(1));
    let out = h
        .call(json!({}), Context::default().with_thread_hook(hook))
        .await;
    assert_eq!(out.unwrap(), json!(1));
    assert_eq!(*seen.lock().unwrap(), vec!["before"]);
}
