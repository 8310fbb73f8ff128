//! The integration tests of `scf-store-postgres`, one test binary: each module is one file
//! of tests, `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod batching;
mod common;
mod conformance;
mod nodes;
mod open_errors;
mod outage;
mod retention;
mod schema_migration;
