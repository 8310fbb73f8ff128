//! Every typed event survives serialize → parse unchanged, for generated values.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use scf_event::{HeaderValue, Headers};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Serializes `value` to JSON text, parses it back and requires equality.
fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let text = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("{e} while parsing {text}")))?;
    prop_assert_eq!(&back, value, "JSON was {}", text);
    Ok(())
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,10}"
}

fn string_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map(text(), text(), 0..4)
}

#[cfg(any(feature = "apigw", feature = "clb", feature = "mps"))]
/// JSON values without `null` (an `Option<Value>` reads `null` back as `None`) and without
/// floats (kept out so equality is exact).
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::from),
            btree_map(text(), inner, 0..3).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

prop_compose! {
    fn headers()(map in string_map()) -> Headers {
        Headers::from(map)
    }
}

fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        text().prop_map(HeaderValue::Single),
        vec(text(), 0..3).prop_map(HeaderValue::Multi),
    ]
}

prop_compose! {
    fn response_headers()(map in btree_map(text(), header_value(), 0..4)) -> Headers<HeaderValue> {
        Headers::from(map)
    }
}

proptest! {
    #[test]
    fn headers_round_trip(value in headers()) {
        round_trip(&value)?;
    }

    #[test]
    fn response_headers_round_trip(value in response_headers()) {
        round_trip(&value)?;
    }

    #[test]
    fn header_lookup_ignores_ascii_case(name in "[A-Za-z0-9-]{1,12}", value in text()) {
        let headers: Headers = [(name.clone(), value.clone())].into_iter().collect();
        prop_assert_eq!(headers.get(&name.to_ascii_uppercase()), Some(&value));
        prop_assert_eq!(headers.get(&name.to_ascii_lowercase()), Some(&value));
    }
}

#[cfg(any(feature = "apigw", feature = "clb"))]
mod response {
    use super::*;
    use scf_event::ApiGatewayResponse;

    prop_compose! {
        pub(crate) fn api_gateway_response()(
            is_base64_encoded in any::<bool>(),
            status_code in 100u16..600,
            headers in response_headers(),
            body in text(),
        ) -> ApiGatewayResponse {
            ApiGatewayResponse { is_base64_encoded, status_code, headers, body }
        }
    }

    proptest! {
        #[test]
        fn api_gateway_response_round_trips(value in api_gateway_response()) {
            round_trip(&value)?;
        }

        #[test]
        fn serialized_responses_pass_validation(value in api_gateway_response()) {
            let json = serde_json::to_value(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(ApiGatewayResponse::from_value(&json), Ok(value));
        }
    }
}

#[cfg(feature = "apigw")]
mod apigw {
    use super::*;
    use scf_event::{ApiGatewayRequest, ApiGatewayRequestContext, QueryValue};

    fn query_value() -> impl Strategy<Value = QueryValue> {
        prop_oneof![
            text().prop_map(QueryValue::Single),
            vec(text(), 0..3).prop_map(QueryValue::Multi),
            any::<bool>().prop_map(QueryValue::Flag),
        ]
    }

    prop_compose! {
        fn request_context()(
            service_id in text(),
            path in text(),
            http_method in text(),
            request_id in proptest::option::of(text()),
            identity in btree_map(text(), json_value(), 0..3),
            source_ip in text(),
            stage in text(),
        ) -> ApiGatewayRequestContext {
            ApiGatewayRequestContext { service_id, path, http_method, request_id, identity, source_ip, stage }
        }
    }

    prop_compose! {
        fn api_gateway_request()(
            request_context in request_context(),
            headers in headers(),
            body in proptest::option::of(text()),
            path_parameters in string_map(),
            query_string_parameters in string_map(),
            header_parameters in string_map(),
            stage_variables in proptest::option::of(string_map()),
            path in text(),
            query_string in btree_map(text(), query_value(), 0..4),
            http_method in text(),
            is_base64_encoded in proptest::option::of(any::<bool>()),
        ) -> ApiGatewayRequest {
            ApiGatewayRequest {
                request_context, headers, body, path_parameters, query_string_parameters,
                header_parameters, stage_variables, path, query_string, http_method,
                is_base64_encoded,
            }
        }
    }

    proptest! {
        #[test]
        fn api_gateway_request_round_trips(value in api_gateway_request()) {
            round_trip(&value)?;
        }

        #[test]
        fn query_value_round_trips(value in query_value()) {
            round_trip(&value)?;
        }
    }
}

#[cfg(feature = "timer")]
mod timer {
    use super::*;
    use scf_event::TimerEvent;

    prop_compose! {
        fn timer_event()(event_type in text(), trigger_name in text(), time in text(), message in text()) -> TimerEvent {
            TimerEvent { event_type, trigger_name, time, message }
        }
    }

    proptest! {
        #[test]
        fn timer_event_round_trips(value in timer_event()) {
            round_trip(&value)?;
        }
    }
}

#[cfg(feature = "cos")]
mod cos {
    use super::*;
    use scf_event::{
        CosBucket, CosEntity, CosEvent, CosEventInfo, CosObject, CosRecord, CosRequestParameters,
    };

    prop_compose! {
        fn cos_object()(url in text(), meta in headers(), vid in text(), key in text(), size in any::<u64>()) -> CosObject {
            CosObject { url, meta, vid, key, size }
        }
    }

    prop_compose! {
        fn cos_bucket()(region in text(), name in text(), appid in text()) -> CosBucket {
            CosBucket { region, name, appid }
        }
    }

    prop_compose! {
        fn cos_entity()(
            cos_schema_version in text(),
            cos_object in cos_object(),
            cos_bucket in cos_bucket(),
            cos_notification_id in text(),
        ) -> CosEntity {
            CosEntity { cos_schema_version, cos_object, cos_bucket, cos_notification_id }
        }
    }

    prop_compose! {
        fn cos_event_info()(
            event_name in text(),
            event_version in text(),
            event_time in any::<i64>(),
            event_source in text(),
            request_source_ip in text(),
            request_headers in headers(),
            event_queue in text(),
            reserved_info in text(),
            reqid in any::<u64>(),
        ) -> CosEventInfo {
            CosEventInfo {
                event_name, event_version, event_time, event_source,
                request_parameters: CosRequestParameters { request_source_ip, request_headers },
                event_queue, reserved_info, reqid,
            }
        }
    }

    prop_compose! {
        fn cos_event()(records in vec((cos_entity(), cos_event_info()), 0..3)) -> CosEvent {
            CosEvent { records: records.into_iter().map(|(cos, event)| CosRecord { cos, event }).collect() }
        }
    }

    proptest! {
        #[test]
        fn cos_event_round_trips(value in cos_event()) {
            round_trip(&value)?;
        }
    }
}

#[cfg(feature = "cmq")]
mod cmq {
    use super::*;
    use scf_event::{CmqEvent, CmqMessage, CmqRecord, MsgTag, TopicOwner};

    fn topic_owner() -> impl Strategy<Value = TopicOwner> {
        prop_oneof![
            any::<u64>().prop_map(TopicOwner::Number),
            text().prop_map(TopicOwner::Text)
        ]
    }

    fn msg_tag() -> impl Strategy<Value = MsgTag> {
        prop_oneof![
            text().prop_map(MsgTag::Text),
            vec(text(), 0..3).prop_map(MsgTag::List)
        ]
    }

    prop_compose! {
        fn cmq_message()(
            message_type in text(),
            topic_owner in topic_owner(),
            topic_name in text(),
            subscription_name in text(),
            publish_time in text(),
            msg_id in text(),
            request_id in text(),
            msg_body in text(),
            msg_tag in proptest::option::of(msg_tag()),
        ) -> CmqMessage {
            CmqMessage {
                message_type, topic_owner, topic_name, subscription_name, publish_time,
                msg_id, request_id, msg_body, msg_tag,
            }
        }
    }

    prop_compose! {
        fn cmq_event()(messages in vec(cmq_message(), 0..3)) -> CmqEvent {
            CmqEvent { records: messages.into_iter().map(|cmq| CmqRecord { cmq }).collect() }
        }
    }

    proptest! {
        #[test]
        fn cmq_event_round_trips(value in cmq_event()) {
            round_trip(&value)?;
        }

        #[test]
        fn joined_tags_split_back(tags in vec("[a-z0-9_]{1,8}", 0..5), separator in prop_oneof![Just(","), Just(", ")]) {
            let joined = MsgTag::Text(tags.join(separator));
            prop_assert_eq!(joined.tags(), tags.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}

#[cfg(feature = "ckafka")]
mod ckafka {
    use super::*;
    use scf_event::{CkafkaEvent, CkafkaMessage, CkafkaRecord, Partition};

    fn partition() -> impl Strategy<Value = Partition> {
        prop_oneof![
            any::<u32>().prop_map(Partition::Number),
            text().prop_map(Partition::Text)
        ]
    }

    prop_compose! {
        fn ckafka_message()(
            topic in text(),
            partition in partition(),
            offset in any::<u64>(),
            msg_key in text(),
            msg_body in text(),
        ) -> CkafkaMessage {
            CkafkaMessage { topic, partition, offset, msg_key, msg_body }
        }
    }

    prop_compose! {
        fn ckafka_event()(messages in vec(ckafka_message(), 0..3)) -> CkafkaEvent {
            CkafkaEvent { records: messages.into_iter().map(|ckafka| CkafkaRecord { ckafka }).collect() }
        }
    }

    proptest! {
        #[test]
        fn ckafka_event_round_trips(value in ckafka_event()) {
            round_trip(&value)?;
        }
    }
}

#[cfg(feature = "cls")]
mod cls {
    use super::*;
    use scf_event::{ClsEvent, ClsLogs, ClsLogsData, ClsRecord};

    prop_compose! {
        fn cls_logs()(
            topic_id in text(),
            topic_name in text(),
            records in vec((text(), text()), 0..4),
        ) -> ClsLogs {
            ClsLogs {
                topic_id,
                topic_name,
                records: records.into_iter().map(|(timestamp, content)| ClsRecord { timestamp, content }).collect(),
            }
        }
    }

    prop_compose! {
        fn cls_event()(data in text()) -> ClsEvent {
            ClsEvent { clslogs: ClsLogsData { data } }
        }
    }

    proptest! {
        #[test]
        fn cls_event_round_trips(value in cls_event()) {
            round_trip(&value)?;
        }

        #[test]
        fn cls_logs_round_trip(value in cls_logs()) {
            round_trip(&value)?;
        }

        #[test]
        fn cls_logs_survive_packing(value in cls_logs()) {
            let event = ClsEvent::encode(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = event.decode().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, value);
        }
    }
}

#[cfg(feature = "clb")]
mod clb {
    use super::*;
    use scf_event::{ClbRequest, LenientBool};

    fn lenient_bool() -> impl Strategy<Value = LenientBool> {
        prop_oneof![
            any::<bool>().prop_map(LenientBool::Bool),
            text().prop_map(LenientBool::Text)
        ]
    }

    prop_compose! {
        fn clb_request()(
            headers in headers(),
            payload in proptest::option::of(json_value()),
            is_base64_encoded in proptest::option::of(lenient_bool()),
        ) -> ClbRequest {
            ClbRequest { headers, payload, is_base64_encoded }
        }
    }

    proptest! {
        #[test]
        fn clb_request_round_trips(value in clb_request()) {
            round_trip(&value)?;
        }

        #[test]
        fn clb_response_round_trips(value in super::response::api_gateway_response()) {
            let value: scf_event::ClbResponse = value;
            round_trip(&value)?;
        }
    }
}

#[cfg(feature = "mps")]
mod mps {
    use super::*;
    use scf_event::{
        MediaProcessResult, MpsAudioStream, MpsCosInputInfo, MpsEvent, MpsInputInfo, MpsMetaData,
        MpsVideoStream, WorkflowTaskEvent,
    };

    /// Finite floats whose shortest decimal form parses back exactly.
    fn float() -> impl Strategy<Value = f64> {
        (0u32..1_000_000_000).prop_map(|n| f64::from(n) / 1000.0)
    }

    prop_compose! {
        fn audio_stream()(bitrate in any::<i64>(), codec in text(), sampling_rate in any::<i64>()) -> MpsAudioStream {
            MpsAudioStream { bitrate, codec, sampling_rate }
        }
    }

    prop_compose! {
        fn video_stream()(
            bitrate in any::<i64>(), codec in text(), fps in any::<i64>(), height in any::<i64>(), width in any::<i64>(),
        ) -> MpsVideoStream {
            MpsVideoStream { bitrate, codec, fps, height, width }
        }
    }

    prop_compose! {
        fn meta_data()(
            audio_duration in float(),
            audio_stream_set in vec(audio_stream(), 0..2),
            bitrate in any::<i64>(),
            container in text(),
            duration in float(),
            height in any::<i64>(),
            rotate in any::<i64>(),
            size in any::<i64>(),
            video_duration in float(),
            video_stream_set in vec(video_stream(), 0..2),
            width in any::<i64>(),
        ) -> MpsMetaData {
            MpsMetaData {
                audio_duration, audio_stream_set, bitrate, container, duration, height, rotate,
                size, video_duration, video_stream_set, width,
            }
        }
    }

    prop_compose! {
        fn input_info()(
            input_type in text(),
            cos in proptest::option::of((text(), text(), text())),
        ) -> MpsInputInfo {
            MpsInputInfo {
                input_type,
                cos_input_info: cos.map(|(bucket, region, object)| MpsCosInputInfo { bucket, region, object }),
            }
        }
    }

    prop_compose! {
        fn media_process_result()(
            result_type in text(),
            tasks in vec(proptest::option::of(json_value()), 5),
        ) -> MediaProcessResult {
            let mut tasks = tasks.into_iter();
            MediaProcessResult {
                result_type,
                transcode_task: tasks.next().flatten(),
                animated_graphic_task: tasks.next().flatten(),
                snapshot_by_time_offset_task: tasks.next().flatten(),
                sample_snapshot_task: tasks.next().flatten(),
                image_sprite_task: tasks.next().flatten(),
            }
        }
    }

    prop_compose! {
        fn workflow_task_event()(
            task_id in text(),
            status in text(),
            err_code in any::<i64>(),
            message in text(),
            input_info in proptest::option::of(input_info()),
            meta_data in proptest::option::of(meta_data()),
            media_process_result_set in vec(media_process_result(), 0..3),
        ) -> WorkflowTaskEvent {
            WorkflowTaskEvent { task_id, status, err_code, message, input_info, meta_data, media_process_result_set }
        }
    }

    prop_compose! {
        fn mps_event()(event_type in text(), workflow_task_event in proptest::option::of(workflow_task_event())) -> MpsEvent {
            MpsEvent { event_type, workflow_task_event }
        }
    }

    proptest! {
        #[test]
        fn mps_event_round_trips(value in mps_event()) {
            round_trip(&value)?;
        }
    }
}
