//! Many handlers in one place, found by `file.method`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::error::FunctionError;
use crate::handler::{Handler, SharedHandler};
use crate::spec::{HandlerSpec, HandlerSpecError};
use crate::status::FunctionStatus;

/// Maps `file` → `method` → handler, as a code package maps files to functions.
#[derive(Clone, Default)]
pub struct Registry {
    files: BTreeMap<String, BTreeMap<String, SharedHandler>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.specs()).finish()
    }
}

/// Why a handler could not be found. Every variant ends an invocation with status 437
/// (`HandlerNotFound`) except a malformed name, which is a configuration error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The handler name is not a valid `file.method`.
    #[error(transparent)]
    Spec(#[from] HandlerSpecError),
    /// No file of that name is registered.
    #[error("No module named '{file}'")]
    UnknownFile {
        /// The file part asked for.
        file: String,
    },
    /// The file is registered but has no such method.
    #[error("'module' object has no attribute '{method}'")]
    UnknownMethod {
        /// The file part asked for.
        file: String,
        /// The method part asked for.
        method: String,
    },
}

impl LookupError {
    /// The function status an invocation ends with when its handler is not found.
    pub fn status(&self) -> FunctionStatus {
        FunctionStatus::HandlerNotFound
    }

    /// The failed invocation this lookup error causes (status 437, the message above).
    pub fn to_function_error(&self) -> FunctionError {
        FunctionError::platform(self.status(), self.to_string())
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` under `name` (`index.main_handler`), replacing any handler
    /// already there.
    pub fn register(
        &mut self,
        name: &str,
        handler: impl Handler,
    ) -> Result<&mut Self, HandlerSpecError> {
        let spec = HandlerSpec::parse(name)?;
        self.insert(spec, Arc::new(handler));
        Ok(self)
    }

    /// Builder form of [`Registry::register`].
    pub fn with(mut self, name: &str, handler: impl Handler) -> Result<Self, HandlerSpecError> {
        self.register(name, handler)?;
        Ok(self)
    }

    /// Registers an already shared handler under a parsed name.
    pub fn insert(&mut self, spec: HandlerSpec, handler: SharedHandler) {
        self.files
            .entry(spec.file().to_string())
            .or_default()
            .insert(spec.method().to_string(), handler);
    }

    /// Finds the handler for a parsed name.
    pub fn resolve(&self, spec: &HandlerSpec) -> Result<SharedHandler, LookupError> {
        let methods = self
            .files
            .get(spec.file())
            .ok_or_else(|| LookupError::UnknownFile {
                file: spec.file().to_string(),
            })?;
        methods
            .get(spec.method())
            .cloned()
            .ok_or_else(|| LookupError::UnknownMethod {
                file: spec.file().to_string(),
                method: spec.method().to_string(),
            })
    }

    /// Parses `name` and finds its handler.
    pub fn resolve_str(&self, name: &str) -> Result<SharedHandler, LookupError> {
        self.resolve(&HandlerSpec::parse(name)?)
    }

    /// Every registered name, in order.
    pub fn specs(&self) -> impl Iterator<Item = String> + '_ {
        self.files
            .iter()
            .flat_map(|(file, methods)| methods.keys().map(move |m| format!("{file}.{m}")))
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
