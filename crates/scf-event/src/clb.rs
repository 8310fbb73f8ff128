//! CLB (Cloud Load Balancer) trigger.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::headers::Headers;
use crate::response::{decode_body, BodyDecodeError};

/// What a function behind a CLB trigger returns: the same shape as API Gateway's
/// integration response.
pub type ClbResponse = crate::response::ApiGatewayResponse;

/// The event a CLB trigger sends.
///
/// ```json
/// {"headers": {"Host": "test.clb-scf.com", "X-Method": "POST"},
///  "payload": {"key1": "123"}, "isBase64Encoded": "false"}
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClbRequest {
    /// Request headers, including CLB's `X-Uri`, `X-Method`, `X-Real-IP`, ...
    #[serde(default)]
    pub headers: Headers,
    /// The body: parsed JSON for JSON bodies, a string (Base64 for binary content types)
    /// otherwise; may be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Whether `payload` is Base64: the string `"true"`/`"false"` in the docs, maybe a bool.
    #[serde(
        rename = "isBase64Encoded",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_base64_encoded: Option<LenientBool>,
}

/// A boolean that may arrive as a JSON bool or as the string `"true"`/`"false"`.
///
/// Serializes back to the shape it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LenientBool {
    /// `true`
    Bool(bool),
    /// `"true"`
    Text(String),
}

impl Default for LenientBool {
    fn default() -> Self {
        Self::Bool(false)
    }
}

impl LenientBool {
    /// The boolean; `"true"`/`"false"` ignore ASCII case and surrounding spaces, other
    /// strings give `None`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(flag) => Some(*flag),
            Self::Text(text) if text.trim().eq_ignore_ascii_case("true") => Some(true),
            Self::Text(text) if text.trim().eq_ignore_ascii_case("false") => Some(false),
            Self::Text(_) => None,
        }
    }
}

impl From<bool> for LenientBool {
    fn from(flag: bool) -> Self {
        Self::Bool(flag)
    }
}

impl ClbRequest {
    /// Request header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Whether `payload` is Base64; absent or unrecognised values count as `false`.
    pub fn is_base64_encoded(&self) -> bool {
        self.is_base64_encoded
            .as_ref()
            .and_then(LenientBool::as_bool)
            .unwrap_or(false)
    }

    /// The body's bytes: a string payload is Base64-decoded when
    /// [`is_base64_encoded`](Self::is_base64_encoded), taken as UTF-8 otherwise; a JSON
    /// payload is serialized compactly; no payload is empty.
    pub fn body_bytes(&self) -> Result<Vec<u8>, BodyDecodeError> {
        match &self.payload {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(text)) => decode_body(text, self.is_base64_encoded()),
            Some(other) => Ok(other.to_string().into_bytes()),
        }
    }
}
