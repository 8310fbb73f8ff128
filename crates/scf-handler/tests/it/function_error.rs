//! Errors keep their type name, message and trace, and serialize to SCF's error JSON.

use proptest::prelude::*;
use scf_handler::{short_type_name, FunctionError, FunctionStatus, ScfErrorJson};

#[derive(Debug, thiserror::Error)]
#[error("user name {0} already exists")]
struct UserNameAlreadyExistsException(String);

#[derive(Debug, thiserror::Error)]
#[error("could not save the user")]
struct SaveFailed(#[source] std::io::Error);

#[test]
fn a_user_error_keeps_its_short_type_name_and_message() {
    let err: FunctionError = UserNameAlreadyExistsException("bob".into()).into();
    assert_eq!(err.error_type(), "UserNameAlreadyExistsException");
    assert_eq!(err.message(), "user name bob already exists");
    assert_eq!(err.status(), FunctionStatus::UserCodeException);
    assert_eq!(err.stack_trace(), None);
}

#[test]
fn question_mark_converts_any_std_error() {
    fn run() -> Result<u32, FunctionError> {
        let n: u32 = "nope".parse()?;
        Ok(n)
    }
    let err = run().unwrap_err();
    assert_eq!(err.error_type(), "ParseIntError");
    assert_eq!(err.message(), "invalid digit found in string");
}

#[test]
fn the_source_chain_becomes_the_stack_trace() {
    let io = std::io::Error::other("disk full");
    let err: FunctionError = SaveFailed(io).into();
    assert_eq!(err.stack_trace(), Some("Caused by: disk full"));
}

#[test]
fn a_user_error_serializes_to_the_scf_unhandled_error_json() {
    let err: FunctionError = UserNameAlreadyExistsException("bob".into()).into();
    let json = serde_json::to_value(err.to_scf_json("a325b967")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "errorCode": -1,
            "errorMessage": "user code exception caught",
            "requestId": "a325b967",
            "stackTrace": "UserNameAlreadyExistsException: user name bob already exists",
            "statusCode": 430
        })
    );
    let traced = FunctionError::new("Exception", "err msg").with_stack_trace(
        "Traceback (most recent call last):\n  File \"/var/user/index.py\", line 4, in main_handler\n    raise Exception(\"err msg\")",
    );
    assert_eq!(
        traced.to_scf_json("id").stack_trace,
        "Traceback (most recent call last):\n  File \"/var/user/index.py\", line 4, in main_handler\n    raise Exception(\"err msg\")\nException: err msg"
    );
}

#[test]
fn a_timeout_serializes_with_its_own_message_and_status() {
    let err = FunctionError::platform(FunctionStatus::TimeLimitReached, "time out");
    assert_eq!(
        err.to_scf_json("rid"),
        ScfErrorJson {
            error_code: -1,
            error_message: "time out".into(),
            request_id: "rid".into(),
            stack_trace: String::new(),
            status_code: 433,
        }
    );
    assert_eq!(err.error_type(), "TimeLimitReached");
}

#[test]
fn a_panic_payload_becomes_a_panic_error_with_its_message() {
    let payload = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
    let err = FunctionError::from_panic(payload.as_ref());
    assert_eq!((err.error_type(), err.message()), ("panic", "boom 7"));
    let payload = std::panic::catch_unwind(|| std::panic::panic_any(42_u8)).unwrap_err();
    assert_eq!(
        FunctionError::from_panic(payload.as_ref()).message(),
        "the handler panicked with a non-string payload"
    );
}

#[test]
fn short_type_names_drop_paths_and_generics() {
    assert_eq!(short_type_name("a::b::Foo"), "Foo");
    assert_eq!(short_type_name("a::Foo<b::Bar>"), "Foo");
    assert_eq!(short_type_name("Foo"), "Foo");
}

proptest! {
    #[test]
    fn scf_error_json_round_trips(
        code in any::<i64>(), msg in ".*", rid in ".*", trace in ".*", status in any::<u16>()
    ) {
        let json = ScfErrorJson {
            error_code: code, error_message: msg, request_id: rid, stack_trace: trace, status_code: status,
        };
        let text = serde_json::to_string(&json).unwrap();
        prop_assert_eq!(serde_json::from_str::<ScfErrorJson>(&text).unwrap(), json);
    }
}
