//! [`Encoder`]: values of this side's [`Type`]s as gob messages.

use crate::wire::{self, frame, put_bytes, put_float, put_int, put_uint};
use crate::{GobError, StructType, Type, Value};

/// Writes gob messages for one stream (one direction of a connection): each type's
/// definition goes out once, before the first value that needs it.
#[derive(Debug)]
pub struct Encoder {
    /// The types defined on this stream so far, with their ids.
    sent: Vec<(Type, i64)>,
    next_id: i64,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// An encoder for a new stream.
    pub fn new() -> Self {
        Self {
            sent: Vec::new(),
            next_id: wire::FIRST_USER_ID,
        }
    }

    /// The messages that carry `value` as a `ty`: the definitions of the types not sent
    /// yet, then the value, each with its length prefix.
    pub fn encode(&mut self, ty: &Type, value: &Value) -> Result<Vec<u8>, GobError> {
        let mut out = Vec::new();
        let id = self.type_id(ty, &mut out)?;
        let mut body = Vec::new();
        put_int(&mut body, id);
        match ty {
            Type::Struct(st) => encode_struct(&mut body, st, value)?,
            _ => {
                // A value that is not a struct is a "singleton": field delta 0, then it.
                put_uint(&mut body, 0);
                encode_value(&mut body, ty, value)?;
            }
        }
        frame(&mut out, &body);
        Ok(out)
    }

    /// The id of `ty` on this stream, defining it (and the types it uses) in `out` first
    /// if it is new.
    fn type_id(&mut self, ty: &Type, out: &mut Vec<u8>) -> Result<i64, GobError> {
        let builtin = match ty {
            Type::Bool => Some(wire::BOOL),
            Type::Int => Some(wire::INT),
            Type::Uint => Some(wire::UINT),
            Type::Float => Some(wire::FLOAT),
            Type::Bytes => Some(wire::BYTES),
            Type::String => Some(wire::STRING),
            Type::Struct(_) | Type::Slice(_) => None,
        };
        if let Some(id) = builtin {
            return Ok(id);
        }
        if let Some((_, id)) = self.sent.iter().find(|(t, _)| t == ty) {
            return Ok(*id);
        }
        let id = self.next_id;
        self.next_id += 1;
        // Known before its parts are defined, so that a type may refer to itself.
        self.sent.push((ty.clone(), id));
        let mut body = Vec::new();
        put_int(&mut body, -id);
        match ty {
            Type::Struct(st) => {
                let mut fields = Vec::with_capacity(st.fields.len());
                for (name, field_ty) in &st.fields {
                    fields.push((name.as_str(), self.type_id(field_ty, out)?));
                }
                // wireType.StructT (field 2): structType{CommonType, Field}.
                put_uint(&mut body, 3);
                put_uint(&mut body, 1);
                common_type(&mut body, &st.name, id);
                if !fields.is_empty() {
                    put_uint(&mut body, 1);
                    put_uint(&mut body, fields.len() as u64);
                    for (name, field_id) in fields {
                        // fieldType{Name, Id}
                        put_uint(&mut body, 1);
                        put_bytes(&mut body, name.as_bytes());
                        put_uint(&mut body, 1);
                        put_int(&mut body, field_id);
                        put_uint(&mut body, 0);
                    }
                }
                put_uint(&mut body, 0);
            }
            Type::Slice(elem) => {
                let elem_id = self.type_id(elem, out)?;
                // wireType.SliceT (field 1): sliceType{CommonType, Elem}.
                put_uint(&mut body, 2);
                put_uint(&mut body, 1);
                common_type(&mut body, &format!("[]{}", type_name(elem)), id);
                put_uint(&mut body, 1);
                put_int(&mut body, elem_id);
                put_uint(&mut body, 0);
            }
            _ => return Err(GobError::Unsupported(format!("defining {ty:?}"))),
        }
        // End of wireType.
        put_uint(&mut body, 0);
        frame(out, &body);
        Ok(id)
    }
}

/// `commonType{Name, Id}` followed by its end.
fn common_type(body: &mut Vec<u8>, name: &str, id: i64) {
    put_uint(body, 1);
    put_bytes(body, name.as_bytes());
    put_uint(body, 1);
    put_int(body, id);
    put_uint(body, 0);
}

/// Go's name of a type, for the informative names of slice types.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Int => "int".into(),
        Type::Uint => "uint".into(),
        Type::Float => "float64".into(),
        Type::Bytes => "[]uint8".into(),
        Type::String => "string".into(),
        Type::Struct(st) => st.name.clone(),
        Type::Slice(elem) => format!("[]{}", type_name(elem)),
    }
}

/// Whether Go leaves the field out: the zero value of a type that is not a struct.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !*b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::Bytes(b) => b.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::List(items) => items.is_empty(),
        Value::Map(_) | Value::Struct(_) => false,
    }
}

fn encode_struct(body: &mut Vec<u8>, st: &StructType, value: &Value) -> Result<(), GobError> {
    let Value::Struct(given) = value else {
        return Err(GobError::Mismatch(format!(
            "{} needs a struct value, not {value:?}",
            st.name
        )));
    };
    if let Some((name, _)) = given
        .iter()
        .find(|(name, _)| !st.fields.iter().any(|(n, _)| n == name))
    {
        return Err(GobError::Mismatch(format!(
            "{} has no field {name}",
            st.name
        )));
    }
    let mut last: i64 = -1;
    for (index, (name, field_ty)) in (0i64..).zip(&st.fields) {
        let Some((_, field)) = given.iter().find(|(n, _)| n == name) else {
            continue;
        };
        if !matches!(field_ty, Type::Struct(_)) && is_zero(field) {
            continue;
        }
        put_uint(body, (index - last) as u64);
        encode_value(body, field_ty, field)
            .map_err(|e| GobError::Mismatch(format!("{}.{name}: {e}", st.name)))?;
        last = index;
    }
    put_uint(body, 0);
    Ok(())
}

fn encode_value(body: &mut Vec<u8>, ty: &Type, value: &Value) -> Result<(), GobError> {
    match (ty, value) {
        (Type::Bool, Value::Bool(b)) => put_uint(body, u64::from(*b)),
        (Type::Int, Value::Int(i)) => put_int(body, *i),
        (Type::Int, Value::Uint(u)) => put_int(
            body,
            i64::try_from(*u).map_err(|_| GobError::Mismatch(format!("{u} is not an int")))?,
        ),
        (Type::Uint, Value::Uint(u)) => put_uint(body, *u),
        (Type::Uint, Value::Int(i)) => put_uint(
            body,
            u64::try_from(*i).map_err(|_| GobError::Mismatch(format!("{i} is not a uint")))?,
        ),
        (Type::Float, Value::Float(f)) => put_float(body, *f),
        (Type::Bytes | Type::String, Value::Bytes(b)) => put_bytes(body, b),
        (Type::Bytes | Type::String, Value::String(s)) => put_bytes(body, s.as_bytes()),
        (Type::Struct(st), v) => encode_struct(body, st, v)?,
        (Type::Slice(elem), Value::List(items)) => {
            put_uint(body, items.len() as u64);
            for item in items {
                if let Type::Struct(st) = elem.as_ref() {
                    encode_struct(body, st, item)?;
                } else {
                    encode_value(body, elem, item)?;
                }
            }
        }
        (ty, value) => {
            return Err(GobError::Mismatch(format!(
                "{value:?} is not a {}",
                type_name(ty)
            )))
        }
    }
    Ok(())
}
