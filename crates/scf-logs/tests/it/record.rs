//! `LogRecord`'s two JSON shapes.

use scf_logs::record::{
    format_api_datetime, RET_CODE_FAILURE, RET_CODE_INTERRUPTED, RET_CODE_RUNNING, RET_CODE_SUCCESS,
};
use scf_logs::{InvocationType, LogRecord};
use serde_json::Value;
use time::macros::datetime;

fn example() -> LogRecord {
    // The record of the SCF GetFunctionLogs example (with RetCode 0 for "Success").
    let mut r = LogRecord::new(
        "APITest",
        "default",
        "$LATEST",
        "bc309eaa-6d64-11e8-a7fe-5254000b4175",
        datetime!(2018-06-11 18:46:45.250 UTC),
    );
    r.ret_code = RET_CODE_SUCCESS;
    r.status_code = 200;
    r.invoke_finished = true;
    r.ret_msg = "Success".into();
    r.duration_ms = 0.532;
    r.bill_duration_ms = 100;
    r.mem_usage_bytes = 3_174_400;
    r.retry_num = 1;
    r
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn to_api_is_the_api3_function_log_shape() {
    assert_eq!(example().to_api(), fixture("function_log_api.json"));
}

#[test]
fn to_console_is_the_camel_case_shape() {
    assert_eq!(example().to_console(), fixture("function_log_console.json"));
}

#[test]
fn unfinished_record_writes_invoke_finished_0() {
    let mut r = example();
    r.invoke_finished = false;
    r.ret_code = RET_CODE_INTERRUPTED;
    assert_eq!(r.to_api()["InvokeFinished"], 0);
    assert_eq!(r.to_api()["RetCode"], 3);
    assert_eq!(r.to_console()["invokeFinished"], 0);
}

#[test]
fn new_record_is_running_and_start_time_is_utc() {
    let r = LogRecord::new(
        "f",
        "default",
        "$LATEST",
        "id",
        datetime!(2026-01-01 08:00:00 +08:00),
    );
    assert!(r.is_running());
    assert_eq!(r.ret_code, RET_CODE_RUNNING);
    assert_eq!(format_api_datetime(r.start_time), "2026-01-01 00:00:00");
    assert_eq!(r.to_api()["StartTime"], "2026-01-01 00:00:00");
}

#[test]
fn ret_code_constants_follow_function_log() {
    assert_eq!(
        (
            RET_CODE_SUCCESS,
            RET_CODE_FAILURE,
            RET_CODE_RUNNING,
            RET_CODE_INTERRUPTED
        ),
        (0, 1, 2, 3)
    );
}

#[test]
fn invocation_type_parses_and_displays_the_api_strings() {
    assert_eq!(
        "Event".parse::<InvocationType>().unwrap(),
        InvocationType::Event
    );
    assert_eq!(
        InvocationType::RequestResponse.to_string(),
        "RequestResponse"
    );
    assert!("event"
        .parse::<InvocationType>()
        .unwrap_err()
        .to_string()
        .contains("`event`"));
}
