//! The one public error type.

use crate::proto::auth::KeyError;
use crate::proto::codec::CodecError;
use crate::proto::session::CloseReason;
use crate::proto::uri::UriError;
use crate::proto::value::ValueError;
use std::fmt;
use std::time::Duration;

pub use crate::proto::WampError;

/// Shorthand for `Result<T, izaber_wamp::Error>`.
///
/// ```
/// use izaber_wamp::{Client, Result};
///
/// fn add(client: &Client, a: i64, b: i64) -> Result<i64> {
///     client.call("com.example.add", (a, b))?.arg(0)
/// }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in izaber-wamp. Each variant names its cause.
///
/// ```
/// use izaber_wamp::{Error, WampError};
///
/// fn explain(err: &Error) -> String {
///     match err {
///         Error::Wamp(e) if e.uri == "wamp.error.no_such_procedure" => "nobody offers it".into(),
///         Error::Timeout { after, .. } => format!("no answer within {after:?}"),
///         Error::Connect { kind, .. } => format!("cannot connect ({kind:?})"),
///         other => other.to_string(),
///     }
/// }
///
/// let err = Error::from(WampError::new("wamp.error.no_such_procedure"));
/// assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_procedure"));
/// assert_eq!(explain(&err), "nobody offers it");
/// assert_eq!(explain(&Error::Closed), "the client is closed");
/// ```
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
    /// The connection could not be set up (DNS, TCP, TLS, the WebSocket or RawSocket
    /// handshake, or the join).
    Connect {
        /// The URL being connected to.
        url: String,
        /// What failed, in words.
        detail: String,
        /// What kind of failure it was, for programs that react to it.
        kind: ConnectFailure,
        /// The operating system's error kind, when a socket error caused it.
        io_kind: Option<std::io::ErrorKind>,
    },
    /// The connection was lost while the request was pending or before it could be sent.
    ConnectionLost(String),
    /// The client was closed (by `close()` or by dropping it) and can no longer be used.
    Closed,
    /// An option has a value the protocol does not allow; nothing was sent.
    InvalidOption {
        /// The option's name on the wire, e.g. `match`.
        option: String,
        /// What it must be.
        expected: String,
        /// What it was.
        found: String,
    },
    /// The router refused or ended the session with ABORT.
    Abort {
        /// The ABORT reason URI, e.g. `wamp.error.not_authorized`.
        reason: String,
        /// The router's message, when it gave one.
        message: Option<String>,
    },
    /// This client ended the session with ABORT while joining, e.g. because the
    /// router asked for an authentication method that was not offered.
    ClientAbort {
        /// The ABORT reason URI sent, e.g. `wamp.error.authentication_failed`.
        reason: String,
        /// Why.
        message: String,
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
    /// A request that waits for its answer was made from an inline handler (see
    /// [`RegisterOptions::inline`](crate::RegisterOptions::inline)): that handler runs
    /// on the thread that reads the answers, so the wait could never end. Nothing was
    /// sent; use the `_async` form, or run the handler on the worker pool.
    WouldDeadlock {
        /// What was asked for, e.g. `call com.example.add`.
        operation: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Wamp(e) => write!(f, "WAMP error {e}"),
            Error::Timeout { operation, after } => {
                write!(f, "{operation} timed out after {after:?}")
            }
            Error::Connect { url, detail, .. } => write!(f, "cannot connect to {url}: {detail}"),
            Error::ConnectionLost(why) => write!(f, "connection lost: {why}"),
            Error::Closed => f.write_str("the client is closed"),
            Error::Abort { reason, message } => match message {
                Some(m) => write!(f, "session aborted by the router: {reason}: {m}"),
                None => write!(f, "session aborted by the router: {reason}"),
            },
            Error::InvalidOption {
                option,
                expected,
                found,
            } => write!(f, "option {option} must be {expected}, not {found}"),
            Error::ClientAbort { reason, message } => {
                write!(f, "session aborted by the client: {reason}: {message}")
            }
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
            Error::WouldDeadlock { operation } => write!(
                f,
                "{operation} cannot wait for its answer in an inline handler, which runs on \
                 the thread that reads the answers"
            ),
        }
    }
}

// Every inner error is printed by `Display` already, so `source()` does not repeat it
// (error reporters print the source chain after the message); the causes stay
// inspectable through the variants' fields.
impl std::error::Error for Error {}

/// What kind of failure ended a connection attempt.
///
/// ```
/// use izaber_wamp::{Client, ClientConfig, ConnectFailure, Error, ReconnectPolicy};
/// let config = ClientConfig::new("ws://127.0.0.1:1", "izaber")
///     .with_reconnect(ReconnectPolicy::disabled());
/// match Client::connect(config) {
///     Err(Error::Connect { kind: ConnectFailure::Refused, .. }) => println!("no router there"),
///     other => println!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// The URL cannot be used (no host, a bad port or path).
    InvalidUrl,
    /// The host name did not resolve.
    Dns,
    /// Nothing accepts connections there.
    Refused,
    /// No answer in time (`connect_timeout`).
    TimedOut,
    /// TLS failed: the router's certificate, the client certificate, or the protocol.
    Tls,
    /// The router refused the WebSocket or RawSocket handshake (an HTTP status, no
    /// common serializer, a RawSocket error code).
    Handshake,
    /// The connection closed or broke while it was being set up.
    Closed,
    /// Another socket error (see `io_kind`).
    Io,
    /// This machine could not start the attempt (a poller or a thread).
    Local,
}

impl ConnectFailure {
    /// The kind of a socket error (TLS errors are told apart where TLS runs).
    pub(crate) fn of(error: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match error.kind() {
            K::ConnectionRefused | K::NotFound | K::AddrNotAvailable => ConnectFailure::Refused,
            K::TimedOut | K::WouldBlock => ConnectFailure::TimedOut,
            K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                ConnectFailure::Closed
            }
            _ => ConnectFailure::Io,
        }
    }
}

impl Error {
    /// A connection failure of `kind` for `url`.
    pub(crate) fn connect(url: &str, kind: ConnectFailure, detail: impl Into<String>) -> Self {
        Error::Connect {
            url: url.to_owned(),
            detail: detail.into(),
            kind,
            io_kind: None,
        }
    }

    /// A connection failure for `url` caused by the socket error `error`.
    pub(crate) fn connect_io(url: &str, error: &std::io::Error, detail: impl Into<String>) -> Self {
        Error::Connect {
            url: url.to_owned(),
            detail: detail.into(),
            kind: ConnectFailure::of(error),
            io_kind: Some(error.kind()),
        }
    }

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

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::Config(e.0)
    }
}

impl From<CloseReason> for Error {
    /// The error given to requests that were pending when the session ended.
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::ClientGoodbye => Error::Closed,
            CloseReason::RouterGoodbye { .. } => Error::ConnectionLost(reason.to_string()),
            CloseReason::Abort { reason, message } => Error::Abort { reason, message },
            CloseReason::ClientAbort { reason, message } => Error::ClientAbort { reason, message },
            CloseReason::ProtocolViolation(why) => Error::ProtocolViolation(why),
            CloseReason::ConnectionLost(why) => Error::ConnectionLost(why),
        }
    }
}

impl From<crate::proto::Error> for Error {
    fn from(e: crate::proto::Error) -> Self {
        use crate::proto::Error as Proto;
        match e {
            Proto::Wamp(e) => Error::Wamp(e),
            Proto::InvalidUri(e) => Error::InvalidUri(e),
            Proto::InvalidOption {
                option,
                expected,
                found,
            } => Error::InvalidOption {
                option,
                expected,
                found,
            },
            Proto::PayloadTooLarge { size, limit } => Error::PayloadTooLarge { size, limit },
            Proto::Codec(e) => Error::from(e),
            Proto::NotJoined => Error::ConnectionLost("the session has not joined yet".into()),
            Proto::SessionEnded(reason) => Error::from(reason),
            other => Error::ProtocolViolation(other.to_string()),
        }
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Unencodable { .. } => Error::Serialization(e.to_string()),
            CodecError::FeatureDisabled {
                serializer,
                feature,
            } => Error::FeatureDisabled {
                feature,
                what: format!("serializer {serializer}"),
            },
            // Undecodable, Malformed and anything later versions add: what came in
            // cannot be used.
            _ => Error::ProtocolViolation(e.to_string()),
        }
    }
}
