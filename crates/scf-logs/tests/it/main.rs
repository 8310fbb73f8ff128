//! The integration tests of `scf-logs`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod capture;
mod framing;
mod number_format;
mod record;
