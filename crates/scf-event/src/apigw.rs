//! API Gateway trigger: the integration request event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::headers::Headers;
use crate::response::{decode_body, BodyDecodeError};

/// The event an API Gateway trigger sends (integration request).
///
/// `requestContext.path`/`httpMethod` describe the API as configured (`/test/{path}`,
/// maybe `ANY`); the top-level `path`/`httpMethod` are the actual request's.
/// `requestContext.requestId`, `stageVariables`, `body` and `isBase64Encoded` may be absent
/// and stay absent when serialized again.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApiGatewayRequest {
    /// The API definition and the caller.
    #[serde(rename = "requestContext", default)]
    pub request_context: ApiGatewayRequestContext,
    /// All request headers; real events send lowercase names plus gateway extras
    /// (`x-api-requestid`, `x-qualifier`, ...).
    #[serde(default)]
    pub headers: Headers,
    /// The full request body as a string; absent on GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Path parameters configured in API Gateway, with their values.
    #[serde(rename = "pathParameters", default)]
    pub path_parameters: BTreeMap<String, String>,
    /// Query parameters configured in API Gateway, with their values.
    #[serde(rename = "queryStringParameters", default)]
    pub query_string_parameters: BTreeMap<String, String>,
    /// Header parameters configured in API Gateway, with their values.
    #[serde(rename = "headerParameters", default)]
    pub header_parameters: BTreeMap<String, String>,
    /// Stage variables; may be absent.
    #[serde(
        rename = "stageVariables",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stage_variables: Option<BTreeMap<String, String>>,
    /// The actual request path.
    #[serde(default)]
    pub path: String,
    /// The full query of the actual request.
    #[serde(rename = "queryString", default)]
    pub query_string: BTreeMap<String, QueryValue>,
    /// The actual request method.
    #[serde(rename = "httpMethod", default)]
    pub http_method: String,
    /// Whether `body` is Base64; not in official samples, so usually absent.
    #[serde(
        rename = "isBase64Encoded",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_base64_encoded: Option<bool>,
}

/// `requestContext` of an [`ApiGatewayRequest`]: the API definition and the caller.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApiGatewayRequestContext {
    /// API Gateway service id, e.g. `service-f94sy04v`.
    #[serde(rename = "serviceId", default)]
    pub service_id: String,
    /// The API's path template, e.g. `/test/{path}`.
    #[serde(default)]
    pub path: String,
    /// The API's method; may be `ANY`.
    #[serde(rename = "httpMethod", default)]
    pub http_method: String,
    /// Unique request id; may be absent.
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Authentication info (e.g. `secretId`); may be `{}`.
    #[serde(default)]
    pub identity: BTreeMap<String, Value>,
    /// Client IP address.
    #[serde(rename = "sourceIp", default)]
    pub source_ip: String,
    /// Environment of the API: `test`, `prepub` or `release`.
    #[serde(default)]
    pub stage: String,
}

/// One value of `queryString`: a string, an array for a repeated key (`?a=b&a=c`), or
/// `true` for a key without a value (`?i`).
///
/// Serializes back to the shape it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueryValue {
    /// `"x": "y"`
    Single(String),
    /// `"a": ["b", "c"]`
    Multi(Vec<String>),
    /// `"i": true`, a key without `=value`.
    Flag(bool),
}

impl Default for QueryValue {
    fn default() -> Self {
        Self::Single(String::new())
    }
}

impl QueryValue {
    /// Every value in order; a flag has none (as in scf-go-lib).
    pub fn values(&self) -> Vec<&str> {
        match self {
            Self::Single(value) => vec![value.as_str()],
            Self::Multi(values) => values.iter().map(String::as_str).collect(),
            Self::Flag(_) => Vec::new(),
        }
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&str> {
        match self {
            Self::Single(value) => Some(value),
            Self::Multi(values) => values.first().map(String::as_str),
            Self::Flag(_) => None,
        }
    }
}

impl ApiGatewayRequest {
    /// Request header `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// `queryString` entry `name` (case-sensitive, as query keys are).
    pub fn query(&self, name: &str) -> Option<&QueryValue> {
        self.query_string.get(name)
    }

    /// The body's bytes: Base64-decoded when `isBase64Encoded` is true, UTF-8 otherwise;
    /// empty when there is no body.
    pub fn body_bytes(&self) -> Result<Vec<u8>, BodyDecodeError> {
        decode_body(
            self.body.as_deref().unwrap_or_default(),
            self.is_base64_encoded.unwrap_or(false),
        )
    }
}
