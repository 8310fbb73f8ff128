//! A host that takes a handler's HTTP response as it is produced, instead of as one
//! return value: an API Gateway in front of a web function, whose server's head and body
//! chunks go on to the client as they come. The host sets a [`StreamHook`] on the
//! [`Context`](crate::Context); a handler that produces an HTTP response may send it
//! through [`Context::response_stream`](crate::Context::response_stream), and one that
//! does not look for it returns its value as always. Runtime-agnostic: the futures are
//! plain boxed futures, so neither side needs to know the other's executor or crate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Where a streamed response goes. Called in this order: [`head`](Self::head) once, then
/// [`chunk`](Self::chunk) any number of times, then [`end`](Self::end) once. A `false`
/// answer means the client is gone (it closed its connection): the handler should stop
/// producing the response.
pub trait ResponseStream: Send + Sync {
    /// The response's status and headers (a header sent several times, `Set-Cookie`, as
    /// several pairs in order), for the invocation `request_id`.
    fn head(&self, request_id: &str, status: u16, headers: Vec<(String, Vec<u8>)>) -> bool;
    /// One piece of the body; resolves once the host has taken it (so a slow client
    /// slows the handler down instead of filling memory).
    fn chunk(&self, data: Vec<u8>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
    /// Resolves when the client is gone (so that a handler waiting for its next chunk
    /// need not wait to find out).
    fn closed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
    /// The body is complete (`Ok`), or was cut short (`Err`, why: a limit, a crash): the
    /// host then ends the client's response as incomplete.
    fn end(&self, result: Result<(), String>);
}

/// A host's [`ResponseStream`], carried by a [`Context`](crate::Context) and an invoke
/// request. Two hooks are equal when they are the same stream.
#[derive(Clone)]
pub struct StreamHook(Arc<dyn ResponseStream>);

impl StreamHook {
    /// A hook that hands the response to `stream`.
    pub fn new(stream: Arc<dyn ResponseStream>) -> Self {
        Self(stream)
    }

    /// The stream.
    pub fn stream(&self) -> &dyn ResponseStream {
        &*self.0
    }
}

impl PartialEq for StreamHook {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for StreamHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamHook")
    }
}
