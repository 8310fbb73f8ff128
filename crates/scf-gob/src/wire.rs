//! gob's primitives: unsigned and signed integers, floats, and the length-prefixed message.
//!
//! An unsigned integer below 128 is one byte; a larger one is the negated count of its
//! bytes (one byte) followed by the bytes, big-endian, without leading zeros. A signed
//! integer is sent as an unsigned one: `i << 1` for `i >= 0`, `(!i << 1) | 1` otherwise. A
//! float is the unsigned integer of its IEEE 754 bits with the bytes reversed (so that
//! small exponents come first and common values are short).

use crate::GobError;

/// Ids of the types every gob stream knows without a definition.
pub(crate) const BOOL: i64 = 1;
pub(crate) const INT: i64 = 2;
pub(crate) const UINT: i64 = 3;
pub(crate) const FLOAT: i64 = 4;
pub(crate) const BYTES: i64 = 5;
pub(crate) const STRING: i64 = 6;
pub(crate) const COMPLEX: i64 = 7;
pub(crate) const INTERFACE: i64 = 8;
/// The first id an encoder gives to a type of its own.
pub(crate) const FIRST_USER_ID: i64 = 65;

pub(crate) fn put_uint(out: &mut Vec<u8>, x: u64) {
    if x < 128 {
        // Below 128: the byte itself.
        out.push(x.to_le_bytes()[0]);
        return;
    }
    let bytes = x.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let n = bytes.len() - skip;
    // The count negated, as one byte: 8 bytes → 0xF8.
    out.push(0u8.wrapping_sub(n.to_le_bytes()[0]));
    out.extend_from_slice(&bytes[skip..]);
}

pub(crate) fn put_int(out: &mut Vec<u8>, i: i64) {
    // Two's complement reinterpretation, as Go does (`uint64(i)`).
    let bits = i as u64;
    let u = if i < 0 { (!bits) << 1 | 1 } else { bits << 1 };
    put_uint(out, u);
}

pub(crate) fn put_float(out: &mut Vec<u8>, f: f64) {
    put_uint(out, f.to_bits().swap_bytes());
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `body` as one message: its length, then itself.
pub(crate) fn frame(out: &mut Vec<u8>, body: &[u8]) {
    put_uint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// The first message of `buf` and how many bytes of `buf` it took (length included);
/// `None` when `buf` does not hold a whole message yet.
pub fn split_message(buf: &[u8]) -> Result<Option<(&[u8], usize)>, GobError> {
    let mut reader = Reader::new(buf);
    let len = match reader.uint() {
        Ok(len) => len,
        Err(GobError::Truncated(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let len =
        usize::try_from(len).map_err(|_| GobError::Corrupt(format!("a message of {len} bytes")))?;
    let start = reader.pos;
    match start.checked_add(len) {
        Some(end) if end <= buf.len() => Ok(Some((&buf[start..end], end))),
        Some(_) => Ok(None),
        None => Err(GobError::Corrupt(format!("a message of {len} bytes"))),
    }
}

/// Reads primitives from one message body.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, GobError> {
        let b = *self.buf.get(self.pos).ok_or(GobError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn uint(&mut self) -> Result<u64, GobError> {
        let first = self.byte("an unsigned integer")?;
        if first < 128 {
            return Ok(u64::from(first));
        }
        let n = usize::from(0u8.wrapping_sub(first));
        if n > 8 {
            return Err(GobError::Corrupt(format!(
                "an unsigned integer of {n} bytes"
            )));
        }
        let bytes = self.take(n, "an unsigned integer")?;
        Ok(bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    }

    pub(crate) fn int(&mut self) -> Result<i64, GobError> {
        let u = self.uint()?;
        // `u >> 1` has its top bit clear, so it fits.
        let i = (u >> 1) as i64;
        Ok(if u & 1 == 1 { !i } else { i })
    }

    pub(crate) fn float(&mut self) -> Result<f64, GobError> {
        Ok(f64::from_bits(self.uint()?.swap_bytes()))
    }

    pub(crate) fn len(&mut self, what: &'static str) -> Result<usize, GobError> {
        let n = self.uint()?;
        let n = usize::try_from(n).map_err(|_| GobError::Corrupt(format!("{what} of {n}")))?;
        // Every element takes at least a byte: a longer count cannot be real.
        if n > self.buf.len() - self.pos.min(self.buf.len()) {
            return Err(GobError::Truncated(what));
        }
        Ok(n)
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], GobError> {
        let end = self.pos.checked_add(n).ok_or(GobError::Truncated(what))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or(GobError::Truncated(what))?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], GobError> {
        let n = self.len("a byte slice")?;
        self.take(n, "a byte slice")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uint_bytes(x: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_uint(&mut out, x);
        out
    }

    #[test]
    fn unsigned_integers_are_encoded_as_the_gob_documentation_shows() {
        assert_eq!(uint_bytes(0), [0x00]);
        assert_eq!(uint_bytes(7), [0x07]);
        assert_eq!(uint_bytes(256), [0xFE, 0x01, 0x00]);
        assert_eq!(
            uint_bytes(u64::MAX),
            [0xF8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
    }

    #[test]
    fn signed_integers_fold_the_sign_into_the_low_bit() {
        for (i, expect) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (-129, vec![0xFE, 0x01, 0x01]),
        ] {
            let mut out = Vec::new();
            put_int(&mut out, i);
            assert_eq!(out, expect, "{i}");
            assert_eq!(Reader::new(&out).int().unwrap(), i);
        }
        let mut out = Vec::new();
        put_int(&mut out, i64::MIN);
        assert_eq!(Reader::new(&out).int().unwrap(), i64::MIN);
    }

    #[test]
    fn floats_reverse_their_bytes() {
        let mut out = Vec::new();
        put_float(&mut out, 17.0);
        assert_eq!(out, [0xFE, 0x31, 0x40]);
        assert_eq!(Reader::new(&out).float().unwrap(), 17.0);
    }

    #[test]
    fn a_partial_message_is_not_split_yet() {
        assert_eq!(split_message(&[]).unwrap(), None);
        assert_eq!(split_message(&[3, 1, 2]).unwrap(), None);
        assert_eq!(
            split_message(&[2, 1, 2, 9]).unwrap(),
            Some((&[1u8, 2][..], 3))
        );
    }
}
