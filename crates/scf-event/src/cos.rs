//! COS (Cloud Object Storage) trigger.

use serde::{Deserialize, Serialize};

use crate::headers::Headers;

/// The event a COS trigger sends; `Records` may hold several merged notifications.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosEvent {
    /// The notifications.
    #[serde(rename = "Records", default)]
    pub records: Vec<CosRecord>,
}

/// One COS notification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosRecord {
    /// The bucket and object.
    #[serde(default)]
    pub cos: CosEntity,
    /// What happened.
    #[serde(default)]
    pub event: CosEventInfo,
}

/// The `cos` part of a [`CosRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosEntity {
    /// Schema version, `1.0`.
    #[serde(rename = "cosSchemaVersion", default)]
    pub cos_schema_version: String,
    /// The object.
    #[serde(rename = "cosObject", default)]
    pub cos_object: CosObject,
    /// The bucket.
    #[serde(rename = "cosBucket", default)]
    pub cos_bucket: CosBucket,
    /// Notification id; the docs show `unkown` (sic).
    #[serde(rename = "cosNotificationId", default)]
    pub cos_notification_id: String,
}

/// The object a [`CosRecord`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosObject {
    /// Object URL.
    #[serde(default)]
    pub url: String,
    /// Object metadata (`x-cos-request-id`, `Content-Type`, `x-cos-meta-*`, ...).
    #[serde(default)]
    pub meta: Headers,
    /// Version id; `""` when unversioned.
    #[serde(default)]
    pub vid: String,
    /// Full path `/<appid>/<bucket-name>/<object-key>`; see [`CosObject::object_key`].
    #[serde(default)]
    pub key: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
}

impl CosObject {
    /// The object key inside its bucket: `key` without the leading `/<appid>/<bucket>/`.
    ///
    /// Returns `key` unchanged if it does not have that shape.
    ///
    /// ```
    /// let object = scf_event::CosObject { key: "/1253970026/testpic/dir/file".into(), ..Default::default() };
    /// assert_eq!(object.object_key(), "dir/file");
    /// ```
    pub fn object_key(&self) -> &str {
        self.key
            .strip_prefix('/')
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(_appid, rest)| rest.split_once('/'))
            .map_or(self.key.as_str(), |(_bucket, object)| object)
    }
}

/// The bucket a [`CosRecord`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosBucket {
    /// Short region code (`cd`, `gz`, `bj`, ...).
    #[serde(default)]
    pub region: String,
    /// Bucket name without the appid suffix.
    #[serde(default)]
    pub name: String,
    /// Owner's APPID.
    #[serde(default)]
    pub appid: String,
}

/// The `event` part of a [`CosRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosEventInfo {
    /// E.g. `cos:ObjectCreated:Put`, `cos:ObjectRemove:Delete`.
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    /// Event version, `1.0`.
    #[serde(rename = "eventVersion", default)]
    pub event_version: String,
    /// UNIX time in seconds.
    #[serde(rename = "eventTime", default)]
    pub event_time: i64,
    /// `qcs::cos`.
    #[serde(rename = "eventSource", default)]
    pub event_source: String,
    /// The request that caused the event.
    #[serde(rename = "requestParameters", default)]
    pub request_parameters: CosRequestParameters,
    /// The function queue, e.g. `qcs:0:scf:cd:appid/1253970026:default.printevent.$LATEST`.
    #[serde(rename = "eventQueue", default)]
    pub event_queue: String,
    /// Reserved, usually `""`.
    #[serde(rename = "reservedInfo", default)]
    pub reserved_info: String,
    /// COS request id (an integer).
    #[serde(default)]
    pub reqid: u64,
}

/// `requestParameters` of a [`CosEventInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CosRequestParameters {
    /// Caller IP.
    #[serde(rename = "requestSourceIP", default)]
    pub request_source_ip: String,
    /// Request headers (e.g. `Authorization`).
    #[serde(rename = "requestHeaders", default)]
    pub request_headers: Headers,
}
