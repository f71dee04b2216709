//! Every WAMP message a client sends or receives, with exact shape checks.
//!
//! A message travels as a list whose first element is its type code; the code and the
//! element count fix every element's type. [`Message::from_value`] enforces that, and
//! [`Message::into_value`] writes the shortest permitted form (no trailing empty
//! payload elements).

mod parse;

use parse::shape;

use crate::value::{Dict, Value};
use std::fmt;

/// Positional and keyword application payload carried by CALL, RESULT, EVENT, ...
///
/// ```
/// use izaber_wamp_proto::message::Payload;
/// use izaber_wamp_proto::{Dict, Value};
///
/// let payload = Payload::new(
///     vec![Value::from("Ada")],
///     Dict::from([("times".to_string(), Value::from(3))]),
/// );
/// assert_eq!(payload.args[0].as_str(), Some("Ada"));
/// assert_eq!(payload.kwargs["times"].as_i64(), Some(3));
/// assert!(Payload::default().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Payload {
    /// Positional arguments (`Arguments|list`).
    pub args: Vec<Value>,
    /// Keyword arguments (`ArgumentsKw|dict`).
    pub kwargs: Dict,
}

impl Payload {
    /// A payload with the given positional and keyword arguments.
    pub fn new(args: Vec<Value>, kwargs: Dict) -> Self {
        Payload { args, kwargs }
    }

    /// True when there are neither args nor kwargs.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty() && self.kwargs.is_empty()
    }
}

/// An AUTHENTICATE signature. For ticket login it is the password itself, so `Debug`
/// and `Display` print `<redacted>`; the text is reached through `Deref` or [`Signature::as_str`].
///
/// ```
/// use izaber_wamp_proto::message::Signature;
///
/// let signature = Signature::from("s3cret");
/// assert_eq!(signature.as_str(), "s3cret");
/// assert_eq!(format!("{signature:?} {signature}"), "<redacted> <redacted>");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(String);

impl Signature {
    /// The signature text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Signature {
    fn from(text: String) -> Self {
        Signature(text)
    }
}

impl From<&str> for Signature {
    fn from(text: &str) -> Self {
        Signature(text.to_owned())
    }
}

impl std::ops::Deref for Signature {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Signature {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A WAMP message (client-relevant subset of the basic and advanced profiles).
///
/// ```
/// use izaber_wamp_proto::message::{code, Message};
/// use izaber_wamp_proto::{Dict, Value};
///
/// let subscribe = Message::Subscribe {
///     request: 1,
///     options: Dict::new(),
///     topic: "com.example.news".into(),
/// };
/// assert_eq!((subscribe.code(), subscribe.name()), (code::SUBSCRIBE, "SUBSCRIBE"));
///
/// let value = subscribe.clone().into_value();
/// assert_eq!(value.to_string(), r#"[32,1,{},"com.example.news"]"#);
/// assert_eq!(Message::from_value(value)?, subscribe);
/// # Ok::<(), izaber_wamp_proto::message::MessageError>(())
/// ```
#[allow(missing_docs)] // field names are the spec's element names
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    Hello {
        realm: String,
        details: Dict,
    },
    Welcome {
        session: u64,
        details: Dict,
    },
    Abort {
        details: Dict,
        reason: String,
        payload: Payload,
    },
    Challenge {
        method: String,
        extra: Dict,
    },
    Authenticate {
        signature: Signature,
        extra: Dict,
    },
    Goodbye {
        details: Dict,
        reason: String,
    },
    Error {
        request_type: u64,
        request: u64,
        details: Dict,
        error: String,
        payload: Payload,
    },
    Publish {
        request: u64,
        options: Dict,
        topic: String,
        payload: Payload,
    },
    Published {
        request: u64,
        publication: u64,
    },
    Subscribe {
        request: u64,
        options: Dict,
        topic: String,
    },
    Subscribed {
        request: u64,
        subscription: u64,
    },
    Unsubscribe {
        request: u64,
        subscription: u64,
    },
    Unsubscribed {
        request: u64,
    },
    /// The router-initiated form of UNSUBSCRIBED: `[35, 0, {"subscription": id, "reason"?: str}]`.
    SubscriptionRevoked {
        details: Dict,
    },
    Event {
        subscription: u64,
        publication: u64,
        details: Dict,
        payload: Payload,
    },
    Call {
        request: u64,
        options: Dict,
        procedure: String,
        payload: Payload,
    },
    Cancel {
        request: u64,
        options: Dict,
    },
    Result {
        request: u64,
        details: Dict,
        payload: Payload,
    },
    Register {
        request: u64,
        options: Dict,
        procedure: String,
    },
    Registered {
        request: u64,
        registration: u64,
    },
    Unregister {
        request: u64,
        registration: u64,
    },
    Unregistered {
        request: u64,
    },
    /// The router-initiated form of UNREGISTERED: `[67, 0, {"registration": id, "reason"?: str}]`.
    RegistrationRevoked {
        details: Dict,
    },
    Invocation {
        request: u64,
        registration: u64,
        details: Dict,
        payload: Payload,
    },
    Interrupt {
        request: u64,
        options: Dict,
    },
    Yield {
        request: u64,
        options: Dict,
        payload: Payload,
    },
}

/// Message type codes.
#[allow(missing_docs)]
pub mod code {
    pub const HELLO: u64 = 1;
    pub const WELCOME: u64 = 2;
    pub const ABORT: u64 = 3;
    pub const CHALLENGE: u64 = 4;
    pub const AUTHENTICATE: u64 = 5;
    pub const GOODBYE: u64 = 6;
    pub const ERROR: u64 = 8;
    pub const PUBLISH: u64 = 16;
    pub const PUBLISHED: u64 = 17;
    pub const SUBSCRIBE: u64 = 32;
    pub const SUBSCRIBED: u64 = 33;
    pub const UNSUBSCRIBE: u64 = 34;
    pub const UNSUBSCRIBED: u64 = 35;
    pub const EVENT: u64 = 36;
    pub const CALL: u64 = 48;
    pub const CANCEL: u64 = 49;
    pub const RESULT: u64 = 50;
    pub const REGISTER: u64 = 64;
    pub const REGISTERED: u64 = 65;
    pub const UNREGISTER: u64 = 66;
    pub const UNREGISTERED: u64 = 67;
    pub const INVOCATION: u64 = 68;
    pub const INTERRUPT: u64 = 69;
    pub const YIELD: u64 = 70;
}

/// Why bytes or a value are not a valid WAMP message.
///
/// ```
/// use izaber_wamp_proto::message::Message;
/// use izaber_wamp_proto::Value;
///
/// let err = Message::from_value(Value::List(vec![2.into(), 0.into(), Value::Null])).unwrap_err();
/// assert_eq!(err.to_string(), "WELCOME session 0 is outside the valid ID range 1..2^53");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError(pub String);

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MessageError {}

impl Message {
    /// The message's type code.
    pub fn code(&self) -> u64 {
        use code::*;
        match self {
            Message::Hello { .. } => HELLO,
            Message::Welcome { .. } => WELCOME,
            Message::Abort { .. } => ABORT,
            Message::Challenge { .. } => CHALLENGE,
            Message::Authenticate { .. } => AUTHENTICATE,
            Message::Goodbye { .. } => GOODBYE,
            Message::Error { .. } => ERROR,
            Message::Publish { .. } => PUBLISH,
            Message::Published { .. } => PUBLISHED,
            Message::Subscribe { .. } => SUBSCRIBE,
            Message::Subscribed { .. } => SUBSCRIBED,
            Message::Unsubscribe { .. } => UNSUBSCRIBE,
            Message::Unsubscribed { .. } | Message::SubscriptionRevoked { .. } => UNSUBSCRIBED,
            Message::Event { .. } => EVENT,
            Message::Call { .. } => CALL,
            Message::Cancel { .. } => CANCEL,
            Message::Result { .. } => RESULT,
            Message::Register { .. } => REGISTER,
            Message::Registered { .. } => REGISTERED,
            Message::Unregister { .. } => UNREGISTER,
            Message::Unregistered { .. } | Message::RegistrationRevoked { .. } => UNREGISTERED,
            Message::Invocation { .. } => INVOCATION,
            Message::Interrupt { .. } => INTERRUPT,
            Message::Yield { .. } => YIELD,
        }
    }

    /// The message's name as the spec writes it, e.g. `"CALL"`.
    pub fn name(&self) -> &'static str {
        shape(self.code()).map_or("UNKNOWN", |(name, _)| name)
    }

    /// Converts the message to its list form, dropping empty trailing payload elements.
    pub fn into_value(self) -> Value {
        let code = Value::from(self.code());
        let id = Value::from;
        let s = Value::String;
        let d = Value::Dict;
        let items = match self {
            Message::Hello { realm, details } => vec![code, s(realm), d(details)],
            Message::Welcome { session, details } => vec![code, id(session), d(details)],
            Message::Abort {
                details,
                reason,
                payload,
            } => return with_payload([code, d(details), s(reason)], payload),
            Message::Challenge { method, extra } => vec![code, s(method), d(extra)],
            Message::Authenticate { signature, extra } => vec![code, s(signature.0), d(extra)],
            Message::Goodbye { details, reason } => vec![code, d(details), s(reason)],
            Message::Error {
                request_type,
                request,
                details,
                error,
                payload,
            } => {
                return with_payload(
                    [code, id(request_type), id(request), d(details), s(error)],
                    payload,
                )
            }
            Message::Publish {
                request,
                options,
                topic,
                payload,
            } => return with_payload([code, id(request), d(options), s(topic)], payload),
            Message::Published {
                request,
                publication,
            } => vec![code, id(request), id(publication)],
            Message::Subscribe {
                request,
                options,
                topic,
            } => vec![code, id(request), d(options), s(topic)],
            Message::Subscribed {
                request,
                subscription,
            } => vec![code, id(request), id(subscription)],
            Message::Unsubscribe {
                request,
                subscription,
            } => vec![code, id(request), id(subscription)],
            Message::Unsubscribed { request } | Message::Unregistered { request } => {
                vec![code, id(request)]
            }
            Message::SubscriptionRevoked { details } | Message::RegistrationRevoked { details } => {
                vec![code, id(0), d(details)]
            }
            Message::Event {
                subscription,
                publication,
                details,
                payload,
            } => {
                return with_payload(
                    [code, id(subscription), id(publication), d(details)],
                    payload,
                )
            }
            Message::Call {
                request,
                options,
                procedure,
                payload,
            } => return with_payload([code, id(request), d(options), s(procedure)], payload),
            Message::Cancel { request, options } | Message::Interrupt { request, options } => {
                vec![code, id(request), d(options)]
            }
            Message::Result {
                request,
                details,
                payload,
            } => return with_payload([code, id(request), d(details)], payload),
            Message::Register {
                request,
                options,
                procedure,
            } => vec![code, id(request), d(options), s(procedure)],
            Message::Registered {
                request,
                registration,
            } => vec![code, id(request), id(registration)],
            Message::Unregister {
                request,
                registration,
            } => vec![code, id(request), id(registration)],
            Message::Invocation {
                request,
                registration,
                details,
                payload,
            } => return with_payload([code, id(request), id(registration), d(details)], payload),
            Message::Yield {
                request,
                options,
                payload,
            } => return with_payload([code, id(request), d(options)], payload),
        };
        Value::List(items)
    }
}

/// Appends the payload in its shortest permitted form: nothing, `[args]`, or `[args, kwargs]`.
/// The message's leading fields, then its payload: room for all of them at once.
fn with_payload<const N: usize>(head: [Value; N], payload: Payload) -> Value {
    let mut items = Vec::with_capacity(N + 2);
    items.extend(head);
    if !payload.kwargs.is_empty() {
        items.push(Value::List(payload.args));
        items.push(Value::Dict(payload.kwargs));
    } else if !payload.args.is_empty() {
        items.push(Value::List(payload.args));
    }
    Value::List(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authenticate_signature_never_shows_in_debug_or_display() {
        let message = Message::Authenticate {
            signature: "the-ticket".into(),
            extra: Dict::new(),
        };
        let Message::Authenticate { signature, .. } = &message else {
            unreachable!()
        };
        assert!(!format!("{message:?} {signature}").contains("the-ticket"));
        assert_eq!(signature.as_str(), "the-ticket");
    }
}
