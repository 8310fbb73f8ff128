//! [`Mount`]: a service of the host's own under a path prefix of the API's listeners
//! (`scf serve` mounts its web console at `/console`), ahead of the gateway routes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use crate::service::ResponseBody;

/// What a mounted service answers: one request, its body already read whole (within the
/// API's body limit), its [`PeerAddr`](crate::PeerAddr) in the extensions.
pub type MountFn = dyn Fn(Request<Bytes>) -> Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>
    + Send
    + Sync;

/// A service mounted at `prefix` on every listener that serves the cloud API: it gets
/// every request whose path is the prefix or lies under it (`/console`, `/console/x`, not
/// `/consoles`), before the gateway routes are looked at. Cheap to clone.
#[derive(Clone)]
pub struct Mount {
    prefix: String,
    service: Arc<MountFn>,
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Mount {
    /// `service` at `prefix` (a path starting with `/`, without a trailing `/`).
    pub fn new(prefix: impl Into<String>, service: Arc<MountFn>) -> Self {
        let prefix = prefix.into().trim_end_matches('/').to_string();
        Self { prefix, service }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether `path` is the prefix or under it.
    pub fn matches(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Answers one request.
    pub async fn call(&self, request: Request<Bytes>) -> Response<ResponseBody> {
        (self.service)(request).await
    }
}
