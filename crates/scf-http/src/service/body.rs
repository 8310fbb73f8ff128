//! [`ResponseBody`], the response body of every service: whole bytes, or (the gateway's
//! route to a web function) a body streamed as the function's server sends it.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;

use crate::body::BoxError;

/// The response body type of every service: whole bytes (`From` a `String`, `Vec<u8>`,
/// `Bytes`, `&'static str` or a `Full<Bytes>`), or the body of a web function's response
/// streamed to the client as it arrives (see [`GatewayService`](crate::GatewayService)),
/// which ends in an error when the function's response was cut short (a limit, a
/// timeout, a crash), so that the client sees an incomplete response.
pub struct ResponseBody(Inner);

enum Inner {
    Whole(Full<Bytes>),
    #[cfg(feature = "gateway")]
    Streamed(Pin<Box<super::stream::Streamed>>),
}

impl ResponseBody {
    /// A body of `bytes`.
    pub fn new(bytes: Bytes) -> Self {
        Self(Inner::Whole(Full::new(bytes)))
    }

    #[cfg(feature = "gateway")]
    pub(crate) fn streamed(body: super::stream::Streamed) -> Self {
        Self(Inner::Streamed(Box::pin(body)))
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Whole(full) => f.debug_tuple("ResponseBody").field(full).finish(),
            #[cfg(feature = "gateway")]
            Inner::Streamed(_) => f.write_str("ResponseBody(streamed)"),
        }
    }
}

impl Default for ResponseBody {
    fn default() -> Self {
        Self::new(Bytes::new())
    }
}

impl From<Full<Bytes>> for ResponseBody {
    fn from(full: Full<Bytes>) -> Self {
        Self(Inner::Whole(full))
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        Self::new(bytes)
    }
}

impl From<Vec<u8>> for ResponseBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(Bytes::from(bytes))
    }
}

impl From<String> for ResponseBody {
    fn from(text: String) -> Self {
        Self::new(Bytes::from(text))
    }
}

impl From<&'static str> for ResponseBody {
    fn from(text: &'static str) -> Self {
        Self::new(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for ResponseBody {
    fn from(bytes: &'static [u8]) -> Self {
        Self::new(Bytes::from_static(bytes))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            Inner::Whole(full) => Pin::new(full)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            #[cfg(feature = "gateway")]
            Inner::Streamed(body) => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Whole(full) => full.is_end_stream(),
            #[cfg(feature = "gateway")]
            Inner::Streamed(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Whole(full) => full.size_hint(),
            #[cfg(feature = "gateway")]
            Inner::Streamed(_) => SizeHint::default(),
        }
    }
}
