//! The integration tests of `scf-runtime`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod common;
mod frames_peer;
mod raw_peer;
mod runtime_api;
