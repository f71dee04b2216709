//! The MessagePack serializer (feature `msgpack`), decoding straight into [`Value`].
//!
//! Decoding is written against the format's markers (from `rmp`) rather than through
//! serde for two reasons: serde's MessagePack reader turns a `str` holding invalid
//! UTF-8 into bytes instead of refusing it, and its nesting limit is deep enough to
//! overflow a thread's stack. Encoding goes through serde (`rmp-serde`), which writes
//! `str` and `bin` exactly as WAMP wants.

use super::codec::{CodecError, Serializer};
use crate::value::{Dict, Value};
use rmp::Marker;

/// Deepest nesting of lists and maps accepted, as for JSON.
pub(crate) const MAX_DEPTH: usize = 128;

/// Encodes one value.
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, CodecError> {
    rmp_serde::to_vec(value).map_err(|e| CodecError::Unencodable {
        serializer: Serializer::MsgPack,
        detail: e.to_string(),
    })
}

/// Decodes exactly one MessagePack value filling all of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, CodecError> {
    decode_value(bytes).map_err(|detail| CodecError::Undecodable {
        serializer: Serializer::MsgPack,
        detail,
    })
}

fn decode_value(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader { bytes, position: 0 };
    let value = reader.value(0)?;
    match bytes.len() - reader.position {
        0 => Ok(value),
        extra => Err(format!("{extra} bytes after the message")),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .position
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        match end {
            Some(end) => {
                let taken = &self.bytes[self.position..end];
                self.position = end;
                Ok(taken)
            }
            None => Err(format!(
                "truncated: {n} more bytes needed at offset {} of {}",
                self.position,
                self.bytes.len()
            )),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn length(&mut self, width: usize) -> Result<usize, String> {
        Ok(match width {
            1 => usize::from(self.array::<1>()?[0]),
            2 => usize::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?) as usize,
        })
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        let marker = Marker::from_u8(self.array::<1>()?[0]);
        Ok(match marker {
            Marker::Null => Value::Null,
            Marker::True => Value::Bool(true),
            Marker::False => Value::Bool(false),
            Marker::FixPos(n) => Value::Int(i64::from(n)),
            Marker::FixNeg(n) => Value::Int(i64::from(n)),
            Marker::U8 => Value::Int(i64::from(u8::from_be_bytes(self.array()?))),
            Marker::U16 => Value::Int(i64::from(u16::from_be_bytes(self.array()?))),
            Marker::U32 => Value::Int(i64::from(u32::from_be_bytes(self.array()?))),
            Marker::U64 => Value::from(u64::from_be_bytes(self.array()?)),
            Marker::I8 => Value::Int(i64::from(i8::from_be_bytes(self.array()?))),
            Marker::I16 => Value::Int(i64::from(i16::from_be_bytes(self.array()?))),
            Marker::I32 => Value::Int(i64::from(i32::from_be_bytes(self.array()?))),
            Marker::I64 => Value::Int(i64::from_be_bytes(self.array()?)),
            Marker::F32 => Value::Float(f64::from(f32::from_be_bytes(self.array()?))),
            Marker::F64 => Value::Float(f64::from_be_bytes(self.array()?)),
            Marker::FixStr(n) => self.string(usize::from(n))?,
            Marker::Str8 => self.sized(1, Self::string)?,
            Marker::Str16 => self.sized(2, Self::string)?,
            Marker::Str32 => self.sized(4, Self::string)?,
            Marker::Bin8 => self.sized(1, Self::binary)?,
            Marker::Bin16 => self.sized(2, Self::binary)?,
            Marker::Bin32 => self.sized(4, Self::binary)?,
            Marker::FixArray(n) => self.list(usize::from(n), depth)?,
            Marker::Array16 => self.length(2).and_then(|n| self.list(n, depth))?,
            Marker::Array32 => self.length(4).and_then(|n| self.list(n, depth))?,
            Marker::FixMap(n) => self.dict(usize::from(n), depth)?,
            Marker::Map16 => self.length(2).and_then(|n| self.dict(n, depth))?,
            Marker::Map32 => self.length(4).and_then(|n| self.dict(n, depth))?,
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => return Err("MessagePack extension types are not supported".into()),
            Marker::Reserved => return Err("invalid MessagePack marker 0xc1".into()),
        })
    }

    fn sized(
        &mut self,
        width: usize,
        read: fn(&mut Self, usize) -> Result<Value, String>,
    ) -> Result<Value, String> {
        let n = self.length(width)?;
        read(self, n)
    }

    fn string(&mut self, n: usize) -> Result<Value, String> {
        let at = self.position;
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Value::String(text.to_owned())),
            Err(e) => Err(format!("a str at offset {at} is not valid UTF-8: {e}")),
        }
    }

    fn binary(&mut self, n: usize) -> Result<Value, String> {
        Ok(Value::Bytes(self.take(n)?.to_vec()))
    }

    fn nested(depth: usize) -> Result<usize, String> {
        if depth >= MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(depth + 1)
    }

    fn list(&mut self, n: usize, depth: usize) -> Result<Value, String> {
        let depth = Self::nested(depth)?;
        // Every element takes at least one byte: never reserve more than could follow.
        let mut items = Vec::with_capacity(n.min(self.bytes.len() - self.position));
        for _ in 0..n {
            items.push(self.value(depth)?);
        }
        Ok(Value::List(items))
    }

    fn dict(&mut self, n: usize, depth: usize) -> Result<Value, String> {
        let depth = Self::nested(depth)?;
        let mut dict = Dict::new();
        for _ in 0..n {
            let at = self.position;
            let key = match self.value(depth)? {
                Value::String(key) => key,
                other => {
                    return Err(format!(
                        "dictionary keys must be strings, found a {} key at offset {at}",
                        other.type_name()
                    ))
                }
            };
            let value = self.value(depth)?;
            dict.insert(key, value);
        }
        Ok(Value::Dict(dict))
    }
}
