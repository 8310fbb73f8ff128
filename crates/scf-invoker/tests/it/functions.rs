//! Adding, replacing, listing and removing functions, also while invocations run.

use crate::common;

use std::time::Duration;

use common::{echo, function, invoker};
use scf_context::{ConfigError, Context};
use scf_handler::{handler_fn, FunctionError};
use scf_invoker::{InvokeRequest, Invoker};
use serde_json::Value;

fn constant(answer: &'static str, delay_ms: u64) -> impl scf_handler::Handler {
    handler_fn(move |_: Value, _: Context| async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        Ok::<_, FunctionError>(answer)
    })
}

#[tokio::test]
async fn an_invalid_config_is_refused_with_the_rule_it_breaks() {
    let invoker = invoker(Default::default());
    let mut config = function("ok-name");
    config.memory_mb = 100;
    let err = invoker.add_function(config, handler_fn(echo)).unwrap_err();
    assert!(matches!(err, ConfigError::MemorySize { value: 100 }));
    let err = invoker
        .add_function(function("1bad"), handler_fn(echo))
        .unwrap_err();
    assert!(err.to_string().contains("must start with a letter"));
    assert!(invoker.functions().is_empty());
}

#[tokio::test]
async fn functions_are_keyed_by_namespace_name_and_qualifier() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("greet"), constant("latest", 0))
        .unwrap();
    let mut v1 = function("greet");
    v1.version = "1".into();
    invoker.add_function(v1, constant("v1", 0)).unwrap();
    let mut other = function("greet");
    other.namespace = "other-ns".into();
    invoker.add_function(other, constant("other", 0)).unwrap();

    let call = |q: &str, ns: &str| {
        InvokeRequest::new("greet", "{}")
            .with_qualifier(q)
            .with_namespace(ns)
    };
    let ret = |r: scf_invoker::InvokeResponse| r.ret_msg;
    assert_eq!(
        ret(invoker.invoke(call("$LATEST", "default")).await.unwrap()),
        "\"latest\""
    );
    assert_eq!(
        ret(invoker.invoke(call("1", "default")).await.unwrap()),
        "\"v1\""
    );
    assert_eq!(
        ret(invoker.invoke(call("$LATEST", "other-ns")).await.unwrap()),
        "\"other\""
    );

    let listed: Vec<(String, String, String)> = invoker
        .functions()
        .into_iter()
        .map(|f| (f.config.namespace, f.config.name, f.config.version))
        .collect();
    assert_eq!(
        listed,
        [
            ("default".into(), "greet".into(), "$LATEST".into()),
            ("default".into(), "greet".into(), "1".into()),
            ("other-ns".into(), "greet".into(), "$LATEST".into()),
        ]
    );
    let info = invoker.function("default", "greet", "1").unwrap();
    assert_eq!(info.concurrency_limit, 100);
    assert!(invoker.function("default", "greet", "2").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_function_keeps_running_invocations_on_the_old_handler() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("fn-a"), constant("old", 200))
        .unwrap();
    let running = {
        let invoker = invoker.clone();
        tokio::spawn(async move { invoker.invoke(InvokeRequest::new("fn-a", "{}")).await })
    };
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
    invoker
        .add_function(function("fn-a"), constant("new", 0))
        .unwrap();
    let now = invoker
        .invoke(InvokeRequest::new("fn-a", "{}"))
        .await
        .unwrap();
    assert_eq!(now.ret_msg, "\"new\"");
    assert_eq!(running.await.unwrap().unwrap().ret_msg, "\"old\"");
    assert_eq!(invoker.functions().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_function_lets_running_invocations_finish() {
    let invoker = invoker(Default::default());
    invoker
        .add_function(function("fn-a"), constant("done", 200))
        .unwrap();
    let running = {
        let invoker = invoker.clone();
        tokio::spawn(async move { invoker.invoke(InvokeRequest::new("fn-a", "{}")).await })
    };
    assert!(common::eventually(Duration::from_secs(1), || invoker.in_flight() == 1).await);
    assert!(invoker.remove_function("default", "fn-a", "$LATEST"));
    assert!(!invoker.remove_function("default", "fn-a", "$LATEST"));
    let err = invoker
        .invoke(InvokeRequest::new("fn-a", "{}"))
        .await
        .unwrap_err();
    assert_eq!(err.status().code(), 435);
    assert!(running.await.unwrap().unwrap().is_success());
    assert!(invoker.functions().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adding_and_removing_while_invocations_run_is_safe() {
    let invoker: Invoker = invoker(Default::default());
    invoker
        .add_function(function("stable"), handler_fn(echo))
        .unwrap();
    let churn = {
        let invoker = invoker.clone();
        tokio::spawn(async move {
            for i in 0..500 {
                let name = format!("f{}", i % 7);
                invoker
                    .add_function(function(&name), handler_fn(echo))
                    .unwrap();
                if i % 3 == 0 {
                    invoker.remove_function("default", &name, "$LATEST");
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let invoker = invoker.clone();
            tokio::spawn(async move {
                for _ in 0..200 {
                    let r = invoker
                        .invoke(InvokeRequest::new("stable", "{}"))
                        .await
                        .unwrap();
                    assert!(r.is_success());
                    // Churned functions may or may not exist: either answer is fine, no panic.
                    let _ = invoker.invoke(InvokeRequest::new("f3", "{}")).await;
                }
            })
        })
        .collect();
    churn.await.unwrap();
    for c in calls {
        c.await.unwrap();
    }
}
