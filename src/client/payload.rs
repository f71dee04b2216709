//! Converting user values to WAMP payloads and back.

use crate::error::Error;
use crate::proto::value::{from_value, to_value, Dict, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Positional arguments from anything that serializes to a list (tuple, array, `Vec`)
/// or to nothing (`()`).
pub(crate) fn to_args<A: Serialize + ?Sized>(args: &A) -> Result<Vec<Value>, Error> {
    match to_value(args)? {
        Value::Null => Ok(Vec::new()),
        Value::List(items) => Ok(items),
        other => Err(Error::Serialization(format!(
            "positional arguments must serialize to a list, not {}; wrap a single value in a tuple: (value,)",
            other.type_name()
        ))),
    }
}

/// Keyword arguments from anything that serializes to a map or struct, or to nothing (`()`).
pub(crate) fn to_kwargs<K: Serialize + ?Sized>(kwargs: &K) -> Result<Dict, Error> {
    match to_value(kwargs)? {
        Value::Null => Ok(Dict::new()),
        Value::Dict(dict) => Ok(dict),
        other => Err(Error::Serialization(format!(
            "keyword arguments must serialize to a map or struct, not {}",
            other.type_name()
        ))),
    }
}

/// Positional argument `index` as `T`.
pub(crate) fn arg<T: DeserializeOwned>(args: &[Value], index: usize) -> Result<T, Error> {
    let value = args.get(index).cloned().ok_or_else(|| {
        Error::Serialization(format!(
            "argument {index} is missing (there are {})",
            args.len()
        ))
    })?;
    from_value(value).map_err(|e| Error::Serialization(format!("argument {index}: {e}")))
}

/// All positional arguments as one `T` (a tuple, `Vec` or struct of fields in order).
pub(crate) fn args_as<T: DeserializeOwned>(args: &[Value]) -> Result<T, Error> {
    from_value(Value::List(args.to_vec()))
        .map_err(|e| Error::Serialization(format!("arguments: {e}")))
}

/// Keyword argument `name` as `T`.
pub(crate) fn kwarg<T: DeserializeOwned>(kwargs: &Dict, name: &str) -> Result<T, Error> {
    let value = kwargs
        .get(name)
        .cloned()
        .ok_or_else(|| Error::Serialization(format!("keyword argument {name:?} is missing")))?;
    from_value(value).map_err(|e| Error::Serialization(format!("keyword argument {name:?}: {e}")))
}

/// All keyword arguments as one `T` (a struct or map).
pub(crate) fn kwargs_as<T: DeserializeOwned>(kwargs: &Dict) -> Result<T, Error> {
    from_value(Value::Dict(kwargs.clone()))
        .map_err(|e| Error::Serialization(format!("keyword arguments: {e}")))
}

/// Methods shared by every type that carries a payload.
macro_rules! payload_accessors {
    () => {
        /// Positional argument `index`, converted to `T`.
        pub fn arg<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T, crate::Error> {
            crate::client::payload::arg(&self.args, index)
        }

        /// All positional arguments as one `T` (a tuple, `Vec` or tuple struct).
        pub fn args_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
            crate::client::payload::args_as(&self.args)
        }

        /// Keyword argument `name`, converted to `T`.
        pub fn kwarg<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, crate::Error> {
            crate::client::payload::kwarg(&self.kwargs, name)
        }

        /// All keyword arguments as one `T` (a struct or map).
        pub fn kwargs_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
            crate::client::payload::kwargs_as(&self.kwargs)
        }
    };
}
pub(crate) use payload_accessors;
