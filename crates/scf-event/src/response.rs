//! The integration response an HTTP-fronted function returns (API Gateway and CLB).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json_type;

use crate::headers::{HeaderValue, Headers};

/// What a function behind an API Gateway (or CLB) trigger returns so that the gateway
/// builds an HTTP response from it (the "integration response").
///
/// ```json
/// {"isBase64Encoded": false, "statusCode": 200,
///  "headers": {"Content-Type": "text/html", "Set-Cookie": ["a=1", "b=2"]},
///  "body": "<html>...</html>"}
/// ```
///
/// Missing `isBase64Encoded`, `headers` and `body` read as `false`, `{}` and `""`, and are
/// always written out, so the output has the complete documented shape.
/// To check a function's raw return value with an error that names the wrong field, use
/// [`ApiGatewayResponse::from_value`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiGatewayResponse {
    /// Whether `body` is Base64 of binary content.
    #[serde(rename = "isBase64Encoded", default)]
    pub is_base64_encoded: bool,
    /// HTTP status code.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// Response headers; a value may be an array for a header sent several times.
    #[serde(default)]
    pub headers: Headers<HeaderValue>,
    /// Response body: text, or Base64 when `isBase64Encoded` is true.
    #[serde(default)]
    pub body: String,
}

impl Default for ApiGatewayResponse {
    fn default() -> Self {
        Self {
            is_base64_encoded: false,
            status_code: 200,
            headers: Headers::new(),
            body: String::new(),
        }
    }
}

/// Why a function's return value is not a valid integration response.
///
/// The HTTP layer answers these with API Gateway's 403
/// `Invalid scf response format` (CLB: `Analyse scf response failed`); the message says which
/// field is wrong and what it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidResponse {
    /// The value is not a JSON object.
    #[error("scf response must be a JSON object, got {found}")]
    NotAnObject {
        /// JSON type found instead.
        found: &'static str,
    },
    /// `statusCode` is absent.
    #[error(
        "scf response field `statusCode` is missing; it must be an integer HTTP status (100-599)"
    )]
    MissingStatusCode,
    /// `statusCode` is not an integer in 100..=599.
    #[error(
        "scf response field `statusCode` must be an integer HTTP status (100-599), got {found}"
    )]
    StatusCode {
        /// The offending value, as JSON.
        found: String,
    },
    /// `isBase64Encoded` is not a boolean.
    #[error("scf response field `isBase64Encoded` must be a boolean, got {found}")]
    IsBase64Encoded {
        /// JSON type found instead.
        found: &'static str,
    },
    /// `headers` is not an object.
    #[error("scf response field `headers` must be an object of string or string-array values, got {found}")]
    Headers {
        /// JSON type found instead.
        found: &'static str,
    },
    /// One header value is neither a string nor an array of strings.
    #[error(
        "scf response header `headers.{name}` must be a string or an array of strings, got {found}"
    )]
    HeaderValue {
        /// Header name.
        name: String,
        /// What was found instead.
        found: String,
    },
    /// `body` is not a string.
    #[error("scf response field `body` must be a string, got {found}")]
    Body {
        /// JSON type found instead.
        found: &'static str,
    },
}

/// `body` claimed to be Base64 (`isBase64Encoded: true`) but is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`body` is marked isBase64Encoded but is not valid base64: {source}")]
pub struct BodyDecodeError {
    #[source]
    source: base64::DecodeError,
}

/// Decodes an HTTP body carried in an event: Base64 when `is_base64_encoded`, the
/// string's UTF-8 bytes otherwise.
pub(crate) fn decode_body(body: &str, is_base64_encoded: bool) -> Result<Vec<u8>, BodyDecodeError> {
    if is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|source| BodyDecodeError { source })
    } else {
        Ok(body.as_bytes().to_vec())
    }
}

impl ApiGatewayResponse {
    /// A response with `status_code`, no headers and a text `body`.
    pub fn new(status_code: u16, body: impl Into<String>) -> Self {
        Self {
            status_code,
            body: body.into(),
            ..Self::default()
        }
    }

    /// Adds (or replaces, ignoring case) a header; for chaining.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<HeaderValue>) -> Self {
        self.headers.insert(name, value.into());
        self
    }

    /// Checks a function's return value the way API Gateway does and converts it.
    ///
    /// `statusCode` must be present and an integer in 100..=599; `isBase64Encoded` a
    /// boolean, `headers` an object whose values are strings or arrays of strings, and
    /// `body` a string, each when present. Unknown fields are ignored.
    ///
    /// ```
    /// use scf_event::ApiGatewayResponse;
    /// use serde_json::json;
    ///
    /// let err = ApiGatewayResponse::from_value(&json!({"statusCode": "200"})).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "scf response field `statusCode` must be an integer HTTP status (100-599), got \"200\""
    /// );
    /// ```
    pub fn from_value(value: &Value) -> Result<Self, InvalidResponse> {
        let object = value.as_object().ok_or(InvalidResponse::NotAnObject {
            found: json_type(value),
        })?;

        let status = object
            .get("statusCode")
            .ok_or(InvalidResponse::MissingStatusCode)?;
        let status_code = status
            .as_u64()
            .filter(|code| (100..=599).contains(code))
            .and_then(|code| u16::try_from(code).ok())
            .ok_or_else(|| InvalidResponse::StatusCode {
                found: status.to_string(),
            })?;

        let is_base64_encoded = match object.get("isBase64Encoded") {
            None => false,
            Some(Value::Bool(flag)) => *flag,
            Some(other) => {
                return Err(InvalidResponse::IsBase64Encoded {
                    found: json_type(other),
                })
            }
        };

        let mut headers = BTreeMap::new();
        match object.get("headers") {
            None => {}
            Some(Value::Object(map)) => {
                for (name, value) in map {
                    let header = match value {
                        Value::String(single) => HeaderValue::Single(single.clone()),
                        Value::Array(items) => HeaderValue::Multi(
                            items
                                .iter()
                                .map(|item| match item {
                                    Value::String(s) => Ok(s.clone()),
                                    other => Err(InvalidResponse::HeaderValue {
                                        name: name.clone(),
                                        found: format!("an array containing {}", json_type(other)),
                                    }),
                                })
                                .collect::<Result<_, _>>()?,
                        ),
                        other => {
                            return Err(InvalidResponse::HeaderValue {
                                name: name.clone(),
                                found: json_type(other).to_owned(),
                            })
                        }
                    };
                    headers.insert(name.clone(), header);
                }
            }
            Some(other) => {
                return Err(InvalidResponse::Headers {
                    found: json_type(other),
                })
            }
        }

        let body = match object.get("body") {
            None => String::new(),
            Some(Value::String(body)) => body.clone(),
            Some(other) => {
                return Err(InvalidResponse::Body {
                    found: json_type(other),
                })
            }
        };

        Ok(Self {
            is_base64_encoded,
            status_code,
            headers: Headers::from(headers),
            body,
        })
    }

    /// Whether `value` is a valid integration response (see [`from_value`](Self::from_value)).
    pub fn is_valid(value: &Value) -> bool {
        Self::from_value(value).is_ok()
    }

    /// The body's bytes: Base64-decoded when `isBase64Encoded`, UTF-8 otherwise.
    pub fn body_bytes(&self) -> Result<Vec<u8>, BodyDecodeError> {
        decode_body(&self.body, self.is_base64_encoded)
    }
}

impl TryFrom<&Value> for ApiGatewayResponse {
    type Error = InvalidResponse;

    fn try_from(value: &Value) -> Result<Self, Self::Error> {
        Self::from_value(value)
    }
}

impl TryFrom<Value> for ApiGatewayResponse {
    type Error = InvalidResponse;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Self::from_value(&value)
    }
}
