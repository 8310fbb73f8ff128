//! [`Decoder`]: gob messages as [`Value`]s, whatever types the other side defines.

use std::collections::HashMap;

use crate::wire::{self, Reader};
use crate::{GobError, Value};

/// How deep values may nest before the stream is taken for corrupt (Go's own types here
/// nest three deep).
const MAX_DEPTH: usize = 64;

/// A type the other side defined.
#[derive(Debug, Clone)]
enum Wire {
    Struct(Vec<(String, i64)>),
    Slice(i64),
    Array(i64),
    Map(i64, i64),
}

/// Reads the messages of one stream (one direction of a connection), remembering the
/// types it defines.
#[derive(Debug, Default)]
pub struct Decoder {
    types: HashMap<i64, Wire>,
}

impl Decoder {
    /// A decoder for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one message body (see [`split_message`](crate::split_message)): a type
    /// definition, kept for the values that follow (`None`), or a value.
    pub fn decode_message(&mut self, body: &[u8]) -> Result<Option<Value>, GobError> {
        let mut r = Reader::new(body);
        let id = r.int()?;
        if id < 0 {
            let wire = wire_type(&mut r)?;
            self.types.insert(-id, wire);
            return Ok(None);
        }
        if id == 0 {
            return Err(GobError::Corrupt("a value of type id 0".into()));
        }
        let value = match self.types.get(&id) {
            Some(Wire::Struct(fields)) => self.decode_struct(&mut r, fields, 0)?,
            _ => {
                if r.uint()? != 0 {
                    return Err(GobError::Corrupt(
                        "a non-zero field delta before a value that is not a struct".into(),
                    ));
                }
                self.decode_value(&mut r, id, 0)?
            }
        };
        if !r.is_empty() {
            return Err(GobError::Corrupt(format!(
                "{} bytes left after a value",
                body.len() - r.pos
            )));
        }
        Ok(Some(value))
    }

    fn decode_struct(
        &self,
        r: &mut Reader<'_>,
        fields: &[(String, i64)],
        depth: usize,
    ) -> Result<Value, GobError> {
        let mut out = Vec::new();
        each_field(r, |r, index| {
            let (name, id) = fields.get(index).ok_or_else(|| {
                GobError::Corrupt(format!(
                    "field {index} of a struct with {} fields",
                    fields.len()
                ))
            })?;
            let value = self.decode_value(r, *id, depth + 1)?;
            out.push((name.clone(), value));
            Ok(())
        })?;
        Ok(Value::Struct(out))
    }

    fn decode_value(&self, r: &mut Reader<'_>, id: i64, depth: usize) -> Result<Value, GobError> {
        if depth > MAX_DEPTH {
            return Err(GobError::Corrupt(format!(
                "values nested more than {MAX_DEPTH} deep"
            )));
        }
        Ok(match id {
            wire::BOOL => Value::Bool(r.uint()? != 0),
            wire::INT => Value::Int(r.int()?),
            wire::UINT => Value::Uint(r.uint()?),
            wire::FLOAT => Value::Float(r.float()?),
            wire::BYTES => Value::Bytes(r.bytes()?.to_vec()),
            wire::STRING => Value::String(String::from_utf8_lossy(r.bytes()?).into_owned()),
            wire::COMPLEX => Value::List(vec![Value::Float(r.float()?), Value::Float(r.float()?)]),
            wire::INTERFACE => return Err(GobError::Unsupported("an interface value".into())),
            _ => match self.types.get(&id) {
                Some(Wire::Struct(fields)) => self.decode_struct(r, fields, depth)?,
                Some(Wire::Slice(elem) | Wire::Array(elem)) => {
                    let n = r.len("a slice")?;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.decode_value(r, *elem, depth + 1)?);
                    }
                    Value::List(items)
                }
                Some(Wire::Map(key, elem)) => {
                    let n = r.len("a map")?;
                    let mut pairs = Vec::with_capacity(n);
                    for _ in 0..n {
                        let k = self.decode_value(r, *key, depth + 1)?;
                        let v = self.decode_value(r, *elem, depth + 1)?;
                        pairs.push((k, v));
                    }
                    Value::Map(pairs)
                }
                None => {
                    return Err(GobError::Corrupt(format!(
                        "a value of type id {id}, which the stream has not defined"
                    )))
                }
            },
        })
    }
}

/// Walks the delta-numbered fields of a struct up to its end marker, calling `f` with
/// each field's number.
fn each_field<'a>(
    r: &mut Reader<'a>,
    mut f: impl FnMut(&mut Reader<'a>, usize) -> Result<(), GobError>,
) -> Result<(), GobError> {
    let mut number: i64 = -1;
    loop {
        let delta = r.uint()?;
        if delta == 0 {
            return Ok(());
        }
        number = i64::try_from(delta)
            .ok()
            .and_then(|d| number.checked_add(d))
            .filter(|n| *n <= 1 << 20)
            .ok_or_else(|| GobError::Corrupt(format!("a field delta of {delta}")))?;
        f(r, usize::try_from(number).unwrap_or(usize::MAX))?;
    }
}

/// `commonType{Name string; Id typeId}`: only its place matters here.
fn common_type(r: &mut Reader<'_>) -> Result<(), GobError> {
    each_field(r, |r, field| match field {
        0 => r.bytes().map(drop),
        1 => r.int().map(drop),
        n => Err(GobError::Corrupt(format!("commonType field {n}"))),
    })
}

/// A `wireType`, the struct in which gob describes a type.
fn wire_type(r: &mut Reader<'_>) -> Result<Wire, GobError> {
    let mut wire = None;
    each_field(r, |r, field| {
        wire = Some(match field {
            // ArrayT: arrayType{CommonType, Elem, Len}
            0 => {
                let mut elem = None;
                each_field(r, |r, f| match f {
                    0 => common_type(r),
                    1 => r.int().map(|id| elem = Some(id)),
                    2 => r.int().map(drop),
                    n => Err(GobError::Corrupt(format!("arrayType field {n}"))),
                })?;
                Wire::Array(elem.ok_or_else(|| GobError::Corrupt("an array without Elem".into()))?)
            }
            // SliceT: sliceType{CommonType, Elem}
            1 => {
                let mut elem = None;
                each_field(r, |r, f| match f {
                    0 => common_type(r),
                    1 => r.int().map(|id| elem = Some(id)),
                    n => Err(GobError::Corrupt(format!("sliceType field {n}"))),
                })?;
                Wire::Slice(elem.ok_or_else(|| GobError::Corrupt("a slice without Elem".into()))?)
            }
            // StructT: structType{CommonType, Field []fieldType{Name, Id}}
            2 => {
                let mut fields = Vec::new();
                each_field(r, |r, f| match f {
                    0 => common_type(r),
                    1 => {
                        let n = r.len("a field list")?;
                        for _ in 0..n {
                            let (mut name, mut id) = (String::new(), 0);
                            each_field(r, |r, f| match f {
                                0 => {
                                    name = String::from_utf8_lossy(r.bytes()?).into_owned();
                                    Ok(())
                                }
                                1 => r.int().map(|i| id = i),
                                n => Err(GobError::Corrupt(format!("fieldType field {n}"))),
                            })?;
                            fields.push((name, id));
                        }
                        Ok(())
                    }
                    n => Err(GobError::Corrupt(format!("structType field {n}"))),
                })?;
                Wire::Struct(fields)
            }
            // MapT: mapType{CommonType, Key, Elem}
            3 => {
                let (mut key, mut elem) = (None, None);
                each_field(r, |r, f| match f {
                    0 => common_type(r),
                    1 => r.int().map(|id| key = Some(id)),
                    2 => r.int().map(|id| elem = Some(id)),
                    n => Err(GobError::Corrupt(format!("mapType field {n}"))),
                })?;
                match (key, elem) {
                    (Some(k), Some(e)) => Wire::Map(k, e),
                    _ => return Err(GobError::Corrupt("a map without Key or Elem".into())),
                }
            }
            4..=6 => {
                return Err(GobError::Unsupported(
                    "a type with its own GobEncode, MarshalBinary or MarshalText".into(),
                ))
            }
            n => return Err(GobError::Corrupt(format!("wireType field {n}"))),
        });
        Ok(())
    })?;
    wire.ok_or_else(|| GobError::Corrupt("an empty type definition".into()))
}
