//! CMQ topic quirks: `msgTag` as string or array, `topicOwner` as number or string.
#![cfg(feature = "cmq")]

use scf_event::{CmqEvent, MsgTag, TopicOwner};
use serde_json::json;

#[test]
fn msg_tag_string_splits_on_comma_and_trims() {
    let event: CmqEvent = serde_json::from_str(include_str!("../fixtures/cmq.json")).unwrap();
    let message = &event.records[0].cmq;
    assert_eq!(message.msg_tag, Some(MsgTag::Text("tag1, tag2".into())));
    assert_eq!(message.tags(), ["tag1", "tag2"]);
    assert_eq!(MsgTag::Text("tag1,tag2".into()).tags(), ["tag1", "tag2"]);
    assert_eq!(MsgTag::Text(" a ,, b ,".into()).tags(), ["a", "b"]);
    assert!(MsgTag::Text(String::new()).tags().is_empty());
}

#[test]
fn msg_tag_array_is_accepted_and_written_back_as_array() {
    let event: CmqEvent =
        serde_json::from_str(include_str!("../fixtures/cmq_tag_array.json")).unwrap();
    let message = &event.records[0].cmq;
    assert_eq!(message.tags(), ["tag1", "tag2"]);
    assert_eq!(
        serde_json::to_value(&message.msg_tag).unwrap(),
        json!(["tag1", "tag2"])
    );
}

#[test]
fn absent_msg_tag_means_no_tags_and_stays_absent() {
    let event: CmqEvent = serde_json::from_value(json!({"Records": [{"CMQ": {
        "type": "queue", "topicOwner": 1, "msgBody": "hi"}}]}))
    .unwrap();
    let message = &event.records[0].cmq;
    assert!(message.tags().is_empty());
    assert!(serde_json::to_value(message)
        .unwrap()
        .get("msgTag")
        .is_none());
}

#[test]
fn topic_owner_may_be_a_number_or_a_string() {
    let number: CmqEvent = serde_json::from_str(include_str!("../fixtures/cmq.json")).unwrap();
    let owner = &number.records[0].cmq.topic_owner;
    assert_eq!(owner, &TopicOwner::Number(12345678));
    assert_eq!(owner.as_u64(), Some(12345678));
    assert_eq!(owner.to_string(), "12345678");

    let text: CmqEvent =
        serde_json::from_str(include_str!("../fixtures/cmq_tag_array.json")).unwrap();
    let owner = &text.records[0].cmq.topic_owner;
    assert_eq!(owner, &TopicOwner::Text("120xxxxx".into()));
    assert_eq!(owner.as_u64(), None);
    assert_eq!(serde_json::to_value(owner).unwrap(), json!("120xxxxx"));
    assert_eq!(TopicOwner::Text("42".into()).as_u64(), Some(42));
}

#[test]
fn publish_time_with_or_without_millis_is_kept_verbatim() {
    let a: CmqEvent = serde_json::from_str(include_str!("../fixtures/cmq.json")).unwrap();
    let b: CmqEvent = serde_json::from_str(include_str!("../fixtures/cmq_tag_array.json")).unwrap();
    assert_eq!(a.records[0].cmq.publish_time, "1970-01-01T00:00:00.000Z");
    assert_eq!(b.records[0].cmq.publish_time, "2019-08-16T10:48:49Z");
}
