//! WAMP values as JSON, for everything `wamp` prints.
//!
//! Binary values are written as WAMP's JSON serializer writes them: a string of a NUL
//! character and the base64 of the bytes, so they survive the trip through JSON and
//! stay recognisable. A float that JSON cannot hold (NaN, infinity) becomes `null`.

use base64::Engine;
use izaber_wamp::{Dict, Value};
use serde_json::{Map, Value as Json};

/// `value` as JSON.
pub fn value(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(bytes) => Json::String(format!(
            "\0{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )),
        Value::List(items) => list(items),
        Value::Dict(dict) => self::dict(dict),
    }
}

/// Positional arguments as a JSON array.
pub fn list(items: &[Value]) -> Json {
    Json::Array(items.iter().map(value).collect())
}

/// Keyword arguments as a JSON object.
pub fn dict(dict: &Dict) -> Json {
    Json::Object(
        dict.iter()
            .map(|(k, v)| (k.clone(), value(v)))
            .collect::<Map<String, Json>>(),
    )
}

/// A value as a line of text: a string as it is, anything else as compact JSON.
pub fn text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => value(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_has_its_json() {
        let dict = Dict::from([("k".to_string(), Value::List(vec![Value::Int(-1)]))]);
        let values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(-3),
            Value::UInt(u64::MAX),
            Value::Float(1.5),
            Value::Float(f64::NAN),
            Value::from("text"),
            Value::bytes(vec![0xEF, 0xBB, 0xBF, 0x00]),
            Value::Dict(dict),
        ];
        assert_eq!(
            list(&values).to_string(),
            r#"[null,true,-3,18446744073709551615,1.5,null,"text","\u000077u/AA==",{"k":[-1]}]"#
        );
    }

    #[test]
    fn text_shows_strings_bare_and_the_rest_as_json() {
        assert_eq!(text(&Value::from("a \"b\"")), "a \"b\"");
        assert_eq!(text(&Value::Int(5)), "5");
        assert_eq!(text(&Value::List(vec![Value::from("x")])), r#"["x"]"#);
    }
}
