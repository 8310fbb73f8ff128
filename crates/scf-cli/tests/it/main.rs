//! The integration tests of `scf-cli`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod browser;
mod commands;
mod common;
mod compat;
mod console;
mod console_app;
mod cron;
mod deployment;
mod env_vars;
mod front_door;
mod generate_event;
mod init;
mod layers;
mod output;
mod rust_hello;
mod sandbox;
mod serve;
mod serverless;
#[cfg(feature = "postgres")]
mod store_postgres;
mod store_url;
mod tccli;
mod template;
mod watch;
mod web;
mod web_stream;
