//! The dynamic payload value carried by WAMP messages.
//!
//! Every WAMP message is a list of [`Value`]s, and application payloads (`Arguments`,
//! `ArgumentsKw`) are arbitrary trees of them. `Value` is deliberately a superset of
//! what each wire format can express, so one type serves JSON, MessagePack and CBOR:
//!
//! * **Text and binary stay distinct.** [`Value::String`] is UTF-8 text and
//!   [`Value::Bytes`] is raw binary. `Serialize` writes bytes with `serialize_bytes`,
//!   so MessagePack gets a `bin` (not `str`) and CBOR a byte string (major type 2, not
//!   text). JSON has no binary type; the codec layer applies WAMP's `"\0" + base64`
//!   convention on top of this type.
//! * **One spelling per integer.** A non-negative integer that fits `i64` is always
//!   [`Value::Int`]; [`Value::UInt`] only holds values above `i64::MAX`. This keeps
//!   equality meaningful: `5u64` and `5i32` produce the same `Value`.
//! * **Dictionary keys are strings**, as WAMP requires; decoding a map with any other
//!   key type is an error rather than a silent conversion.
//!
//! [`to_value`] and [`from_value`] bridge between `Value` and any serde type, with
//! errors ([`ValueError`]) that name the expected and found types and the path inside
//! the value where the mismatch happened. [`from_value_ref`] reads a borrowed value
//! without cloning it (and lets the result borrow its strings and bytes);
//! [`from_list_ref`] and [`from_dict_ref`] do the same for a list's items or a dict,
//! such as a message's arguments, without first wrapping them in a `Value`.
//!
//! The module is laid out like `serde_json::value`: the type and its conversions here,
//! `Serialize` and [`to_value`] in `ser`, `Deserialize` in `visitor`, the
//! deserializers in `de`, [`ValueError`] in `error`, and `Display` in `display`.

mod de;
mod display;
mod error;
mod ser;
#[cfg(test)]
mod tests;
mod visitor;

pub use de::{from_dict_ref, from_list_ref, from_value, from_value_ref};
pub use error::ValueError;
pub use ser::to_value;
pub(crate) use visitor::{TextRule, ValueSeed};

use serde::de::Unexpected;
use std::collections::BTreeMap;

/// A WAMP dictionary (Options, Details, ArgumentsKw): string keys.
///
/// ```
/// use izaber_wamp_proto::{Dict, Value};
///
/// let mut options = Dict::new();
/// options.insert("acknowledge".into(), Value::Bool(true));
/// assert_eq!(Value::Dict(options).to_string(), r#"{"acknowledge":true}"#);
/// ```
pub type Dict = BTreeMap<String, Value>;

/// A dynamically typed WAMP payload value.
///
/// ```
/// use izaber_wamp_proto::{Dict, Value};
///
/// let user = Value::Dict(Dict::from([
///     ("name".to_string(), Value::from("Ada")),
///     ("roles".to_string(), Value::List(vec!["admin".into(), "dev".into()])),
///     ("avatar".to_string(), Value::bytes(*b"\x89PNG")),
/// ]));
/// let dict = user.as_dict().unwrap();
/// assert_eq!(dict["name"].as_str(), Some("Ada"));
/// assert_eq!(dict["roles"].as_list().map(<[Value]>::len), Some(2));
/// assert_eq!(dict["avatar"].as_bytes(), Some(&b"\x89PNG"[..]));
/// assert_eq!(Value::from(5u64), Value::from(5i32)); // one spelling per integer
/// assert_eq!(user.to_string(), r#"{"avatar":b"89504e47","name":"Ada","roles":["admin","dev"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Absence of a value (`null` / `nil`).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer that fits in i64.
    Int(i64),
    /// Only for integers above i64::MAX (normalization rule: a non-negative integer that fits i64 is always Int).
    UInt(u64),
    /// A floating point number.
    Float(f64),
    /// UTF-8 text.
    String(String),
    /// Raw binary data, kept apart from text on the wire.
    Bytes(Vec<u8>),
    /// An ordered list.
    List(Vec<Value>),
    /// A dictionary with string keys.
    Dict(Dict),
}

impl Value {
    /// Creates a [`Value::Bytes`].
    ///
    /// There is no `From<Vec<u8>>` because a `Vec<u8>` could equally mean a list of
    /// small integers; this constructor makes the binary intent explicit.
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    ///
    /// let blob = Value::bytes(vec![0xde, 0xad]);
    /// assert_eq!(blob.as_bytes(), Some(&[0xde, 0xad][..]));
    /// assert_eq!(blob.type_name(), "bytes");
    /// ```
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(bytes.into())
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is a [`Value::Bool`].
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// assert_eq!(Value::Bool(true).as_bool(), Some(true));
    /// assert_eq!(Value::from("true").as_bool(), None);
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits in `i64`.
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// assert_eq!(Value::from(-3).as_i64(), Some(-3));
    /// assert_eq!(Value::from(u64::MAX).as_i64(), None);
    /// assert_eq!(Value::Float(1.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// The integer, if this is a non-negative integer.
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// assert_eq!(Value::from(u64::MAX).as_u64(), Some(u64::MAX));
    /// assert_eq!(Value::from(-1).as_u64(), None);
    /// ```
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::UInt(u) => Some(*u),
            _ => None,
        }
    }

    /// The number as `f64`, if this is a float or an integer (large integers lose
    /// precision).
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// assert_eq!(Value::Float(0.5).as_f64(), Some(0.5));
    /// assert_eq!(Value::from(2).as_f64(), Some(2.0));
    /// assert_eq!(Value::from("2").as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            _ => None,
        }
    }

    /// The text, if this is a [`Value::String`].
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// assert_eq!(Value::from("hi").as_str(), Some("hi"));
    /// assert_eq!(Value::bytes(*b"hi").as_str(), None); // bytes are not text
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The binary data, if this is a [`Value::Bytes`].
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items, if this is a [`Value::List`].
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// let list = Value::List(vec![1.into(), 2.into()]);
    /// assert_eq!(list.as_list(), Some(&[Value::Int(1), Value::Int(2)][..]));
    /// ```
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The dictionary, if this is a [`Value::Dict`].
    ///
    /// ```
    /// use izaber_wamp_proto::{Dict, Value};
    /// let details = Value::Dict(Dict::from([("authrole".to_string(), "user".into())]));
    /// let role = details.as_dict().and_then(|d| d.get("authrole")).and_then(Value::as_str);
    /// assert_eq!(role, Some("user"));
    /// ```
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// A short name of the variant for messages: "null", "bool", "integer", "float",
    /// "string", "bytes", "list" or "dict".
    ///
    /// ```
    /// use izaber_wamp_proto::Value;
    /// assert_eq!(Value::from(u64::MAX).type_name(), "integer");
    /// assert_eq!(Value::Null.type_name(), "null");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
        }
    }

    /// This value described the way serde's `invalid_type` errors expect, so custom
    /// deserialization code can report "invalid type: X, expected Y" consistently.
    ///
    /// ```
    /// use izaber_wamp_proto::{Value, ValueError};
    /// use serde::de::Error;
    ///
    /// let found = Value::from("seven");
    /// let err = ValueError::invalid_type(found.unexpected(), &"a port number");
    /// assert_eq!(err.to_string(), r#"invalid type: string "seven", expected a port number"#);
    /// ```
    pub fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Int(i) => Unexpected::Signed(*i),
            Value::UInt(u) => Unexpected::Unsigned(*u),
            Value::Float(f) => Unexpected::Float(*f),
            Value::String(s) => Unexpected::Str(s),
            Value::Bytes(b) => Unexpected::Bytes(b),
            Value::List(_) => Unexpected::Seq,
            Value::Dict(_) => Unexpected::Map,
        }
    }
}

/// Applies the normalization rule, so equal numbers always compare equal.
pub(crate) fn from_u64(v: u64) -> Value {
    i64::try_from(v).map_or(Value::UInt(v), Value::Int)
}

pub(crate) fn from_i128(v: i128) -> Option<Value> {
    if let Ok(i) = i64::try_from(v) {
        Some(Value::Int(i))
    } else {
        u64::try_from(v).ok().map(Value::UInt)
    }
}

pub(crate) fn from_u128(v: u128) -> Option<Value> {
    u64::try_from(v).ok().map(from_u64)
}

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

macro_rules! from_signed {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_signed!(i8 i16 i32 i64 u8 u16 u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        from_u64(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}

impl From<Dict> for Value {
    fn from(v: Dict) -> Self {
        Value::Dict(v)
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else if let Some(f) = n.as_f64() {
                    Value::Float(f)
                } else {
                    // Only reachable with serde_json's arbitrary precision; keeping the
                    // digits as text loses nothing.
                    Value::String(n.to_string())
                }
            }
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::List(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => {
                Value::Dict(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}
