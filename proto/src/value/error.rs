//! [`ValueError`]: what went wrong converting between Rust types and [`Value`], and
//! where inside the value.

#[cfg(doc)]
use super::Value;
use serde::{de, ser};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
enum PathSegment {
    Key(String),
    Index(usize),
}

/// Error converting between Rust types and [`Value`] (message says what and where).
///
/// The "where" is a path such as `items[2].name`, rendered after the message.
///
/// ```
/// use izaber_wamp_proto::{from_value, Dict, Value};
/// use std::collections::HashMap;
///
/// let value = Value::Dict(Dict::from([(
///     "ports".to_string(),
///     Value::List(vec![80.into(), "https".into()]),
/// )]));
/// let err = from_value::<HashMap<String, Vec<u16>>>(value).unwrap_err();
/// assert_eq!(err.message(), r#"invalid type: string "https", expected u16"#);
/// assert_eq!(err.to_string(), r#"invalid type: string "https", expected u16 at ports[1]"#);
/// ```
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

    pub(super) fn at_key(mut self, key: &str) -> Self {
        self.path.push(PathSegment::Key(key.to_owned()));
        self
    }

    pub(super) fn at_index(mut self, index: usize) -> Self {
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

/// The start of every error about a dictionary key that is not a string.
pub(super) const KEYS_MUST_BE_STRINGS: &str = "dictionary keys must be strings";
