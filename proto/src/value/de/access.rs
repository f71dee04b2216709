//! The serde access types behind [`Deser`](super::Deser): lists, dicts, dict keys and
//! enums, each generic over an owned or borrowed [`Input`], so that both give the
//! same results and the same error paths.

use super::{Input, Kind, Text};
use crate::value::{Value, ValueError};
use serde::de::{self, DeserializeSeed, Unexpected, Visitor};

/// Visits a list's items as a seq; items the visitor leaves unread are an error.
pub(super) fn visit_list<'de, L, V>(items: L, visitor: V) -> Result<V::Value, ValueError>
where
    L: ExactSizeIterator,
    L::Item: Input<'de>,
    V: Visitor<'de>,
{
    let len = items.len();
    let mut seq = SeqDeserializer {
        iter: items,
        index: 0,
    };
    let value = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in list"))
    }
}

/// Visits a dict's entries as a map; entries the visitor leaves unread are an error.
pub(super) fn visit_dict<'de, E, T, I, V>(entries: E, visitor: V) -> Result<V::Value, ValueError>
where
    E: ExactSizeIterator<Item = (T, I)>,
    T: Text<'de>,
    I: Input<'de>,
    V: Visitor<'de>,
{
    let len = entries.len();
    let mut map = MapDeserializer {
        iter: entries,
        pending: None,
    };
    let value = visitor.visit_map(&mut map)?;
    if map.iter.len() == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(len, &"fewer elements in dict"))
    }
}

/// A list's items; errors get the item's index added to their path.
struct SeqDeserializer<L> {
    iter: L,
    index: usize,
}

impl<'de, L> de::SeqAccess<'de> for SeqDeserializer<L>
where
    L: ExactSizeIterator,
    L::Item: Input<'de>,
{
    type Error = ValueError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, ValueError> {
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

/// A dict's entries; errors get the key added to their path.
struct MapDeserializer<E: Iterator> {
    iter: E,
    /// The key just handed out (kept for error paths) and its value.
    pending: Option<E::Item>,
}

impl<'de, E, T, I> de::MapAccess<'de> for MapDeserializer<E>
where
    E: ExactSizeIterator<Item = (T, I)>,
    T: Text<'de>,
    I: Input<'de>,
{
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.iter.next() {
            Some((key, value)) => {
                let result = seed.deserialize(MapKeyDeserializer { key: key.clone() });
                let result = result.map_err(|e| e.at_key(key.as_str()));
                self.pending = Some((key, value));
                result.map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, ValueError> {
        match self.pending.take() {
            Some((key, value)) => seed.deserialize(value).map_err(|e| e.at_key(key.as_str())),
            None => Err(ValueError::new("dict value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Deserializes a dictionary key. Keys are always strings, but integer and bool keys
/// are parsed back so maps such as `HashMap<u32, T>` survive a round trip through
/// [`to_value`](crate::value::to_value), which turned those keys into text.
struct MapKeyDeserializer<T> {
    key: T,
}

macro_rules! deserialize_parsed_key {
    ($($method:ident => $visit:ident($t:ty))*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            match self.key.as_str().parse::<$t>() {
                Ok(v) => visitor.$visit(v),
                // The visitor then reports the string with what it expected.
                Err(_) => self.key.visit(visitor),
            }
        }
    )*};
}

impl<'de, T: Text<'de>> de::Deserializer<'de> for MapKeyDeserializer<T> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.key.visit(visitor)
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

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        // A key has no content: only a unit variant can match it.
        visitor.visit_enum(EnumDeserializer::<T, Value>::new(self.key, None))
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// An enum in external-tagging form: a bare variant name, or `{variant: content}`.
pub(super) struct EnumDeserializer<T, I> {
    variant: T,
    content: Option<I>,
}

impl<T, I> EnumDeserializer<T, I> {
    pub(super) fn new(variant: T, content: Option<I>) -> Self {
        EnumDeserializer { variant, content }
    }
}

impl<'de, T: Text<'de>, I: Input<'de>> de::EnumAccess<'de> for EnumDeserializer<T, I> {
    type Error = ValueError;
    type Variant = VariantDeserializer<T, I>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, VariantDeserializer<T, I>), ValueError> {
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

/// The content of an enum variant; errors get the variant name added to their path.
pub(super) struct VariantDeserializer<T, I> {
    variant: T,
    content: Option<I>,
}

impl<'de, T: Text<'de>, I: Input<'de>> VariantDeserializer<T, I> {
    /// The content taken apart, or the error for a bare variant name where `expected`
    /// needs content.
    fn content(self, expected: &'static str) -> Result<(T, Kind<'de, I>), ValueError> {
        match self.content {
            Some(content) => Ok((self.variant, content.into_kind())),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &expected)),
        }
    }
}

impl<'de, T: Text<'de>, I: Input<'de>> de::VariantAccess<'de> for VariantDeserializer<T, I> {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.content.map(Input::into_kind) {
            None | Some(Kind::Scalar(Value::Null)) => Ok(()),
            Some(other) => Err(other
                .invalid_type(&"unit variant")
                .at_key(self.variant.as_str())),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, ValueError> {
        match self.content {
            Some(content) => seed
                .deserialize(content)
                .map_err(|e| e.at_key(self.variant.as_str())),
            None => Err(de::Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let (variant, content) = self.content("tuple variant")?;
        let result = match content {
            Kind::List(items) => super::visit_list(items, visitor),
            other => Err(other.invalid_type(&"tuple variant")),
        };
        result.map_err(|e| e.at_key(variant.as_str()))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let (variant, content) = self.content("struct variant")?;
        let result = match content {
            Kind::Dict(entries) => super::visit_dict(entries, visitor),
            Kind::List(items) => super::visit_list(items, visitor),
            other => Err(other.invalid_type(&"struct variant")),
        };
        result.map_err(|e| e.at_key(variant.as_str()))
    }
}
