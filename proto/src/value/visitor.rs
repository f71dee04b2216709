//! `Deserialize` for [`Value`]: any self-describing format into a value.
//!
//! The visitor takes a [`TextRule`] that decides what a string becomes. Plain
//! deserialization keeps text as text; the JSON codec passes its own rule, which reads
//! WAMP's `"\0" + base64` strings as bytes while the tree is built, instead of
//! walking the finished tree a second time.

use super::error::KEYS_MUST_BE_STRINGS;
use super::{from_i128, from_u128, from_u64, Dict, Value};
use serde::de::{self, DeserializeSeed};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// What a decoded string becomes.
pub(crate) trait TextRule: Copy {
    /// The value for `text`, or an error that the format reports at its position.
    ///
    /// # Errors
    ///
    /// Whatever the rule refuses, e.g. a `"\0"` string that is not base64.
    fn read<E: de::Error>(self, text: Cow<'_, str>) -> Result<Value, E>;
}

/// Text stays text.
#[derive(Clone, Copy)]
pub(crate) struct PlainText;

impl TextRule for PlainText {
    fn read<E: de::Error>(self, text: Cow<'_, str>) -> Result<Value, E> {
        Ok(Value::String(text.into_owned()))
    }
}

/// Deserializes a [`Value`], reading strings by the rule it holds.
#[derive(Clone, Copy)]
pub(crate) struct ValueSeed<R>(pub(crate) R);

impl<'de, R: TextRule> DeserializeSeed<'de> for ValueSeed<R> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor(self.0))
    }
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        ValueSeed(PlainText).deserialize(deserializer)
    }
}

struct ValueVisitor<R>(R);

/// The most bytes of list items reserved up front, whatever length a format's header
/// claims: serde's `size_hint::cautious` idea with a budget of one page instead of
/// 1 MiB. A hostile header claiming 2^32 items then reserves 4 KiB, not 128 GiB, and
/// even a frame that nests such headers 256 deep (ciborium's limit) reserves 1 MiB;
/// a longer honest list grows as its items arrive.
const PREALLOC_BYTES: usize = 4096;

/// How many items of a list without a length (JSON's) wait on the stack before the
/// list is allocated: enough for every WAMP message and most argument lists, which
/// are then allocated once at their final size instead of grown two or three times.
const SHORT_LIST: usize = 8;

impl<R: TextRule> ValueVisitor<R> {
    /// A list whose format gave its length: reserved up front, within the budget.
    fn list_of_known_length<'de, A: de::SeqAccess<'de>>(
        self,
        hint: usize,
        mut seq: A,
    ) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(hint.min(PREALLOC_BYTES / std::mem::size_of::<Value>()));
        while let Some(item) = seq.next_element_seed(ValueSeed(self.0))? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
}

impl<'de, R: TextRule> de::Visitor<'de> for ValueVisitor<R> {
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
        self.0.read(Cow::Owned(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.read(Cow::Borrowed(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.0.read(Cow::Owned(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        ValueSeed(self.0).deserialize(deserializer)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        ValueSeed(self.0).deserialize(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if let Some(hint) = seq.size_hint() {
            return self.list_of_known_length(hint, seq);
        }
        let mut items = SmallVec::<[Value; SHORT_LIST]>::new();
        while let Some(item) = seq.next_element_seed(ValueSeed(self.0))? {
            items.push(item);
        }
        if items.spilled() {
            return Ok(Value::List(items.into_vec()));
        }
        // Not `into_vec`, whose `collect` would reserve at least four items.
        let mut list = Vec::with_capacity(items.len());
        list.extend(items);
        Ok(Value::List(list))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut dict = Dict::new();
        // Keys are read as plain values: the JSON binary rule applies to values only.
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
            let item = map.next_value_seed(ValueSeed(self.0))?;
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
        let inner = variant.newtype_variant_seed(ValueSeed(self.0))?;
        if name == "@@TAGGED@@" || name == "@@UNTAGGED@@" {
            Ok(inner)
        } else {
            Ok(Value::Dict(Dict::from([(name, inner)])))
        }
    }
}
