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

/// Details of an invocation, from INVOCATION.Details.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvocationDetails {
    /// The concrete procedure called: differs from the registered URI for prefix and
    /// wildcard registrations.
    pub procedure: String,
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
        InvocationDetails {
            procedure: string(&raw, "procedure").unwrap_or_else(|| registered.to_owned()),
            caller: raw.get("caller").and_then(Value::as_u64),
            caller_authid: string(&raw, "caller_authid"),
            caller_authrole: string(&raw, "caller_authrole"),
            raw,
        }
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

/// Details of an event, from EVENT.Details.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventDetails {
    /// The publication ID (the same for every copy of one publication).
    pub publication: u64,
    /// The concrete topic: differs from the subscribed URI for pattern subscriptions.
    pub topic: String,
    /// The publisher's session ID, when the router discloses it.
    pub publisher: Option<u64>,
    /// The publisher's authid, when disclosed.
    pub publisher_authid: Option<String>,
    /// The publisher's authrole, when disclosed.
    pub publisher_authrole: Option<String>,
    /// True for a retained event delivered on subscribe.
    pub retained: bool,
    /// All details as received.
    pub raw: Dict,
}

impl EventDetails {
    pub(crate) fn from_raw(raw: Dict, publication: u64, subscribed: &str) -> Self {
        EventDetails {
            publication,
            topic: string(&raw, "topic").unwrap_or_else(|| subscribed.to_owned()),
            publisher: raw.get("publisher").and_then(Value::as_u64),
            publisher_authid: string(&raw, "publisher_authid"),
            publisher_authrole: string(&raw, "publisher_authrole"),
            retained: matches!(raw.get("retained"), Some(Value::Bool(true))),
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

fn string(raw: &Dict, key: &str) -> Option<String> {
    raw.get(key).and_then(Value::as_str).map(str::to_owned)
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

    /// The WAMP error sent to the caller.
    pub(crate) fn into_wamp(self, failure_uri: &str) -> WampError {
        match self {
            HandlerError::Wamp(e) => e,
            HandlerError::Failed(message) => WampError::new(failure_uri)
                .with_args(vec![Value::from(format!("Call failed: {message}"))]),
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
