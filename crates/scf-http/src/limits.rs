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
    /// Most connections open at once; further clients wait in the listen backlog.
    /// Default 1024.
    pub max_connections: usize,
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
            max_connections: 1024,
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
