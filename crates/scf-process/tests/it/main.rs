//! The integration tests of `scf-process`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod custom_runtime_api;
mod faults;
mod frames;
mod go_runtime;
mod invoker;
mod isolation;
mod node_runtime;
mod php_runtime;
mod pool;
mod python_runtime;
mod sandbox;
mod spec_validation;
