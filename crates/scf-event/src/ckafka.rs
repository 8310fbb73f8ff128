//! CKafka trigger.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The event a CKafka trigger sends: a batch of messages, in order per partition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CkafkaEvent {
    /// The messages.
    #[serde(rename = "Records", default)]
    pub records: Vec<CkafkaRecord>,
}

/// One record of a [`CkafkaEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CkafkaRecord {
    /// The message.
    #[serde(rename = "Ckafka", default)]
    pub ckafka: CkafkaMessage,
}

/// One CKafka message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CkafkaMessage {
    /// Topic name.
    #[serde(default)]
    pub topic: String,
    /// Partition: a number, or `""` in scf-cli's template. Also read from `Partition`
    /// (the CKafka page's spelling) but always written as `partition`.
    #[serde(default, alias = "Partition")]
    pub partition: Partition,
    /// Offset within the partition.
    #[serde(default)]
    pub offset: u64,
    /// Message key; `None` (the string) when the message has no key.
    #[serde(rename = "msgKey", default)]
    pub msg_key: String,
    /// Message body.
    #[serde(rename = "msgBody", default)]
    pub msg_body: String,
}

/// `partition`: a number, or a string (`""` in scf-cli's template).
///
/// Serializes back to the shape it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Partition {
    /// `"partition": 1`
    Number(u32),
    /// `"partition": ""`
    Text(String),
}

impl Default for Partition {
    fn default() -> Self {
        Self::Number(0)
    }
}

impl Partition {
    /// The partition number; `None` for `""` or another non-numeric string.
    pub fn number(&self) -> Option<u32> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(text) => text.trim().parse().ok(),
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(text) => f.write_str(text),
        }
    }
}
