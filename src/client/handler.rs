//! What handlers receive and return.

use super::payload::{payload_accessors, to_args, to_kwargs};
use super::Client;
use crate::error::{Error, WampError};
use crate::proto::value::{Dict, Value};
use serde::Serialize;
use std::fmt;

/// The answer to a call: every positional and keyword result, plus RESULT details.
/// Nothing the callee sent is dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallResult {
    /// Positional results.
    pub args: Vec<Value>,
    /// Keyword results.
    pub kwargs: Dict,
    /// RESULT.Details from the router (empty for results a handler builds).
    pub details: Dict,
}

impl CallResult {
    /// A result with no payload.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A result with one positional value.
    ///
    /// ```
    /// let result = izaber_wamp::CallResult::value(42)?;
    /// assert_eq!(result.arg::<i32>(0)?, 42);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    pub fn value(value: impl Serialize) -> Result<Self, Error> {
        Ok(CallResult {
            args: vec![crate::proto::value::to_value(&value)?],
            ..Self::default()
        })
    }

    /// A result with positional values (a tuple, array or `Vec`) and keyword values
    /// (a struct or map; `()` for none).
    pub fn new(args: impl Serialize, kwargs: impl Serialize) -> Result<Self, Error> {
        Ok(CallResult {
            args: to_args(&args)?,
            kwargs: to_kwargs(&kwargs)?,
            details: Dict::new(),
        })
    }

    payload_accessors!();
}

/// Details of an invocation, from INVOCATION.Details, type-checked: a value of the
/// wrong type is logged and left out (`None`), never replaced by another. `raw` keeps
/// everything as received.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InvocationDetails {
    /// The concrete procedure called: differs from the registered URI for prefix and
    /// wildcard registrations (the registered URI when the router does not say; `None`
    /// only when the router sent something that is not a string).
    pub procedure: Option<String>,
    /// The caller's session ID, when the router discloses it.
    pub caller: Option<u64>,
    /// The caller's authid, when disclosed.
    pub caller_authid: Option<String>,
    /// The caller's authrole, when disclosed.
    pub caller_authrole: Option<String>,
    /// All details as received.
    pub raw: Dict,
}

impl InvocationDetails {
    pub(crate) fn from_raw(raw: Dict, registered: &str) -> Self {
        let field = Details::new(&raw, "INVOCATION");
        InvocationDetails {
            procedure: field.string_or("procedure", registered),
            caller: field.id("caller"),
            caller_authid: field.string("caller_authid"),
            caller_authrole: field.string("caller_authrole"),
            raw,
        }
    }
}

/// Reads typed fields of a details dict, logging (not replacing) malformed ones.
struct Details<'a> {
    raw: &'a Dict,
    message: &'static str,
}

impl<'a> Details<'a> {
    fn new(raw: &'a Dict, message: &'static str) -> Self {
        Details { raw, message }
    }

    fn typed<T>(&self, key: &str, what: &str, read: impl Fn(&Value) -> Option<T>) -> Option<T> {
        let value = self.raw.get(key)?;
        let read = read(value);
        if read.is_none() {
            log::warn!(
                "{} detail {key} is {value}, not {what}: left out",
                self.message
            );
        }
        read
    }

    fn string(&self, key: &str) -> Option<String> {
        self.typed(key, "a string", |v| v.as_str().map(str::to_owned))
    }

    /// The string `key`, or `absent` when the router did not send it.
    fn string_or(&self, key: &str, absent: &str) -> Option<String> {
        match self.raw.get(key) {
            None => Some(absent.to_owned()),
            Some(_) => self.string(key),
        }
    }

    fn id(&self, key: &str) -> Option<u64> {
        self.typed(key, "a session ID", |v| {
            v.as_u64().filter(|&id| crate::proto::id::is_valid_id(id))
        })
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.typed(key, "true or false", |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }
}

/// A call to one of our procedures, as passed to its handler.
pub struct Invocation {
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// Who called what.
    pub details: InvocationDetails,
    pub(crate) client: Client,
}

impl Invocation {
    payload_accessors!();

    /// The client that received the call; use it to make calls from the handler
    /// (capturing a clone of the client in the handler would keep it alive forever).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("args", &self.args)
            .field("kwargs", &self.kwargs)
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// Details of an event, from EVENT.Details, type-checked: a value of the wrong type
/// is logged and left out (`None`), never replaced by another. `raw` keeps everything
/// as received.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct EventDetails {
    /// The publication ID (the same for every copy of one publication).
    pub publication: u64,
    /// The concrete topic: differs from the subscribed URI for pattern subscriptions
    /// (the subscribed URI when the router does not say; `None` only when the router
    /// sent something that is not a string).
    pub topic: Option<String>,
    /// The publisher's session ID, when the router discloses it.
    pub publisher: Option<u64>,
    /// The publisher's authid, when disclosed.
    pub publisher_authid: Option<String>,
    /// The publisher's authrole, when disclosed.
    pub publisher_authrole: Option<String>,
    /// `Some(true)` for a retained event delivered on subscribe; `None` when the
    /// router did not say.
    pub retained: Option<bool>,
    /// All details as received.
    pub raw: Dict,
}

impl EventDetails {
    pub(crate) fn from_raw(raw: Dict, publication: u64, subscribed: &str) -> Self {
        let field = Details::new(&raw, "EVENT");
        EventDetails {
            publication,
            topic: field.string_or("topic", subscribed),
            publisher: field.id("publisher"),
            publisher_authid: field.string("publisher_authid"),
            publisher_authrole: field.string("publisher_authrole"),
            retained: field.flag("retained"),
            raw,
        }
    }
}

/// An event on one of our subscriptions, as passed to its handler.
pub struct Event {
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// Publication ID, topic and publisher.
    pub details: EventDetails,
    pub(crate) client: Client,
}

impl Event {
    payload_accessors!();

    /// The client that received the event; use it to make calls from the handler.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("args", &self.args)
            .field("kwargs", &self.kwargs)
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// Why a procedure handler failed.
///
/// Any error converts into it with `?`: a [`WampError`] (or an [`Error::Wamp`] from a
/// nested call) keeps its URI, args and kwargs; anything else becomes a failure whose
/// message reaches the caller under the client's handler-failure URI.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerError {
    /// An error with its own URI and payload.
    Wamp(WampError),
    /// A plain failure with a message.
    Failed(String),
}

impl HandlerError {
    /// A plain failure with `message`.
    pub fn failed(message: impl fmt::Display) -> Self {
        HandlerError::Failed(message.to_string())
    }

    /// The WAMP error sent to the caller: a [`WampError`] as it is; a plain failure
    /// under `failure_uri` with `["Call failed: <message>", <message>]`, the shape a
    /// Python izaber callee sends, so Python callers see the same from either.
    pub(crate) fn into_wamp(self, failure_uri: &str) -> WampError {
        match self {
            HandlerError::Wamp(e) => e,
            HandlerError::Failed(message) => WampError::new(failure_uri).with_args(vec![
                Value::from(format!("Call failed: {message}")),
                Value::from(message),
            ]),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::Wamp(e) => e.fmt(f),
            HandlerError::Failed(m) => f.write_str(m),
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
        let boxed = match boxed.downcast::<WampError>() {
            Ok(wamp) => return HandlerError::Wamp(*wamp),
            Err(other) => other,
        };
        match boxed.downcast::<Error>() {
            Ok(error) => match *error {
                Error::Wamp(wamp) => HandlerError::Wamp(wamp),
                other => HandlerError::Failed(other.to_string()),
            },
            Err(other) => HandlerError::Failed(other.to_string()),
        }
    }
}

/// The result type of procedure handlers.
pub type HandlerResult = Result<CallResult, HandlerError>;

/// A registration made by this client; pass it to [`Client::unregister`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Registration {
    pub(crate) id: u64,
    pub(crate) procedure: String,
}

impl Registration {
    /// The registered procedure URI (or pattern).
    pub fn procedure(&self) -> &str {
        &self.procedure
    }
}

/// A subscription made by this client; pass it to [`Client::unsubscribe`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    pub(crate) id: u64,
    pub(crate) topic: String,
}

impl Subscription {
    /// The subscribed topic URI (or pattern).
    pub fn topic(&self) -> &str {
        &self.topic
    }
}
