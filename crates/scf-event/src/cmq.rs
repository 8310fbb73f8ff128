//! CMQ topic trigger.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The event a CMQ topic trigger sends.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CmqEvent {
    /// The messages.
    #[serde(rename = "Records", default)]
    pub records: Vec<CmqRecord>,
}

/// One record of a [`CmqEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CmqRecord {
    /// The message.
    #[serde(rename = "CMQ", default)]
    pub cmq: CmqMessage,
}

/// One CMQ message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CmqMessage {
    /// `topic` or `queue`.
    #[serde(rename = "type", default)]
    pub message_type: String,
    /// Account id of the topic owner: a number, or a string in some samples.
    #[serde(rename = "topicOwner", default)]
    pub topic_owner: TopicOwner,
    /// Topic name.
    #[serde(rename = "topicName", default)]
    pub topic_name: String,
    /// Subscription name.
    #[serde(rename = "subscriptionName", default)]
    pub subscription_name: String,
    /// ISO-8601 UTC, with or without milliseconds.
    #[serde(rename = "publishTime", default)]
    pub publish_time: String,
    /// Message id.
    #[serde(rename = "msgId", default)]
    pub msg_id: String,
    /// Request id.
    #[serde(rename = "requestId", default)]
    pub request_id: String,
    /// Message body.
    #[serde(rename = "msgBody", default)]
    pub msg_body: String,
    /// Tags: a comma-separated string or an array; absent stays absent.
    #[serde(rename = "msgTag", default, skip_serializing_if = "Option::is_none")]
    pub msg_tag: Option<MsgTag>,
}

impl CmqMessage {
    /// The message's tags, trimmed, empty ones dropped; none when `msgTag` is absent.
    pub fn tags(&self) -> Vec<&str> {
        self.msg_tag.as_ref().map(MsgTag::tags).unwrap_or_default()
    }
}

/// `topicOwner`: a number in most sources, a string (`"120xxxxx"`) in the summary page.
///
/// Serializes back to the shape it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TopicOwner {
    /// `"topicOwner": 12345678`
    Number(u64),
    /// `"topicOwner": "120xxxxx"`
    Text(String),
}

impl Default for TopicOwner {
    fn default() -> Self {
        Self::Number(0)
    }
}

impl TopicOwner {
    /// The account id as a number, if it is one (also for a numeric string).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Number(id) => Some(*id),
            Self::Text(text) => text.trim().parse().ok(),
        }
    }
}

impl fmt::Display for TopicOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(id) => write!(f, "{id}"),
            Self::Text(text) => f.write_str(text),
        }
    }
}

/// `msgTag`: a comma-separated string (`"tag1,tag2"` or `"tag1, tag2"`) or an array.
///
/// Serializes back to the shape it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MsgTag {
    /// `"msgTag": "tag1,tag2"`
    Text(String),
    /// `"msgTag": ["tag1", "tag2"]`
    List(Vec<String>),
}

impl Default for MsgTag {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl MsgTag {
    /// The tags, split on `,` for the string form, trimmed, empty ones dropped.
    ///
    /// ```
    /// use scf_event::MsgTag;
    /// assert_eq!(MsgTag::Text("tag1, tag2,tag3".into()).tags(), ["tag1", "tag2", "tag3"]);
    /// ```
    pub fn tags(&self) -> Vec<&str> {
        let trimmed = |tag: &&str| !tag.is_empty();
        match self {
            Self::Text(text) => text.split(',').map(str::trim).filter(trimmed).collect(),
            Self::List(list) => list.iter().map(|tag| tag.trim()).filter(trimmed).collect(),
        }
    }
}
