//! The integration tests of `scf-store`, one test binary: each module is one file of tests.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod conformance;
