//! Event types for Tencent Cloud SCF (Serverless Cloud Function).
//!
//! An SCF function receives its event as a JSON object whose shape depends on what
//! invoked it. This crate gives that event two forms:
//!
//! - [`Event`], the untyped form (`serde_json::Value`): any JSON object, as the platform
//!   guarantees nothing more. For `{"key":"abctest"}`, `event["key"]` is `"abctest"`.
//! - Typed forms for each trigger, each behind a Cargo feature of the same name (all on by
//!   default): `apigw` ([`ApiGatewayRequest`], [`ApiGatewayResponse`]), `timer`
//!   ([`TimerEvent`]), `cos` ([`CosEvent`]), `cmq` ([`CmqEvent`]), `ckafka`
//!   ([`CkafkaEvent`]), `cls` ([`ClsEvent`], [`ClsLogs`]), `clb` ([`ClbRequest`],
//!   [`ClbResponse`]) and `mps` ([`MpsEvent`]).
//!
//! The typed forms accept what the platform really sends, not only the documented
//! samples: header names in any case ([`Headers`]), `queryString` values that are strings,
//! arrays or `true` ([`QueryValue`]), a CKafka `partition` of `""` ([`Partition`]), CMQ
//! tags as a string or an array ([`MsgTag`]), CLB's string `"false"` ([`LenientBool`]),
//! absent optional fields, and unknown fields (ignored). Quirky values are written back in
//! the shape they were read, so parse then serialize gives the same JSON.
//!
//! Function authors depend on this crate to read events; `scf-handler` and the runtime
//! crates (`scf-invoker`, `scf-http`) depend on it to move events and to check
//! integration responses ([`ApiGatewayResponse::from_value`]) without pulling in an HTTP
//! stack. It has no async runtime and no HTTP dependency.
//!
//! Dependencies and why: `serde`/`serde_json` define and read the JSON formats;
//! `thiserror` derives the error types; `base64` decodes Base64 bodies (features `apigw`,
//! `clb`) and, with `flate2`, unpacks the gzip-compressed CLS `data` (feature `cls`).
//!
//! ```
//! use scf_event::Event;
//!
//! // Untyped: any JSON object.
//! let event: Event = serde_json::from_str(r#"{"key":"abctest"}"#)?;
//! assert_eq!(event["key"], "abctest");
//! # #[cfg(feature = "apigw")]
//! # {
//! use scf_event::{ApiGatewayRequest, ApiGatewayResponse};
//!
//! // Typed: an API Gateway request with lowercase header names.
//! let request: ApiGatewayRequest = serde_json::from_str(
//!     r#"{"headers": {"content-type": "application/json"}, "path": "/hello",
//!         "httpMethod": "GET", "queryString": {"a": ["1", "2"], "flag": true}}"#,
//! )?;
//! assert_eq!(request.header("Content-Type"), Some("application/json"));
//! assert_eq!(request.query("a").map(|v| v.values()), Some(vec!["1", "2"]));
//!
//! // The integration response the function returns.
//! let response = ApiGatewayResponse::new(200, "hello").with_header("Content-Type", "text/plain");
//! let json = serde_json::to_value(&response)?;
//! assert_eq!(json["statusCode"], 200);
//! # }
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! # Features
//!
//! One feature per trigger, all on by default; with `default-features = false` and the
//! triggers you read, only those (and their dependencies) are compiled.
//!
//! | feature | what it adds | extra dependencies |
//! | --- | --- | --- |
//! | `apigw` | [`ApiGatewayRequest`], [`ApiGatewayResponse`] (API Gateway trigger) | `base64` |
//! | `timer` | [`TimerEvent`] | |
//! | `cos` | [`CosEvent`] (object storage) | |
//! | `cmq` | [`CmqEvent`] (CMQ topic) | |
//! | `ckafka` | [`CkafkaEvent`] | |
//! | `cls` | [`ClsEvent`], [`ClsLogs`] (log service; gzip + Base64 `data`) | `base64`, `flate2` |
//! | `clb` | [`ClbRequest`], [`ClbResponse`] (load balancer) | `base64` |
//! | `mps` | [`MpsEvent`] (media processing workflow) | |
#![cfg_attr(docsrs, feature(doc_cfg))]

mod headers;
pub mod samples;

pub use headers::{HeaderValue, Headers};

/// The untyped event: any JSON value (SCF always sends a JSON object).
///
/// ```
/// let event: scf_event::Event = serde_json::from_str(r#"{"key":"abctest"}"#).unwrap();
/// assert_eq!(event["key"], "abctest");
/// assert!(event["missing"].is_null());
/// ```
pub type Event = serde_json::Value;

/// The name of a JSON value's type for error messages: `null`, `a boolean`, `a number`,
/// `a string`, `an array`, `an object`.
pub fn json_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(any(feature = "apigw", feature = "clb"))]
mod response;
#[cfg(any(feature = "apigw", feature = "clb"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "apigw", feature = "clb"))))]
pub use response::{ApiGatewayResponse, BodyDecodeError, InvalidResponse};

#[cfg(feature = "apigw")]
mod apigw;
#[cfg(feature = "apigw")]
#[cfg_attr(docsrs, doc(cfg(feature = "apigw")))]
pub use apigw::{ApiGatewayRequest, ApiGatewayRequestContext, QueryValue};

#[cfg(feature = "timer")]
mod timer;
#[cfg(feature = "timer")]
#[cfg_attr(docsrs, doc(cfg(feature = "timer")))]
pub use timer::TimerEvent;

#[cfg(feature = "cos")]
mod cos;
#[cfg(feature = "cos")]
#[cfg_attr(docsrs, doc(cfg(feature = "cos")))]
pub use cos::{
    CosBucket, CosEntity, CosEvent, CosEventInfo, CosObject, CosRecord, CosRequestParameters,
};

#[cfg(feature = "cmq")]
mod cmq;
#[cfg(feature = "cmq")]
#[cfg_attr(docsrs, doc(cfg(feature = "cmq")))]
pub use cmq::{CmqEvent, CmqMessage, CmqRecord, MsgTag, TopicOwner};

#[cfg(feature = "ckafka")]
mod ckafka;
#[cfg(feature = "ckafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "ckafka")))]
pub use ckafka::{CkafkaEvent, CkafkaMessage, CkafkaRecord, Partition};

#[cfg(feature = "cls")]
mod cls;
#[cfg(feature = "cls")]
#[cfg_attr(docsrs, doc(cfg(feature = "cls")))]
pub use cls::{ClsDataError, ClsEvent, ClsLogs, ClsLogsData, ClsRecord};

#[cfg(feature = "clb")]
mod clb;
#[cfg(feature = "clb")]
#[cfg_attr(docsrs, doc(cfg(feature = "clb")))]
pub use clb::{ClbRequest, ClbResponse, LenientBool};

#[cfg(feature = "mps")]
mod mps;
#[cfg(feature = "mps")]
#[cfg_attr(docsrs, doc(cfg(feature = "mps")))]
pub use mps::{
    MediaProcessResult, MpsAudioStream, MpsCosInputInfo, MpsEvent, MpsInputInfo, MpsMetaData,
    MpsVideoStream, WorkflowTaskEvent,
};

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
