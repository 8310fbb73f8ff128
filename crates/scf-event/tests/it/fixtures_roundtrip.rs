//! Every fixture parses into its typed event and serializes back to the same JSON.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

#[cfg_attr(
    not(any(
        feature = "apigw",
        feature = "timer",
        feature = "cos",
        feature = "cmq",
        feature = "ckafka",
        feature = "cls",
        feature = "clb",
        feature = "mps"
    )),
    allow(dead_code)
)]
/// Parses `text` as `T`, serializes it again, and checks both JSON values are equal.
fn assert_round_trips<T: DeserializeOwned + Serialize>(name: &str, text: &str) -> T {
    let original: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
    let typed: T = serde_json::from_str(text).unwrap_or_else(|e| {
        panic!(
            "{name} does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let back =
        serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{name} does not serialize: {e}"));
    assert_eq!(
        back, original,
        "{name} changed in a parse/serialize round trip"
    );
    typed
}

macro_rules! fixture {
    ($file:literal) => {
        ($file, include_str!(concat!("../fixtures/", $file)))
    };
}

#[test]
fn any_json_object_is_an_untyped_event() {
    let event: scf_event::Event = serde_json::from_str(r#"{"key":"abctest"}"#).unwrap();
    assert_eq!(event["key"], "abctest");
    for (name, text) in [
        fixture!("timer.json"),
        fixture!("cos.json"),
        fixture!("mps.json"),
    ] {
        let event: scf_event::Event = serde_json::from_str(text).unwrap();
        assert!(event.is_object(), "{name}");
    }
}

#[cfg(feature = "apigw")]
#[test]
fn apigw_fixtures_round_trip() {
    let (name, text) = fixture!("apigw_request.json");
    assert_round_trips::<scf_event::ApiGatewayRequest>(name, text);
    let (name, text) = fixture!("apigw_request_real.json");
    assert_round_trips::<scf_event::ApiGatewayRequest>(name, text);
    let (name, text) = fixture!("apigw_response.json");
    assert_round_trips::<scf_event::ApiGatewayResponse>(name, text);
}

#[cfg(feature = "timer")]
#[test]
fn timer_fixture_round_trips() {
    let (name, text) = fixture!("timer.json");
    let event = assert_round_trips::<scf_event::TimerEvent>(name, text);
    assert_eq!(event.event_type, scf_event::TimerEvent::TYPE);
    assert_eq!(event.trigger_name, "EveryDay");
}

#[cfg(feature = "cos")]
#[test]
fn cos_fixture_round_trips() {
    let (name, text) = fixture!("cos.json");
    assert_round_trips::<scf_event::CosEvent>(name, text);
}

#[cfg(feature = "cmq")]
#[test]
fn cmq_fixtures_round_trip() {
    let (name, text) = fixture!("cmq.json");
    assert_round_trips::<scf_event::CmqEvent>(name, text);
    let (name, text) = fixture!("cmq_tag_array.json");
    assert_round_trips::<scf_event::CmqEvent>(name, text);
}

#[cfg(feature = "ckafka")]
#[test]
fn ckafka_fixture_round_trips() {
    let (name, text) = fixture!("ckafka.json");
    assert_round_trips::<scf_event::CkafkaEvent>(name, text);
}

#[cfg(feature = "cls")]
#[test]
fn cls_fixtures_round_trip() {
    let (name, text) = fixture!("cls.json");
    assert_round_trips::<scf_event::ClsEvent>(name, text);
    let (name, text) = fixture!("cls_logs.json");
    assert_round_trips::<scf_event::ClsLogs>(name, text);
}

#[cfg(feature = "clb")]
#[test]
fn clb_fixtures_round_trip() {
    let (name, text) = fixture!("clb.json");
    assert_round_trips::<scf_event::ClbRequest>(name, text);
    let (name, text) = fixture!("clb_response.json");
    assert_round_trips::<scf_event::ClbResponse>(name, text);
}

#[cfg(feature = "mps")]
#[test]
fn mps_fixture_round_trips() {
    let (name, text) = fixture!("mps.json");
    let event = assert_round_trips::<scf_event::MpsEvent>(name, text);
    let task = event.workflow_task_event.unwrap();
    assert_eq!(task.status, "FINISH");
    assert_eq!(task.media_process_result_set.len(), 2);
    assert!(task.media_process_result_set[0].transcode_task.is_some());
    assert!(task.media_process_result_set[0].image_sprite_task.is_none());
}
