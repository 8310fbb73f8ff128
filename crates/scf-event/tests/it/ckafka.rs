//! CKafka quirks: `partition` as a number or `""`.
#![cfg(feature = "ckafka")]

use scf_event::{CkafkaEvent, Partition};
use serde_json::json;

#[test]
fn partition_may_be_an_empty_string_or_a_number() {
    let event: CkafkaEvent = serde_json::from_str(include_str!("../fixtures/ckafka.json")).unwrap();
    assert_eq!(
        event.records[0].ckafka.partition,
        Partition::Text(String::new())
    );
    assert_eq!(event.records[0].ckafka.partition.number(), None);
    assert_eq!(event.records[1].ckafka.partition, Partition::Number(1));
    assert_eq!(event.records[1].ckafka.partition.number(), Some(1));
    assert_eq!(event.records[1].ckafka.offset, 37);
    assert_eq!(event.records[1].ckafka.msg_key, "None");
}

#[test]
fn partition_is_written_back_in_the_shape_it_was_read() {
    assert_eq!(
        serde_json::to_value(Partition::Text(String::new())).unwrap(),
        json!("")
    );
    assert_eq!(
        serde_json::to_value(Partition::Number(3)).unwrap(),
        json!(3)
    );
    assert_eq!(Partition::Text("7".into()).number(), Some(7));
}

#[test]
fn capitalised_partition_from_the_ckafka_page_is_accepted() {
    let event: CkafkaEvent = serde_json::from_value(json!({"Records": [{"Ckafka": {
        "topic": "t", "Partition": 2, "offset": 5, "msgKey": "k", "msgBody": "b"}}]}))
    .unwrap();
    assert_eq!(event.records[0].ckafka.partition, Partition::Number(2));
}
