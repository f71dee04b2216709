//! The CBOR serializer (feature `cbor`, RFC 8949) through ciborium.

use super::codec::{CodecError, Serializer};
use crate::value::Value;

/// Encodes one value.
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|e| CodecError::Unencodable {
        serializer: Serializer::Cbor,
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// Decodes exactly one CBOR value filling all of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, CodecError> {
    let undecodable = |detail: String| CodecError::Undecodable {
        serializer: Serializer::Cbor,
        detail,
    };
    let mut reader = bytes;
    let value: Value =
        ciborium::from_reader(&mut reader).map_err(|e| undecodable(e.to_string()))?;
    if !reader.is_empty() {
        return Err(undecodable(format!(
            "{} bytes after the message",
            reader.len()
        )));
    }
    Ok(value)
}
