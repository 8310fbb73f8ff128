//! A minimal HTTP/1.1 client for the Custom Runtime API over one kept-alive connection.
//!
//! It speaks just what the API needs (requests with a `Content-Length` body; responses
//! with a `Content-Length` or chunked body) straight over the socket, on the caller's
//! task: no connection task to hand each request to. A result and the next long poll go
//! out together in one write ([`Client::push_then_next`], HTTP/1.1 pipelining), so the
//! instance does not wait for the push's answer before it asks for the next event: one
//! round trip per invocation fewer. Any HTTP/1.1 server answers pipelined requests in
//! order, so this is the standard protocol.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A failure to talk to the Custom Runtime API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Connecting failed.
    #[error("cannot connect to the Custom Runtime API at {addr}: {source}")]
    Connect {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("Custom Runtime API request {path} failed: {source}")]
    Io {
        /// The request's path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The API answered with an error status.
    #[error("Custom Runtime API request {path} answered {status}", path = .1, status = .0)]
    Status(StatusCode, String),
}

/// One response: headers and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Most header lines a response may have.
const MAX_HEADERS: usize = 64;
/// Largest response head accepted, in bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;

pub(crate) const NEXT: &str = "/runtime/invocation/next";

#[derive(Debug)]
pub(crate) struct Client {
    addr: String,
    stream: Option<TcpStream>,
    /// Bytes read but not yet parsed.
    buf: BytesMut,
    /// The request bytes being written (kept to reuse the allocation).
    out: Vec<u8>,
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl Client {
    pub(crate) fn new(host: &str, port: u16) -> Self {
        Self {
            addr: format!("{host}:{port}"),
            stream: None,
            buf: BytesMut::with_capacity(16 * 1024),
            out: Vec::with_capacity(4096),
        }
    }

    async fn connect(&mut self) -> Result<&mut TcpStream, ApiError> {
        if self.stream.is_none() {
            let stream =
                TcpStream::connect(&self.addr)
                    .await
                    .map_err(|source| ApiError::Connect {
                        addr: self.addr.clone(),
                        source,
                    })?;
            let _ = stream.set_nodelay(true);
            self.buf.clear();
            self.stream = Some(stream);
        }
        match self.stream.as_mut() {
            Some(s) => Ok(s),
            None => Err(ApiError::Connect {
                addr: self.addr.clone(),
                source: std::io::Error::other("no connection"),
            }),
        }
    }

    fn put_request(&mut self, method: &str, path: &str, body: Option<&[u8]>) {
        let out = &mut self.out;
        out.extend_from_slice(method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        out.extend_from_slice(self.addr.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(body) = body {
            out.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Writes the prepared requests; on failure the connection is dropped.
    async fn write_out(&mut self, path: &str) -> Result<(), std::io::Error> {
        let out = std::mem::take(&mut self.out);
        let written = match self.connect().await {
            Ok(stream) => stream.write_all(&out).await,
            Err(ApiError::Connect { source, .. }) => Err(source),
            Err(_) => Err(std::io::Error::other(path.to_owned())),
        };
        self.out = out;
        self.out.clear();
        if written.is_err() {
            self.stream = None;
        }
        written
    }

    /// Sends one request; retries once on a fresh connection if the kept-alive one died.
    pub(crate) async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Reply, ApiError> {
        let mut last = None;
        for _ in 0..2 {
            self.put_request(method, path, body);
            if let Err(e) = self.write_out(path).await {
                last = Some(e);
                continue;
            }
            match self.read_reply().await {
                Ok(reply) => return finish(reply, path),
                Err(e) => {
                    self.stream = None;
                    last = Some(e);
                }
            }
        }
        Err(io_error(path, last))
    }

    /// Pushes a result to `path` and asks for the next event in the same write; returns
    /// the next event. If the connection dies before the push is answered, both go again
    /// on a fresh one; if it dies after, only the long poll does.
    pub(crate) async fn push_then_next(
        &mut self,
        path: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        for attempt in 0..2 {
            self.put_request("POST", path, Some(body));
            self.put_request("GET", NEXT, None);
            let pushed = match self.write_out(path).await {
                Ok(()) => self.read_reply().await,
                Err(e) => Err(e),
            };
            match pushed {
                Ok(reply) => {
                    finish(reply, path)?;
                    return match self.read_reply().await {
                        Ok(next) => finish(next, NEXT),
                        Err(_) => {
                            self.stream = None;
                            self.send("GET", NEXT, None).await
                        }
                    };
                }
                Err(e) => {
                    self.stream = None;
                    if attempt == 1 {
                        return Err(io_error(path, Some(e)));
                    }
                }
            }
        }
        Err(io_error(path, None))
    }

    /// Reads one response: status, headers, body.
    async fn read_reply(&mut self) -> Result<(StatusCode, Reply), std::io::Error> {
        let (status, headers, head_len, length) = loop {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut slots);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let status = StatusCode::from_u16(parsed.code.unwrap_or(0))
                        .map_err(|_| bad("a response with an invalid status"))?;
                    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
                    let mut length = Length::Until;
                    for h in parsed.headers.iter() {
                        let (Ok(name), Ok(value)) = (
                            HeaderName::from_bytes(h.name.as_bytes()),
                            HeaderValue::from_bytes(h.value),
                        ) else {
                            continue;
                        };
                        if name == http::header::CONTENT_LENGTH {
                            let n = value
                                .to_str()
                                .ok()
                                .and_then(|v| v.trim().parse().ok())
                                .ok_or_else(|| bad("a response with a bad Content-Length"))?;
                            length = Length::Exactly(n);
                        } else if name == http::header::TRANSFER_ENCODING
                            && value
                                .to_str()
                                .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
                        {
                            length = Length::Chunked;
                        }
                        headers.append(name, value);
                    }
                    break (status, headers, head_len, length);
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > MAX_HEAD_BYTES {
                        return Err(bad("a response head over 64 KiB"));
                    }
                    self.fill().await?;
                }
                Err(_) => return Err(bad("a malformed response")),
            }
        };
        self.buf.advance(head_len);
        let body = match length {
            Length::Exactly(n) => self.take(n).await?,
            Length::Chunked => self.chunked().await?,
            // No length: the body runs to the end of the connection.
            Length::Until => {
                while self.fill().await.is_ok() {}
                self.stream = None;
                self.buf.split().freeze()
            }
        };
        let closes = headers
            .get(http::header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if closes {
            self.stream = None;
        }
        Ok((status, Reply { headers, body }))
    }

    /// Reads more bytes into the buffer; end of file is an error.
    async fn fill(&mut self) -> Result<(), std::io::Error> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    async fn take(&mut self, n: usize) -> Result<Bytes, std::io::Error> {
        while self.buf.len() < n {
            self.buf.reserve(n - self.buf.len());
            self.fill().await?;
        }
        Ok(self.buf.split_to(n).freeze())
    }

    async fn line(&mut self) -> Result<Bytes, std::io::Error> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(pos).freeze();
                self.buf.advance(2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(bad("a chunk line over 64 KiB"));
            }
            self.fill().await?;
        }
    }

    async fn chunked(&mut self) -> Result<Bytes, std::io::Error> {
        let mut body = BytesMut::new();
        loop {
            let line = self.line().await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.split(';').next())
                .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
                .ok_or_else(|| bad("a malformed chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.line().await?.is_empty() {}
                return Ok(body.freeze());
            }
            body.extend_from_slice(&self.take(size).await?);
            self.take(2).await?;
        }
    }
}

enum Length {
    Exactly(usize),
    Chunked,
    Until,
}

fn finish((status, reply): (StatusCode, Reply), path: &str) -> Result<Reply, ApiError> {
    if status.is_success() {
        Ok(reply)
    } else {
        Err(ApiError::Status(status, path.into()))
    }
}

fn io_error(path: &str, e: Option<std::io::Error>) -> ApiError {
    ApiError::Io {
        path: path.into(),
        source: e.unwrap_or_else(|| std::io::Error::other("the connection closed")),
    }
}
