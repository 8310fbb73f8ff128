//! The registry resolves `file.method`, with distinct 437 errors for each miss.

use scf_context::Context;
use scf_handler::{
    handler_fn, FunctionError, FunctionStatus, HandlerSpecError, LookupError, Registry,
};
use serde_json::{json, Value};

fn registry() -> Registry {
    let echo = |e: Value, _c: Context| async move { Ok::<_, FunctionError>(e) };
    let hello = |_e: Value, _c: Context| async move { Ok::<_, FunctionError>("hello") };
    Registry::new()
        .with("index.main_handler", handler_fn(echo))
        .unwrap()
        .with("index.hello", handler_fn(hello))
        .unwrap()
        .with("api/users.create", handler_fn(echo))
        .unwrap()
}

#[tokio::test]
async fn a_registered_name_resolves_to_its_handler() {
    let r = registry();
    let h = r.resolve_str("index.hello").unwrap();
    assert_eq!(
        h.call(json!({}), Context::default()).await.unwrap(),
        json!("hello")
    );
    assert!(r.resolve_str("api/users.create").is_ok());
    let names: Vec<_> = r.specs().collect();
    assert_eq!(
        names,
        vec!["api/users.create", "index.hello", "index.main_handler"]
    );
}

#[test]
fn an_unknown_file_and_an_unknown_method_fail_differently() {
    let r = registry();
    let file = r.resolve_str("main.handler").err().unwrap();
    assert_eq!(
        file,
        LookupError::UnknownFile {
            file: "main".into()
        }
    );
    assert_eq!(file.to_string(), "No module named 'main'");
    let method = r.resolve_str("index.xxx").err().unwrap();
    assert_eq!(
        method,
        LookupError::UnknownMethod {
            file: "index".into(),
            method: "xxx".into()
        }
    );
    assert_eq!(method.to_string(), "'module' object has no attribute 'xxx'");
    for e in [file, method] {
        assert_eq!(e.status(), FunctionStatus::HandlerNotFound);
        let fe = e.to_function_error();
        assert_eq!(fe.status().code(), 437);
        assert_eq!(fe.to_scf_json("r").error_message, e.to_string());
    }
}

#[test]
fn a_malformed_name_is_refused_at_registration_and_lookup() {
    let echo = |e: Value, _c: Context| async move { Ok::<_, FunctionError>(e) };
    let err = Registry::new().with("index", handler_fn(echo)).unwrap_err();
    assert_eq!(err, HandlerSpecError::MissingDot("index".into()));
    let err = registry().resolve_str("../x.y").err().unwrap();
    assert_eq!(
        err,
        LookupError::Spec(HandlerSpecError::ParentDir("../x.y".into()))
    );
}

#[test]
fn registering_again_replaces_the_handler() {
    let mut r = registry();
    let other = |_e: Value, _c: Context| async move { Ok::<_, FunctionError>("other") };
    r.register("index.hello", handler_fn(other)).unwrap();
    assert_eq!(r.specs().count(), 3);
}
