//! Why a request failed, as far as the protocol can tell.
//!
//! The session state machine completes every request with a [`Result`] whose error is
//! [`Error`]. It knows nothing of sockets or threads, so it has no connection or
//! timeout errors: the I/O layer above adds those in its own error type.

use crate::codec::CodecError;
use crate::session::CloseReason;
use crate::uri::UriError;
use crate::value::{Dict, Value};
use std::fmt;

/// An error reported by a WAMP peer: an error URI plus its positional and keyword
/// payload, all kept as received.
///
/// ```
/// use izaber_wamp_proto::WampError;
///
/// let err = WampError::new("com.example.error.not_found").with_args(vec!["no such user".into()]);
/// assert_eq!(err.message(), Some("no such user"));
/// assert_eq!(err.to_string(), "com.example.error.not_found: \"no such user\"");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
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
        for (i, arg) in self.args.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { ", " })?;
            fmt::Display::fmt(arg, f)?;
        }
        if !self.kwargs.is_empty() {
            write!(f, " {}", Value::Dict(self.kwargs.clone()))?;
        }
        Ok(())
    }
}

impl std::error::Error for WampError {}

/// Why the session could not carry out a request.
///
/// ```
/// use izaber_wamp_proto::message::Payload;
/// use izaber_wamp_proto::session::{Output, Session, SessionConfig};
/// use izaber_wamp_proto::{Dict, Error, WampError};
///
/// // Nothing can be sent before WELCOME: the request completes at once.
/// let mut session = Session::new(SessionConfig::new("realm1"));
/// let sent = session.call("com.example.add".into(), Dict::new(), Payload::default(), "add");
/// assert_eq!(sent, None);
/// assert!(matches!(
///     session.pop_output(),
///     Some(Output::Completed { ctx: "add", result: Err(Error::NotJoined) })
/// ));
///
/// let err = Error::from(WampError::new("wamp.error.no_such_procedure"));
/// assert_eq!(err.to_string(), "WAMP error wamp.error.no_such_procedure");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The router or the remote callee answered with ERROR.
    Wamp(WampError),
    /// A URI was refused before sending, so the router never saw it.
    InvalidUri(UriError),
    /// An option has a value the protocol does not allow; nothing was sent.
    InvalidOption {
        /// The option's name on the wire, e.g. `match`.
        option: String,
        /// What it must be, e.g. `"exact", "prefix" or "wildcard"`.
        expected: String,
        /// What it was.
        found: String,
    },
    /// The encoded message is larger than the peer accepts; nothing was sent.
    PayloadTooLarge {
        /// The encoded size in bytes.
        size: usize,
        /// The peer's limit in bytes.
        limit: usize,
    },
    /// The message could not be encoded with the session's serializer.
    Codec(CodecError),
    /// The session has not joined yet, so no request can be sent.
    NotJoined,
    /// The session is over (or closing), for the given reason.
    SessionEnded(CloseReason),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Wamp(e) => write!(f, "WAMP error {e}"),
            Error::InvalidUri(e) => e.fmt(f),
            Error::InvalidOption {
                option,
                expected,
                found,
            } => write!(f, "option {option} must be {expected}, not {found}"),
            Error::PayloadTooLarge { size, limit } => write!(
                f,
                "message of {size} bytes exceeds the maximum message size of {limit} bytes"
            ),
            Error::Codec(e) => e.fmt(f),
            Error::NotJoined => f.write_str("the session has not joined yet"),
            Error::SessionEnded(reason) => write!(f, "the session ended: {reason}"),
        }
    }
}

// The inner errors are printed by `Display`, so `source()` does not repeat them.
impl std::error::Error for Error {}

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

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        Error::Codec(e)
    }
}
