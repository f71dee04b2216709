//! Payload transparency (PPT): arguments carried as one opaque binary payload, which
//! the router passes on without looking inside (the spec's `payload_passthru_mode`,
//! called `payload_transparency` by Crossbar.io and autobahn).
//!
//! Two forms arrive: the spec's (`ppt_scheme`, `ppt_serializer`, `ppt_cipher`,
//! `ppt_keyid` in the details, the payload as the one argument) and autobahn's, which
//! Crossbar.io 26.10 forwards (`enc_algo`, `enc_serializer`, `enc_key`, the payload in
//! place of the arguments list). Both reach handlers the same way: [`Ppt`] describes
//! the payload, and when its serializer is one of ours and it is not encrypted, the
//! payload is decoded into the usual arguments. End-to-end encryption is not built in:
//! with a cipher, handlers get the raw bytes to decrypt themselves.
//!
//! Sending uses the spec's form: set [`Ppt`] on the options and pass the payload as the
//! one binary argument.

use crate::error::Error;
use crate::proto::message::Payload;
use crate::proto::value::{Dict, Value};
use crate::proto::Serializer;

/// How a transparent payload is made: its scheme, and optionally the serializer, the
/// cipher and the key it was made with.
///
/// ```
/// use izaber_wamp::{Ppt, PublishOptions, Value};
/// let ppt = Ppt::new("x_custom").with_serializer("cbor");
/// let options = PublishOptions::new().ppt(ppt);
/// // client.publish_with("com.example.topic", (Value::Bytes(payload),), (), &options)?;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Ppt {
    /// `ppt_scheme` (`enc_algo`): `wamp`, `mqtt`, or a custom `x_...` scheme.
    pub scheme: String,
    /// `ppt_serializer` (`enc_serializer`): how the payload was serialized, if said.
    pub serializer: Option<String>,
    /// `ppt_cipher`: the cipher it is encrypted with, if any.
    pub cipher: Option<String>,
    /// `ppt_keyid` (`enc_key`): the key it is encrypted with, if said.
    pub keyid: Option<String>,
}

impl Ppt {
    /// A payload of `scheme`, nothing more said.
    pub fn new(scheme: impl Into<String>) -> Self {
        Ppt {
            scheme: scheme.into(),
            ..Ppt::default()
        }
    }

    /// Says how the payload was serialized (`json`, `msgpack`, `cbor`, ...).
    pub fn with_serializer(mut self, serializer: impl Into<String>) -> Self {
        self.serializer = Some(serializer.into());
        self
    }

    /// Says which cipher encrypts the payload.
    pub fn with_cipher(mut self, cipher: impl Into<String>) -> Self {
        self.cipher = Some(cipher.into());
        self
    }

    /// Says which key encrypts the payload.
    pub fn with_keyid(mut self, keyid: impl Into<String>) -> Self {
        self.keyid = Some(keyid.into());
        self
    }

    /// The PPT fields of received details, in either form; `None` when the payload is
    /// not transparent.
    pub(crate) fn from_details(details: &Dict) -> Option<Ppt> {
        // Nearly every message is not transparent: one pass over its few keys is
        // cheaper than the eight lookups below, on every call and event.
        if !details
            .keys()
            .any(|key| key.starts_with("ppt_") || key.starts_with("enc_"))
        {
            return None;
        }
        let text = |spec: &str, autobahn: &str| {
            details
                .get(spec)
                .or_else(|| details.get(autobahn))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(Ppt {
            scheme: text("ppt_scheme", "enc_algo")?,
            serializer: text("ppt_serializer", "enc_serializer"),
            cipher: text("ppt_cipher", "ppt_cipher"),
            keyid: text("ppt_keyid", "enc_key"),
        })
    }

    /// The options to send, in the spec's form.
    pub(crate) fn options(&self) -> impl Iterator<Item = (&'static str, Option<Value>)> + '_ {
        let text = |value: &Option<String>| value.as_deref().map(Value::from);
        [
            ("ppt_scheme", Some(Value::from(self.scheme.as_str()))),
            ("ppt_serializer", text(&self.serializer)),
            ("ppt_cipher", text(&self.cipher)),
            ("ppt_keyid", text(&self.keyid)),
        ]
        .into_iter()
    }

    /// Checks that `payload` is what a transparent payload must be: one binary
    /// argument and nothing else.
    pub(crate) fn check_payload(payload: &Payload) -> Result<(), Error> {
        match (&payload.args[..], payload.kwargs.is_empty()) {
            ([Value::Bytes(_)], true) => Ok(()),
            _ => Err(Error::InvalidOption {
                option: "ppt_scheme".into(),
                expected: "a payload of exactly one binary argument (Value::Bytes) and no \
                           keyword arguments"
                    .into(),
                found: format!(
                    "{} arguments and {} keyword arguments",
                    payload.args.len(),
                    payload.kwargs.len()
                ),
            }),
        }
    }

    /// The payload's arguments, decoded when it is serialized with one of ours and not
    /// encrypted: a dict's `args` and `kwargs` (the spec's `{"args": .., "kwargs": ..}`),
    /// a list's items, or one value. `None` when it cannot be decoded here.
    pub(crate) fn decode(&self, bytes: &[u8]) -> Option<(Vec<Value>, Dict)> {
        if self.cipher.is_some() {
            return None;
        }
        let serializer: Serializer = self.serializer.as_deref()?.parse().ok()?;
        let value = match serializer.decode_value(bytes) {
            Ok(value) => value,
            Err(e) => {
                log::warn!("a transparent payload claims {serializer} but does not decode: {e}");
                return None;
            }
        };
        Some(match value {
            Value::Dict(mut dict) if dict.contains_key("args") || dict.contains_key("kwargs") => {
                let args = match dict.remove("args") {
                    Some(Value::List(args)) => args,
                    Some(other) => vec![other],
                    None => Vec::new(),
                };
                let kwargs = match dict.remove("kwargs") {
                    Some(Value::Dict(kwargs)) => kwargs,
                    _ => Dict::new(),
                };
                (args, kwargs)
            }
            Value::List(args) => (args, Dict::new()),
            other => (vec![other], Dict::new()),
        })
    }
}

/// The YIELD options of a handler's result: the payload transparency keys its
/// `details` carry (see [`CallResult::transparent`](crate::CallResult::transparent)).
pub(crate) fn yield_options(details: &Dict) -> Dict {
    details
        .iter()
        .filter(|(key, _)| key.starts_with("ppt_"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// A received transparent payload: how it was made, and its bytes.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// let result = client.call("com.example.secret", ())?;
/// if let Some(transparent) = &result.transparent {
///     if !transparent.decoded {
///         // Encrypted, or a serializer this client does not know: decode it yourself.
///         println!("{} bytes, cipher {:?}", transparent.payload.len(), transparent.ppt.cipher);
///     }
/// }
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Transparent {
    /// The PPT fields.
    pub ppt: Ppt,
    /// The payload as received.
    pub payload: Vec<u8>,
    /// Whether the payload was decoded into the arguments.
    pub decoded: bool,
}

/// Splits a received payload: a transparent one is described and, where possible,
/// decoded into arguments; any other comes back as it is.
pub(crate) fn receive(
    details: &Dict,
    args: Vec<Value>,
    kwargs: Dict,
) -> (Vec<Value>, Dict, Option<Transparent>) {
    let Some(ppt) = Ppt::from_details(details) else {
        return (args, kwargs, None);
    };
    let bytes = match (&args[..], kwargs.is_empty()) {
        ([Value::Bytes(bytes)], true) => bytes.clone(),
        _ => {
            log::warn!(
                "a payload marked transparent ({}) is not one binary value",
                ppt.scheme
            );
            return (args, kwargs, None);
        }
    };
    match ppt.decode(&bytes) {
        Some((args, kwargs)) => (
            args,
            kwargs,
            Some(Transparent {
                ppt,
                payload: bytes,
                decoded: true,
            }),
        ),
        None => (
            args,
            kwargs,
            Some(Transparent {
                ppt,
                payload: bytes,
                decoded: false,
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(entries: &[(&str, &str)]) -> Dict {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn both_forms_of_the_fields_are_read() {
        let spec = details(&[
            ("ppt_scheme", "x_a"),
            ("ppt_serializer", "cbor"),
            ("ppt_keyid", "k"),
        ]);
        let autobahn = details(&[
            ("enc_algo", "x_a"),
            ("enc_serializer", "cbor"),
            ("enc_key", "k"),
        ]);
        let expected = Ppt::new("x_a").with_serializer("cbor").with_keyid("k");
        assert_eq!(Ppt::from_details(&spec), Some(expected.clone()));
        assert_eq!(Ppt::from_details(&autobahn), Some(expected));
        assert_eq!(Ppt::from_details(&Dict::new()), None);
    }

    #[test]
    fn a_payload_in_one_of_our_serializers_is_decoded_unless_encrypted() {
        let bytes = br#"{"args": [1, "two"], "kwargs": {"k": true}}"#.to_vec();
        let d = details(&[("enc_algo", "x_test"), ("enc_serializer", "json")]);
        let (args, kwargs, t) = receive(&d, vec![Value::Bytes(bytes.clone())], Dict::new());
        assert_eq!(args, vec![Value::Int(1), Value::from("two")]);
        assert_eq!(kwargs.get("k"), Some(&Value::Bool(true)));
        let t = t.expect("transparent");
        assert!(t.decoded);
        assert_eq!(t.payload, bytes);
        let mut encrypted = d.clone();
        encrypted.insert("ppt_cipher".into(), Value::from("xsalsa20poly1305"));
        let (args, _, t) = receive(&encrypted, vec![Value::Bytes(bytes.clone())], Dict::new());
        assert_eq!(args, vec![Value::Bytes(bytes)], "raw bytes for the handler");
        assert!(!t.expect("transparent").decoded);
    }

    #[test]
    fn sending_needs_exactly_one_binary_argument() {
        assert!(
            Ppt::check_payload(&Payload::new(vec![Value::Bytes(vec![1])], Dict::new())).is_ok()
        );
        assert!(matches!(
            Ppt::check_payload(&Payload::new(vec![Value::from("text")], Dict::new())),
            Err(Error::InvalidOption { .. })
        ));
    }
}
