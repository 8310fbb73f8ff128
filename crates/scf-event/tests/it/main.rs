//! The integration tests of `scf-event`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod apigw;
mod ckafka;
mod clb;
mod cls;
mod cmq;
mod cos;
mod fixtures_roundtrip;
mod headers;
mod proptest_roundtrip;
