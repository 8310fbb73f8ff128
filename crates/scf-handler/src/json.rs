//! Turning a handler's return value into JSON, with errors that name the cause.

use serde::ser::{self, Serialize};
use serde_json::Value;

/// Why a return value could not be turned into JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReturnValueError {
    /// A float that JSON cannot represent (NaN or an infinity).
    #[error(
        "the return value is not JSON: it contains the float {value}, which JSON cannot represent"
    )]
    NonFiniteFloat {
        /// The float, as text (`NaN`, `inf`, `-inf`).
        value: String,
    },
    /// The value's `Serialize` failed, or a map key is not a string.
    #[error("the return value is not JSON: {0}")]
    Serialize(String),
}

/// Serializes `value` into a JSON value, refusing what JSON cannot hold.
///
/// `serde_json` silently writes NaN and infinities as `null`; this refuses them, as it
/// refuses map keys that are not strings and `Serialize` implementations that fail.
pub fn to_json_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ReturnValueError> {
    let json =
        serde_json::to_value(value).map_err(|e| ReturnValueError::Serialize(e.to_string()))?;
    // NaN only ever shows up as a null, so the second pass is needed only when there is one.
    if contains_null(&json) {
        value.serialize(FloatCheck).map_err(|e| match e {
            CheckError::NonFinite(v) => ReturnValueError::NonFiniteFloat { value: v },
            CheckError::Custom(m) => ReturnValueError::Serialize(m),
        })?;
    }
    Ok(json)
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(o) => o.values().any(contains_null),
        _ => false,
    }
}

#[derive(Debug)]
enum CheckError {
    NonFinite(String),
    Custom(String),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::NonFinite(v) => write!(f, "non-finite float {v}"),
            CheckError::Custom(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CheckError {}

impl ser::Error for CheckError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        CheckError::Custom(msg.to_string())
    }
}

/// A serializer that writes nothing and fails on the first non-finite float.
#[derive(Clone, Copy)]
struct FloatCheck;

type R = Result<(), CheckError>;

fn float(v: f64) -> R {
    if v.is_finite() {
        Ok(())
    } else {
        Err(CheckError::NonFinite(v.to_string()))
    }
}

macro_rules! ok_methods {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> R { Ok(()) })*
    };
}

impl ser::Serializer for FloatCheck {
    type Ok = ();
    type Error = CheckError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    ok_methods! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_i128(i128); serialize_u8(u8); serialize_u16(u16);
        serialize_u32(u32); serialize_u64(u64); serialize_u128(u128); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_f32(self, v: f32) -> R {
        float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R {
        float(v)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> R {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, CheckError> {
        Ok(self)
    }
}

macro_rules! compound {
    ($($trait:ident :: $method:ident;)*) => {
        $(impl ser::$trait for FloatCheck {
            type Ok = ();
            type Error = CheckError;
            fn $method<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
                v.serialize(*self)
            }
            fn end(self) -> R {
                Ok(())
            }
        })*
    };
}

compound! {
    SerializeSeq::serialize_element;
    SerializeTuple::serialize_element;
    SerializeTupleStruct::serialize_field;
    SerializeTupleVariant::serialize_field;
}

impl ser::SerializeMap for FloatCheck {
    type Ok = ();
    type Error = CheckError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> R {
        k.serialize(*self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        v.serialize(*self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStruct for FloatCheck {
    type Ok = ();
    type Error = CheckError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> R {
        v.serialize(*self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for FloatCheck {
    type Ok = ();
    type Error = CheckError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> R {
        v.serialize(*self)
    }
    fn end(self) -> R {
        Ok(())
    }
}
