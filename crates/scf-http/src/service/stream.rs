//! A web function's response streamed through the gateway: the invocation runs with a
//! [`StreamHook`] on its context, the head becomes the HTTP response as soon as the
//! function's server sent it, and the body ([`Streamed`]) hands each chunk on as it
//! comes. The invocation's future is polled by the body itself (on the client
//! connection's task: no task and no channel of its own); when the client goes away
//! first, the stream says so to the function (which stops its instance) and the rest of
//! the invocation runs on a task of its own, so that its log record is still written.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body::Frame;
use scf_context::{ResponseStream, StreamHook};
use scf_invoker::{InvokeError, InvokeResponse};

use super::ResponseBody;
use crate::body::{set_id_header, BoxError, FUNCTION_REQUEST_ID_HEADER};

/// The invocation, as the body polls it.
pub(crate) type Invocation =
    Pin<Box<dyn Future<Output = Result<InvokeResponse, InvokeError>> + Send>>;

/// A response head as the function's server sent it.
pub(crate) struct Head {
    request_id: String,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
}

#[derive(Default)]
struct State {
    head: Option<Head>,
    /// The chunk the body has not taken yet (one at a time: the function waits for the
    /// client).
    chunk: Option<Bytes>,
    end: Option<Result<(), String>>,
    /// The body was dropped: the client went away.
    gone: bool,
    /// The body (or the gateway waiting for the head).
    reader: Option<Waker>,
    /// The function, waiting for room for its next chunk or for the client to go.
    writer: Option<Waker>,
    closer: Option<Waker>,
}

/// The gateway's side of [`ResponseStream`].
#[derive(Default)]
pub(crate) struct WebStream(Mutex<State>);

impl WebStream {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_reader(state: &mut State) {
        if let Some(w) = state.reader.take() {
            w.wake();
        }
    }

    /// The hook for the invocation's context.
    pub(crate) fn hook(self: &Arc<Self>) -> StreamHook {
        StreamHook::new(self.clone())
    }

    /// The head, once the function sent it.
    fn take_head(&self, cx: &Context<'_>) -> Option<Head> {
        let mut state = self.lock();
        let head = state.head.take();
        if head.is_none() {
            state.reader = Some(cx.waker().clone());
        }
        head
    }
}

impl ResponseStream for WebStream {
    fn head(&self, request_id: &str, status: u16, headers: Vec<(String, Vec<u8>)>) -> bool {
        let mut state = self.lock();
        if state.gone {
            return false;
        }
        state.head = Some(Head {
            request_id: request_id.to_owned(),
            status,
            headers,
        });
        Self::wake_reader(&mut state);
        true
    }

    fn chunk(&self, data: Vec<u8>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        let mut data = Some(Bytes::from(data));
        Box::pin(std::future::poll_fn(move |cx| {
            let mut state = self.lock();
            if state.gone {
                return Poll::Ready(false);
            }
            if state.chunk.is_some() {
                state.writer = Some(cx.waker().clone());
                return Poll::Pending;
            }
            state.chunk = data.take();
            Self::wake_reader(&mut state);
            Poll::Ready(true)
        }))
    }

    fn closed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::poll_fn(move |cx| {
            let mut state = self.lock();
            if state.gone {
                return Poll::Ready(());
            }
            state.closer = Some(cx.waker().clone());
            Poll::Pending
        }))
    }

    fn end(&self, result: Result<(), String>) {
        let mut state = self.lock();
        state.end = Some(result);
        Self::wake_reader(&mut state);
    }
}

/// What the gateway waits for first: the streamed head, or the invocation's end (it
/// failed before its server answered, or the function answered without streaming).
pub(crate) enum First {
    Head(Response<ResponseBody>),
    Done(Result<InvokeResponse, InvokeError>),
}

/// Polls `invocation` until the function sent its head (the streamed response, whose
/// body polls the rest of the invocation) or the invocation ended.
pub(crate) async fn first(stream: Arc<WebStream>, invocation: Invocation) -> First {
    let mut invocation = Some(invocation);
    let mut done = None;
    let head = std::future::poll_fn(|cx| {
        if let Some(fut) = invocation.as_mut() {
            if let Poll::Ready(outcome) = fut.as_mut().poll(cx) {
                invocation = None;
                done = Some(outcome);
            }
        }
        match stream.take_head(cx) {
            Some(head) => Poll::Ready(Some(head)),
            None if invocation.is_none() => Poll::Ready(None),
            None => Poll::Pending,
        }
    })
    .await;
    let Some(head) = head else {
        return First::Done(done.unwrap_or(Err(InvokeError::ShuttingDown)));
    };
    let mut response = Response::new(ResponseBody::streamed(Streamed {
        stream,
        invocation,
        ended: done.map(|d| status_of(&d)),
        cut: None,
    }));
    *response.status_mut() = StatusCode::from_u16(head.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    for (name, value) in head.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            headers.append(name, value);
        }
    }
    set_id_header(&mut response, FUNCTION_REQUEST_ID_HEADER, &head.request_id);
    First::Head(response)
}

fn status_of(outcome: &Result<InvokeResponse, InvokeError>) -> u16 {
    match outcome {
        Ok(r) => r.status.code(),
        Err(e) => e.status().code(),
    }
}

/// The body of a streamed response.
pub(crate) struct Streamed {
    stream: Arc<WebStream>,
    /// The rest of the invocation; `None` once it ended.
    invocation: Option<Invocation>,
    /// The invocation's status, once it ended.
    ended: Option<u16>,
    /// Why the body was cut, once said: the next poll fails with it (one poll later, so
    /// that hyper first flushes what it was given).
    cut: Option<String>,
}

impl Streamed {
    pub(crate) fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(why) = this.cut.take() {
            return Poll::Ready(Some(Err(why.into())));
        }
        loop {
            {
                let mut state = this.stream.lock();
                if let Some(chunk) = state.chunk.take() {
                    if let Some(w) = state.writer.take() {
                        w.wake();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                match state.end.take() {
                    Some(Ok(())) => {
                        drop(state);
                        // The invocation's last steps (its record) usually finish now;
                        // if not, they finish on a task of their own (`Drop`).
                        let _ = this.poll_invocation(cx);
                        return Poll::Ready(None);
                    }
                    Some(Err(why)) => {
                        drop(state);
                        return this.cut_after_flush(why, cx);
                    }
                    None => state.reader = Some(cx.waker().clone()),
                }
            }
            if this.invocation.is_none() {
                let status = this.ended.unwrap_or(500);
                let why =
                    format!("the invocation ended with status {status} before its response did");
                return this.cut_after_flush(why, cx);
            }
            if this.poll_invocation(cx).is_pending() {
                let state = this.stream.lock();
                if state.chunk.is_none() && state.end.is_none() {
                    return Poll::Pending;
                }
            }
        }
    }

    fn cut_after_flush(
        &mut self,
        why: String,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.cut = Some(why);
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn poll_invocation(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(fut) = self.invocation.as_mut() else {
            return Poll::Ready(());
        };
        match fut.as_mut().poll(cx) {
            Poll::Ready(outcome) => {
                self.ended = Some(status_of(&outcome));
                self.invocation = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        {
            let mut state = self.stream.lock();
            state.gone = true;
            for w in [state.writer.take(), state.closer.take()]
                .into_iter()
                .flatten()
            {
                w.wake();
            }
        }
        if let Some(invocation) = self.invocation.take() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(invocation);
            }
        }
    }
}
