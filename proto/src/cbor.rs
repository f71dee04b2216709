//! The CBOR serializer (feature `cbor`, RFC 8949): encoding through ciborium,
//! decoding straight into [`Value`].
//!
//! The decoder is our own, over the same [`crate::wire`] cursor as MessagePack's: every
//! length and count is checked against the rest of the frame before anything is
//! allocated for it, nesting stops at the same depth as in the other formats, and
//! every error names the byte offset and what was expected. It reads what ciborium
//! wrote and what Python's cbor2 writes:
//!
//! * Tags carry no meaning in WAMP and are dropped, keeping the tagged item, except
//!   bignums (tags 2 and 3), which become integers when they fit WAMP's 64 bits.
//! * `undefined` reads as null; other simple values are refused.
//! * Half, single and double floats all read as [`Value::Float`].
//! * Indefinite-length strings, byte strings, arrays and maps are accepted.

use super::codec::{CodecError, Serializer};
use crate::value::Value;
use crate::wire::{Cursor, Result};

/// The "break" byte that ends an indefinite-length item.
const BREAK: u8 = 0xff;

const BIGNUM_POSITIVE: u64 = 2;
const BIGNUM_NEGATIVE: u64 = 3;

/// Encodes one value.
pub(crate) fn encode(value: &Value) -> std::result::Result<Vec<u8>, CodecError> {
    let mut out = crate::codec::output_buffer();
    ciborium::into_writer(value, &mut out).map_err(|e| CodecError::Unencodable {
        serializer: Serializer::Cbor,
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// Decodes exactly one CBOR value filling all of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<Value, CodecError> {
    let mut cursor = Cursor::new(bytes);
    value(&mut cursor)
        .and_then(|value| cursor.finish(value))
        .map_err(|e| CodecError::undecodable(Serializer::Cbor, e))
}

/// The major types (the top 3 bits of an item's first byte).
const UNSIGNED: u8 = 0;
const NEGATIVE: u8 = 1;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const TAG: u8 = 6;

/// An item's first byte, split.
struct Head {
    /// Where the item starts.
    at: usize,
    major: u8,
    /// The low 5 bits ("additional information").
    info: u8,
}

impl Head {
    fn read(cursor: &mut Cursor<'_>) -> Result<Head> {
        let at = cursor.offset();
        let byte = cursor.byte("a CBOR item")?;
        Ok(Head {
            at,
            major: byte >> 5,
            info: byte & 0x1f,
        })
    }

    /// The argument after the first byte; `None` for an indefinite length.
    fn argument(&self, cursor: &mut Cursor<'_>) -> Result<Option<u64>> {
        Ok(Some(match self.info {
            n @ 0..=23 => u64::from(n),
            24 => u64::from(cursor.byte("a 1-byte argument")?),
            25 => u64::from(u16::from_be_bytes(cursor.array("a 2-byte argument")?)),
            26 => u64::from(u32::from_be_bytes(cursor.array("a 4-byte argument")?)),
            27 => u64::from_be_bytes(cursor.array("an 8-byte argument")?),
            31 => return Ok(None),
            reserved => {
                return Cursor::error(
                    self.at,
                    format!(
                        "expected additional information 0 to 27 or 31, found the reserved \
                         value {reserved} (initial byte 0x{:02x})",
                        self.major << 5 | reserved
                    ),
                )
            }
        }))
    }

    /// The argument, which must be a definite number here.
    fn definite(&self, cursor: &mut Cursor<'_>, what: &str) -> Result<u64> {
        match self.argument(cursor)? {
            Some(n) => Ok(n),
            None => Cursor::error(
                self.at,
                format!(
                    "expected {what}, found an indefinite length (initial byte 0x{:02x})",
                    self.major << 5 | 31
                ),
            ),
        }
    }
}

/// A length or count as `usize`; one too large for this machine cannot fit the frame
/// either, and is refused as such by the cursor.
fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn value(cursor: &mut Cursor<'_>) -> Result<Value> {
    // Tags are read in a loop, not recursively, so a chain of them cannot nest deeply.
    loop {
        let head = Head::read(cursor)?;
        return match head.major {
            UNSIGNED => Ok(Value::from(head.definite(cursor, "an unsigned integer")?)),
            NEGATIVE => negative(head.at, head.definite(cursor, "a negative integer")?),
            BYTES => Ok(Value::Bytes(string(cursor, &head)?)),
            TEXT => text(cursor, &head).map(Value::String),
            ARRAY => match head.argument(cursor)? {
                Some(n) => cursor.list(head.at, size(n), value),
                None => cursor.list_until(head.at, BREAK, value),
            },
            MAP => match head.argument(cursor)? {
                Some(n) => cursor.dict(head.at, size(n), value),
                None => cursor.dict_until(head.at, BREAK, value),
            },
            TAG => match head.definite(cursor, "a tag number")? {
                tag @ (BIGNUM_POSITIVE | BIGNUM_NEGATIVE) => bignum(cursor, head.at, tag),
                _ => continue,
            },
            _ => simple(cursor, &head),
        };
    }
}

/// The integer -1 - n, if WAMP's 64 bits hold it.
fn negative(at: usize, n: u64) -> Result<Value> {
    match i64::try_from(n) {
        Ok(n) => Ok(Value::Int(-1 - n)),
        Err(_) => Cursor::error(
            at,
            format!("expected an integer of at most 64 bits, found -1 - {n}, below -2^63"),
        ),
    }
}

/// A bignum (tag 2 or 3 at `at`): a byte string holding a big-endian magnitude.
fn bignum(cursor: &mut Cursor<'_>, at: usize, tag: u64) -> Result<Value> {
    let head = Head::read(cursor)?;
    if head.major != BYTES {
        return Cursor::error(
            head.at,
            format!("expected a byte string after the bignum tag {tag} at byte {at}"),
        );
    }
    let magnitude = string(cursor, &head)?;
    let digits = match magnitude.iter().position(|&b| b != 0) {
        Some(first) => &magnitude[first..],
        None => &[],
    };
    if digits.len() > 8 {
        return Cursor::error(
            at,
            format!(
                "expected a bignum of at most 64 bits, found one of {} bytes",
                digits.len()
            ),
        );
    }
    let mut be = [0u8; 8];
    be[8 - digits.len()..].copy_from_slice(digits);
    let n = u64::from_be_bytes(be);
    if tag == BIGNUM_POSITIVE {
        Ok(Value::from(n))
    } else {
        negative(at, n)
    }
}

/// The content of a byte or text string, joining the chunks of an indefinite one.
fn string(cursor: &mut Cursor<'_>, head: &Head) -> Result<Vec<u8>> {
    let kind = if head.major == TEXT {
        "text string"
    } else {
        "byte string"
    };
    if let Some(n) = head.argument(cursor)? {
        let bytes = cursor.take(size(n), format_args!("the {kind} at byte {}", head.at))?;
        return Ok(bytes.to_vec());
    }
    let mut joined = Vec::new();
    while cursor.peek() != Some(BREAK) {
        let chunk = Head::read(cursor)?;
        if chunk.major != head.major {
            return Cursor::error(
                chunk.at,
                format!(
                    "expected a {kind} chunk or a break in the indefinite-length {kind} at \
                     byte {}",
                    head.at
                ),
            );
        }
        let n = chunk.definite(cursor, "a definite-length chunk")?;
        let bytes = cursor.take(size(n), format_args!("the chunk at byte {}", chunk.at))?;
        if head.major == TEXT && std::str::from_utf8(bytes).is_err() {
            // Each chunk must be whole UTF-8 on its own (RFC 8949, 3.2.3).
            return text_error(chunk.at, head.at);
        }
        joined.extend_from_slice(bytes);
    }
    cursor.byte("the break")?;
    Ok(joined)
}

/// UTF-8 text, definite or in chunks.
fn text(cursor: &mut Cursor<'_>, head: &Head) -> Result<String> {
    if head.info != 31 {
        let n = head.definite(cursor, "a text length")?;
        return cursor.text(head.at, size(n));
    }
    // Chunks were each checked.
    String::from_utf8(string(cursor, head)?).or_else(|_| text_error(head.at, head.at))
}

fn text_error<T>(offset: usize, at: usize) -> Result<T> {
    Cursor::error(
        offset,
        format!("expected UTF-8 text in the string at byte {at}, found invalid UTF-8"),
    )
}

/// Major type 7: false, true, null, undefined and floats.
fn simple(cursor: &mut Cursor<'_>, head: &Head) -> Result<Value> {
    Ok(match head.info {
        20 => Value::Bool(false),
        21 => Value::Bool(true),
        22 | 23 => Value::Null,
        25 => Value::Float(f16_to_f64(u16::from_be_bytes(
            cursor.array("a half float")?,
        ))),
        26 => Value::Float(f64::from(f32::from_be_bytes(cursor.array("a float")?))),
        27 => Value::Float(f64::from_be_bytes(cursor.array("a double")?)),
        31 => {
            return Cursor::error(
                head.at,
                "expected a CBOR item, found a break (0xff) outside an indefinite-length item",
            )
        }
        _ => {
            // 24 takes its number from the next byte; 28 to 30 are reserved.
            let n = head.definite(cursor, "a simple value")?;
            return Cursor::error(
                head.at,
                format!("expected false, true, null, undefined or a float, found simple value {n}"),
            );
        }
    })
}

/// An IEEE 754 half-precision float (RFC 8949, appendix D).
fn f16_to_f64(bits: u16) -> f64 {
    let magnitude = f64::from(bits & 0x3ff);
    let value = match (bits >> 10) & 0x1f {
        0 => magnitude * 2f64.powi(-24),
        31 if magnitude == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        exponent => (1024.0 + magnitude) * 2f64.powi(i32::from(exponent) - 25),
    };
    if bits & 0x8000 != 0 {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Dict;

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    fn read(text: &str) -> std::result::Result<Value, String> {
        decode(&hex(text)).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_what_cbor2_and_ciborium_write() {
        assert_eq!(read("f9 3c00"), Ok(Value::Float(1.0)));
        assert_eq!(read("f9 c400"), Ok(Value::Float(-4.0)));
        assert_eq!(read("f9 0001"), Ok(Value::Float(5.960464477539063e-8)));
        assert_eq!(read("f9 7c00"), Ok(Value::Float(f64::INFINITY)));
        assert!(matches!(read("f9 7e00"), Ok(Value::Float(f)) if f.is_nan()));
        assert_eq!(read("fa 47c35000"), Ok(Value::Float(100000.0)));
        assert_eq!(read("f7"), Ok(Value::Null), "undefined");
        assert_eq!(read("3b 7fffffffffffffff"), Ok(Value::Int(i64::MIN)));
        assert_eq!(read("1b ffffffffffffffff"), Ok(Value::UInt(u64::MAX)));
        // Indefinite-length text, bytes, array and map.
        assert_eq!(read("7f 62 6162 61 63 ff"), Ok(Value::from("abc")));
        assert_eq!(read("5f 41 01 42 0203 ff"), Ok(Value::bytes([1, 2, 3])));
        assert_eq!(
            read("9f 01 9f ff ff"),
            Ok(Value::List(vec![1.into(), Value::List(vec![])]))
        );
        assert_eq!(
            read("bf 61 61 01 ff"),
            Ok(Value::Dict(Dict::from([("a".into(), 1.into())])))
        );
        // Tags are dropped; bignums that fit become integers.
        assert_eq!(read("c1 0a"), Ok(Value::Int(10)));
        assert_eq!(read("d8 18 42 0708"), Ok(Value::bytes([7, 8])));
        assert_eq!(read("c1 c1 c1 0a"), Ok(Value::Int(10)));
        assert_eq!(read("c2 41 05"), Ok(Value::Int(5)));
        assert_eq!(read("c2 49 00 ffffffffffffffff"), Ok(Value::UInt(u64::MAX)));
        assert_eq!(read("c3 41 05"), Ok(Value::Int(-6)));
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        let cases = [
            ("", "at byte 0: truncated: expected a CBOR item of 1 bytes, found only 0"),
            ("ff", "at byte 0: expected a CBOR item, found a break (0xff) outside"),
            ("83 01 1c 80", "at byte 2: expected additional information 0 to 27 or 31, found the reserved value 28"),
            ("82 01 f0", "at byte 2: expected false, true, null, undefined or a float, found simple value 16"),
            ("82 01 f8 20", "at byte 2: expected false, true, null, undefined or a float, found simple value 32"),
            ("1f", "at byte 0: expected an unsigned integer, found an indefinite length"),
            ("62 ff fe", "at byte 1: expected UTF-8 text in the string at byte 0, found invalid UTF-8"),
            ("7f 61 ff ff", "at byte 1: expected UTF-8 text in the string at byte 0"),
            ("7f 41 00 ff", "at byte 1: expected a text string chunk or a break"),
            ("a1 01 02", "at byte 1: dictionary keys must be strings: expected a string key, found an integer"),
            ("c2 49 01 0000000000000000", "at byte 0: expected a bignum of at most 64 bits, found one of 9 bytes"),
            ("c3 48 ffffffffffffffff", "at byte 0: expected an integer of at most 64 bits"),
            ("c2 01", "at byte 1: expected a byte string after the bignum tag 2 at byte 0"),
            ("9f 01", "at byte 2: truncated: expected an item or the end of the list at byte 0"),
            ("01 02", "at byte 1: 1 bytes after the message"),
            ("43 0102", "at byte 1: truncated: expected the byte string at byte 0 of 3 bytes, found only 2"),
        ];
        for (frame, expected) in cases {
            let err = read(frame).unwrap_err();
            assert!(
                err.starts_with("undecodable cbor frame ") && err.contains(expected),
                "{frame}: {err}"
            );
        }
    }

    #[test]
    fn lengths_the_frame_cannot_hold_are_refused_at_their_header() {
        // Arrays and maps claiming 2^64 - 1 items, strings claiming 2^64 - 1 bytes.
        for (frame, needle) in [
            ("9b ffffffffffffffff 01", "the list at byte 0 claims 18446744073709551615 items, but the rest of the frame has room for at most 1"),
            ("bb ffffffffffffffff 01", "the dict at byte 0 claims"),
            ("5b ffffffffffffffff 01", "the byte string at byte 0 of 18446744073709551615 bytes"),
            ("7b ffffffffffffffff 01", "the string at byte 0 of 18446744073709551615 bytes"),
        ] {
            let err = read(frame).unwrap_err();
            assert!(err.contains(needle), "{frame}: {err}");
        }
        // Nested: each list may only claim what the enclosing lists leave over.
        assert!(read("83 82 01 02 03 04").is_ok());
        let err = read("82 84 01 02 03 04").unwrap_err();
        assert!(
            err.contains("at byte 1: truncated: the list at byte 1 claims 4 items, but the rest of the frame has room for at most 3"),
            "{err}"
        );
    }
}
