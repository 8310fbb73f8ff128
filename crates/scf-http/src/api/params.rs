//! Reading an action's parameters from its JSON body, with the API's error codes.

use scf_event::json_type;
use serde_json::{Map, Value};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::{ApiError, ErrorCode};

/// An action's parameters: the body's JSON object, checked against the names the action
/// has.
#[derive(Debug)]
pub(crate) struct Params {
    map: Map<String, Value>,
}

impl Params {
    /// Parses the body (empty = no parameters) and refuses names the action does not have.
    pub(crate) fn parse(action: &str, body: &[u8], allowed: &[&str]) -> Result<Self, ApiError> {
        let map = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => map,
                Ok(other) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameter,
                        format!(
                            "The request body must be a JSON object of the action's parameters, got {}.",
                            json_type(&other)
                        ),
                    ))
                }
                Err(e) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidParameter,
                        format!(
                            "The request body is not valid JSON: {}.",
                            scf_handler::describe_json_error(&e)
                        ),
                    ))
                }
            }
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::unknown_parameter(action, unknown));
        }
        Ok(Self { map })
    }

    /// A present, non-null value.
    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::wrong_type(name, "a string")),
        }
    }

    pub(crate) fn required_string(&self, name: &str) -> Result<String, ApiError> {
        match self.string(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::missing_parameter(name)),
        }
    }

    pub(crate) fn string_or(&self, name: &str, default: &str) -> Result<String, ApiError> {
        Ok(self
            .string(name)?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default.to_string()))
    }

    pub(crate) fn u32(&self, name: &str) -> Result<Option<u32>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) => u32::try_from(n).map(Some).map_err(|_| {
                    ApiError::invalid_value(name, &n.to_string(), "it must be at most 4294967295")
                }),
                None if v.is_number() => Err(ApiError::invalid_value(
                    name,
                    &v.to_string(),
                    "it must be a non-negative integer",
                )),
                None => Err(ApiError::wrong_type(name, "an integer")),
            },
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::wrong_type(name, "a boolean")),
        }
    }

    pub(crate) fn object(&self, name: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::wrong_type(name, "an object")),
        }
    }

    pub(crate) fn array(&self, name: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(ApiError::wrong_type(name, "an array")),
        }
    }

    pub(crate) fn string_list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(ApiError::wrong_type(name, "an array of strings")),
                })
                .collect(),
            Some(_) => Err(ApiError::wrong_type(name, "an array of strings")),
        }
    }

    /// A `YYYY-MM-DD HH:MM:SS` time (UTC).
    pub(crate) fn datetime(&self, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
        self.string(name)?
            .map(|s| parse_datetime(name, &s))
            .transpose()
    }
}

/// Parses the API's `YYYY-MM-DD HH:MM:SS` as UTC.
pub(crate) fn parse_datetime(name: &str, value: &str) -> Result<OffsetDateTime, ApiError> {
    PrimitiveDateTime::parse(value, scf_logs::record::API_DATETIME_FORMAT)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| {
            ApiError::invalid_value(
                name,
                value,
                "it must be a time as `YYYY-MM-DD HH:MM:SS` (UTC), e.g. `2017-05-16 20:00:00`",
            )
        })
}
