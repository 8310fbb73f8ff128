//! [`ParseValueError`]: an API string that is not one of the values a field takes.

/// A string that is not one of the values an API parameter accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value `{value}` for {field}: expected one of {expected}")]
pub struct ParseValueError {
    /// The API parameter, e.g. `Filter.RetCode`.
    pub field: &'static str,
    /// The value that was given.
    pub value: String,
    /// The accepted values, comma separated.
    pub expected: &'static str,
}

impl ParseValueError {
    /// A value of `field` that is none of `expected`.
    pub fn new(field: &'static str, value: &str, expected: &'static str) -> Self {
        ParseValueError {
            field,
            value: value.to_owned(),
            expected,
        }
    }
}
