//! Values as serde deserializers (a value into any type): an owned [`Value`], whose
//! strings and lists move into the result, and a borrowed `&Value`, which the result
//! may borrow from. (`Deserialize` for `Value` itself is in `visitor`.)
//!
//! Both deserializers are one piece of code. A value is first taken apart into a
//! [`Kind`], whose strings, bytes, lists and dicts are owned or borrowed according to
//! the [`Input`] it came from, and [`Deser`] does everything else over it; the
//! `SeqAccess`, `MapAccess` and enum access types in `access` are generic the same
//! way. So an owned and a borrowed value give the same results and the same errors,
//! paths included.

mod access;

use self::access::{visit_dict, visit_list, EnumDeserializer};
use super::error::ValueError;
use super::{Dict, Value};
use serde::de::{self, DeserializeOwned, Expected, IntoDeserializer, Unexpected, Visitor};
use std::collections::btree_map;

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Converts a [`Value`] into any deserializable type.
///
/// # Errors
///
/// A [`ValueError`] when the value does not fit `T`: a wrong type, an integer out of
/// `T`'s range, a missing field, an unknown variant, or whatever `T`'s `Deserialize`
/// refuses. It names the expected and found types and where in the value the
/// mismatch is, e.g. `invalid type: string "x", expected i32 at args[0]`.
///
/// ```
/// use izaber_wamp_proto::value::{from_value, Value};
///
/// let pair: (String, u8) = from_value(Value::List(vec!["a".into(), 1.into()]))?;
/// assert_eq!(pair, ("a".to_owned(), 1));
/// # Ok::<(), izaber_wamp_proto::ValueError>(())
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(value)
}

/// Converts a borrowed [`Value`] into any deserializable type, without cloning it.
///
/// The same as [`from_value`]`(value.clone())`, with the same results and errors,
/// but nothing is copied that the result does not keep, and the result may borrow
/// the value's strings and bytes (`&str`, `&[u8]`, `Cow<str>`).
///
/// # Errors
///
/// As [`from_value`].
///
/// ```
/// use izaber_wamp_proto::value::{from_value_ref, Dict, Value};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Greeting<'a> {
///     name: &'a str,
///     times: u32,
/// }
///
/// let value = Value::Dict(Dict::from([
///     ("name".into(), "Ada".into()),
///     ("times".into(), 3.into()),
/// ]));
/// let greeting: Greeting<'_> = from_value_ref(&value)?;
/// assert_eq!((greeting.name, greeting.times), ("Ada", 3));
///
/// let err = from_value_ref::<Greeting<'_>>(&Value::Dict(Dict::from([
///     ("name".into(), 7.into()),
/// ])))
/// .err()
/// .unwrap();
/// assert_eq!(err.to_string(), "invalid type: integer `7`, expected a borrowed string at name");
/// # Ok::<(), izaber_wamp_proto::ValueError>(())
/// ```
pub fn from_value_ref<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T, ValueError> {
    T::deserialize(value)
}

/// Reads a list's items as one `T`, as [`from_value_ref`] reads a [`Value::List`] of
/// them, without building that list first: the positional arguments of a message,
/// for instance.
///
/// # Errors
///
/// As [`from_value`], with paths starting at the item's index (`[1]`).
///
/// ```
/// use izaber_wamp_proto::value::{from_list_ref, Value};
///
/// let args = vec![Value::from("add"), Value::from(2), Value::from(3)];
/// let (op, a, b): (&str, i64, i64) = from_list_ref(&args)?;
/// assert_eq!((op, a + b), ("add", 5));
/// # Ok::<(), izaber_wamp_proto::ValueError>(())
/// ```
pub fn from_list_ref<'de, T: de::Deserialize<'de>>(items: &'de [Value]) -> Result<T, ValueError> {
    T::deserialize(Deser(Kind::<&Value>::List(items.iter())))
}

/// Reads a dict as one `T`, as [`from_value_ref`] reads a [`Value::Dict`], without
/// building that value first: the keyword arguments of a message, for instance.
///
/// # Errors
///
/// As [`from_value`], with paths starting at the key.
///
/// ```
/// use izaber_wamp_proto::value::{from_dict_ref, Dict, Value};
/// use std::collections::HashMap;
///
/// let kwargs = Dict::from([("x".into(), Value::from(1)), ("y".into(), Value::from(2))]);
/// let map: HashMap<&str, u8> = from_dict_ref(&kwargs)?;
/// assert_eq!(map["y"], 2);
/// # Ok::<(), izaber_wamp_proto::ValueError>(())
/// ```
pub fn from_dict_ref<'de, T: de::Deserialize<'de>>(dict: &'de Dict) -> Result<T, ValueError> {
    T::deserialize(Deser(Kind::<&Value>::Dict(borrowed_entries(dict))))
}

// ---------------------------------------------------------------------------
// One deserializer for owned and borrowed values
// ---------------------------------------------------------------------------

/// A value to deserialize from, owned or borrowed: what differs between the two is
/// only how a value comes apart ([`Input::into_kind`]) and how strings and bytes are
/// handed to a visitor ([`Text`], [`Blob`]).
pub(super) trait Input<'de>: de::Deserializer<'de, Error = ValueError> + Sized {
    /// A string: `String`, or `&'de str`.
    type Text: Text<'de>;
    /// Binary data: `Vec<u8>`, or `&'de [u8]`.
    type Blob: Blob<'de>;
    /// A list's items.
    type List: ExactSizeIterator<Item = Self>;
    /// A dict's entries.
    type Entries: ExactSizeIterator<Item = (Self::Text, Self)>;

    /// Takes the value apart.
    fn into_kind(self) -> Kind<'de, Self>;

    /// The items a list still has, to read as bytes without consuming them.
    fn remaining<'a>(list: &'a <Self as Input<'de>>::List) -> &'a [Value];
}

/// A value taken apart, its parts owned or borrowed according to `I`.
pub(super) enum Kind<'de, I: Input<'de>> {
    /// `Null`, `Bool`, `Int`, `UInt` or `Float`, copied out (nothing to borrow).
    Scalar(Value),
    Text(I::Text),
    Blob(I::Blob),
    List(I::List),
    Dict(I::Entries),
}

impl<'de, I: Input<'de>> Kind<'de, I> {
    /// This value as serde's `invalid_type` errors describe it, as [`Value::unexpected`].
    fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Kind::Scalar(value) => value.unexpected(),
            Kind::Text(text) => Unexpected::Str(text.as_str()),
            Kind::Blob(blob) => Unexpected::Bytes(blob.as_slice()),
            Kind::List(_) => Unexpected::Seq,
            Kind::Dict(_) => Unexpected::Map,
        }
    }

    fn invalid_type(&self, expected: &dyn Expected) -> ValueError {
        de::Error::invalid_type(self.unexpected(), expected)
    }
}

/// A string handed to a visitor: moved (`visit_string`) or lent (`visit_borrowed_str`).
pub(super) trait Text<'de>: Clone {
    fn as_str(&self) -> &str;
    fn visit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError>;
}

/// Binary data handed to a visitor: moved (`visit_byte_buf`) or lent
/// (`visit_borrowed_bytes`).
pub(super) trait Blob<'de> {
    fn as_slice(&self) -> &[u8];
    fn visit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError>;
}

impl<'de> Text<'de> for String {
    fn as_str(&self) -> &str {
        self
    }

    fn visit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self)
    }
}

impl<'de> Text<'de> for &'de str {
    fn as_str(&self) -> &str {
        self
    }

    fn visit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_borrowed_str(self)
    }
}

impl<'de> Blob<'de> for Vec<u8> {
    fn as_slice(&self) -> &[u8] {
        self
    }

    fn visit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_byte_buf(self)
    }
}

impl<'de> Blob<'de> for &'de [u8] {
    fn as_slice(&self) -> &[u8] {
        self
    }

    fn visit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_borrowed_bytes(self)
    }
}

impl<'de> Input<'de> for Value {
    type Text = String;
    type Blob = Vec<u8>;
    type List = std::vec::IntoIter<Value>;
    type Entries = btree_map::IntoIter<String, Value>;

    fn into_kind(self) -> Kind<'de, Value> {
        match self {
            Value::String(text) => Kind::Text(text),
            Value::Bytes(blob) => Kind::Blob(blob),
            Value::List(items) => Kind::List(items.into_iter()),
            Value::Dict(dict) => Kind::Dict(dict.into_iter()),
            scalar => Kind::Scalar(scalar),
        }
    }

    fn remaining<'a>(list: &'a <Self as Input<'de>>::List) -> &'a [Value] {
        list.as_slice()
    }
}

/// A borrowed dict's entries, keys as `&str`.
type BorrowedEntries<'de> = std::iter::Map<
    btree_map::Iter<'de, String, Value>,
    fn((&'de String, &'de Value)) -> (&'de str, &'de Value),
>;

fn borrowed_entries(dict: &Dict) -> BorrowedEntries<'_> {
    dict.iter().map(|(key, value)| (key.as_str(), value))
}

impl<'de> Input<'de> for &'de Value {
    type Text = &'de str;
    type Blob = &'de [u8];
    type List = std::slice::Iter<'de, Value>;
    type Entries = BorrowedEntries<'de>;

    fn into_kind(self) -> Kind<'de, Self> {
        match self {
            Value::String(text) => Kind::Text(text.as_str()),
            Value::Bytes(blob) => Kind::Blob(blob.as_slice()),
            Value::List(items) => Kind::List(items.iter()),
            Value::Dict(dict) => Kind::Dict(borrowed_entries(dict)),
            // No heap data: this copies a number at most.
            scalar => Kind::Scalar(scalar.clone()),
        }
    }

    fn remaining<'a>(list: &'a <Self as Input<'de>>::List) -> &'a [Value] {
        list.as_slice()
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

/// A scalar to its visitor (`Null` and anything else to `visit_unit`).
fn visit_scalar<'de, V: Visitor<'de>>(value: Value, visitor: V) -> Result<V::Value, ValueError> {
    match value {
        Value::Bool(b) => visitor.visit_bool(b),
        Value::Int(i) => visitor.visit_i64(i),
        Value::UInt(u) => visitor.visit_u64(u),
        Value::Float(f) => visitor.visit_f64(f),
        _ => visitor.visit_unit(),
    }
}

/// The deserializer behind `Value`, `&Value`, [`from_list_ref`] and [`from_dict_ref`].
pub(super) struct Deser<'de, I: Input<'de>>(pub(super) Kind<'de, I>);

impl<'de, I: Input<'de>> de::Deserializer<'de> for Deser<'de, I> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Kind::Scalar(value) => visit_scalar(value, visitor),
            Kind::Text(text) => text.visit(visitor),
            Kind::Blob(blob) => blob.visit(visitor),
            Kind::List(items) => visit_list(items, visitor),
            Kind::Dict(entries) => visit_dict(entries, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Kind::Scalar(Value::Null) => visitor.visit_none(),
            other => visitor.visit_some(Deser(other)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.0 {
            Kind::Text(variant) => visitor.visit_enum(EnumDeserializer::<_, I>::new(variant, None)),
            Kind::Dict(mut entries) => match (entries.next(), entries.next()) {
                (Some((variant, content)), None) => {
                    visitor.visit_enum(EnumDeserializer::new(variant, Some(content)))
                }
                _ => Err(de::Error::invalid_value(
                    Unexpected::Map,
                    &"a dict with exactly one key, the variant name",
                )),
            },
            other => Err(other.invalid_type(&visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Kind::List(items) => match list_to_bytes(I::remaining(&items)) {
                Some(bytes) => visitor.visit_byte_buf(bytes),
                None => visit_list(items, visitor),
            },
            other => Deser(other).deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            // Lets a plain `Vec<u8>` (which asks for a seq) accept binary data.
            Kind::Blob(blob) => {
                let mut seq = de::value::SeqDeserializer::new(blob.as_slice().iter().copied());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            other => Deser(other).deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct map struct identifier
    }
}

/// `Deserializer` and `IntoDeserializer` for an [`Input`], handing every call to
/// [`Deser`] (the calls that [`Deser`] itself answers with `deserialize_any` go
/// straight there).
macro_rules! deserializer_for_input {
    ($($input:ty),*) => {$(
        impl<'de> de::Deserializer<'de> for $input {
            type Error = ValueError;

            fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_any(visitor)
            }

            fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_option(visitor)
            }

            fn deserialize_enum<V: Visitor<'de>>(
                self,
                name: &'static str,
                variants: &'static [&'static str],
                visitor: V,
            ) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_enum(name, variants, visitor)
            }

            fn deserialize_newtype_struct<V: Visitor<'de>>(
                self,
                _name: &'static str,
                visitor: V,
            ) -> Result<V::Value, ValueError> {
                visitor.visit_newtype_struct(self)
            }

            fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_byte_buf(visitor)
            }

            fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_byte_buf(visitor)
            }

            fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_seq(visitor)
            }

            fn deserialize_tuple<V: Visitor<'de>>(
                self,
                _len: usize,
                visitor: V,
            ) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_seq(visitor)
            }

            fn deserialize_tuple_struct<V: Visitor<'de>>(
                self,
                _name: &'static str,
                _len: usize,
                visitor: V,
            ) -> Result<V::Value, ValueError> {
                Deser(Input::into_kind(self)).deserialize_seq(visitor)
            }

            fn deserialize_ignored_any<V: Visitor<'de>>(
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

        impl<'de> IntoDeserializer<'de, ValueError> for $input {
            type Deserializer = Self;

            fn into_deserializer(self) -> Self {
                self
            }
        }
    )*};
}

deserializer_for_input!(Value, &'de Value);
