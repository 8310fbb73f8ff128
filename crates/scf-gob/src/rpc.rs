//! Go's `net/rpc` over gob, the client side, without I/O: [`RpcClient`] turns calls into
//! bytes to send and bytes received into replies.
//!
//! A call is two gob values on the client's stream: the header `rpc.Request{ServiceMethod
//! string; Seq uint64}` and the argument. A reply is two values on the server's stream:
//! `rpc.Response{ServiceMethod string; Seq uint64; Error string}` and the result (an
//! empty struct when `Error` is set).

use std::sync::{Arc, OnceLock};

use crate::{split_message, Decoder, Encoder, GobError, StructType, Type, Value};

fn request_header() -> &'static Type {
    static T: OnceLock<Type> = OnceLock::new();
    T.get_or_init(|| {
        Type::Struct(Arc::new(StructType::new(
            "Request",
            [("ServiceMethod", Type::String), ("Seq", Type::Uint)],
        )))
    })
}

/// One reply read from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The call's sequence number (from [`RpcClient::call`]).
    pub seq: u64,
    /// `Response.Error`: the method's error text (or the server's, e.g. an unknown method).
    pub error: Option<String>,
    /// The result value.
    pub body: Value,
}

/// The client side of one net/rpc connection.
#[derive(Debug, Default)]
pub struct RpcClient {
    encoder: Encoder,
    decoder: Decoder,
    seq: u64,
    received: Vec<u8>,
    header: Option<(u64, Option<String>)>,
}

impl RpcClient {
    /// A client for a new connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of a call of `method` (`Function.Invoke`) with `arg` as an `arg_type`,
    /// and the call's sequence number.
    pub fn call(
        &mut self,
        method: &str,
        arg_type: &Type,
        arg: &Value,
    ) -> Result<(Vec<u8>, u64), GobError> {
        let seq = self.seq;
        self.seq += 1;
        let header = Value::record([
            ("ServiceMethod", Value::String(method.to_owned())),
            ("Seq", Value::Uint(seq)),
        ]);
        let mut out = self.encoder.encode(request_header(), &header)?;
        out.extend(self.encoder.encode(arg_type, arg)?);
        Ok((out, seq))
    }

    /// Takes bytes read from the connection.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.received.extend_from_slice(bytes);
    }

    /// The next whole reply among the bytes received, if there is one yet.
    pub fn reply(&mut self) -> Result<Option<Reply>, GobError> {
        loop {
            let Some((message, used)) = split_message(&self.received)? else {
                return Ok(None);
            };
            let value = self.decoder.decode_message(message);
            self.received.drain(..used);
            let Some(value) = value? else { continue };
            match self.header.take() {
                None => {
                    let seq = value
                        .field("Seq")
                        .and_then(|v| match v {
                            Value::Uint(u) => Some(*u),
                            _ => None,
                        })
                        .unwrap_or(0);
                    let error = value
                        .field("Error")
                        .and_then(Value::as_str)
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned);
                    self.header = Some((seq, error));
                }
                Some((seq, error)) => {
                    return Ok(Some(Reply {
                        seq,
                        error,
                        body: value,
                    }))
                }
            }
        }
    }
}
