//! `generate-event` prints every service's sample, and each parses as its typed event.

use scf_cli::generate_event::{generate, EventParams, CATALOG};
use scf_event::{
    ApiGatewayRequest, CkafkaEvent, ClbRequest, ClsEvent, CmqEvent, CosEvent, TimerEvent,
};

fn gen(service: &str, action: &str) -> serde_json::Value {
    generate(service, action, &EventParams::default()).unwrap()
}

#[test]
fn every_catalog_entry_generates_an_event() {
    for (service, actions) in CATALOG {
        for action in *actions {
            assert!(gen(service, action).is_object(), "{service} {action}");
        }
    }
}

#[test]
fn samples_parse_as_their_typed_events_with_the_cli_quirks() {
    let api: ApiGatewayRequest = serde_json::from_value(gen("apigateway", "proxy")).unwrap();
    assert_eq!(api.body.as_deref(), Some(r#"{"msg": "hello apigateway"}"#));
    assert_eq!(api.request_context.source_ip, "127.0.0.1");
    let kafka: CkafkaEvent = serde_json::from_value(gen("ckafka", "consume")).unwrap();
    assert_eq!(
        kafka.records[0].ckafka.partition.number(),
        None,
        "partition is \"\" in the CLI's template"
    );
    let cmq: CmqEvent = serde_json::from_value(gen("cmq", "notification")).unwrap();
    assert_eq!(cmq.records[0].cmq.tags(), vec!["tag1", "tag2"]);
    let cos: CosEvent = serde_json::from_value(gen("cos", "delete")).unwrap();
    assert_eq!(cos.records[0].event.event_name, "cos: ObjectRemove:Delete");
    let timer: TimerEvent = serde_json::from_value(gen("timer", "timeup")).unwrap();
    assert_eq!(timer.message, "hello timer");
    let _clb: ClbRequest = serde_json::from_value(gen("clb", "request")).unwrap();
    let cls: ClsEvent = serde_json::from_value(gen("cls", "notification")).unwrap();
    let logs = cls.clslogs.decode().unwrap();
    assert_eq!(logs.records[0].content, "hello from cls");
}

#[test]
fn parameters_fill_the_templates() {
    let mut p = EventParams::default();
    p.body = Some("{}".into());
    p.owner = Some(42);
    p.message = Some("tick".into());
    assert_eq!(generate("apigateway", "proxy", &p).unwrap()["body"], "{}");
    assert_eq!(
        generate("cmq", "notification", &p).unwrap()["Records"][0]["CMQ"]["topicOwner"],
        42
    );
    assert_eq!(generate("timer", "timeup", &p).unwrap()["Message"], "tick");
}

#[test]
fn unknown_services_and_actions_list_what_exists() {
    let e = generate("s3", "put", &EventParams::default()).unwrap_err();
    assert!(
        e.to_string().starts_with(
            r#"unknown service "s3": expected one of apigateway (proxy); ckafka (consume)"#
        ),
        "{e}"
    );
    let e = generate("cos", "get", &EventParams::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"unknown action "get" for cos: expected one of put, post, delete"#
    );
}
