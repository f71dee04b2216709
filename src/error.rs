//! The one public error type.

use crate::protocol::codec::CodecError;
use crate::protocol::uri::UriError;
use crate::value::{Dict, Value, ValueError};
use std::fmt;
use std::time::Duration;

/// Shorthand for `Result<T, izaber_wamp::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error reported by a WAMP peer: an error URI plus its positional and keyword
/// payload, all kept as received.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WampError {
    /// The error URI, e.g. `wamp.error.no_such_procedure`.
    pub uri: String,
    /// Positional error arguments (often a human-readable message first).
    pub args: Vec<Value>,
    /// Keyword error arguments.
    pub kwargs: Dict,
}

impl WampError {
    /// An error with the given URI and no payload.
    ///
    /// ```
    /// let err = izaber_wamp::WampError::new("com.example.error.not_found")
    ///     .with_args(vec!["no such user".into()]);
    /// assert_eq!(err.to_string(), "com.example.error.not_found: \"no such user\"");
    /// ```
    pub fn new(uri: impl Into<String>) -> Self {
        WampError {
            uri: uri.into(),
            args: Vec::new(),
            kwargs: Dict::new(),
        }
    }

    /// Sets the positional arguments.
    pub fn with_args(mut self, args: Vec<Value>) -> Self {
        self.args = args;
        self
    }

    /// Sets the keyword arguments.
    pub fn with_kwargs(mut self, kwargs: Dict) -> Self {
        self.kwargs = kwargs;
        self
    }

    /// The first positional argument when it is a string: by convention the message.
    pub fn message(&self) -> Option<&str> {
        self.args.first().and_then(Value::as_str)
    }
}

impl fmt::Display for WampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)?;
        if !self.args.is_empty() {
            let args: Vec<String> = self.args.iter().map(Value::to_string).collect();
            write!(f, ": {}", args.join(", "))?;
        }
        if !self.kwargs.is_empty() {
            write!(f, " {}", Value::Dict(self.kwargs.clone()))?;
        }
        Ok(())
    }
}

impl std::error::Error for WampError {}

/// Everything that can go wrong in izaber-wamp. Each variant names its cause.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The router or the remote callee answered with an error.
    Wamp(WampError),
    /// The request got no answer in time. For calls, the router was asked to cancel it.
    Timeout {
        /// What timed out, e.g. `call com.example.add`.
        operation: String,
        /// The timeout that passed.
        after: Duration,
    },
    /// The connection could not be set up (DNS, TCP, TLS or WebSocket handshake).
    Connect {
        /// The URL being connected to.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The connection was lost while the request was pending or before it could be sent.
    ConnectionLost(String),
    /// The client was closed (by `close()` or by dropping it) and can no longer be used.
    Closed,
    /// The router refused or ended the session with ABORT.
    Abort {
        /// The ABORT reason URI, e.g. `wamp.error.not_authorized`.
        reason: String,
        /// The router's message, when it gave one.
        message: Option<String>,
    },
    /// The peer broke the WAMP protocol; the connection was closed.
    ProtocolViolation(String),
    /// A URI was refused before sending, so the router never saw it.
    InvalidUri(UriError),
    /// A message is larger than the allowed maximum; nothing was sent.
    PayloadTooLarge {
        /// The encoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A value could not be converted to or from the WAMP payload or wire format.
    Serialization(String),
    /// The configuration is invalid.
    Config(String),
    /// There is no connection to use: not initialized, or configured not to connect.
    NotConnected(String),
    /// Something this build of izaber-wamp left out was asked for: a transport, TLS or
    /// a serializer whose Cargo feature is not enabled. Nothing was sent; enable the
    /// feature ([Cargo features](crate#cargo-features)) to use it.
    FeatureDisabled {
        /// The Cargo feature of izaber-wamp to enable, e.g. `websocket`.
        feature: &'static str,
        /// What needs it, e.g. `ws://` or `serializer cbor`.
        what: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Wamp(e) => write!(f, "WAMP error {e}"),
            Error::Timeout { operation, after } => {
                write!(f, "{operation} timed out after {after:?}")
            }
            Error::Connect { url, detail } => write!(f, "cannot connect to {url}: {detail}"),
            Error::ConnectionLost(why) => write!(f, "connection lost: {why}"),
            Error::Closed => f.write_str("the client is closed"),
            Error::Abort { reason, message } => match message {
                Some(m) => write!(f, "session aborted by the router: {reason}: {m}"),
                None => write!(f, "session aborted by the router: {reason}"),
            },
            Error::ProtocolViolation(why) => write!(f, "WAMP protocol violation: {why}"),
            Error::InvalidUri(e) => e.fmt(f),
            Error::PayloadTooLarge { size, limit } => write!(
                f,
                "message of {size} bytes exceeds the maximum message size of {limit} bytes"
            ),
            Error::Serialization(why) => write!(f, "serialization error: {why}"),
            Error::Config(why) => write!(f, "configuration error: {why}"),
            Error::NotConnected(why) => write!(f, "not connected: {why}"),
            Error::FeatureDisabled { feature, what } => {
                write!(f, "{what} needs the `{feature}` feature of izaber-wamp")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Wamp(e) => Some(e),
            Error::InvalidUri(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// The WAMP error URI when this is a [`Error::Wamp`].
    pub fn wamp_uri(&self) -> Option<&str> {
        match self {
            Error::Wamp(e) => Some(&e.uri),
            _ => None,
        }
    }
}

impl From<WampError> for Error {
    fn from(e: WampError) -> Self {
        Error::Wamp(e)
    }
}

impl From<UriError> for Error {
    fn from(e: UriError) -> Self {
        Error::InvalidUri(e)
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Self {
        Error::Serialization(e.to_string())
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Unencodable { .. } => Error::Serialization(e.to_string()),
            CodecError::Undecodable { .. } | CodecError::Malformed(_) => {
                Error::ProtocolViolation(e.to_string())
            }
            CodecError::FeatureDisabled {
                serializer,
                feature,
            } => Error::FeatureDisabled {
                feature,
                what: format!("serializer {serializer}"),
            },
        }
    }
}
