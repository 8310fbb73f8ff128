//! Sample trigger events, as SCF's CLI generated them (scf-spec 2.13, quirks kept), plus
//! CLB and CLS: what `scf generate-event SERVICE ACTION` prints and the templates of the
//! console's event editor. Untyped JSON, so that it needs none of the trigger features.

use serde_json::{json, Value};

/// Parameters some templates take (`--body`, `--owner`, `--message`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct EventParams {
    /// API Gateway request body (default `{"msg": "hello apigateway"}`).
    pub body: Option<String>,
    /// CMQ topic owner (default 12345678).
    pub owner: Option<u64>,
    /// Timer message (default `hello timer`).
    pub message: Option<String>,
}

/// The services and their actions, for help and error messages.
pub const CATALOG: &[(&str, &[&str])] = &[
    ("apigateway", &["proxy"]),
    ("ckafka", &["consume"]),
    ("cmq", &["notification"]),
    ("cos", &["put", "post", "delete"]),
    ("timer", &["timeup"]),
    ("clb", &["request"]),
    ("cls", &["notification"]),
];

/// An unknown service or action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownEvent(String);

/// The Hello World template of SCF's console editor.
pub fn hello_world() -> Value {
    json!({"key1": "test value 1", "key2": "test value 2"})
}

fn catalog_text() -> String {
    CATALOG
        .iter()
        .map(|(s, a)| format!("{s} ({})", a.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The sample event for `service` and `action`.
pub fn generate(service: &str, action: &str, p: &EventParams) -> Result<Value, UnknownEvent> {
    let Some((_, actions)) = CATALOG.iter().find(|(s, _)| *s == service) else {
        return Err(UnknownEvent(format!(
            "unknown service {service:?}: expected one of {}",
            catalog_text()
        )));
    };
    if !actions.contains(&action) {
        return Err(UnknownEvent(format!(
            "unknown action {action:?} for {service}: expected one of {}",
            actions.join(", ")
        )));
    }
    Ok(match (service, action) {
        ("apigateway", _) => apigateway(
            p.body
                .as_deref()
                .unwrap_or(r#"{"msg": "hello apigateway"}"#),
        ),
        ("ckafka", _) => json!({"Records": [{"Ckafka": {
            "topic": "demo-topic", "partition": "", "offset": 1, "msgKey": "demo", "msgBody": "Hello from ckafka"
        }}]}),
        ("cmq", _) => json!({"Records": [{"CMQ": {
            "type": "topic", "topicOwner": p.owner.unwrap_or(12_345_678), "topicName": "demoTopic",
            "subscriptionName": "demoSub", "publishTime": "2018-12-25T11:01:00Z", "msgId": "123345346",
            "requestId": "123345346", "msgBody": "Hello from CMQ!", "msgTag": "tag1,tag2"
        }}]}),
        ("cos", "put") => cos("cos:ObjectCreated:Put"),
        ("cos", "post") => cos("cos:ObjectCreated:Post"),
        ("cos", _) => cos("cos: ObjectRemove:Delete"),
        ("timer", _) => json!({
            "Type": "Timer", "TriggerName": "demo", "Time": "2018-11-12T00:00:00Z",
            "Message": p.message.as_deref().unwrap_or("hello timer")
        }),
        ("clb", _) => json!({
            "headers": {
                "Content-type": "application/json", "Host": "test.clb-scf.com", "User-Agent": "Chrome",
                "X-Stgw-Time": "1591692977.774", "X-Client-Proto": "http", "X-Forwarded-Proto": "http",
                "X-Client-Proto-Ver": "HTTP/1.1", "X-Real-IP": "9.43.175.219", "X-Forwarded-For": "9.43.175.219",
                "X-clb-stgw-vip": "121.23.21.64", "X-Forwarded-Port": "80", "X-Uri": "/scf_location",
                "X-Method": "POST", "X-Real-Port": "44347"
            },
            "payload": {"key1": "123", "key2": "abc"},
            "isBase64Encoded": "false"
        }),
        _ => cls(),
    })
}

fn apigateway(body: &str) -> Value {
    json!({
        "requestContext": {
            "serviceId": "service-f94sy04v", "path": "/test/{path}", "httpMethod": "POST",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"secretId": "abdcdxxxxxxxsdfs"}, "sourceIp": "127.0.0.1", "stage": "release"
        },
        "headers": {
            "Accept-Language": "en-US,en,cn", "Accept": "text/html,application/xml,application/json",
            "Host": "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com", "User-Agent": "User Agent String"
        },
        "body": body,
        "pathParameters": {"path": "value"},
        "queryStringParameters": {"foo": "bar"},
        "headerParameters": {"Refer": "10.0.2.14"},
        "stageVariables": {"stage": "release"},
        "path": "/test/value",
        "queryString": {"foo": "bar", "bob": "alice"},
        "httpMethod": "POST"
    })
}

fn cos(event_name: &str) -> Value {
    json!({"Records": [{
        "cos": {
            "cosSchemaVersion": "1.0",
            "cosObject": {
                "url": "http://testpic-1253970026.cos.ap-chengdu.myqcloud.com/testfile",
                "meta": {"x-cos-request-id": "NWMxOWY4MGFfMjViMjU4NjRfMTUyMVxxxxxxxxx=", "Content-Type": ""},
                "vid": "", "key": "/1253970026/testpic/testfile", "size": 1029
            },
            "cosBucket": {"region": "gz", "name": "testpic", "appid": "1253970026"},
            "cosNotificationId": "unkown"
        },
        "event": {
            "eventName": event_name, "eventVersion": "1.0", "eventTime": 1_545_205_770,
            "eventSource": "qcs::cos",
            "requestParameters": {"requestSourceIP": "192.168.15.101", "requestHeaders": {"Authorization": "q-sign-algorithm=sha1&q-ak=xxxxxxxxxxxxxx"}},
            "eventQueue": "qcs:0:lambda:cd:appid/1253970026:default.printevent.$LATEST",
            "reservedInfo": "", "reqid": 179_398_952
        }
    }]})
}

fn cls() -> Value {
    // `data` is base64 of gzip of {"topic_id","topic_name","records":[…]}, as CLS sends it.
    json!({"clslogs": {"data": CLS_SAMPLE_DATA}})
}

/// base64(gzip({"topic_id": "xxxx-xx-xx-xx-yyyyyyyy", "topic_name": "testname", "records": [
/// {"timestamp": "1605578090000000", "content": "hello from cls"}]})).
const CLS_SAMPLE_DATA: &str = "H4sIAAAAAAACAz2KSwqAMAwFr1KyVqgLv1cREakRC20jbRaKeHdbFYcswps5gWnTatQzdAL2SP7f8QGZ+Co3WUwdY+Dnj8ajIj+HOPcnsLZRTXZLVVHJsqwb2cqXVCtyjI6TXtEYEosnK5QJcA3XDSvmQ06NAAAA";
