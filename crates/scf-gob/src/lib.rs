//! Go's `encoding/gob`, the part that Go's `net/rpc` needs to call a `Go1` function built
//! with Tencent's scf-go-lib ([`rpc`], [`messages`]): structs of booleans, integers, floats, strings, byte slices,
//! nested structs and slices, sent as a stream of self-describing messages.
//!
//! A gob stream is a sequence of messages, each its length (an unsigned integer) and its
//! body. A body starts with a type id: negative, it defines type `-id` (a `wireType`, a
//! struct that Go itself describes in gob); positive, it is a value of that type. Each
//! side of a connection keeps its own numbering: an [`Encoder`] sends the definition of
//! each type once, before the first value that needs it, and a [`Decoder`] remembers every
//! definition it has read.
//!
//! Values travel as [`Value`]s: the decoder reads any struct, slice, array or map the
//! other side defines (fields by name, Go's zero values left out as Go leaves them out),
//! and the encoder writes a value of a [`Type`] described on this side, fields matched by
//! name as Go's decoder matches them. Interfaces and types with their own `GobEncode`
//! are not supported: the messages of net/rpc and scf-go-lib have none.
//!
//! ```
//! use scf_gob::{Decoder, Encoder, StructType, Type, Value};
//!
//! let point = Type::structure(StructType::new("Point", [("X", Type::Int), ("Y", Type::Int)]));
//! let mut encoder = Encoder::new();
//! let bytes = encoder.encode(&point, &Value::record([("X", Value::Int(22)), ("Y", Value::Int(-33))]))?;
//!
//! let mut decoder = Decoder::new();
//! let mut values = Vec::new();
//! let mut rest = &bytes[..];
//! while let Some((message, used)) = scf_gob::split_message(rest)? {
//!     if let Some(value) = decoder.decode_message(message)? {
//!         values.push(value);
//!     }
//!     rest = &rest[used..];
//! }
//! assert_eq!(values[0].field("Y"), Some(&Value::Int(-33)));
//! # Ok::<(), scf_gob::GobError>(())
//! ```
//!
//! Why each dependency is here: `thiserror`: [`GobError`].
#![cfg_attr(docsrs, feature(doc_cfg))]

mod decode;
mod encode;
pub mod messages;
pub mod rpc;
mod wire;

pub use decode::Decoder;
pub use encode::Encoder;
pub use rpc::{Reply, RpcClient};
pub use wire::split_message;

// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::sync::Arc;

/// A value as gob carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `bool`.
    Bool(bool),
    /// Any signed integer type (`int`, `int32`, `int64`…).
    Int(i64),
    /// Any unsigned integer type (`uint`, `uint64`…).
    Uint(u64),
    /// `float32` or `float64`.
    Float(f64),
    /// `[]byte`.
    Bytes(Vec<u8>),
    /// `string`.
    String(String),
    /// A struct: its fields by name, in the order of the type (the decoder gives only the
    /// fields that were sent: Go leaves zero values out).
    Struct(Vec<(String, Value)>),
    /// A slice or an array.
    List(Vec<Value>),
    /// A map, as key and value pairs in the order received.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// A struct value from `(name, value)` pairs.
    pub fn record<'a>(fields: impl IntoIterator<Item = (&'a str, Value)>) -> Self {
        Value::Struct(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    }

    /// The field `name` of a struct value, if it is one and has it.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as an `i64` (an `Int`, or a `Uint` that fits).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Uint(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// The value as text (a `String`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as bytes (`Bytes`, or the bytes of a `String`).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            Value::String(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The value as a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// A type this side encodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `bool`.
    Bool,
    /// A signed integer.
    Int,
    /// An unsigned integer.
    Uint,
    /// A float.
    Float,
    /// `[]byte`.
    Bytes,
    /// `string`.
    String,
    /// A struct (a pointer to a struct is the same on the wire).
    Struct(Arc<StructType>),
    /// A slice of the element type.
    Slice(Box<Type>),
}

impl Type {
    /// A struct type.
    pub fn structure(s: StructType) -> Self {
        Type::Struct(Arc::new(s))
    }

    /// A slice of `elem`.
    pub fn slice(elem: Type) -> Self {
        Type::Slice(Box::new(elem))
    }
}

/// A struct type: its name (informative: Go matches fields, not type names) and its
/// exported fields in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StructType {
    /// The type's name, as Go would print it (`InvokeRequest`).
    pub name: String,
    /// The fields: Go's field names and their types.
    pub fields: Vec<(String, Type)>,
}

impl StructType {
    /// A struct type named `name` with `fields`.
    pub fn new<'a>(name: &str, fields: impl IntoIterator<Item = (&'a str, Type)>) -> Self {
        Self {
            name: name.to_owned(),
            fields: fields.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
        }
    }
}

/// Why a gob stream could not be read or a value could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GobError {
    /// The bytes end in the middle of an item.
    #[error("gob: the message ends in the middle of {0}")]
    Truncated(&'static str),
    /// The bytes cannot be a gob stream.
    #[error("gob: corrupted data: {0}")]
    Corrupt(String),
    /// The stream uses a part of gob this crate does not read.
    #[error("gob: {0} is not supported")]
    Unsupported(String),
    /// A value does not fit the type it is written as.
    #[error("gob: the value does not fit the type: {0}")]
    Mismatch(String),
}
