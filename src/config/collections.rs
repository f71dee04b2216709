//! The `deserialize_with` helpers of the settings that hold lists (`authmethods`,
//! `serializers`) and maps (`authextra`).
//!
//! These are read through serde, item by item, rather than as one YAML value like the
//! scalars: serde_path_to_error then names the item or key at fault
//! (`wamp.connection.authmethods[1]`, `wamp.connection.authextra.a`).

use super::values::{describe, found, Setting};
use crate::proto::codec::Serializer;
use crate::proto::value::{Dict, Value};
use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_norway::Value as Yaml;
use std::fmt;

// ---------------------------------------------------------------------------
// Lists

/// `authmethods`: a list of strings, or one string for a list of one.
pub(super) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Vec<String>> {
    Ok(Option::<StringList>::deserialize(d)?.map(|list| list.0))
}

/// `url`: one router URL, or a list of them (a cluster: the first is tried first).
/// None may be empty.
pub(super) fn urls<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Vec<String>> {
    let Some(StringList(urls)) = Option::<StringList>::deserialize(d)? else {
        return Ok(None);
    };
    if urls.is_empty() {
        return Err(de::Error::custom("expected at least one URL"));
    }
    if urls.iter().any(|url| url.trim().is_empty()) {
        return Err(de::Error::custom("must not be empty"));
    }
    Ok(Some(urls))
}

/// `serializers` (or `serializer`): at least one of `json`, `msgpack`, `cbor`, in any
/// case and with surrounding space. Every name is accepted in every build; those not
/// compiled in are skipped when connecting.
pub(super) fn serializers<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Vec<Serializer>> {
    let Some(StringList(names)) = Option::<StringList>::deserialize(d)? else {
        return Ok(None);
    };
    if names.is_empty() {
        return Err(de::Error::custom("expected at least one serializer"));
    }
    let parse = |name: &String| {
        name.trim().to_ascii_lowercase().parse().map_err(|_| {
            de::Error::custom(format!(
                "unknown serializer {name:?} (expected json, msgpack or cbor)"
            ))
        })
    };
    names.iter().map(parse).collect::<Result<_, _>>().map(Some)
}

/// A list of strings read through serde rather than as a YAML value, so that a bad
/// item's error names its index (`authmethods[1]`).
struct StringList(Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringListVisitor).map(StringList)
    }
}

struct StringListVisitor;

impl<'de> Visitor<'de> for StringListVisitor {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(vec![s.to_owned()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Item(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }

    // Anything else: "found <the value>", as for every other setting.

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Err(not_a_list(&Yaml::Bool(b)))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Err(not_a_list(&Yaml::Number(n.into())))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Err(not_a_list(&Yaml::Number(n.into())))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Err(not_a_list(&Yaml::Number(n.into())))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(not_a_list(&Yaml::Mapping(Default::default())))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (tag, _) = data.variant::<String>()?;
        Err(de::Error::custom(format!(
            "expected a list of strings, found a value tagged !{tag}"
        )))
    }
}

fn not_a_list<E: de::Error>(v: &Yaml) -> E {
    de::Error::custom(found("a list of strings", v))
}

/// One item of a [`StringList`].
struct Item(String);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Yaml::deserialize(d)? {
            Yaml::String(s) => Ok(Item(s)),
            other => Err(de::Error::custom(found("a string", &other))),
        }
    }
}

// ---------------------------------------------------------------------------
// authextra

/// `authextra`: a map of any YAML, as WAMP values.
pub(super) fn dict<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Dict> {
    match Option::<Extra>::deserialize(d)? {
        None => Ok(None),
        Some(Extra(Value::Dict(dict))) => Ok(Some(dict)),
        Some(Extra(other)) => Err(de::Error::custom(format!(
            "expected a map, found {}",
            describe_value(&other)
        ))),
    }
}

/// Any YAML as a WAMP value, read through serde so that an error inside names its key
/// path (`authextra.a`). Map keys must be strings (WAMP dicts have string keys) and
/// YAML tags have no WAMP meaning, so both are refused rather than guessed at.
struct Extra(Value);

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ExtraVisitor).map(Extra)
    }
}

struct ExtraVisitor;

impl<'de> Visitor<'de> for ExtraVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Int(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::UInt(n), Value::Int))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Float(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Extra(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut dict = Dict::new();
        while let Some(key) = map.next_key::<Yaml>()? {
            // Refused after the key is read, so the error names this map, not the key.
            let Yaml::String(name) = key else {
                return Err(de::Error::custom(format!(
                    "expected string keys, found the key {}",
                    describe(&key)
                )));
            };
            let Extra(value) = map.next_value()?;
            dict.insert(name, value);
        }
        Ok(Value::Dict(dict))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, _) = data.variant::<String>()?;
        Err(de::Error::custom(format!(
            "YAML tags are not supported, found !{tag}"
        )))
    }
}

/// A WAMP value read from YAML, described as [`describe`] does.
fn describe_value(value: &Value) -> String {
    match value {
        Value::List(_) => "a list".into(),
        Value::Dict(_) => "a map".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::Float(n) => serde_norway::Number::from(*n).to_string(),
        Value::Null => "nothing (null)".into(),
        // Never read from YAML; named so that the match stays exhaustive.
        Value::Bytes(_) => "bytes".into(),
    }
}
