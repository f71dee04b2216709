//! Unit tests of the value module: conversions both ways, errors and their paths,
//! and the owned and borrowed deserializers agreeing.

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

/// JSON lists carry no length, so the first eight items of each wait on the stack:
/// lists shorter than, as long as and longer than that, nested, keep every item in
/// order, and the short ones are allocated at their length.
#[test]
fn json_lists_of_every_length_keep_their_items() {
    for length in 0..=20_i64 {
        let items: Vec<Value> = (0..length)
            .map(|i| Value::List(vec![Value::Int(i); usize::try_from(i % 10).unwrap()]))
            .collect();
        let text = Value::List(items.clone()).to_string();
        let decoded: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(decoded, Value::List(items), "{text}");
        let Value::List(decoded) = decoded else {
            unreachable!()
        };
        if decoded.len() <= 8 {
            assert_eq!(decoded.capacity(), decoded.len(), "{text}");
        }
    }
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

/// Reads `value` as `T` owned (from a clone), borrowed, and, for lists and dicts, from
/// the bare items or dict: all must agree, on the result or on the error's text.
fn read_every_way<T>(value: &Value) -> Result<T, String>
where
    T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let owned = from_value::<T>(value.clone()).map_err(|e| e.to_string());
    let borrowed = from_value_ref::<T>(value).map_err(|e| e.to_string());
    assert_eq!(owned, borrowed, "owned and borrowed differ on {value}");
    let bare = match value {
        Value::List(items) => Some(from_list_ref::<T>(items)),
        Value::Dict(dict) => Some(from_dict_ref::<T>(dict)),
        _ => None,
    };
    if let Some(bare) = bare {
        let bare = bare.map_err(|e| e.to_string());
        assert_eq!(owned, bare, "owned and bare list/dict differ on {value}");
    }
    owned
}

#[test]
fn borrowed_and_owned_deserializers_agree_on_results() {
    let value = to_value(&record()).unwrap();
    assert_eq!(read_every_way::<Record>(&value), Ok(record()));
    assert_eq!(read_every_way::<Value>(&value), Ok(value.clone()));
    let blob = to_value(&Blob { data: vec![1, 2] }).unwrap();
    assert_eq!(read_every_way::<Blob>(&blob), Ok(Blob { data: vec![1, 2] }));
    let as_list = Value::Dict(Dict::from([(
        "data".into(),
        Value::List(vec![1.into(), 2.into()]),
    )]));
    assert_eq!(
        read_every_way::<Blob>(&as_list),
        Ok(Blob { data: vec![1, 2] })
    );
    assert_eq!(
        read_every_way::<Vec<u8>>(&Value::bytes([9u8, 8])),
        Ok(vec![9, 8])
    );
    assert_eq!(read_every_way::<Option<i32>>(&Value::Null), Ok(None));
    assert_eq!(read_every_way::<Option<i32>>(&Value::Int(4)), Ok(Some(4)));
    assert_eq!(
        read_every_way::<(u8, String)>(&Value::List(vec![1.into(), "x".into()])),
        Ok((1, "x".into()))
    );
    assert_eq!(
        read_every_way::<HashMap<u32, bool>>(&Value::Dict(Dict::from([(
            "20".into(),
            true.into()
        )]))),
        Ok(HashMap::from([(20, true)]))
    );
    assert_eq!(
        read_every_way::<Shape>(&Value::from("Empty")),
        Ok(Shape::Empty)
    );
    assert_eq!(read_every_way::<()>(&Value::Null), Ok(()));
}

#[test]
fn borrowed_and_owned_deserializers_agree_on_errors_and_their_paths() {
    let mut nested = to_value(&record()).unwrap();
    if let Value::Dict(dict) = &mut nested {
        dict.insert(
            "tags".into(),
            Value::Dict(Dict::from([(
                "a".into(),
                Value::List(vec![1.into(), "oops".into()]),
            )])),
        );
    }
    assert_eq!(
        read_every_way::<Record>(&nested),
        Err("invalid type: string \"oops\", expected i16 at tags.a[1]".into())
    );
    let variant = |name: &str, content: Value| Value::Dict(Dict::from([(name.into(), content)]));
    let cases: Vec<(Value, Result<Shape, String>)> = vec![
        (
            Value::Int(1),
            Err("invalid type: integer `1`, expected enum Shape".into()),
        ),
        (
            variant("Empty", 1.into()),
            Err("invalid type: integer `1`, expected unit variant at Empty".into()),
        ),
        (
            variant("Rect", "x".into()),
            Err("invalid type: string \"x\", expected tuple variant at Rect".into()),
        ),
        (
            variant("Rect", Value::List(vec![1.into(), (-1).into()])),
            Err("invalid value: integer `-1`, expected u32 at Rect[1]".into()),
        ),
        (
            variant("Named", Value::bytes([1u8])),
            Err("invalid type: byte array, expected struct variant at Named".into()),
        ),
        (
            variant(
                "Named",
                Value::Dict(Dict::from([("sides".into(), "3".into())])),
            ),
            Err("invalid type: string \"3\", expected u8 at Named.sides".into()),
        ),
        (
            Value::from("Circle"),
            Err("invalid type: unit variant, expected newtype variant".into()),
        ),
        (
            Value::from("Hexagon"),
            Err(
                "unknown variant `Hexagon`, expected one of `Empty`, `Circle`, `Rect`, `Named`"
                    .into(),
            ),
        ),
        (
            Value::Dict(Dict::new()),
            Err(
                "invalid value: map, expected a dict with exactly one key, the variant name".into(),
            ),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(read_every_way::<Shape>(&value), expected, "{value}");
    }
    assert_eq!(
        read_every_way::<(i32, i32)>(&Value::List(vec![1.into(), 2.into(), 3.into()])),
        Err("invalid length 3, expected fewer elements in list".into())
    );
    assert_eq!(
        read_every_way::<Vec<u8>>(&Value::List(vec![256.into()])),
        Err("invalid value: integer `256`, expected u8 at [0]".into())
    );
    assert_eq!(
        read_every_way::<HashMap<u8, i32>>(&Value::Dict(Dict::from([("300".into(), 1.into())]))),
        Err("invalid type: string \"300\", expected u8 at 300".into())
    );
}

#[test]
fn a_borrowed_value_lends_its_strings_and_bytes() {
    #[derive(Deserialize)]
    struct Lent<'a> {
        name: &'a str,
        #[serde(borrow)]
        nick: std::borrow::Cow<'a, str>,
        #[serde(with = "lent_bytes", borrow)]
        data: &'a [u8],
        list: Vec<&'a str>,
    }

    mod lent_bytes {
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'de [u8], D::Error> {
            serde::Deserialize::deserialize(d)
        }
    }

    let value = Value::Dict(Dict::from([
        ("name".into(), "Ada".into()),
        ("nick".into(), "A".into()),
        ("data".into(), Value::bytes([1u8, 2])),
        ("list".into(), Value::List(vec!["x".into(), "y".into()])),
    ]));
    let lent: Lent<'_> = from_value_ref(&value).unwrap();
    let dict = value.as_dict().unwrap();
    assert!(std::ptr::eq(lent.name, dict["name"].as_str().unwrap()));
    assert!(matches!(lent.nick, std::borrow::Cow::Borrowed("A")));
    assert!(std::ptr::eq(lent.data, dict["data"].as_bytes().unwrap()));
    assert_eq!(lent.list, ["x", "y"]);

    // `&Value` is a deserializer itself, and an owned result copies what it keeps.
    let owned = String::deserialize(&dict["name"]);
    assert_eq!(owned.as_deref(), Ok("Ada"));
}
