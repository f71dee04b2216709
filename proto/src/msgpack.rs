//! The MessagePack serializer (feature `msgpack`), decoding straight into [`Value`].
//!
//! Decoding is written against the format's markers (from `rmp`) rather than through
//! serde: serde's MessagePack reader turns a `str` holding invalid UTF-8 into bytes
//! instead of refusing it, its nesting limit is deep enough to overflow a thread's
//! stack, and here every length and count is checked against the rest of the frame
//! before anything is allocated for it (see [`crate::wire`]). Encoding goes through
//! serde (`rmp-serde`), which writes `str` and `bin` exactly as WAMP wants.

use super::codec::{CodecError, Serializer};
use crate::value::Value;
use crate::wire::{Cursor, Result};
use rmp::Marker;

/// Encodes one value.
pub(crate) fn encode(value: &Value) -> std::result::Result<Vec<u8>, CodecError> {
    let mut out = crate::codec::output_buffer();
    rmp_serde::encode::write(&mut out, value).map_err(|e| CodecError::Unencodable {
        serializer: Serializer::MsgPack,
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// Decodes exactly one MessagePack value filling all of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<Value, CodecError> {
    let mut cursor = Cursor::new(bytes);
    value(&mut cursor)
        .and_then(|value| cursor.finish(value))
        .map_err(|e| CodecError::undecodable(Serializer::MsgPack, e))
}

/// A big-endian number of `N` bytes after a marker.
fn be<const N: usize>(cursor: &mut Cursor<'_>, what: &str) -> Result<[u8; N]> {
    cursor.array(what)
}

/// The length or count of `width` bytes after a marker.
fn length(cursor: &mut Cursor<'_>, width: usize) -> Result<usize> {
    Ok(match width {
        1 => usize::from(cursor.byte("a length")?),
        2 => usize::from(u16::from_be_bytes(be(cursor, "a 16-bit length")?)),
        _ => usize::try_from(u32::from_be_bytes(be(cursor, "a 32-bit length")?))
            .unwrap_or(usize::MAX),
    })
}

fn value(cursor: &mut Cursor<'_>) -> Result<Value> {
    let at = cursor.offset();
    let marker = Marker::from_u8(cursor.byte("a MessagePack value")?);
    Ok(match marker {
        Marker::Null => Value::Null,
        Marker::True => Value::Bool(true),
        Marker::False => Value::Bool(false),
        Marker::FixPos(n) => Value::Int(i64::from(n)),
        Marker::FixNeg(n) => Value::Int(i64::from(n)),
        Marker::U8 => Value::Int(i64::from(u8::from_be_bytes(be(cursor, "a u8")?))),
        Marker::U16 => Value::Int(i64::from(u16::from_be_bytes(be(cursor, "a u16")?))),
        Marker::U32 => Value::Int(i64::from(u32::from_be_bytes(be(cursor, "a u32")?))),
        Marker::U64 => Value::from(u64::from_be_bytes(be(cursor, "a u64")?)),
        Marker::I8 => Value::Int(i64::from(i8::from_be_bytes(be(cursor, "an i8")?))),
        Marker::I16 => Value::Int(i64::from(i16::from_be_bytes(be(cursor, "an i16")?))),
        Marker::I32 => Value::Int(i64::from(i32::from_be_bytes(be(cursor, "an i32")?))),
        Marker::I64 => Value::Int(i64::from_be_bytes(be(cursor, "an i64")?)),
        Marker::F32 => Value::Float(f64::from(f32::from_be_bytes(be(cursor, "an f32")?))),
        Marker::F64 => Value::Float(f64::from_be_bytes(be(cursor, "an f64")?)),
        Marker::FixStr(n) => Value::String(cursor.text(at, usize::from(n))?),
        Marker::Str8 | Marker::Str16 | Marker::Str32 => {
            let n = length(cursor, width(marker))?;
            Value::String(cursor.text(at, n)?)
        }
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
            let n = length(cursor, width(marker))?;
            let bytes = cursor.take(n, format_args!("the bin at byte {at}"))?;
            Value::Bytes(bytes.to_vec())
        }
        Marker::FixArray(n) => cursor.list(at, usize::from(n), value)?,
        Marker::Array16 | Marker::Array32 => {
            let n = length(cursor, width(marker))?;
            cursor.list(at, n, value)?
        }
        Marker::FixMap(n) => cursor.dict(at, usize::from(n), value)?,
        Marker::Map16 | Marker::Map32 => {
            let n = length(cursor, width(marker))?;
            cursor.dict(at, n, value)?
        }
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => {
            return Cursor::error(
                at,
                format!(
                    "expected a MessagePack value WAMP can carry, found an extension type \
                     (marker 0x{:02x})",
                    marker.to_u8()
                ),
            )
        }
        Marker::Reserved => {
            return Cursor::error(
                at,
                "expected a MessagePack value, found the never-used marker 0xc1",
            )
        }
    })
}

/// How many bytes the length after a sized marker takes.
fn width(marker: Marker) -> usize {
    match marker {
        Marker::Str8 | Marker::Bin8 => 1,
        Marker::Str16 | Marker::Bin16 | Marker::Array16 | Marker::Map16 => 2,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> std::result::Result<Value, String> {
        decode(bytes).map_err(|e| e.to_string())
    }

    #[test]
    fn nested_headers_claiming_2_to_the_32_items_are_refused_before_any_allocation() {
        // The frame that made the client reserve 53 GiB: array32 headers, each
        // claiming 2^32 - 1 items, nested as deep as allowed.
        let mut frame = Vec::new();
        for _ in 0..100 {
            frame.extend_from_slice(&[0xdd, 0xff, 0xff, 0xff, 0xff]);
        }
        let err = read(&frame).unwrap_err();
        assert_eq!(
            err,
            "undecodable msgpack frame at byte 0: truncated: the list at byte 0 claims \
             4294967295 items, but the rest of the frame has room for at most 495"
        );
        // A dict needs two bytes an entry.
        let err = read(&[0x83, 0xa0, 0xc0, 0xa0, 0xc0, 0xa0]).unwrap_err();
        assert!(err.contains("the dict at byte 0 claims 3 items"), "{err}");
        // Exactly enough room is fine.
        assert_eq!(
            read(&[0x92, 0x91, 0xc0, 0xc0]),
            Ok(Value::List(vec![
                Value::List(vec![Value::Null]),
                Value::Null
            ]))
        );
        let err = read(&[0x92, 0x92, 0xc0, 0xc0]).unwrap_err();
        assert!(
            err.contains("at byte 1: truncated: the list at byte 1 claims 2"),
            "{err}"
        );
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        let cases: [(&[u8], &str); 6] = [
            (&[0x93, 0x01, 0xc1, 0x80], "at byte 2: expected a MessagePack value, found the never-used marker 0xc1"),
            (&[0x91, 0xd4, 0x01, 0x02], "at byte 1: expected a MessagePack value WAMP can carry, found an extension type (marker 0xd4)"),
            (&[0xa2, 0xff, 0xfe], "at byte 1: expected UTF-8 text in the string at byte 0, found invalid UTF-8"),
            (&[0xc5, 0x01], "at byte 1: truncated: expected a 16-bit length of 2 bytes, found only 1"),
            (&[0xc4, 0x05, 0x01], "at byte 2: truncated: expected the bin at byte 0 of 5 bytes, found only 1"),
            (&[0x81, 0x01, 0x02], "at byte 1: dictionary keys must be strings: expected a string key, found an integer"),
        ];
        for (frame, expected) in cases {
            let err = read(frame).unwrap_err();
            assert!(err.contains(expected), "{frame:02x?}: {err}");
        }
    }
}
