//! The integration tests of `scf-invoker`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod async_invoke;
mod async_retry;
mod bad_input;
mod common;
mod concurrency_limit;
mod config;
mod cooperative;
mod functions;
mod init_time;
mod kill9;
mod log_framing;
mod log_isolation;
mod memory;
mod msg_ttl;
mod nodes;
mod panics;
mod queue_full;
mod recover;
mod shutdown;
mod statuses;
mod store_faults;
mod sync_invoke;
mod terminate;
mod timeout;
