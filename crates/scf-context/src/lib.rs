//! What a Tencent Cloud SCF function knows about its invocation, and what a function is.
//!
//! This is the second layer of the stack: [`Context`] is the `context` argument every
//! handler receives, with exactly the fields and JSON names SCF gives; [`FunctionConfig`]
//! is a function's identity, limits and environment, validated like the platform does
//! ([`ConfigError`] names the field and the rule). A context knows its deadline and
//! carries a [`Cancellation`] signal that fires at the deadline or on termination, and,
//! from an HTTP host, a [`StreamHook`] through which a handler may stream its HTTP
//! response ([`ResponseStream`]).
//!
//! Function authors and every host crate (`scf-handler`, `scf-invoker`, `scf-runtime`)
//! depend on it. It pulls in no async runtime: the cancellation signal is a plain
//! future that works under any executor.
//!
//! Dependencies: `serde`/`serde_json` for the context's JSON form; `thiserror` for
//! [`ConfigError`].
//!
//! ```
//! use scf_context::{Context, FunctionConfig};
//!
//! let config = FunctionConfig::new("hello-from-scf");
//! config.validate().expect("the defaults are valid");
//! let ctx = Context::new(&config, "f03dc946-3df4-45a0-8e54-000000000000");
//! assert_eq!(ctx.time_limit_in_ms, 3000);
//! assert_eq!(ctx.environment, r#"{"SCF_NAMESPACE":"default"}"#);
//! assert!(ctx.get_remaining_time_in_millis() <= 3000);
//! let json = serde_json::to_value(&ctx).unwrap();
//! assert_eq!(json["function_version"], "$LATEST");
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cancel;
mod config;
mod context;
mod report;
mod stream;

pub use cancel::{CancelReason, Cancellation, Cancelled};
pub use config::{
    validate_env_key, ConfigError, FunctionConfig, RetryConfig, DEFAULT_INIT_TIMEOUT,
    MAX_ENVIRONMENT_BYTES, MAX_INIT_TIMEOUT, MAX_MSG_TTL, MAX_RETRIES, RESERVED_ENV_PREFIXES,
    TIMEOUT_RANGE,
};
pub use context::{Context, ThreadHook, ThreadTask};
pub use report::{HostReport, ReportHook};
pub use stream::{ResponseStream, StreamHook};

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
