//! The three WAMP serializers: bytes in, [`Message`] out, and back.
//!
//! Each serializer first maps bytes to a [`Value`] and [`Message::from_value`] does the
//! shape checks, so all three reject malformed input the same way.

#[cfg(feature = "cbor")]
use super::cbor;
use super::message::{Message, MessageError};
#[cfg(feature = "msgpack")]
use super::msgpack;
use crate::value::{TextRule, Value, ValueSeed};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::de::DeserializeSeed;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A WAMP serializer, named as in the `wamp.2.<name>` WebSocket subprotocol.
///
/// Every variant exists in every build; MessagePack and CBOR work only when their
/// Cargo feature is enabled ([`Serializer::is_compiled_in`]), otherwise encoding and
/// decoding fail with [`CodecError::FeatureDisabled`].
///
/// ```
/// use izaber_wamp_proto::message::Message;
/// use izaber_wamp_proto::{Dict, Serializer};
///
/// let serializer: Serializer = "json".parse()?;
/// assert_eq!(serializer.subprotocol(), "wamp.2.json");
/// assert_eq!(Serializer::from_subprotocol("wamp.2.json"), Some(serializer));
///
/// let goodbye = Message::Goodbye { details: Dict::new(), reason: "wamp.close.normal".into() };
/// let frame = serializer.encode(goodbye.clone())?;
/// assert_eq!(frame, br#"[6,{},"wamp.close.normal"]"#);
/// assert_eq!(serializer.decode(&frame)?, goodbye);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Serializer {
    /// `wamp.2.json`: text frames; bytes travel as `"\0" + base64` strings. Always
    /// built in.
    Json,
    /// `wamp.2.msgpack`: binary frames; `str` and `bin` stay distinct. Needs the
    /// `msgpack` feature.
    MsgPack,
    /// `wamp.2.cbor`: binary frames (RFC 8949). Needs the `cbor` feature.
    Cbor,
}

/// Why a frame could not be decoded or a message could not be encoded.
///
/// Non-exhaustive: later versions may say more, in new variants or fields.
///
/// ```
/// use izaber_wamp_proto::{CodecError, Serializer, Value};
///
/// // Valid JSON, but not a WAMP message.
/// let err = Serializer::Json.decode(b"[999]").unwrap_err();
/// assert!(matches!(err, CodecError::Malformed(_)));
/// assert_eq!(err.to_string(), "malformed message: unknown message type 999");
///
/// // JSON has no NaN.
/// let err = Serializer::Json.encode_value(&Value::Float(f64::NAN)).unwrap_err();
/// assert!(matches!(err, CodecError::Unencodable { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The bytes are not valid for the serializer.
    ///
    /// ```
    /// use izaber_wamp_proto::{CodecError, Serializer};
    ///
    /// let err = Serializer::Json.decode(br#"[1, "realm1" {}]"#).unwrap_err();
    /// assert!(matches!(err, CodecError::Undecodable { offset: Some(13), .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "undecodable json frame at byte 13: expected `,` or `]`"
    /// );
    /// ```
    #[non_exhaustive]
    Undecodable {
        /// The serializer in use.
        serializer: Serializer,
        /// The byte offset in the frame where the decoder found the problem, where it
        /// can tell.
        offset: Option<usize>,
        /// What was expected and what was found.
        detail: String,
    },
    /// The bytes decode, but not to a valid WAMP message.
    Malformed(MessageError),
    /// The message holds something the serializer cannot carry (e.g. NaN in JSON).
    Unencodable {
        /// The serializer in use.
        serializer: Serializer,
        /// What is wrong.
        detail: String,
    },
    /// The serializer is not compiled into this build of izaber-wamp.
    FeatureDisabled {
        /// The serializer asked for.
        serializer: Serializer,
        /// The Cargo feature of izaber-wamp that builds it in.
        feature: &'static str,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Undecodable {
                serializer,
                offset: Some(offset),
                detail,
            } => write!(
                f,
                "undecodable {serializer} frame at byte {offset}: {detail}"
            ),
            CodecError::Undecodable {
                serializer,
                offset: None,
                detail,
            } => write!(f, "undecodable {serializer} frame: {detail}"),
            CodecError::Malformed(e) => write!(f, "malformed message: {e}"),
            CodecError::Unencodable { serializer, detail } => {
                write!(f, "cannot encode message as {serializer}: {detail}")
            }
            CodecError::FeatureDisabled {
                serializer,
                feature,
            } => write!(
                f,
                "serializer {serializer} needs the `{feature}` feature of izaber-wamp"
            ),
        }
    }
}

impl std::error::Error for CodecError {}

impl CodecError {
    /// A frame that `serializer` cannot decode, with where and why.
    #[cfg(any(feature = "msgpack", feature = "cbor"))]
    pub(crate) fn undecodable(serializer: Serializer, error: crate::wire::DecodeError) -> Self {
        CodecError::Undecodable {
            serializer,
            offset: Some(error.offset),
            detail: error.detail,
        }
    }
}

impl fmt::Display for Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Serializer {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "json" => Ok(Serializer::Json),
            "msgpack" => Ok(Serializer::MsgPack),
            "cbor" => Ok(Serializer::Cbor),
            other => Err(format!(
                "unknown serializer {other:?} (expected json, msgpack or cbor)"
            )),
        }
    }
}

impl Serializer {
    /// Every serializer, compiled in or not, in the default order of preference.
    pub const ALL: [Serializer; 3] = [Serializer::Cbor, Serializer::MsgPack, Serializer::Json];

    /// The Cargo feature of izaber-wamp that builds this serializer in; `None` for
    /// JSON, which is always built in.
    pub const fn cargo_feature(self) -> Option<&'static str> {
        match self {
            Serializer::Json => None,
            Serializer::MsgPack => Some("msgpack"),
            Serializer::Cbor => Some("cbor"),
        }
    }

    /// Whether this build of izaber-wamp can encode and decode with this serializer.
    ///
    /// ```
    /// use izaber_wamp_proto::Serializer;
    ///
    /// assert!(Serializer::Json.is_compiled_in());
    /// assert_eq!(Serializer::Cbor.is_compiled_in(), cfg!(feature = "cbor"));
    /// ```
    pub const fn is_compiled_in(self) -> bool {
        match self {
            Serializer::Json => true,
            Serializer::MsgPack => cfg!(feature = "msgpack"),
            Serializer::Cbor => cfg!(feature = "cbor"),
        }
    }

    /// The short name: `json`, `msgpack` or `cbor`.
    pub fn name(self) -> &'static str {
        match self {
            Serializer::Json => "json",
            Serializer::MsgPack => "msgpack",
            Serializer::Cbor => "cbor",
        }
    }

    /// The WebSocket subprotocol, e.g. `wamp.2.json`.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Serializer::Json => "wamp.2.json",
            Serializer::MsgPack => "wamp.2.msgpack",
            Serializer::Cbor => "wamp.2.cbor",
        }
    }

    /// The serializer for a subprotocol name, if it is one of ours.
    pub fn from_subprotocol(name: &str) -> Option<Serializer> {
        Serializer::ALL
            .into_iter()
            .find(|s| s.subprotocol() == name)
    }

    /// The RawSocket handshake serializer number.
    pub fn rawsocket_id(self) -> u8 {
        match self {
            Serializer::Json => 1,
            Serializer::MsgPack => 2,
            Serializer::Cbor => 3,
        }
    }

    /// True when frames are text (JSON), false when binary.
    pub fn is_text(self) -> bool {
        self == Serializer::Json
    }

    /// Encodes a message.
    ///
    /// # Errors
    ///
    /// As [`Serializer::encode_value`]: [`CodecError::Unencodable`] or
    /// [`CodecError::FeatureDisabled`].
    ///
    /// ```
    /// use izaber_wamp_proto::message::{Message, Payload};
    /// use izaber_wamp_proto::{Dict, Serializer, Value};
    ///
    /// let publish = Message::Publish {
    ///     request: 7,
    ///     options: Dict::new(),
    ///     topic: "com.example.news".into(),
    ///     payload: Payload::new(vec![Value::from("extra!")], Dict::new()),
    /// };
    /// let frame = Serializer::Json.encode(publish)?;
    /// assert_eq!(frame, br#"[16,7,{},"com.example.news",["extra!"]]"#);
    /// # Ok::<(), izaber_wamp_proto::CodecError>(())
    /// ```
    pub fn encode(self, message: Message) -> Result<Vec<u8>, CodecError> {
        self.encode_value(&message.into_value())
    }

    /// Encodes any value, e.g. a transparent payload's `{"args": .., "kwargs": ..}`.
    ///
    /// # Errors
    ///
    /// [`CodecError::Unencodable`] when the value holds something the serializer
    /// cannot carry (for JSON: a NaN or infinite float), and
    /// [`CodecError::FeatureDisabled`] when the serializer is not compiled in.
    ///
    /// ```
    /// use izaber_wamp_proto::{Serializer, Value};
    /// let bytes = Serializer::Json.encode_value(&Value::List(vec![Value::Int(1)]))?;
    /// assert_eq!(bytes, b"[1]");
    /// assert_eq!(Serializer::Json.decode_value(&bytes)?, Value::List(vec![Value::Int(1)]));
    /// # Ok::<(), izaber_wamp_proto::CodecError>(())
    /// ```
    pub fn encode_value(self, value: &Value) -> Result<Vec<u8>, CodecError> {
        let frame = match self {
            Serializer::Json => encode_json(value),
            Serializer::MsgPack => msgpack::encode(value),
            Serializer::Cbor => cbor::encode(value),
        };
        frame.map(finished)
    }

    /// Decodes one frame into a message.
    ///
    /// # Errors
    ///
    /// As [`Serializer::decode_value`], and [`CodecError::Malformed`] when the bytes
    /// decode but not to a valid WAMP message (unknown type code, wrong element count
    /// or type, an ID out of range).
    ///
    /// ```
    /// use izaber_wamp_proto::message::Message;
    /// use izaber_wamp_proto::{CodecError, Serializer};
    ///
    /// let message = Serializer::Json.decode(br#"[2,9129137332,{"authrole":"user"}]"#)?;
    /// assert!(matches!(message, Message::Welcome { session: 9129137332, .. }));
    ///
    /// // WELCOME needs a details dict.
    /// let err = Serializer::Json.decode(b"[2,9129137332,7]").unwrap_err();
    /// assert!(matches!(err, CodecError::Malformed(_)));
    /// # Ok::<(), CodecError>(())
    /// ```
    pub fn decode(self, bytes: &[u8]) -> Result<Message, CodecError> {
        let value = self.decode_value(bytes)?;
        Message::from_value(value).map_err(CodecError::Malformed)
    }

    /// Decodes bytes into a value, with the same bounds as a frame.
    ///
    /// # Errors
    ///
    /// [`CodecError::Undecodable`] when the bytes are not one valid value of the
    /// serializer: malformed or truncated, followed by more bytes, nested deeper than
    /// 128 levels, with a map key that is not a string (MessagePack, CBOR) or a
    /// `"\0"` string that is not base64 (JSON). [`CodecError::FeatureDisabled`] when
    /// the serializer is not compiled in.
    pub fn decode_value(self, bytes: &[u8]) -> Result<Value, CodecError> {
        match self {
            Serializer::Json => decode_json(bytes),
            Serializer::MsgPack => msgpack::decode(bytes),
            Serializer::Cbor => cbor::decode(bytes),
        }
    }
}

/// MessagePack when the `msgpack` feature is off: every use fails, naming the feature.
#[cfg(not(feature = "msgpack"))]
mod msgpack {
    use super::{CodecError, Serializer, Value};

    const DISABLED: CodecError = CodecError::FeatureDisabled {
        serializer: Serializer::MsgPack,
        feature: "msgpack",
    };

    pub(super) fn encode(_: &Value) -> Result<Vec<u8>, CodecError> {
        Err(DISABLED)
    }

    pub(super) fn decode(_: &[u8]) -> Result<Value, CodecError> {
        Err(DISABLED)
    }
}

/// CBOR when the `cbor` feature is off: every use fails, naming the feature.
#[cfg(not(feature = "cbor"))]
mod cbor {
    use super::{CodecError, Serializer, Value};

    const DISABLED: CodecError = CodecError::FeatureDisabled {
        serializer: Serializer::Cbor,
        feature: "cbor",
    };

    pub(super) fn encode(_: &Value) -> Result<Vec<u8>, CodecError> {
        Err(DISABLED)
    }

    pub(super) fn decode(_: &[u8]) -> Result<Value, CodecError> {
        Err(DISABLED)
    }
}

/// The buffer a value is encoded into. Most messages fit: growing from empty would
/// reallocate several times each.
pub(crate) fn output_buffer() -> Vec<u8> {
    Vec::with_capacity(256)
}

/// Frames at least this long give back the room their buffer grew beyond them.
const SHRINK_ABOVE: usize = 64 * 1024;

/// An encoded frame as it is queued: grown by doubling, a frame a little over 1 MiB
/// would sit in a 2 MiB buffer while it waits to be written, so a long frame with
/// much room to spare gives it back. Giving back the end of a large allocation moves
/// nothing (the allocator trims it or remaps it), and the common, short frame pays one
/// comparison. (Sizing the buffer up front instead would mean walking every value
/// before encoding it, which costs a short message two thirds of its encoding.)
fn finished(mut frame: Vec<u8>) -> Vec<u8> {
    if frame.len() >= SHRINK_ABOVE && frame.capacity() - frame.len() > frame.len() / 8 {
        frame.shrink_to_fit();
    }
    frame
}

fn encode_json(value: &Value) -> Result<Vec<u8>, CodecError> {
    let mut out = output_buffer();
    write_json(value, &mut out)
        .map(|()| out)
        .map_err(|detail| CodecError::Unencodable {
            serializer: Serializer::Json,
            detail,
        })
}

/// Decodes JSON text. The frame is checked as UTF-8 once, as a whole, so that
/// serde_json reads it as `str` and does not check each string again; WAMP's binary
/// rule is applied to each string as it is read ([`JsonText`]).
fn decode_json(bytes: &[u8]) -> Result<Value, CodecError> {
    let text = std::str::from_utf8(bytes).map_err(|e| CodecError::Undecodable {
        serializer: Serializer::Json,
        offset: Some(e.valid_up_to()),
        detail: "expected UTF-8 text, found invalid UTF-8".to_owned(),
    })?;
    let mut reader = serde_json::Deserializer::from_str(text);
    ValueSeed(JsonText)
        .deserialize(&mut reader)
        .and_then(|value| reader.end().map(|()| value))
        .map_err(|e| json_error(bytes, &e))
}

/// WAMP's JSON rule for strings: one that starts with `\0` is base64 bytes.
#[derive(Clone, Copy)]
struct JsonText;

impl TextRule for JsonText {
    fn read<E: serde::de::Error>(self, text: Cow<'_, str>) -> Result<Value, E> {
        match text.strip_prefix('\0') {
            Some(base64) => BASE64.decode(base64).map(Value::Bytes).map_err(|e| {
                E::custom(format_args!(
                    "expected base64 after \\0, but the string is not valid base64: {e}"
                ))
            }),
            None => Ok(Value::String(text.into_owned())),
        }
    }
}

/// serde_json's error with its line and column turned into a byte offset.
fn json_error(bytes: &[u8], error: &serde_json::Error) -> CodecError {
    let text = error.to_string();
    // serde_json appends " at line L column C" when it knows the position.
    let (detail, offset) = match text.rfind(" at line ") {
        Some(cut) if error.line() > 0 => (
            text[..cut].to_owned(),
            Some(json_offset(bytes, error.line(), error.column())),
        ),
        _ => (text, None),
    };
    CodecError::Undecodable {
        serializer: Serializer::Json,
        offset,
        detail,
    }
}

/// The byte offset of serde_json's line and column (both 1-based; a column counts
/// bytes).
fn json_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        _ => bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(0, |(newline, _)| newline + 1),
    };
    (line_start + column.saturating_sub(1)).min(bytes.len())
}

/// Writes a value as JSON: bytes become `"\0" + base64`, and floats JSON cannot
/// represent are refused instead of silently becoming `null`. Written by hand so
/// that large binary payloads are base64-encoded straight into the output, instead of
/// into a string that the JSON writer then scans again for characters to escape.
fn write_json(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Float(f) if !f.is_finite() => {
            return Err(format!("JSON cannot carry the float {f}"))
        }
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::String(_) => {
            serde_json::to_writer(&mut *out, value).map_err(|e| e.to_string())?
        }
        Value::Bytes(bytes) => {
            out.extend_from_slice(b"\"\\u0000");
            let start = out.len();
            let length = base64::encoded_len(bytes.len(), true)
                .ok_or_else(|| format!("{} bytes are too many to encode", bytes.len()))?;
            out.resize(start + length, 0);
            BASE64
                .encode_slice(bytes, &mut out[start..])
                .map_err(|e| e.to_string())?;
            out.push(b'"');
        }
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, out)?;
            }
            out.push(b']');
        }
        Value::Dict(dict) => {
            out.push(b'{');
            for (i, (key, item)) in dict.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).map_err(|e| e.to_string())?;
                out.push(b':');
                write_json(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dict;

    /// Grown by doubling, a frame a little over 1 MiB would sit in a 2 MiB buffer.
    #[test]
    fn a_long_frame_holds_little_more_memory_than_its_length() {
        let payload = Value::List(vec![
            Value::Int(48),
            Value::Int(1),
            Value::Dict(Dict::new()),
            Value::from("com.example.echo"),
            Value::List(vec![
                Value::bytes(vec![0x5a; 1 << 20]),
                Value::from("x".repeat(1 << 16)),
            ]),
        ]);
        for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Cbor] {
            let frame = serializer.encode_value(&payload).expect("encodes");
            assert!(
                frame.capacity() <= frame.len() + frame.len() / 8,
                "{serializer}: {} bytes in a buffer of {}",
                frame.len(),
                frame.capacity()
            );
        }
    }
}
