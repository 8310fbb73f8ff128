//! `file.method` handler names.

use std::fmt;
use std::str::FromStr;

/// A parsed and validated execution method, `file.method` (`index.main_handler`).
///
/// The file part may contain `/` for sub-folders (`src/api.handler`); it is a relative
/// path without `..`. The method is split off at the last `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HandlerSpec {
    file: String,
    method: String,
}

/// Why a handler name is not a valid `file.method`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandlerSpecError {
    /// The name is empty.
    #[error("handler is empty: expected `file.method`, e.g. `index.main_handler`")]
    Empty,
    /// No `.` separates file and method.
    #[error("handler {0:?} has no `.`: expected `file.method`, e.g. `index.main_handler`")]
    MissingDot(String),
    /// Nothing before the `.`.
    #[error("handler {0:?} has an empty file part: expected `file.method`")]
    EmptyFile(String),
    /// Nothing after the `.`.
    #[error("handler {0:?} has an empty method part: expected `file.method`")]
    EmptyMethod(String),
    /// The file part is an absolute path.
    #[error(
        "handler {0:?} names an absolute path: the file must be relative to the code directory"
    )]
    AbsolutePath(String),
    /// The file part climbs out of the code directory.
    #[error("handler {0:?} contains `..`: the file must stay inside the code directory")]
    ParentDir(String),
    /// The file part has an empty folder name (`a//b`).
    #[error("handler {0:?} has an empty folder name in its file part")]
    EmptySegment(String),
    /// The file part has a character a file name cannot have.
    #[error("handler {handler:?} has the character {ch:?} in its file part, which a file name cannot have")]
    InvalidFileChar {
        /// The handler given.
        handler: String,
        /// The offending character.
        ch: char,
    },
    /// The method is not an identifier.
    #[error("handler {handler:?} has an invalid method name {method:?}: it must be letters, digits, `_` or `$`, not starting with a digit")]
    InvalidMethod {
        /// The handler given.
        handler: String,
        /// The method part.
        method: String,
    },
}

fn invalid_file_char(c: char) -> bool {
    c.is_control() || matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
}

impl HandlerSpec {
    /// Parses and validates `file.method`.
    pub fn parse(s: &str) -> Result<Self, HandlerSpecError> {
        if s.is_empty() {
            return Err(HandlerSpecError::Empty);
        }
        let owned = || s.to_string();
        let (file, method) = s
            .rsplit_once('.')
            .ok_or_else(|| HandlerSpecError::MissingDot(owned()))?;
        if file.is_empty() {
            return Err(HandlerSpecError::EmptyFile(owned()));
        }
        if method.is_empty() {
            return Err(HandlerSpecError::EmptyMethod(owned()));
        }
        if file.starts_with('/') {
            return Err(HandlerSpecError::AbsolutePath(owned()));
        }
        if let Some(ch) = file.chars().find(|c| invalid_file_char(*c)) {
            return Err(HandlerSpecError::InvalidFileChar {
                handler: owned(),
                ch,
            });
        }
        for segment in file.split('/') {
            if segment == ".." {
                return Err(HandlerSpecError::ParentDir(owned()));
            }
            if segment.is_empty() {
                return Err(HandlerSpecError::EmptySegment(owned()));
            }
        }
        let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        if !method.chars().all(ident) || method.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(HandlerSpecError::InvalidMethod {
                handler: owned(),
                method: method.to_string(),
            });
        }
        Ok(Self {
            file: file.to_string(),
            method: method.to_string(),
        })
    }

    /// The file part, without extension (`index`, `src/api`).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The method part (`main_handler`).
    pub fn method(&self) -> &str {
        &self.method
    }
}

impl FromStr for HandlerSpec {
    type Err = HandlerSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for HandlerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.file, self.method)
    }
}
