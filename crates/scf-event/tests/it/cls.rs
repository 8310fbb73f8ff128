//! CLS: `clslogs.data` is Base64 of gzip of the logs' JSON.
#![cfg(feature = "cls")]

use scf_event::{ClsDataError, ClsEvent, ClsLogs, ClsLogsData, ClsRecord};

#[test]
fn fixture_data_decodes_into_typed_logs() {
    let event: ClsEvent = serde_json::from_str(include_str!("../fixtures/cls.json")).unwrap();
    let logs = event.decode().unwrap();
    let expected: ClsLogs =
        serde_json::from_str(include_str!("../fixtures/cls_logs.json")).unwrap();
    assert_eq!(logs, expected);
    assert_eq!(logs.topic_id, "xxxx-xx-xx-xx-yyyyyyyy");
    assert_eq!(logs.topic_name, "testname");
    assert_eq!(logs.records.len(), 2);
    assert_eq!(logs.records[1].timestamp, "1605578090000003");
}

#[test]
fn encode_then_decode_gives_the_same_logs() {
    let logs = ClsLogs {
        topic_id: "id".into(),
        topic_name: "name".into(),
        records: vec![ClsRecord {
            timestamp: "1605578090000000".into(),
            content: "hello 日志".into(),
        }],
    };
    let event = ClsEvent::encode(&logs).unwrap();
    assert_eq!(event.decode().unwrap(), logs);
}

#[test]
fn bad_base64_says_the_base64_step_failed() {
    let data = ClsLogsData {
        data: "not*base64".into(),
    };
    let err = data.decode().unwrap_err();
    assert!(matches!(err, ClsDataError::Base64(_)));
    assert_eq!(
        err.to_string(),
        "clslogs.data is not valid base64: Invalid symbol 42, offset 3."
    );
}

#[test]
fn base64_of_something_else_than_gzip_says_the_gzip_step_failed() {
    // "aGVsbG8gd29ybGQ=" is Base64 of "hello world", which is not gzip.
    let data = ClsLogsData {
        data: "aGVsbG8gd29ybGQ=".into(),
    };
    let err = data.decode().unwrap_err();
    assert!(matches!(err, ClsDataError::Gzip(_)));
    assert_eq!(
        err.to_string(),
        "clslogs.data is not valid gzip after base64 decoding: invalid gzip header"
    );
}

#[test]
fn gzip_of_other_json_says_the_json_step_failed() {
    // Base64 of gzip of `{"records":"x"}`.
    let data = ClsLogsData {
        data: "H4sIAAAAAAACA6tWKkpNzi9KKVayUqpQqgUAkSCsjw8AAAA=".into(),
    };
    let err = data.decode().unwrap_err();
    assert!(matches!(err, ClsDataError::Json(_)));
    assert_eq!(
        err.to_string(),
        "clslogs.data does not hold the JSON of CLS logs (topic_id, topic_name, records): \
         invalid type: string \"x\", expected a sequence at line 1 column 14"
    );
}
