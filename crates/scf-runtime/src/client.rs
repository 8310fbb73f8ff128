//! A minimal HTTP/1.1 client for the Custom Runtime API over one kept-alive connection.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
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
    #[error("Custom Runtime API request {path} failed: {0}", path = .1)]
    Http(#[source] hyper::Error, String),
    /// The API answered with an error status.
    #[error("Custom Runtime API request {path} answered {status}", path = .1, status = .0)]
    Status(StatusCode, String),
}

/// One response: status, headers, body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

#[derive(Debug)]
pub(crate) struct Client {
    addr: String,
    host_header: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    pub(crate) fn new(host: &str, port: u16) -> Self {
        Self {
            addr: format!("{host}:{port}"),
            host_header: format!("{host}:{port}"),
            sender: None,
        }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, ApiError> {
        let usable = self.sender.as_ref().is_some_and(|s| !s.is_closed());
        if !usable {
            let stream =
                TcpStream::connect(&self.addr)
                    .await
                    .map_err(|source| ApiError::Connect {
                        addr: self.addr.clone(),
                        source,
                    })?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| ApiError::Http(e, "handshake".into()))?;
            tokio::spawn(async move {
                // The connection ends when the server closes it; the next request reconnects.
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        match self.sender.as_mut() {
            Some(s) => Ok(s),
            None => unreachable_connect(&self.addr),
        }
    }

    /// Sends one request; retries once on a fresh connection if the kept-alive one died.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Reply, ApiError> {
        let mut last = None;
        for _ in 0..2 {
            let host = self.host_header.clone();
            let sender = self.connect().await?;
            if sender.ready().await.is_err() {
                self.sender = None;
                continue;
            }
            let req = Request::builder()
                .method(method.clone())
                .uri(path)
                .header(http::header::HOST, host)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(body.clone()));
            let req = match req {
                Ok(r) => r,
                Err(_) => return Err(ApiError::Status(StatusCode::BAD_REQUEST, path.into())),
            };
            match sender.send_request(req).await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let body = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| ApiError::Http(e, path.into()))?
                        .to_bytes();
                    if !status.is_success() {
                        return Err(ApiError::Status(status, path.into()));
                    }
                    return Ok(Reply { headers, body });
                }
                Err(e) => {
                    self.sender = None;
                    last = Some(e);
                }
            }
        }
        match last {
            Some(e) => Err(ApiError::Http(e, path.into())),
            None => Err(ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                path.into(),
            )),
        }
    }
}

fn unreachable_connect<T>(addr: &str) -> Result<T, ApiError> {
    Err(ApiError::Connect {
        addr: addr.to_string(),
        source: std::io::Error::other("no connection"),
    })
}
