//! What handlers receive and return.

use super::details::EventDetails;
use super::payload::{payload_accessors, to_args, to_kwargs};
use super::ppt::{Ppt, Transparent};
use super::Client;
use crate::error::{Error, WampError};
use crate::proto::message::Payload;
use crate::proto::value::{Dict, Value};
use serde::Serialize;
use std::fmt;

/// The answer to a call: every positional and keyword result, plus RESULT details.
/// Nothing the callee sent is dropped.
///
/// ```
/// use izaber_wamp::CallResult;
/// use std::collections::BTreeMap;
///
/// // What a handler returns, and what `Client::call` gives back.
/// let result = CallResult::new(("Ada", 36), BTreeMap::from([("admin", true)]))?;
/// let (name, age): (String, u32) = result.args_as()?;
/// assert_eq!((name.as_str(), age), ("Ada", 36));
/// assert!(result.kwarg::<bool>("admin")?);
/// assert!(!result.is_progress());
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CallResult {
    /// Positional results (decoded from a transparent payload when possible).
    pub args: Vec<Value>,
    /// Keyword results.
    pub kwargs: Dict,
    /// RESULT.Details from the router. In a result a handler returns, only payload
    /// transparency keys are sent (as YIELD options; see
    /// [`transparent`](Self::transparent)).
    pub details: Dict,
    /// The payload as sent, when the callee used payload transparency.
    pub transparent: Option<Transparent>,
}

impl CallResult {
    /// A result with no payload.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A result with one positional value.
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`] when `value` cannot be converted to a
    /// [`Value`](crate::Value), e.g. a map whose keys are not strings.
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
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`] when `args` serializes to something other than a list
    /// or nothing (a single value: wrap it in a tuple, `(value,)`), when `kwargs`
    /// serializes to something other than a map, struct or nothing, or when either
    /// cannot be converted to a [`Value`](crate::Value).
    ///
    /// ```
    /// use izaber_wamp::{CallResult, Error};
    /// use serde::Serialize;
    ///
    /// #[derive(Serialize)]
    /// struct Stats {
    ///     count: u32,
    /// }
    ///
    /// let result = CallResult::new((1, 2), Stats { count: 2 })?;
    /// assert_eq!(result.args.len(), 2);
    /// assert_eq!(result.kwarg::<u32>("count")?, 2);
    /// assert!(matches!(CallResult::new(5, ()), Err(Error::Serialization(_))));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new(args: impl Serialize, kwargs: impl Serialize) -> Result<Self, Error> {
        Ok(CallResult {
            args: to_args(&args)?,
            kwargs: to_kwargs(&kwargs)?,
            ..Self::default()
        })
    }

    /// A result made of values as they are, with no conversion: e.g. an echo of an
    /// invocation's own arguments.
    ///
    /// ```
    /// use izaber_wamp::{CallResult, Dict, Value};
    /// let result = CallResult::from_values(vec![Value::Int(1)], Dict::new());
    /// assert_eq!(result.args, vec![Value::Int(1)]);
    /// ```
    pub fn from_values(args: Vec<Value>, kwargs: Dict) -> Self {
        CallResult {
            args,
            kwargs,
            ..Self::default()
        }
    }

    /// A result whose payload is transparent: `payload` goes as the one binary
    /// argument, described by `ppt` (see [`Ppt`]).
    ///
    /// ```
    /// use izaber_wamp::{CallResult, Ppt};
    /// let result = CallResult::transparent(&Ppt::new("x_custom"), vec![1, 2, 3]);
    /// assert_eq!(result.args.len(), 1);
    /// ```
    pub fn transparent(ppt: &Ppt, payload: Vec<u8>) -> Self {
        CallResult {
            args: vec![Value::Bytes(payload)],
            details: ppt
                .options()
                .filter_map(|(key, value)| Some((key.to_owned(), value?)))
                .collect(),
            ..Self::default()
        }
    }

    /// True for a progressive result (more follow), false for the final one.
    pub fn is_progress(&self) -> bool {
        matches!(self.details.get("progress"), Some(Value::Bool(true)))
    }

    /// The result as received: a transparent payload is decoded where possible.
    pub(crate) fn received(details: Dict, payload: Payload) -> Self {
        let (args, kwargs, transparent) =
            super::ppt::receive(&details, payload.args, payload.kwargs);
        CallResult {
            args,
            kwargs,
            details,
            transparent,
        }
    }

    payload_accessors!();
}

/// An event on one of our subscriptions, as passed to its handler.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// client.subscribe("com.example.temperature", |event| {
///     match event.arg::<f64>(0) {
///         Ok(celsius) => println!(
///             "{celsius} °C from {:?} (publication {})",
///             event.details.publisher_authid, event.details.publication
///         ),
///         Err(e) => eprintln!("bad event: {e}"),
///     }
/// })?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[non_exhaustive]
pub struct Event {
    /// Positional arguments (decoded from a transparent payload when possible).
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// Publication ID, topic and publisher.
    pub details: EventDetails,
    /// The payload as sent, when the publisher used payload transparency.
    pub transparent: Option<Transparent>,
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
///
/// Like `anyhow::Error`, and for the same reason, it does not implement
/// [`std::error::Error`] itself: that would clash with the conversion from every
/// error type that makes `?` work. It implements `Display` and `Debug`, and
/// [`into_wamp`](Self::into_wamp) gives the [`WampError`] the caller receives, which
/// does implement it.
///
/// ```
/// use izaber_wamp::{CallResult, HandlerError, HandlerResult, WampError};
///
/// fn parse_port(text: &str) -> HandlerResult {
///     let port: u16 = text.parse()?; // a plain failure
///     if port == 0 {
///         return Err(WampError::new("com.example.error.invalid_port").into());
///     }
///     Ok(CallResult::value(port)?)
/// }
///
/// assert_eq!(parse_port("80").unwrap().arg::<u16>(0)?, 80);
/// assert_eq!(
///     parse_port("http").unwrap_err(),
///     HandlerError::Failed("invalid digit found in string".into())
/// );
/// assert!(matches!(
///     parse_port("0"),
///     Err(HandlerError::Wamp(e)) if e.uri == "com.example.error.invalid_port"
/// ));
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    ///
    /// ```
    /// use izaber_wamp::HandlerError;
    /// let sent = HandlerError::failed("no disk").into_wamp("wamp.error.runtime_error");
    /// assert_eq!(sent.uri, "wamp.error.runtime_error");
    /// assert_eq!(sent.to_string(), r#"wamp.error.runtime_error: "Call failed: no disk", "no disk""#);
    /// ```
    pub fn into_wamp(self, failure_uri: &str) -> WampError {
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
///
/// ```
/// use izaber_wamp::{CallResult, HandlerResult, Invocation};
///
/// fn add(inv: Invocation) -> HandlerResult {
///     let (a, b): (i64, i64) = inv.args_as()?;
///     Ok(CallResult::value(a + b)?)
/// }
/// // client.register("com.example.add", add)?;
/// ```
pub type HandlerResult = Result<CallResult, HandlerError>;

/// A registration made by this client; pass it to [`Client::unregister`].
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// use izaber_wamp::CallResult;
///
/// let registration = client.register("com.example.ping", |_inv| Ok(CallResult::value("pong")?))?;
/// assert_eq!(registration.procedure(), "com.example.ping");
/// client.unregister(&registration)?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
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
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// let subscription = client.subscribe("com.example.news", |event| println!("{:?}", event.args))?;
/// assert_eq!(subscription.topic(), "com.example.news");
/// client.unsubscribe(&subscription)?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
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
