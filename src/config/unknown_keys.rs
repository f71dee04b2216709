//! Warnings for the keys of `wamp:` and `wamp.connection:` that no setting reads, as
//! reported by serde_ignored: a misspelt key would otherwise be silently dropped and
//! its default used, which Python izaber users are not warned about either.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_ignored::Path;

/// The section whose Python-only keys get their own warning.
pub(super) const CONNECTION: &str = "wamp.connection";

/// Keys Python izaber/swampyer accepted under `wamp.connection:` that have no meaning
/// here: said so, rather than "unknown", as the file is likely shared with Python.
const PYTHON_ONLY_KEYS: &[&str] = &["loop_timeout", "sslopt", "sockopt", "concurrency_class"];

/// The section and the key of an ignored map key (`wamp.connection`, `colour`), as
/// written in the file; `None` for anything but a map key.
pub(super) fn split(path: &Path<'_>) -> Option<(String, String)> {
    match path {
        Path::Map { parent, key } => Some((render(parent), key.clone())),
        _ => None,
    }
}

/// A path as written in the file: `wamp.connection`, `list[2]`. Unlike serde_ignored's
/// own `Display`, options and newtypes (which the file does not show) leave no mark.
fn render(path: &Path<'_>) -> String {
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", render(parent)),
        Path::Map { parent, key } => match render(parent) {
            parent if parent.is_empty() => key.clone(),
            parent => format!("{parent}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render(parent),
    }
}

/// The warning for `key` of `section` in `source`, which knows the keys `known`: with
/// a "did you mean" when one is close, or a pointer to what replaces a Python-only key.
pub(super) fn warning(source: &str, section: &str, key: &str, known: &[&str]) -> String {
    if section == CONNECTION && PYTHON_ONLY_KEYS.contains(&key) {
        let hint = if key == "sslopt" {
            "; use verify_tls, ca_file, client_cert and client_key"
        } else {
            ""
        };
        return format!(
            "key {section}.{key} in {source} is not used by izaber-wamp (ignored{hint})"
        );
    }
    let hint = match suggest(key, known) {
        Some(s) => format!("; did you mean {s}?"),
        None => String::new(),
    };
    format!("unknown key {section}.{key} in {source} (ignored{hint})")
}

/// The known key closest to a misspelt one, if any is close.
fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The keys a derived struct reads: the `fields` its `Deserialize` passes to
/// `deserialize_struct`. The suggestions draw on them, so a new setting needs no second
/// list to keep in step.
pub(super) fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields = None;
    // Always an error: FieldNames only records the fields and stops.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields.unwrap_or_default()
}

/// A deserializer that records the field names of the struct asked of it.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_keys_are_suggested() {
        let known = ["password", "url", "realm", "timeout"];
        assert_eq!(suggest("pasword", &known), Some("password"));
        assert_eq!(suggest("ulr", &known), None);
        assert_eq!(suggest("realn", &known), Some("realm"));
        assert_eq!(suggest("colour", &known), None);
    }

    #[test]
    fn field_names_are_those_of_the_struct() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Section {
            first: u8,
            #[serde(rename = "second_key")]
            second: u8,
        }
        assert_eq!(field_names::<Section>(), ["first", "second_key"]);
        assert_eq!(field_names::<u8>(), [] as [&str; 0]);
    }
}
