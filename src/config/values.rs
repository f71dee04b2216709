//! The `deserialize_with` helpers of the scalar settings: what YAML values each setting
//! takes, and the error when it is something else. (Lists and `authextra` are in
//! [`collections`](super::collections).)
//!
//! Every helper reads an optional value: absent or `null` means "not set" (`None`), so
//! the default applies. A wrong value fails with a message saying what was expected
//! and what was found; serde_path_to_error puts the key path in front of it.
//!
//! Scalars are read as a YAML value first and then checked, which keeps one wording for
//! every setting ("expected a number of seconds, found \"soon\"") instead of serde's
//! "invalid type: ..." and lets PyYAML's YAML 1.1 spellings through: `yes`/`no`/`on`/
//! `off` for booleans, `50_000_000` for whole numbers.

use super::Secret;
use serde::de::{self, Deserialize, Deserializer};
use serde_norway::Value as Yaml;
use std::path::PathBuf;
use std::time::Duration;

/// What a helper returns: `None` when not set.
pub(super) type Setting<'de, D, T> =
    std::result::Result<Option<T>, <D as Deserializer<'de>>::Error>;

/// Reads a value that may be absent or `null`, and converts it with `convert`, whose
/// error message becomes the error at this key.
fn optional<'de, D, T>(d: D, convert: impl FnOnce(Yaml) -> Result<T, String>) -> Setting<'de, D, T>
where
    D: Deserializer<'de>,
{
    Option::<Yaml>::deserialize(d)?
        .map(convert)
        .transpose()
        .map_err(de::Error::custom)
}

/// `Err(message())` when `ok` is false: the checks beyond the type (empty, zero, range).
fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(message())
    }
}

// ---------------------------------------------------------------------------
// Strings

/// A string; a number or boolean would be one if quoted, so the error says so.
pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, String> {
    optional(d, string)
}

/// A string that must not be empty (`url`, `realm`).
pub(super) fn non_empty_text<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, String> {
    optional(d, |v| {
        let s = string(v)?;
        check(!s.is_empty(), || "must not be empty".into())?;
        Ok(s)
    })
}

/// A file path: a non-empty string.
pub(super) fn path<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, PathBuf> {
    optional(d, |v| {
        let s = string(v)?;
        check(!s.is_empty(), || {
            "expected a file path, found an empty string".into()
        })?;
        Ok(PathBuf::from(s))
    })
}

/// A string kept as a [`Secret`]; the error names only the kind of a wrong value,
/// never the value.
pub(super) fn secret<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Secret> {
    optional(d, |v| match v {
        Yaml::String(s) => Ok(Secret::new(s)),
        Yaml::Number(_) | Yaml::Bool(_) => Err(format!(
            "expected a string, found {} (put it in quotes)",
            kind(&v)
        )),
        other => Err(format!("expected a string, found {}", kind(&other))),
    })
}

/// A string, with a hint to quote a number or boolean meant as one.
fn string(v: Yaml) -> Result<String, String> {
    match v {
        Yaml::String(s) => Ok(s),
        Yaml::Number(_) | Yaml::Bool(_) => Err(format!(
            "expected a string, found {} (put it in quotes)",
            describe(&v)
        )),
        other => Err(format!("expected a string, found {}", describe(&other))),
    }
}

// ---------------------------------------------------------------------------
// Booleans

/// `true` or `false` (also `yes`/`no`/`on`/`off`, as PyYAML reads them).
pub(super) fn flag<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, bool> {
    optional(d, |v| boolean(&v).ok_or_else(|| found("true or false", &v)))
}

/// A boolean, or an integer (0 is false) as Python's truthiness reads the `1`/`0` that
/// Python izaber files use for `run` and `auto_reconnect`.
pub(super) fn flag_or_int<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, bool> {
    optional(d, |v| {
        let truthy = match &v {
            Yaml::Number(n) => n.as_i64().map(|i| i != 0).or(n.as_u64().map(|_| true)),
            _ => boolean(&v),
        };
        truthy.ok_or_else(|| found("true, false or an integer", &v))
    })
}

/// A YAML boolean, or a YAML 1.1 boolean word (PyYAML reads `yes`/`no`/`on`/`off` as
/// booleans; YAML 1.2 reads them as strings).
fn boolean(v: &Yaml) -> Option<bool> {
    match v {
        Yaml::Bool(b) => Some(*b),
        Yaml::String(s) => match s.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                Some(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
            | "OFF" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Numbers

/// Seconds, integer or fractional, not negative.
pub(super) fn seconds<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Duration> {
    optional(d, |v| duration(&v))
}

/// Seconds, greater than zero (a timeout of 0 would fail everything at once).
pub(super) fn positive_seconds<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Duration> {
    optional(d, |v| {
        let d = duration(&v)?;
        check(!d.is_zero(), || "must be greater than 0 seconds".into())?;
        Ok(d)
    })
}

/// `ping_interval`: seconds, where `0` or `false` turns pings off (`Some(None)`).
pub(super) fn interval<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, Option<Duration>> {
    optional(d, |v| match v {
        Yaml::Bool(false) => Ok(None),
        _ => Ok(Some(duration(&v)?).filter(|d| !d.is_zero())),
    })
}

fn duration(v: &Yaml) -> Result<Duration, String> {
    let secs = number(v, "a number of seconds")?;
    check(secs >= 0.0, || {
        format!("expected a number of seconds, found {secs} (negative)")
    })?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("expected a number of seconds, found {secs} (too large)"))
}

/// `reconnect_multiplier`: a number from 1 (the wait never shrinks) to 1000.
pub(super) fn multiplier<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, f64> {
    optional(d, |v| {
        let m = number(&v, "a number")?;
        check((1.0..=1000.0).contains(&m), || {
            format!("expected a number from 1 to 1000, found {m}")
        })?;
        Ok(m)
    })
}

/// A finite number, integer or float.
fn number(v: &Yaml, expected: &str) -> Result<f64, String> {
    match v {
        Yaml::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() => Ok(f),
            _ => Err(format!("expected {expected}, found {n}")),
        },
        other => Err(found(expected, other)),
    }
}

/// A count that fits a `u32` (`reconnect_max_attempts`).
pub(super) fn count_u32<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, u32> {
    optional(d, |v| {
        let n = whole(&v)?;
        u32::try_from(n).map_err(|_| format!("expected at most {}, found {n}", u32::MAX))
    })
}

/// A count or size in memory (`offline_publish_buffer`).
pub(super) fn count<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, usize> {
    optional(d, |v| size(&v))
}

/// A size greater than zero (`max_payload_size`).
pub(super) fn positive_count<'de, D: Deserializer<'de>>(d: D) -> Setting<'de, D, usize> {
    optional(d, |v| {
        let n = size(&v)?;
        check(n > 0, || "must be greater than 0".into())?;
        Ok(n)
    })
}

fn size(v: &Yaml) -> Result<usize, String> {
    let n = whole(v)?;
    usize::try_from(n).map_err(|_| format!("{n} is too large"))
}

/// A whole number ≥ 0; digits with `_` separators are accepted, as YAML 1.1 (PyYAML)
/// reads `50_000_000` as a number while YAML 1.2 reads it as a string.
fn whole(v: &Yaml) -> Result<u64, String> {
    let found = match v {
        Yaml::Number(n) => match n.as_u64() {
            Some(u) => return Ok(u),
            None => n.to_string(),
        },
        Yaml::String(s) => match yaml11_digits(s) {
            Some(u) => return Ok(u),
            None => format!("{s:?}"),
        },
        other => describe(other),
    };
    Err(format!(
        "expected a whole number (0 or more), found {found}"
    ))
}

/// `50_000_000` as 50000000: digits, starting with one, with `_` between.
fn yaml11_digits(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|&c| c != '_').collect();
    let yaml11 = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && s.starts_with(|c: char| c.is_ascii_digit());
    yaml11.then(|| digits.parse().ok()).flatten()
}

// ---------------------------------------------------------------------------
// Describing what was found

/// "expected `expected`, found `value`".
pub(super) fn found(expected: &str, value: &Yaml) -> String {
    format!("expected {expected}, found {}", describe(value))
}

/// A short description of a value for error messages: strings quoted, numbers and
/// booleans as is, collections by kind.
pub(super) fn describe(value: &Yaml) -> String {
    match value {
        Yaml::Null => "nothing (null)".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => format!("{s:?}"),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a map".into(),
        Yaml::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

/// The kind of a value, without the value (for secrets).
fn kind(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "nothing (null)",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a map",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// A map key as written: strings bare, other scalars as is.
pub(super) fn render_key(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        other => describe(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_digits_need_a_leading_digit_and_only_digits() {
        assert_eq!(yaml11_digits("50_000_000"), Some(50_000_000));
        assert_eq!(yaml11_digits("7"), Some(7));
        assert_eq!(yaml11_digits("_7"), None);
        assert_eq!(yaml11_digits("1_0x"), None);
        assert_eq!(yaml11_digits("___"), None);
        assert_eq!(yaml11_digits("99999999999999999999999"), None);
    }

    #[test]
    fn yaml_1_1_booleans() {
        for (word, expected) in [("yes", true), ("Off", false), ("ON", true), ("n", false)] {
            assert_eq!(boolean(&Yaml::from(word)), Some(expected), "{word}");
        }
        assert_eq!(boolean(&Yaml::from("maybe")), None);
        assert_eq!(boolean(&Yaml::from(1)), None);
    }
}
