//! COS: the documented sample, quirks included, and the object key helper.
#![cfg(feature = "cos")]

use scf_event::{CosEvent, CosObject};

#[test]
fn documented_sample_parses_with_its_misspelled_notification_id() {
    let event: CosEvent = serde_json::from_str(include_str!("../fixtures/cos.json")).unwrap();
    let record = &event.records[0];
    assert_eq!(record.cos.cos_notification_id, "unkown");
    assert_eq!(record.cos.cos_object.size, 1029);
    assert_eq!(record.cos.cos_bucket.region, "cd");
    assert_eq!(record.event.event_time, 1545205770);
    assert_eq!(record.event.reqid, 179398952);
    assert_eq!(
        record
            .cos
            .cos_object
            .meta
            .get("content-type")
            .map(String::as_str),
        Some("")
    );
    assert!(record
        .event
        .request_parameters
        .request_headers
        .contains_key("authorization"));
}

#[test]
fn object_key_strips_appid_and_bucket() {
    let event: CosEvent = serde_json::from_str(include_str!("../fixtures/cos.json")).unwrap();
    assert_eq!(event.records[0].cos.cos_object.object_key(), "testfile");
    let odd = CosObject {
        key: "no-leading-slash".into(),
        ..CosObject::default()
    };
    assert_eq!(odd.object_key(), "no-leading-slash");
}
