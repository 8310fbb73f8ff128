//! Who sent a request: the peer address a host puts in the request's extensions.
//!
//! The cloud API without credentials answers loopback peers only, wherever it runs, so
//! it needs each request's peer. [`Server`](crate::Server) inserts a [`PeerAddr`] into
//! every request; an application that mounts a service itself passes the peer the same
//! way (with hyper: `request.extensions_mut().insert(PeerAddr(peer))` in its
//! `service_fn`), or, with this crate's `axum` feature, through axum's
//! `ConnectInfo<SocketAddr>` (serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`). A request that carries neither
//! has no known peer, and the API without credentials refuses it.

use std::net::SocketAddr;

use http::Extensions;

/// The address of the client that sent a request, as the host accepted its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// The peer of a request: its [`PeerAddr`], else (feature `axum`) axum's
/// `ConnectInfo<SocketAddr>` or `MockConnectInfo<SocketAddr>` (as axum's `ConnectInfo`
/// extractor reads them); `None` when the host said nothing.
pub fn peer_addr(extensions: &Extensions) -> Option<SocketAddr> {
    if let Some(PeerAddr(addr)) = extensions.get::<PeerAddr>() {
        return Some(*addr);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(*addr);
    }
    // What axum's own `ConnectInfo` extractor falls back to (its test helper).
    #[cfg(feature = "axum")]
    if let Some(axum::extract::connect_info::MockConnectInfo(addr)) =
        extensions.get::<axum::extract::connect_info::MockConnectInfo<SocketAddr>>()
    {
        return Some(*addr);
    }
    None
}

/// The path the client asked for, before a host that mounts a service under a prefix
/// stripped it (feature `axum`: axum's `OriginalUri`); `None` when unknown.
#[cfg(feature = "gateway")]
pub(crate) fn original_path(extensions: &Extensions) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::OriginalUri(uri)) = extensions.get::<axum::extract::OriginalUri>() {
        return Some(uri.path());
    }
    let _ = extensions;
    None
}
