//! The integration tests of `scf-store-sqlite`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod async_queue;
mod batching;
mod common;
mod conformance;
mod durability;
mod key_collision;
mod key_tables;
mod lease_queue;
mod packing;
mod query;
mod retention;
mod schema_migration;
mod wal_bound;
