//! Serializing: `Serialize` for [`Value`] (a value into any format) and [`to_value`]
//! (any serializable type into a value).

use super::error::{ValueError, KEYS_MUST_BE_STRINGS};
use super::{from_i128, from_u128, from_u64, Dict, Value};
use serde::ser::{self, Serialize};
use std::fmt;

/// Caps the capacity reserved for a list from the length a `Serialize` impl announces.
const MAX_PREALLOC: usize = 4096;

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
// to_value: a Serializer producing Value
// ---------------------------------------------------------------------------

/// Converts any serializable type into a [`Value`].
///
/// Follows `serde_json::to_value` conventions, except that `serialize_bytes` gives
/// [`Value::Bytes`] and unit structs give [`Value::Null`]. Map keys must be strings;
/// integer, bool and char keys are turned into their text form, like JSON does.
///
/// # Errors
///
/// A [`ValueError`] when a map key is not a string, integer, bool, char or unit
/// variant (e.g. a float or a tuple), when an `i128` or `u128` is outside
/// `i64::MIN..=u64::MAX`, or when `T`'s `Serialize` fails.
///
/// ```
/// use izaber_wamp_proto::{to_value, Dict, Value};
/// use serde::Serialize;
/// use std::collections::BTreeMap;
///
/// #[derive(Serialize)]
/// struct Point {
///     x: i32,
///     y: i32,
/// }
///
/// let value = to_value(&Point { x: 1, y: -2 })?;
/// let expected = Dict::from([("x".to_string(), Value::Int(1)), ("y".to_string(), Value::Int(-2))]);
/// assert_eq!(value, Value::Dict(expected));
///
/// let by_position = BTreeMap::from([((0, 0), "origin")]);
/// assert!(to_value(&by_position).is_err()); // a tuple is no dictionary key
/// # Ok::<(), izaber_wamp_proto::ValueError>(())
/// ```
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
