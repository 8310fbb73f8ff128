//! The execution method of a Tencent Cloud SCF function: the [`Handler`] trait,
//! `file.method` names ([`HandlerSpec`]), the [`Registry`] that resolves them, and the
//! error model ([`FunctionError`], [`FunctionStatus`]).
//!
//! This is the top of the stable core (`scf-event` → `scf-context` → `scf-handler`):
//! a function author depends on it to write a function once and run it embedded
//! (`scf-invoker`), behind HTTP (`scf-http`), or on SCF itself (`scf-runtime`). It pulls
//! in no async runtime.
//!
//! Dependencies: `async-trait` for the object-safe async [`Handler`] trait;
//! `serde`/`serde_json` for events and return values; `serde_path_to_error` so that an
//! event that does not fit the handler's input type names the JSON path that failed;
//! `thiserror` for the error enums.
//!
//! ```
//! use scf_context::Context;
//! use scf_handler::{handler_fn, FunctionError, Handler, Registry};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Event { key: String }
//! #[derive(Serialize)]
//! struct Reply { hello: String }
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("user {0} already exists")]
//! struct UserNameAlreadyExistsException(String);
//!
//! async fn main_handler(event: Event, _ctx: Context) -> Result<Reply, FunctionError> {
//!     if event.key == "taken" {
//!         return Err(UserNameAlreadyExistsException(event.key).into());
//!     }
//!     Ok(Reply { hello: event.key })
//! }
//!
//! let registry = Registry::new().with("index.main_handler", handler_fn(main_handler)).unwrap();
//! let handler = registry.resolve_str("index.main_handler").unwrap();
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let out = handler.call(serde_json::json!({"key": "abctest"}), Context::default()).await;
//! assert_eq!(out.unwrap(), serde_json::json!({"hello": "abctest"}));
//! let err = handler.call(serde_json::json!({"key": "taken"}), Context::default()).await.unwrap_err();
//! assert_eq!(err.error_type(), "UserNameAlreadyExistsException");
//! assert_eq!(err.status().code(), 430);
//! # });
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod handler;
mod json;
mod registry;
mod spec;
mod status;

pub use error::{panic_message, short_type_name, FunctionError, ScfErrorJson};
pub use handler::{
    blocking_fn, cooperative, decode_event, encode_return, handler_fn, BlockingFn, Cooperative,
    Handler, HandlerFn, Instances, SharedHandler,
};
pub use json::{to_json_value, ReturnValueError};
pub use registry::{LookupError, Registry};
pub use spec::{HandlerSpec, HandlerSpecError};
pub use status::FunctionStatus;

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// What a JSON parse error means, for an error message: serde_json's own text, with the
/// rule behind it where that text does not say (nesting deeper than serde_json's limit of
/// 128 levels; a `\uD800`–`\uDFFF` escape that is not half of a surrogate pair).
///
/// ```
/// let deep = "[".repeat(200);
/// let e = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
/// assert_eq!(
///     scf_handler::describe_json_error(&e),
///     "arrays and objects are nested more than 128 levels deep (the limit is 128) at line 1 column 128"
/// );
/// ```
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let at = format!("at line {} column {}", e.line(), e.column());
    if text.starts_with("recursion limit exceeded") {
        return format!(
            "arrays and objects are nested more than 128 levels deep (the limit is 128) {at}"
        );
    }
    if text.contains("hex escape") || text.contains("surrogate") {
        return format!(
            "{text}: a \\u escape from \\uD800 to \\uDFFF must be one half of a surrogate pair (as in \\uD83D\\uDE00); alone it is no Unicode character"
        );
    }
    text
}
