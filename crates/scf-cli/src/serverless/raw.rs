//! The raw YAML shape of a Serverless Framework `serverless.yml` for the SCF component
//! (`component: scf`), field by field as the component documents them. Every field the
//! component documents has a place here, so that an unknown one is refused by name (with
//! the parser's file, line and column); those that only mean something in the cloud
//! (region, role, VPC, tags…) are read as `IgnoredAny` and have no effect locally.

// Fields of type `IgnoredAny` exist to accept a documented key, and are never read.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

/// A scalar that may carry Serverless variables (`${env:X}`): text, a number, a boolean
/// or null, with where it was written.
pub(crate) type Scalar = Spanned<Value>;

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServerless {
    pub(crate) component: Scalar,
    pub(crate) name: Option<Scalar>,
    pub(crate) org: Option<Scalar>,
    pub(crate) app: Option<Scalar>,
    pub(crate) stage: Option<Scalar>,
    pub(crate) inputs: Option<RawInputs>,
}

/// `inputs:` of the SCF component.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawInputs {
    pub(crate) name: Option<Scalar>,
    pub(crate) namespace: Option<Scalar>,
    pub(crate) src: Option<Spanned<RawSrc>>,
    pub(crate) handler: Option<Scalar>,
    pub(crate) runtime: Option<Scalar>,
    pub(crate) description: Option<Scalar>,
    pub(crate) memory_size: Option<Scalar>,
    pub(crate) timeout: Option<Scalar>,
    pub(crate) init_timeout: Option<Scalar>,
    pub(crate) environment: Option<RawEnvironment>,
    pub(crate) events: Option<Vec<Spanned<RawEvent>>>,
    pub(crate) layers: Option<Vec<Spanned<RawLayer>>>,
    #[serde(rename = "type")]
    pub(crate) type_: Option<Scalar>,
    pub(crate) async_run_enable: Option<Scalar>,
    pub(crate) retry_num: Option<Scalar>,
    #[serde(rename = "msgTTL")]
    pub(crate) msg_ttl: Option<Scalar>,
    pub(crate) region: Option<Scalar>,
    pub(crate) image: Option<Scalar>,
    // Read, and meaningful only in the cloud.
    pub(crate) role: Option<IgnoredAny>,
    pub(crate) enable_role_auth: Option<IgnoredAny>,
    pub(crate) public_access: Option<IgnoredAny>,
    pub(crate) vpc_config: Option<IgnoredAny>,
    pub(crate) cfs: Option<IgnoredAny>,
    pub(crate) dead_letter: Option<IgnoredAny>,
    pub(crate) cls: Option<IgnoredAny>,
    pub(crate) eip: Option<IgnoredAny>,
    pub(crate) tags: Option<IgnoredAny>,
    pub(crate) trace_enable: Option<IgnoredAny>,
    pub(crate) install_dependency: Option<IgnoredAny>,
    pub(crate) publish: Option<IgnoredAny>,
    pub(crate) publish_description: Option<IgnoredAny>,
    pub(crate) traffic: Option<IgnoredAny>,
    pub(crate) auto_create_api: Option<IgnoredAny>,
    pub(crate) ignore_triggers: Option<IgnoredAny>,
    pub(crate) provisioned_num: Option<IgnoredAny>,
    pub(crate) instance_concurrency_config: Option<IgnoredAny>,
    pub(crate) protocol_type: Option<IgnoredAny>,
    pub(crate) protocol_params: Option<IgnoredAny>,
    pub(crate) entry_file: Option<IgnoredAny>,
    pub(crate) need_set_traffic: Option<IgnoredAny>,
}

/// `src`: a path, or an object.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawSrc {
    Path(String),
    Object(RawSrcObject),
}

/// `src: {src, exclude, include, bucket, object}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSrcObject {
    pub(crate) src: Option<String>,
    pub(crate) exclude: Option<IgnoredAny>,
    pub(crate) include: Option<IgnoredAny>,
    pub(crate) bucket: Option<String>,
    pub(crate) object: Option<String>,
    pub(crate) dist: Option<IgnoredAny>,
    pub(crate) hook: Option<IgnoredAny>,
    pub(crate) key: Option<String>,
}

/// `environment: {variables: {KEY: value}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnvironment {
    pub(crate) variables: Option<BTreeMap<String, Scalar>>,
}

/// `layers: [{name, version}]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLayer {
    pub(crate) name: Scalar,
    pub(crate) version: Option<Scalar>,
}

/// One item of `events:`: a map with one trigger type as its key. Some projects indent
/// the trigger's `name` and `parameters` beside the type instead of under it
/// (`- cos:` then `name:` on the next line, one level up); those are read as the
/// trigger's own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvent {
    #[serde(default, deserialize_with = "present")]
    pub(crate) apigw: Option<Option<RawTrigger<RawApigwParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) timer: Option<Option<RawTrigger<RawTimerParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) cos: Option<Option<RawTrigger<RawCosParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) cmq: Option<Option<RawTrigger<RawCmqParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) ckafka: Option<Option<RawTrigger<RawCkafkaParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) cls: Option<Option<RawTrigger<RawClsParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) mps: Option<Option<RawTrigger<RawMpsParams>>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) clb: Option<Option<RawTrigger<RawClbParams>>>,
    pub(crate) name: Option<Scalar>,
    pub(crate) parameters: Option<IgnoredAny>,
}

/// A key that is there, even with no value (`- cos:` then nothing): `Some(None)`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `{name, parameters}` of a trigger. `serviceId` is accepted beside them, where some
/// projects write it (the framework reads only `parameters.serviceId`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawTrigger<P> {
    pub(crate) name: Option<Scalar>,
    pub(crate) parameters: Option<P>,
    pub(crate) service_id: Option<IgnoredAny>,
}

/// `timer` parameters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawTimerParams {
    pub(crate) name: Option<Scalar>,
    pub(crate) cron_expression: Option<Scalar>,
    pub(crate) enable: Option<Scalar>,
    pub(crate) argument: Option<Scalar>,
    pub(crate) qualifier: Option<IgnoredAny>,
}

/// `apigw` parameters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawApigwParams {
    pub(crate) environment: Option<Scalar>,
    pub(crate) endpoints: Option<Vec<Spanned<RawEndpoint>>>,
    pub(crate) service_id: Option<IgnoredAny>,
    pub(crate) service_name: Option<IgnoredAny>,
    pub(crate) protocols: Option<IgnoredAny>,
    pub(crate) net_types: Option<IgnoredAny>,
    pub(crate) description: Option<IgnoredAny>,
    pub(crate) service_timeout: Option<IgnoredAny>,
    pub(crate) qualifier: Option<IgnoredAny>,
    pub(crate) custom_domains: Option<IgnoredAny>,
    pub(crate) enable: Option<IgnoredAny>,
}

/// One API of an `apigw` trigger.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawEndpoint {
    pub(crate) path: Option<Scalar>,
    pub(crate) method: Option<Scalar>,
    pub(crate) api_id: Option<IgnoredAny>,
    pub(crate) api_name: Option<IgnoredAny>,
    pub(crate) description: Option<IgnoredAny>,
    #[serde(rename = "enableCORS")]
    pub(crate) enable_cors: Option<IgnoredAny>,
    pub(crate) response_type: Option<IgnoredAny>,
    pub(crate) service_timeout: Option<IgnoredAny>,
    pub is_base64_encoded: Option<IgnoredAny>,
    pub is_base64_trigger: Option<IgnoredAny>,
    pub base64_encoded_trigger_rules: Option<IgnoredAny>,
    pub(crate) param: Option<IgnoredAny>,
    pub(crate) function: Option<IgnoredAny>,
    pub(crate) usage_plan: Option<IgnoredAny>,
    pub(crate) auth: Option<IgnoredAny>,
    pub(crate) protocol: Option<IgnoredAny>,
}

/// Parameters of the triggers served nowhere locally: read, so that a typo is refused.
macro_rules! cloud_params {
    ($($name:ident { $($field:ident),* })*) => {$(
#[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub(crate) struct $name { $(pub(crate) $field: Option<IgnoredAny>,)* }
    )*};
}

cloud_params! {
    RawCosParams { qualifier, bucket, filter, events, enable }
    RawCmqParams { qualifier, name, enable, filter_type, filter_key }
    RawCkafkaParams { qualifier, name, topic, max_msg_num, offset, enable, retry, timeout }
    RawClsParams { qualifier, topic_id, max_wait, enable }
    RawMpsParams { qualifier, r#type, enable }
    RawClbParams { qualifier, load_balancer_id, protocol, domain, port, url, enable }
}

/// Anything in a Serverless file, to look `${self:…}` up in.
pub(crate) type Document = Value;

/// The keys of `inputs` that are read and have an effect locally, for messages.
pub(crate) const LOCAL_INPUTS: &str = "name, namespace, src, handler, runtime, description, memorySize, timeout, initTimeout, environment, events, layers, type, asyncRunEnable, retryNum, msgTTL, region";
