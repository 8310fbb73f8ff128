//! The integration tests of `scf-http`, one test binary: each module is one file of tests,
//! `common` holds what they share.

// A test fails by panicking: unwrap is how these files say "this cannot fail here".
#![allow(clippy::unwrap_used)]

mod api_async;
mod api_auth;
mod api_functions;
mod api_invoke;
mod api_logs;
mod api_protocol;
mod apigw_event;
mod apigw_invoke;
mod apigw_response;
mod apigw_route_priority;
mod apigw_routes;
mod bad_input;
// These two need the `axum` feature (CI runs the tests with --all-features).
#[cfg(feature = "axum")]
mod axum_embedding;
#[cfg(feature = "axum")]
mod axum_example;
mod building_blocks;
mod common;
mod connection_limits;
mod http2_limits;
mod ops_endpoints;
mod peer_rule;
mod real_clients;
mod server_signals;
mod server_socket;
mod tc3_auth;
mod tower_services;
