//! Limits against large bodies, slow clients and too many connections.

use std::time::Duration;

/// Limits against large bodies, slow clients and too many connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest cloud API request body: 10 MB, the limit of a TC3-signed POST. A larger
    /// body is refused (`InvalidParameter.RequestTooLarge`) before it is read whole.
    pub max_api_body_bytes: u64,
    /// Largest gateway request body: 6 MB, the sync event limit (413 beyond).
    pub max_gateway_body_bytes: u64,
    /// Time a client has to send a request's headers (HTTP/1), also between requests on a
    /// kept-alive connection. Default 10 s.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body. Default 60 s.
    pub body_read_timeout: Duration,
    /// Most bytes of request bodies a [`Server`](crate::Server) holds at once, over all
    /// connections; a body whose next bytes would pass it is refused
    /// (`RequestLimitExceeded`, gateway 503) instead of taking more memory. Bodies of
    /// requests refused by their headers (no or a bad signature, a declared length over
    /// the limit) are never held. Default 64 MiB.
    pub body_budget_bytes: u64,
    /// After an answer made before the body was read whole (a refusal), the server reads
    /// and drops up to this many bytes of the rest, so that a client that sends its whole
    /// body before reading gets the answer rather than a reset; a body declared larger is
    /// not read and the connection closes after the answer. Default 16 MiB.
    pub max_discard_bytes: u64,
    /// Time a new connection has to deliver its first request's headers, counted from
    /// the accept and covering the bytes read to tell HTTP/1 from HTTP/2 (a client that
    /// sends nothing, one byte, or only the HTTP/2 preface is dropped then). Default 10 s.
    pub first_request_timeout: Duration,
    /// A connection (HTTP/1 keep-alive or HTTP/2) with no request in flight for this long
    /// is closed (HTTP/2 with a GOAWAY). Default 30 s.
    pub idle_timeout: Duration,
    /// Most connections open at once; further clients wait in the listen backlog.
    /// Default 1024.
    pub max_connections: usize,
    /// Most connections open at once from one IP address, so that one peer cannot take
    /// all of [`max_connections`](Self::max_connections); a connection over it is closed
    /// as soon as it is accepted. Default 128.
    pub max_connections_per_peer: usize,
    /// HTTP/2: most streams (requests) open at once on one connection. Default 100.
    pub http2_max_concurrent_streams: u32,
    /// HTTP/2: how often an idle-looking connection is pinged, and how long the answer
    /// may take before the connection is closed. Default 20 s and 10 s.
    pub http2_keep_alive: (Duration, Duration),
    /// How long shutdown lets in-flight requests finish before closing their connections.
    /// Default 30 s.
    pub shutdown_grace: Duration,
}

/// The largest body of a TC3-signed POST: 10 MB.
pub const MAX_API_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// The largest gateway request body: 6 MB, SCF's limit of a synchronous event
/// (`scf_invoker::MAX_SYNC_EVENT_BYTES`, kept equal by a test).
pub const MAX_GATEWAY_BODY_BYTES: u64 = 6 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_api_body_bytes: MAX_API_BODY_BYTES,
            max_gateway_body_bytes: MAX_GATEWAY_BODY_BYTES,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            body_budget_bytes: 64 * 1024 * 1024,
            max_discard_bytes: 16 * 1024 * 1024,
            first_request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_peer: 128,
            http2_max_concurrent_streams: 100,
            http2_keep_alive: (Duration::from_secs(20), Duration::from_secs(10)),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

#[cfg(all(test, feature = "gateway"))]
mod tests {
    #[test]
    fn the_gateway_body_limit_is_the_invokers_sync_event_limit() {
        assert_eq!(
            super::MAX_GATEWAY_BODY_BYTES,
            scf_invoker::MAX_SYNC_EVENT_BYTES as u64
        );
    }
}
