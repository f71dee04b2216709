//! Converting user values to WAMP payloads and back.

use crate::error::Error;
use crate::proto::value::{from_dict_ref, from_list_ref, from_value_ref, to_value, Dict, Value};
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

// The payload is read where it lies: nothing is cloned but what `T` keeps.

/// Positional argument `index` as `T`.
pub(crate) fn arg<T: DeserializeOwned>(args: &[Value], index: usize) -> Result<T, Error> {
    let value = args.get(index).ok_or_else(|| {
        Error::Serialization(format!(
            "argument {index} is missing (there are {})",
            args.len()
        ))
    })?;
    from_value_ref(value).map_err(|e| Error::Serialization(format!("argument {index}: {e}")))
}

/// All positional arguments as one `T` (a tuple, `Vec` or struct of fields in order).
pub(crate) fn args_as<T: DeserializeOwned>(args: &[Value]) -> Result<T, Error> {
    from_list_ref(args).map_err(|e| Error::Serialization(format!("arguments: {e}")))
}

/// Keyword argument `name` as `T`.
pub(crate) fn kwarg<T: DeserializeOwned>(kwargs: &Dict, name: &str) -> Result<T, Error> {
    let value = kwargs
        .get(name)
        .ok_or_else(|| Error::Serialization(format!("keyword argument {name:?} is missing")))?;
    from_value_ref(value)
        .map_err(|e| Error::Serialization(format!("keyword argument {name:?}: {e}")))
}

/// All keyword arguments as one `T` (a struct or map).
pub(crate) fn kwargs_as<T: DeserializeOwned>(kwargs: &Dict) -> Result<T, Error> {
    from_dict_ref(kwargs).map_err(|e| Error::Serialization(format!("keyword arguments: {e}")))
}

/// Methods shared by every type that carries a payload.
macro_rules! payload_accessors {
    () => {
        /// Positional argument `index`, converted to `T`.
        ///
        /// # Errors
        ///
        /// [`Error::Serialization`](crate::Error::Serialization) when there is no
        /// argument `index`, or it does not convert to `T`; the message names the
        /// argument.
        ///
        /// ```
        /// # use izaber_wamp::{CallResult, Error};
        /// // A CallResult here; an Event and an Invocation read the same way.
        /// let result = CallResult::new(("Ada", 36), ())?;
        /// let name: String = result.arg(0)?;
        /// assert_eq!(name, "Ada");
        /// assert!(matches!(result.arg::<String>(1), Err(Error::Serialization(_))));
        /// assert!(result.arg::<u32>(2).is_err()); // there is no third argument
        /// # Ok::<(), Error>(())
        /// ```
        pub fn arg<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T, crate::Error> {
            crate::client::payload::arg(&self.args, index)
        }

        /// All positional arguments as one `T` (a tuple, `Vec` or tuple struct).
        ///
        /// # Errors
        ///
        /// [`Error::Serialization`](crate::Error::Serialization) when the arguments do
        /// not convert to `T` (a wrong type or number of them).
        ///
        /// ```
        /// # use izaber_wamp::CallResult;
        /// // A CallResult here; an Event and an Invocation read the same way.
        /// let result = CallResult::new((2, 3), ())?;
        /// let (a, b): (i64, i64) = result.args_as()?;
        /// assert_eq!(a + b, 5);
        /// let all: Vec<i64> = result.args_as()?;
        /// assert_eq!(all, [2, 3]);
        /// # Ok::<(), izaber_wamp::Error>(())
        /// ```
        pub fn args_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
            crate::client::payload::args_as(&self.args)
        }

        /// Keyword argument `name`, converted to `T`.
        ///
        /// # Errors
        ///
        /// [`Error::Serialization`](crate::Error::Serialization) when there is no
        /// keyword argument `name`, or it does not convert to `T`.
        ///
        /// ```
        /// # use izaber_wamp::CallResult;
        /// use std::collections::BTreeMap;
        ///
        /// // A CallResult here; an Event and an Invocation read the same way.
        /// let result = CallResult::new((), BTreeMap::from([("limit", 10)]))?;
        /// assert_eq!(result.kwarg::<u32>("limit")?, 10);
        /// assert!(result.kwarg::<u32>("offset").is_err());
        /// # Ok::<(), izaber_wamp::Error>(())
        /// ```
        pub fn kwarg<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, crate::Error> {
            crate::client::payload::kwarg(&self.kwargs, name)
        }

        /// All keyword arguments as one `T` (a struct or map).
        ///
        /// # Errors
        ///
        /// [`Error::Serialization`](crate::Error::Serialization) when the keyword
        /// arguments do not convert to `T` (e.g. a required field is missing).
        ///
        /// ```
        /// # use izaber_wamp::CallResult;
        /// use serde::{Deserialize, Serialize};
        ///
        /// #[derive(Serialize, Deserialize, Debug, PartialEq)]
        /// struct Page {
        ///     limit: u32,
        ///     offset: u32,
        /// }
        ///
        /// // A CallResult here; an Event and an Invocation read the same way.
        /// let result = CallResult::new((), Page { limit: 10, offset: 20 })?;
        /// assert_eq!(result.kwargs_as::<Page>()?, Page { limit: 10, offset: 20 });
        /// # Ok::<(), izaber_wamp::Error>(())
        /// ```
        pub fn kwargs_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
            crate::client::payload::kwargs_as(&self.kwargs)
        }
    };
}
pub(crate) use payload_accessors;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::value::from_value;
    use std::collections::BTreeMap;

    fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::Serialization(text)) => text,
            other => panic!("expected a serialization error, got {other:?}"),
        }
    }

    #[test]
    fn payload_accessors_read_in_place_as_a_copy_would() {
        let args = vec![Value::from(2), Value::from("x"), Value::bytes([7u8])];
        let kwargs = Dict::from([("a".into(), Value::from(1)), ("b".into(), "y".into())]);

        assert_eq!(arg::<i64>(&args, 0).unwrap(), 2);
        assert_eq!(arg::<Vec<u8>>(&args, 2).unwrap(), [7]);
        let all: (i64, String, Vec<u8>) = args_as(&args).unwrap();
        let copied: (i64, String, Vec<u8>) = from_value(Value::List(args.clone())).unwrap();
        assert_eq!(all, copied);
        assert_eq!(kwarg::<String>(&kwargs, "b").unwrap(), "y");
        let map: BTreeMap<String, Value> = kwargs_as(&kwargs).unwrap();
        assert_eq!(map, kwargs);

        // Errors name the argument and the place inside it, as before.
        assert_eq!(
            message(arg::<i64>(&args, 1)),
            "argument 1: invalid type: string \"x\", expected i64"
        );
        assert_eq!(
            message(arg::<i64>(&args, 5)),
            "argument 5 is missing (there are 3)"
        );
        assert_eq!(
            message(args_as::<(i64, i64)>(&args)),
            "arguments: invalid type: string \"x\", expected i64 at [1]"
        );
        assert_eq!(
            message(args_as::<(i64, String)>(&args)),
            "arguments: invalid length 3, expected fewer elements in list"
        );
        assert_eq!(
            message(kwarg::<i64>(&kwargs, "b")),
            "keyword argument \"b\": invalid type: string \"y\", expected i64"
        );
        assert_eq!(
            message(kwarg::<i64>(&kwargs, "c")),
            "keyword argument \"c\" is missing"
        );
        assert_eq!(
            message(kwargs_as::<BTreeMap<String, i64>>(&kwargs)),
            "keyword arguments: invalid type: string \"y\", expected i64 at b"
        );
    }
}
