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
//! the value where the mismatch happened.

use serde::de::{self, IntoDeserializer, Unexpected};
use serde::ser::{self, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A WAMP dictionary (Options, Details, ArgumentsKw): string keys.
pub type Dict = BTreeMap<String, Value>;

/// A dynamically typed WAMP payload value.
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
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(bytes.into())
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is a [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    /// The integer, if this is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::UInt(u) => Some(*u),
            _ => None,
        }
    }

    /// The number as `f64`, if this is a float or an integer (large integers lose
    /// precision).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            _ => None,
        }
    }

    /// The text, if this is a [`Value::String`].
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
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The dictionary, if this is a [`Value::Dict`].
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// A short name of the variant for messages: "null", "bool", "integer", "float",
    /// "string", "bytes", "list" or "dict".
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

    fn invalid_type<E: de::Error>(&self, expected: &dyn de::Expected) -> E {
        E::invalid_type(self.unexpected(), expected)
    }
}

/// Applies the normalization rule, so equal numbers always compare equal.
fn from_u64(v: u64) -> Value {
    i64::try_from(v).map_or(Value::UInt(v), Value::Int)
}

fn from_i128(v: i128) -> Option<Value> {
    if let Ok(i) = i64::try_from(v) {
        Some(Value::Int(i))
    } else {
        u64::try_from(v).ok().map(Value::UInt)
    }
}

fn from_u128(v: u128) -> Option<Value> {
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

// ---------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------

fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// Compact JSON-like text; bytes appear as `b"<hex>"` since JSON has no binary type.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            // Debug formatting keeps a ".0" so floats stay recognisable as floats.
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write_json_str(f, s),
            Value::Bytes(bytes) => {
                f.write_str("b\"")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("\"")
            }
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Dict(dict) => {
                f.write_str("{")?;
                for (i, (key, item)) in dict.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_json_str(f, key)?;
                    write!(f, ":{item}")?;
                }
                f.write_str("}")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Error
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum PathSegment {
    Key(String),
    Index(usize),
}

/// Error converting between Rust types and [`Value`] (message says what and where).
///
/// The "where" is a path such as `items[2].name`, rendered after the message.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    message: String,
    /// Innermost segment first: segments are added as the error bubbles outwards.
    path: Vec<PathSegment>,
}

impl ValueError {
    /// An error with the given message and no location.
    pub fn new(message: impl Into<String>) -> Self {
        ValueError {
            message: message.into(),
            path: Vec::new(),
        }
    }

    /// The message without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn at_key(mut self, key: &str) -> Self {
        self.path.push(PathSegment::Key(key.to_owned()));
        self
    }

    fn at_index(mut self, index: usize) -> Self {
        self.path.push(PathSegment::Index(index));
        self
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            f.write_str(" at ")?;
            for (i, segment) in self.path.iter().rev().enumerate() {
                match segment {
                    PathSegment::Key(key) if i == 0 => f.write_str(key)?,
                    PathSegment::Key(key) => write!(f, ".{key}")?,
                    PathSegment::Index(index) => write!(f, "[{index}]")?,
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValueError {}

impl ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError::new(msg.to_string())
    }
}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError::new(msg.to_string())
    }
}

const KEYS_MUST_BE_STRINGS: &str = "dictionary keys must be strings";

// ---------------------------------------------------------------------------
// Serialize for Value
// ---------------------------------------------------------------------------

impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::UInt(u) => serializer.serialize_u64(*u),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::String(s) => serializer.serialize_str(s),
            Value::Bytes(b) => serializer.serialize_bytes(b),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Dict(dict) => {
                let mut map = serializer.serialize_map(Some(dict.len()))?;
                for (key, item) in dict {
                    map.serialize_entry(key, item)?;
                }
                map.end()
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Deserialize for Value
// ---------------------------------------------------------------------------

struct ValueVisitor;

/// Caps preallocation so a hostile length prefix cannot reserve huge memory up front.
const MAX_PREALLOC: usize = 4096;

impl<'de> de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any WAMP value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i8<E: de::Error>(self, v: i8) -> Result<Value, E> {
        Ok(Value::Int(i64::from(v)))
    }

    fn visit_i16<E: de::Error>(self, v: i16) -> Result<Value, E> {
        Ok(Value::Int(i64::from(v)))
    }

    fn visit_i32<E: de::Error>(self, v: i32) -> Result<Value, E> {
        Ok(Value::Int(i64::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        from_i128(v)
            .ok_or_else(|| E::custom(format!("integer {v} is out of range for a WAMP value")))
    }

    fn visit_u8<E: de::Error>(self, v: u8) -> Result<Value, E> {
        Ok(Value::Int(i64::from(v)))
    }

    fn visit_u16<E: de::Error>(self, v: u16) -> Result<Value, E> {
        Ok(Value::Int(i64::from(v)))
    }

    fn visit_u32<E: de::Error>(self, v: u32) -> Result<Value, E> {
        Ok(Value::Int(i64::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(from_u64(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        from_u128(v)
            .ok_or_else(|| E::custom(format!("integer {v} is out of range for a WAMP value")))
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Float(f64::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(deserializer)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut dict = Dict::new();
        while let Some(key) = map.next_key::<Value>()? {
            let key = match key {
                Value::String(s) => s,
                other => {
                    return Err(de::Error::custom(format_args!(
                        "{KEYS_MUST_BE_STRINGS}, found {} key {other}",
                        other.type_name()
                    )))
                }
            };
            let item = map.next_value()?;
            dict.insert(key, item);
        }
        Ok(Value::Dict(dict))
    }

    /// Self-describing formats only call this for things outside serde's data model;
    /// in practice that is a CBOR tag (ciborium names the variant `@@TAGGED@@`). WAMP
    /// gives tags no meaning, so the tag is dropped and the tagged item kept.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        use de::VariantAccess;
        let (name, variant): (String, _) = data.variant()?;
        let inner: Value = variant.newtype_variant()?;
        if name == "@@TAGGED@@" || name == "@@UNTAGGED@@" {
            Ok(inner)
        } else {
            Ok(Value::Dict(Dict::from([(name, inner)])))
        }
    }
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

// ---------------------------------------------------------------------------
// to_value: a Serializer producing Value
// ---------------------------------------------------------------------------

/// Converts any serializable type into a [`Value`].
///
/// Follows `serde_json::to_value` conventions, except that `serialize_bytes` gives
/// [`Value::Bytes`] and unit structs give [`Value::Null`]. Map keys must be strings;
/// integer, bool and char keys are turned into their text form, like JSON does.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(ValueSerializer)
}

struct ValueSerializer;

fn out_of_range(v: impl fmt::Display) -> ValueError {
    ValueError::new(format!("integer {v} is out of range for a WAMP value"))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ValueError;
    type SerializeSeq = SerializeList;
    type SerializeTuple = SerializeList;
    type SerializeTupleStruct = SerializeList;
    type SerializeTupleVariant = SerializeTupleVariant;
    type SerializeMap = SerializeDict;
    type SerializeStruct = SerializeDict;
    type SerializeStructVariant = SerializeStructVariant;

    fn serialize_bool(self, v: bool) -> Result<Value, ValueError> {
        Ok(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Value, ValueError> {
        Ok(Value::Int(i64::from(v)))
    }

    fn serialize_i16(self, v: i16) -> Result<Value, ValueError> {
        Ok(Value::Int(i64::from(v)))
    }

    fn serialize_i32(self, v: i32) -> Result<Value, ValueError> {
        Ok(Value::Int(i64::from(v)))
    }

    fn serialize_i64(self, v: i64) -> Result<Value, ValueError> {
        Ok(Value::Int(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Value, ValueError> {
        from_i128(v).ok_or_else(|| out_of_range(v))
    }

    fn serialize_u8(self, v: u8) -> Result<Value, ValueError> {
        Ok(Value::Int(i64::from(v)))
    }

    fn serialize_u16(self, v: u16) -> Result<Value, ValueError> {
        Ok(Value::Int(i64::from(v)))
    }

    fn serialize_u32(self, v: u32) -> Result<Value, ValueError> {
        Ok(Value::Int(i64::from(v)))
    }

    fn serialize_u64(self, v: u64) -> Result<Value, ValueError> {
        Ok(from_u64(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Value, ValueError> {
        from_u128(v).ok_or_else(|| out_of_range(v))
    }

    fn serialize_f32(self, v: f32) -> Result<Value, ValueError> {
        Ok(Value::Float(f64::from(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<Value, ValueError> {
        Ok(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Value, ValueError> {
        Ok(Value::String(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<Value, ValueError> {
        Ok(Value::String(v.to_owned()))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ValueError> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn serialize_none(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ValueError> {
        Ok(Value::String(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        let inner = to_value(value).map_err(|e| e.at_key(variant))?;
        Ok(Value::Dict(Dict::from([(variant.to_owned(), inner)])))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SerializeList, ValueError> {
        Ok(SerializeList {
            items: Vec::with_capacity(len.unwrap_or(0).min(MAX_PREALLOC)),
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SerializeList, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SerializeList, ValueError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SerializeTupleVariant, ValueError> {
        Ok(SerializeTupleVariant {
            variant,
            items: Vec::with_capacity(len.min(MAX_PREALLOC)),
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<SerializeDict, ValueError> {
        Ok(SerializeDict {
            dict: Dict::new(),
            next_key: None,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SerializeDict, ValueError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<SerializeStructVariant, ValueError> {
        Ok(SerializeStructVariant {
            variant,
            dict: Dict::new(),
        })
    }
}

struct SerializeList {
    items: Vec<Value>,
}

impl SerializeList {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        let index = self.items.len();
        self.items
            .push(to_value(value).map_err(|e| e.at_index(index))?);
        Ok(())
    }
}

impl ser::SerializeSeq for SerializeList {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::List(self.items))
    }
}

impl ser::SerializeTuple for SerializeList {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::List(self.items))
    }
}

impl ser::SerializeTupleStruct for SerializeList {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::List(self.items))
    }
}

struct SerializeTupleVariant {
    variant: &'static str,
    items: Vec<Value>,
}

impl ser::SerializeTupleVariant for SerializeTupleVariant {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        let index = self.items.len();
        let item = to_value(value).map_err(|e| e.at_index(index).at_key(self.variant))?;
        self.items.push(item);
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Dict(Dict::from([(
            self.variant.to_owned(),
            Value::List(self.items),
        )])))
    }
}

struct SerializeDict {
    dict: Dict,
    next_key: Option<String>,
}

impl ser::SerializeMap for SerializeDict {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ValueError> {
        self.next_key = Some(key.serialize(MapKeySerializer)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| ValueError::new("map value serialized before its key"))?;
        let item = to_value(value).map_err(|e| e.at_key(&key))?;
        self.dict.insert(key, item);
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Dict(self.dict))
    }
}

impl ser::SerializeStruct for SerializeDict {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        let item = to_value(value).map_err(|e| e.at_key(key))?;
        self.dict.insert(key.to_owned(), item);
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Dict(self.dict))
    }
}

struct SerializeStructVariant {
    variant: &'static str,
    dict: Dict,
}

impl ser::SerializeStructVariant for SerializeStructVariant {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        let item = to_value(value).map_err(|e| e.at_key(key).at_key(self.variant))?;
        self.dict.insert(key.to_owned(), item);
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Dict(Dict::from([(
            self.variant.to_owned(),
            Value::Dict(self.dict),
        )])))
    }
}

/// Turns a map key into a dictionary key: strings as they are, and (like JSON)
/// integers, bools and chars as their text form.
struct MapKeySerializer;

fn key_must_be_string(found: &str) -> ValueError {
    ValueError::new(format!("{KEYS_MUST_BE_STRINGS}, found {found} key"))
}

macro_rules! key_to_string {
    ($($method:ident($t:ty))*) => {$(
        fn $method(self, v: $t) -> Result<String, ValueError> {
            Ok(v.to_string())
        }
    )*};
}

impl ser::Serializer for MapKeySerializer {
    type Ok = String;
    type Error = ValueError;
    type SerializeSeq = ser::Impossible<String, ValueError>;
    type SerializeTuple = ser::Impossible<String, ValueError>;
    type SerializeTupleStruct = ser::Impossible<String, ValueError>;
    type SerializeTupleVariant = ser::Impossible<String, ValueError>;
    type SerializeMap = ser::Impossible<String, ValueError>;
    type SerializeStruct = ser::Impossible<String, ValueError>;
    type SerializeStructVariant = ser::Impossible<String, ValueError>;

    key_to_string! {
        serialize_bool(bool)
        serialize_i8(i8) serialize_i16(i16) serialize_i32(i32) serialize_i64(i64)
        serialize_i128(i128)
        serialize_u8(u8) serialize_u16(u16) serialize_u32(u32) serialize_u64(u64)
        serialize_u128(u128)
        serialize_char(char)
    }

    fn serialize_f32(self, _v: f32) -> Result<String, ValueError> {
        Err(key_must_be_string("float"))
    }

    fn serialize_f64(self, _v: f64) -> Result<String, ValueError> {
        Err(key_must_be_string("float"))
    }

    fn serialize_str(self, v: &str) -> Result<String, ValueError> {
        Ok(v.to_owned())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<String, ValueError> {
        Err(key_must_be_string("bytes"))
    }

    fn serialize_none(self) -> Result<String, ValueError> {
        Err(key_must_be_string("null"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, ValueError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<String, ValueError> {
        Err(key_must_be_string("null"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, ValueError> {
        Err(key_must_be_string("null"))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, ValueError> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, ValueError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, ValueError> {
        Err(key_must_be_string("enum variant"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, ValueError> {
        Err(key_must_be_string("list"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, ValueError> {
        Err(key_must_be_string("list"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, ValueError> {
        Err(key_must_be_string("list"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ValueError> {
        Err(key_must_be_string("enum variant"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, ValueError> {
        Err(key_must_be_string("dict"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, ValueError> {
        Err(key_must_be_string("dict"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ValueError> {
        Err(key_must_be_string("enum variant"))
    }
}

// ---------------------------------------------------------------------------
// from_value: Value as a Deserializer
// ---------------------------------------------------------------------------

/// Converts a [`Value`] into any deserializable type.
///
/// Errors name the expected and found types and where in the value the mismatch is,
/// e.g. `invalid type: string "x", expected i32 at args[0]`.
pub fn from_value<T: de::DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(value)
}

impl<'de> IntoDeserializer<'de, ValueError> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

/// Reads a list as bytes when every item is an integer in 0..=255, so a `Vec<u8>`
/// that went through a format without a binary type still decodes as bytes.
fn list_to_bytes(items: &[Value]) -> Option<Vec<u8>> {
    items
        .iter()
        .map(|item| match item {
            Value::Int(i) => u8::try_from(*i).ok(),
            _ => None,
        })
        .collect()
}

fn visit_list<'de, V: de::Visitor<'de>>(
    items: Vec<Value>,
    visitor: V,
) -> Result<V::Value, ValueError> {
    let len = items.len();
    let mut seq = SeqDeserializer {
        iter: items.into_iter(),
        index: 0,
    };
    let value = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in list"))
    }
}

fn visit_dict<'de, V: de::Visitor<'de>>(dict: Dict, visitor: V) -> Result<V::Value, ValueError> {
    let len = dict.len();
    let mut map = MapDeserializer {
        iter: dict.into_iter(),
        pending: None,
    };
    let value = visitor.visit_map(&mut map)?;
    if map.iter.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in dict"))
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = ValueError;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::UInt(u) => visitor.visit_u64(u),
            Value::Float(f) => visitor.visit_f64(f),
            Value::String(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(items) => visit_list(items, visitor),
            Value::Dict(dict) => visit_dict(dict, visitor),
        }
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self {
            Value::String(variant) => visitor.visit_enum(EnumDeserializer {
                variant,
                content: None,
            }),
            Value::Dict(dict) => {
                let mut entries = dict.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((variant, content)), None) => visitor.visit_enum(EnumDeserializer {
                        variant,
                        content: Some(content),
                    }),
                    _ => Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"a dict with exactly one key, the variant name",
                    )),
                }
            }
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bytes<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::String(s) => visitor.visit_string(s),
            Value::List(items) => match list_to_bytes(&items) {
                Some(bytes) => visitor.visit_byte_buf(bytes),
                None => visit_list(items, visitor),
            },
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self {
            // Lets a plain `Vec<u8>` (which asks for a seq) accept binary data.
            Value::Bytes(bytes) => {
                let mut seq = de::value::SeqDeserializer::new(bytes.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_ignored_any<V: de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct map struct identifier
    }
}

struct SeqDeserializer {
    iter: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqDeserializer {
    type Error = ValueError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        match self.iter.next() {
            Some(item) => {
                let index = self.index;
                self.index += 1;
                seed.deserialize(item)
                    .map(Some)
                    .map_err(|e| e.at_index(index))
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDeserializer {
    iter: std::collections::btree_map::IntoIter<String, Value>,
    /// The key just handed out (kept for error paths) and its value.
    pending: Option<(String, Value)>,
}

impl<'de> de::MapAccess<'de> for MapDeserializer {
    type Error = ValueError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.iter.next() {
            Some((key, value)) => {
                let result = seed.deserialize(MapKeyDeserializer { key: key.clone() });
                let result = result.map_err(|e| e.at_key(&key));
                self.pending = Some((key, value));
                result.map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        match self.pending.take() {
            Some((key, value)) => seed.deserialize(value).map_err(|e| e.at_key(&key)),
            None => Err(ValueError::new("dict value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Deserializes a dictionary key. Keys are always strings, but integer and bool keys
/// are parsed back so maps such as `HashMap<u32, T>` survive a round trip through
/// [`to_value`], which turned those keys into text.
struct MapKeyDeserializer {
    key: String,
}

macro_rules! deserialize_parsed_key {
    ($($method:ident => $visit:ident($t:ty))*) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            match self.key.parse::<$t>() {
                Ok(v) => visitor.$visit(v),
                // The visitor then reports the string with what it expected.
                Err(_) => visitor.visit_string(self.key),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for MapKeyDeserializer {
    type Error = ValueError;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self.key)
    }

    deserialize_parsed_key! {
        deserialize_bool => visit_bool(bool)
        deserialize_i8 => visit_i8(i8)
        deserialize_i16 => visit_i16(i16)
        deserialize_i32 => visit_i32(i32)
        deserialize_i64 => visit_i64(i64)
        deserialize_i128 => visit_i128(i128)
        deserialize_u8 => visit_u8(u8)
        deserialize_u16 => visit_u16(u16)
        deserialize_u32 => visit_u32(u32)
        deserialize_u64 => visit_u64(u64)
        deserialize_u128 => visit_u128(u128)
        deserialize_f32 => visit_f32(f32)
        deserialize_f64 => visit_f64(f64)
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_enum(EnumDeserializer {
            variant: self.key,
            content: None,
        })
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// An enum in external-tagging form: a bare variant name, or `{variant: content}`.
struct EnumDeserializer {
    variant: String,
    content: Option<Value>,
}

impl<'de> de::EnumAccess<'de> for EnumDeserializer {
    type Error = ValueError;
    type Variant = VariantDeserializer;

    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantDeserializer), ValueError> {
        let tag = seed.deserialize(MapKeyDeserializer {
            key: self.variant.clone(),
        })?;
        Ok((
            tag,
            VariantDeserializer {
                variant: self.variant,
                content: self.content,
            },
        ))
    }
}

struct VariantDeserializer {
    variant: String,
    content: Option<Value>,
}

impl<'de> de::VariantAccess<'de> for VariantDeserializer {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.content {
            None | Some(Value::Null) => Ok(()),
            Some(other) => Err(other
                .invalid_type::<ValueError>(&"unit variant")
                .at_key(&self.variant)),
        }
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        match self.content {
            Some(content) => seed
                .deserialize(content)
                .map_err(|e| e.at_key(&self.variant)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::List(items)) => {
                visit_list(items, visitor).map_err(|e| e.at_key(&self.variant))
            }
            Some(other) => Err(other
                .invalid_type::<ValueError>(&"tuple variant")
                .at_key(&self.variant)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: de::Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.content {
            Some(Value::Dict(dict)) => {
                visit_dict(dict, visitor).map_err(|e| e.at_key(&self.variant))
            }
            Some(Value::List(items)) => {
                visit_list(items, visitor).map_err(|e| e.at_key(&self.variant))
            }
            Some(other) => Err(other
                .invalid_type::<ValueError>(&"struct variant")
                .at_key(&self.variant)),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use std::collections::HashMap;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Empty,
        Circle(f64),
        Rect(u32, u32),
        Named { name: String, sides: Option<u8> },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Wrapper(i32);

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Record {
        id: u64,
        big: u64,
        label: Option<String>,
        missing: Option<i32>,
        shapes: Vec<Shape>,
        tags: HashMap<String, Vec<i16>>,
        by_number: HashMap<u32, bool>,
        pair: (char, f32),
        unit: Unit,
        wrapped: Wrapper,
        raw: Vec<u8>,
    }

    fn record() -> Record {
        Record {
            id: 7,
            big: u64::MAX,
            label: Some("hello".into()),
            missing: None,
            shapes: vec![
                Shape::Empty,
                Shape::Circle(1.5),
                Shape::Rect(2, 3),
                Shape::Named {
                    name: "tri".into(),
                    sides: Some(3),
                },
            ],
            tags: HashMap::from([("a".to_owned(), vec![-1, 2]), ("b".to_owned(), vec![])]),
            by_number: HashMap::from([(1, true), (20, false)]),
            pair: ('z', 0.25),
            unit: Unit,
            wrapped: Wrapper(-4),
            raw: vec![0, 255],
        }
    }

    /// Mirrors what `serde_bytes` does, since that crate is not a dependency.
    mod as_bytes {
        use serde::{de, Deserializer, Serializer};
        use std::fmt;

        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            struct BytesVisitor;
            impl<'de> de::Visitor<'de> for BytesVisitor {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
                fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                    Ok(v)
                }
            }
            d.deserialize_byte_buf(BytesVisitor)
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Blob {
        #[serde(with = "as_bytes")]
        data: Vec<u8>,
    }

    #[test]
    fn struct_round_trip() {
        let original = record();
        let value = to_value(&original).unwrap();
        let dict = value.as_dict().unwrap();
        assert_eq!(dict["id"], Value::Int(7));
        assert_eq!(dict["big"], Value::UInt(u64::MAX));
        assert_eq!(dict["missing"], Value::Null);
        assert_eq!(dict["unit"], Value::Null);
        assert_eq!(dict["wrapped"], Value::Int(-4));
        assert_eq!(dict["pair"], Value::List(vec!["z".into(), 0.25.into()]));
        assert_eq!(
            dict["shapes"],
            Value::List(vec![
                "Empty".into(),
                Value::Dict(Dict::from([("Circle".into(), 1.5.into())])),
                Value::Dict(Dict::from([(
                    "Rect".into(),
                    Value::List(vec![2.into(), 3.into()])
                )])),
                Value::Dict(Dict::from([(
                    "Named".into(),
                    Value::Dict(Dict::from([
                        ("name".into(), "tri".into()),
                        ("sides".into(), 3.into()),
                    ]))
                )])),
            ])
        );
        let by_number = dict["by_number"].as_dict().unwrap();
        assert_eq!(by_number["20"], Value::Bool(false));

        let back: Record = from_value(value.clone()).unwrap();
        assert_eq!(back, original);

        // A Value passes through itself unchanged.
        let same: Value = from_value(value.clone()).unwrap();
        assert_eq!(same, value);
        assert_eq!(to_value(&value).unwrap(), value);
    }

    #[test]
    fn bytes_handling() {
        let blob = Blob {
            data: vec![1, 2, 3],
        };
        let value = to_value(&blob).unwrap();
        assert_eq!(
            value.as_dict().unwrap()["data"],
            Value::bytes(vec![1, 2, 3])
        );
        assert_eq!(from_value::<Blob>(value).unwrap(), blob);

        // Binary that arrived as a list of small integers still reads as bytes.
        let as_list = Value::Dict(Dict::from([(
            "data".into(),
            Value::List(vec![1.into(), 2.into(), 3.into()]),
        )]));
        assert_eq!(from_value::<Blob>(as_list).unwrap(), blob);

        // A plain Vec<u8> asks for a seq, and Bytes satisfies it.
        assert_eq!(
            from_value::<Vec<u8>>(Value::bytes([9u8, 8])).unwrap(),
            vec![9, 8]
        );
        assert!(from_value::<Vec<u8>>(Value::List(vec![256.into()])).is_err());
        assert_eq!(Value::bytes(*b"ab").as_bytes(), Some(&b"ab"[..]));
    }

    #[test]
    fn integer_normalization() {
        assert_eq!(to_value(&5u64).unwrap(), Value::Int(5));
        assert_eq!(to_value(&u64::MAX).unwrap(), Value::UInt(u64::MAX));
        assert_eq!(Value::from(5u64), Value::Int(5));
        assert_eq!(Value::from(u64::MAX), Value::UInt(u64::MAX));
        assert_eq!(to_value(&(i64::MAX as u64)).unwrap(), Value::Int(i64::MAX));
        assert_eq!(to_value(&5u128).unwrap(), Value::Int(5));
        assert_eq!(to_value(&-5i128).unwrap(), Value::Int(-5));
        assert!(to_value(&u128::MAX).is_err());
        assert!(to_value(&i128::MIN).is_err());
        let v: Value = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(v, Value::UInt(u64::MAX));
        let v: Value = serde_json::from_str("42").unwrap();
        assert_eq!(v, Value::Int(42));

        assert_eq!(Value::UInt(u64::MAX).as_i64(), None);
        assert_eq!(Value::Int(-1).as_u64(), None);
        assert_eq!(Value::Int(3).as_u64(), Some(3));
        assert_eq!(Value::Int(3).as_f64(), Some(3.0));
        assert_eq!(from_value::<u8>(Value::Int(200)).unwrap(), 200);
        assert!(from_value::<u8>(Value::Int(300)).is_err());
        assert_eq!(from_value::<u64>(Value::UInt(u64::MAX)).unwrap(), u64::MAX);
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_round_trip() {
        let encoded = rmp_serde::to_vec(&Value::bytes(vec![1, 2])).unwrap();
        assert_eq!(encoded, vec![0xc4, 2, 1, 2]);
        let encoded = rmp_serde::to_vec(&Value::from("ab")).unwrap();
        assert_eq!(encoded[0], 0xa2, "fixstr");

        let value = to_value(&record()).unwrap();
        let value = Value::List(vec![value, Value::bytes(vec![0xff; 40]), "text".into()]);
        let encoded = rmp_serde::to_vec(&value).unwrap();
        let decoded: Value = rmp_serde::from_slice(&encoded).unwrap();
        assert_eq!(decoded, value);
        assert_eq!(
            from_value::<Record>(decoded.as_list().unwrap()[0].clone()).unwrap(),
            record()
        );
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_non_string_key_is_error() {
        // {1: 2}
        let err = rmp_serde::from_slice::<Value>(&[0x81, 0x01, 0x02]).unwrap_err();
        assert!(
            err.to_string().contains("dictionary keys must be strings"),
            "{err}"
        );
        // {b"k": 2}: binary keys are not strings either.
        let err = rmp_serde::from_slice::<Value>(&[0x81, 0xc4, 1, b'k', 0x02]).unwrap_err();
        assert!(err.to_string().contains("dictionary keys must be strings"));
    }

    #[cfg(feature = "cbor")]
    #[test]
    fn cbor_round_trip() {
        let mut encoded = Vec::new();
        ciborium::into_writer(&Value::bytes(vec![1, 2]), &mut encoded).unwrap();
        assert_eq!(encoded[0] >> 5, 2, "byte string major type");
        encoded.clear();
        ciborium::into_writer(&Value::from("ab"), &mut encoded).unwrap();
        assert_eq!(encoded[0] >> 5, 3, "text string major type");

        let value = Value::List(vec![
            to_value(&record()).unwrap(),
            Value::bytes(vec![0, 1, 2]),
            "text".into(),
            Value::Int(-3),
            Value::Float(2.5),
            Value::Null,
        ]);
        encoded.clear();
        ciborium::into_writer(&value, &mut encoded).unwrap();
        let decoded: Value = ciborium::from_reader(encoded.as_slice()).unwrap();
        assert_eq!(decoded, value);
    }

    #[cfg(feature = "cbor")]
    #[test]
    fn cbor_tags_are_dropped() {
        // Tag 1 (epoch time) around the integer 10, and tag 24 around a byte string.
        let decoded: Value = ciborium::from_reader(&[0xc1, 0x0a][..]).unwrap();
        assert_eq!(decoded, Value::Int(10));
        let decoded: Value = ciborium::from_reader(&[0xd8, 24, 0x42, 7, 8][..]).unwrap();
        assert_eq!(decoded, Value::bytes(vec![7, 8]));
        // Tag 2 (bignum) that fits u64 becomes an integer.
        let decoded: Value = ciborium::from_reader(&[0xc2, 0x41, 0x05][..]).unwrap();
        assert_eq!(decoded, Value::Int(5));
    }

    #[test]
    fn json_into_value() {
        let v: Value = serde_json::from_str(r#"{"a":[1,-2,3.5,"x",true,null]}"#).unwrap();
        let expected = Value::Dict(Dict::from([(
            "a".into(),
            Value::List(vec![
                Value::Int(1),
                Value::Int(-2),
                Value::Float(3.5),
                Value::String("x".into()),
                Value::Bool(true),
                Value::Null,
            ]),
        )]));
        assert_eq!(v, expected);
        let json: serde_json::Value =
            serde_json::from_str(r#"{"a":[1,-2,3.5,"x",true,null]}"#).unwrap();
        assert_eq!(Value::from(json), expected);
        assert_eq!(v.to_string(), r#"{"a":[1,-2,3.5,"x",true,null]}"#);
    }

    #[test]
    fn error_messages() {
        let err = from_value::<i32>(Value::String("x".into())).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("string") && text.contains("i32"), "{text}");
        assert_eq!(text, "invalid type: string \"x\", expected i32");

        // The location of a nested mismatch is reported.
        let mut value = to_value(&record()).unwrap();
        if let Value::Dict(dict) = &mut value {
            dict.insert(
                "tags".into(),
                Value::Dict(Dict::from([(
                    "a".into(),
                    Value::List(vec![1.into(), "oops".into()]),
                )])),
            );
        }
        let err = from_value::<Record>(value).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: string \"oops\", expected i16 at tags.a[1]"
        );
        assert_eq!(err.message(), "invalid type: string \"oops\", expected i16");

        let err = from_value::<Shape>(Value::Int(1)).unwrap_err();
        assert!(err.to_string().contains("enum Shape"), "{err}");
        let two = Value::Dict(Dict::from([
            ("Empty".into(), Value::Null),
            ("Circle".into(), 1.0.into()),
        ]));
        assert!(from_value::<Shape>(two).is_err());
        assert!(from_value::<Shape>(Value::from("Circle")).is_err());
        assert!(from_value::<Shape>(Value::from("Hexagon")).is_err());

        let err = to_value(&HashMap::from([(vec![1], 2)])).unwrap_err();
        assert!(err.to_string().contains("dictionary keys must be strings"));
        assert!(from_value::<(i32, i32)>(Value::List(vec![1.into(), 2.into(), 3.into()])).is_err());
    }

    #[test]
    fn display_and_accessors() {
        let v = Value::List(vec![
            Value::bytes(vec![0x0a, 0xff]),
            "q\"\n".into(),
            Value::Float(1.0),
            Value::UInt(u64::MAX),
        ]);
        assert_eq!(
            v.to_string(),
            r#"[b"0aff","q\"\n",1.0,18446744073709551615]"#
        );
        assert!(Value::Null.is_null());
        assert_eq!(Value::from(true).as_bool(), Some(true));
        assert_eq!(Value::from("s").as_str(), Some("s"));
        assert_eq!(v.as_list().map(<[Value]>::len), Some(4));
        assert_eq!(Value::default().type_name(), "null");
        assert_eq!(Value::Dict(Dict::new()).type_name(), "dict");
        assert_eq!(Value::UInt(u64::MAX).type_name(), "integer");
    }
}
