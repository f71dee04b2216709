//! Transports: move whole WAMP frames between the client and the router.
//!
//! The URL scheme chooses the transport:
//!
//! | scheme | transport |
//! |---|---|
//! | `ws://`, `wss://` | WebSocket, plain or TLS |
//! | `tcpip://` (alias `rs://`) | RawSocket over TCP |
//! | `tcpips://` (alias `rss://`) | RawSocket over TCP with TLS |
//! | `unix:///path/to/socket` | RawSocket over a Unix socket (Unix only) |
//!
//! TLS (`wss://`, `tcpips://`) is set up with [`TlsOptions`].
//!
//! Each transport and TLS is a Cargo feature: `websocket` (`ws://`), `rawsocket`
//! (`tcpip://`, `unix://`) and `tls` (the `s` of `wss://` and `tcpips://`, together
//! with the transport's feature). Every scheme is recognized in every build; one whose
//! feature is off fails with [`Error::FeatureDisabled`] before anything is sent.
//!
//! A transport is set up by [`connect`] on a connector thread, blocking but bounded by
//! a [`SetupLimit`] (the attempt's deadline, and a flag that abandons it); the WAMP
//! join runs over it there too. Then [`Transport::finish_setup`] switches it to
//! non-blocking mode and the event loop drives it through the small [`Transport`]
//! trait: it registers it with its poller and calls `receive` / `send` / `flush` when
//! the socket is ready.

#[cfg(feature = "rawsocket")]
mod rawsocket;
#[cfg(feature = "websocket")]
mod read_ahead;
// The sockets, byte streams and TLS are only there for the transports to use.
#[cfg(any(feature = "websocket", feature = "rawsocket"))]
mod socket;
#[cfg(any(feature = "websocket", feature = "rawsocket"))]
mod stream;
#[cfg(all(feature = "tls", any(feature = "websocket", feature = "rawsocket")))]
mod tls;
mod tls_options;
#[cfg(feature = "websocket")]
mod websocket;

use crate::error::{ConnectFailure, Error};
use crate::proto::codec::Serializer;
use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

pub use tls_options::TlsOptions;

/// What bounds one connection attempt: its deadline, and a flag set when the client
/// closes, which abandons the attempt (every blocking step checks both at least
/// every 100 ms).
// Without a transport feature nothing builds these; the loop still names them.
#[cfg_attr(
    not(any(feature = "websocket", feature = "rawsocket")),
    allow(dead_code)
)]
#[derive(Debug, Clone)]
pub(crate) struct SetupLimit {
    pub deadline: Instant,
    pub abandoned: Arc<AtomicBool>,
}

/// What can go wrong on an open transport.
// Without a transport feature nothing builds these; the loop still names them.
#[cfg_attr(
    not(any(feature = "websocket", feature = "rawsocket")),
    allow(dead_code)
)]
#[derive(Debug)]
pub(crate) enum TransportError {
    /// The peer closed the connection (EOF or a close frame).
    Closed(String),
    /// An incoming message is larger than allowed.
    TooLarge {
        /// The message size, when known.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The peer sent something the transport cannot accept (e.g. a binary frame on JSON).
    Protocol(String),
    /// A socket error.
    Io(std::io::Error),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Closed(why) => write!(f, "connection closed: {why}"),
            TransportError::TooLarge { size, limit } => write!(
                f,
                "incoming message of {size} bytes exceeds the maximum message size of {limit} bytes"
            ),
            TransportError::Protocol(why) => write!(f, "transport protocol error: {why}"),
            TransportError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

impl TransportError {
    /// What kind of connection failure this error is, when it ends a connection
    /// attempt: TLS failures are told apart from the socket's own errors.
    pub fn connect_failure(&self) -> ConnectFailure {
        match self {
            #[cfg(any(feature = "websocket", feature = "rawsocket"))]
            TransportError::Io(e) if stream::describe_tls_error(e).is_some() => ConnectFailure::Tls,
            TransportError::Io(e) => ConnectFailure::of(e),
            TransportError::Closed(_) => ConnectFailure::Closed,
            TransportError::TooLarge { .. } | TransportError::Protocol(_) => {
                ConnectFailure::Handshake
            }
        }
    }
}

/// The bytes of one received frame, in whatever buffer the transport read them into:
/// the loop only reads them, so a WebSocket message is not copied out of
/// tungstenite's buffer.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A buffer of its own (RawSocket).
    // Without RawSocket nothing builds it; the deref below still names it.
    #[cfg_attr(not(feature = "rawsocket"), allow(dead_code))]
    Owned(Vec<u8>),
    /// A slice of tungstenite's read buffer.
    #[cfg(feature = "websocket")]
    Shared(tungstenite::Bytes),
}

impl std::ops::Deref for Frame {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Frame::Owned(bytes) => bytes,
            #[cfg(feature = "websocket")]
            Frame::Shared(bytes) => bytes,
        }
    }
}

/// Something that arrived on a transport.
// Without a transport feature nothing builds these; the loop still names them.
#[cfg_attr(
    not(any(feature = "websocket", feature = "rawsocket")),
    allow(dead_code)
)]
#[derive(Debug)]
pub(crate) enum Received {
    /// One complete WAMP frame.
    Frame(Frame),
    /// The answer to a [`Transport::ping`]: no data, but proof the peer is alive.
    Pong,
}

/// An open, non-blocking connection carrying WAMP frames.
pub(crate) trait Transport: Send {
    /// The serializer both sides agreed on.
    fn serializer(&self) -> Serializer;

    /// The largest frame the peer accepts, in bytes.
    fn max_outgoing(&self) -> usize;

    /// Registers the socket with the poller for read and write readiness.
    fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> std::io::Result<()>;

    /// Bytes read from the socket so far: with no message completed, a reader
    /// knows a long one is on its way.
    fn bytes_read(&mut self) -> u64;

    /// The socket's descriptor, for a poller that registers it itself.
    #[cfg(unix)]
    fn raw_fd(&mut self) -> std::os::fd::RawFd;

    /// Queues one frame. It goes out on the next [`flush`](Transport::flush).
    fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportError>;

    /// Writes queued data. `Ok(true)` when everything is written, `Ok(false)` when the
    /// socket is full (wait for write readiness).
    fn flush(&mut self) -> Result<bool, TransportError>;

    /// The poller reported the socket readable: data may have arrived since the last
    /// [`receive`](Transport::receive) found none.
    fn readable(&mut self) {}

    /// The next thing received, or `Ok(None)` when no more data is ready.
    fn receive(&mut self) -> Result<Option<Received>, TransportError>;

    /// Sends a liveness probe (a WebSocket ping), if the transport has one; any frame
    /// received afterwards proves the peer alive.
    fn ping(&mut self) -> Result<(), TransportError>;

    /// Whether [`ping`](Transport::ping) sends a probe the peer answers. When false,
    /// the loop does not wait for answers, and a lost connection shows only as EOF or
    /// a socket error.
    fn probes_liveness(&self) -> bool {
        true
    }

    /// Starts a clean close (e.g. a WebSocket close frame), best effort.
    fn close(&mut self);

    /// Ends setup: from now on the transport is non-blocking, for the event loop.
    /// Until then every operation blocks, within the attempt's [`SetupLimit`], and
    /// [`receive`](Transport::receive) waits for a frame.
    fn finish_setup(&mut self) -> std::io::Result<()>;
}

/// Builds the [`Error::Connect`] of `kind` for `url` from a description of what failed.
pub(crate) fn connect_failure(
    url: &str,
    kind: ConnectFailure,
) -> impl Fn(String) -> Error + Copy + '_ {
    move |detail| Error::connect(url, kind, detail)
}

/// The [`Error::Connect`] for a socket error `error` met while `doing` something: a
/// TLS failure is told apart from the socket's own errors.
#[cfg(any(feature = "websocket", feature = "rawsocket"))]
pub(crate) fn connect_io_failure(url: &str, error: &std::io::Error, detail: String) -> Error {
    match stream::describe_tls_error(error) {
        Some(tls) => Error::connect(url, ConnectFailure::Tls, tls),
        None => Error::connect_io(url, error, detail),
    }
}

/// Connection settings shared by all transports.
// Without a transport feature the transports' settings go unread.
#[cfg_attr(
    not(any(feature = "websocket", feature = "rawsocket")),
    allow(dead_code)
)]
#[derive(Debug, Clone)]
pub(crate) struct ConnectOptions {
    /// The router URL; its scheme chooses the transport (see the module docs).
    pub url: String,
    /// Serializers to offer, most preferred first.
    pub serializers: Vec<Serializer>,
    /// The largest message accepted or sent, in bytes.
    pub max_message_size: usize,
    /// When to give up on connecting, and whether the attempt was abandoned.
    pub limit: SetupLimit,
    /// TLS settings, for `wss://` and `tcpips://`.
    pub tls: TlsOptions,
}

/// The kind of transport a URL scheme names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WebSocket { tls: bool },
    RawSocketTcp { tls: bool },
    RawSocketUnix,
}

impl Kind {
    /// The Cargo feature this kind of transport needs that this build lacks, if any:
    /// the transport's own feature first, then `tls`.
    fn missing_feature(self) -> Option<&'static str> {
        let (transport, compiled_in, tls) = match self {
            Kind::WebSocket { tls } => ("websocket", cfg!(feature = "websocket"), tls),
            Kind::RawSocketTcp { tls } => ("rawsocket", cfg!(feature = "rawsocket"), tls),
            Kind::RawSocketUnix => ("rawsocket", cfg!(feature = "rawsocket"), false),
        };
        if !compiled_in {
            Some(transport)
        } else if tls && !cfg!(feature = "tls") {
            Some("tls")
        } else {
            None
        }
    }
}

fn kind(url: &str) -> Result<Kind, String> {
    let scheme = match url.split_once("://") {
        Some((scheme, _)) => scheme.to_ascii_lowercase(),
        None => {
            return Err(format!(
                "{url:?} is not a URL (expected e.g. ws://host:port)"
            ))
        }
    };
    Ok(match scheme.as_str() {
        "ws" => Kind::WebSocket { tls: false },
        "wss" => Kind::WebSocket { tls: true },
        "tcpip" | "rs" => Kind::RawSocketTcp { tls: false },
        "tcpips" | "rss" => Kind::RawSocketTcp { tls: true },
        "unix" => Kind::RawSocketUnix,
        other => {
            return Err(format!(
                "unsupported URL scheme {other:?} \
                 (expected ws, wss, tcpip, rs, tcpips, rss or unix)"
            ))
        }
    })
}

/// The error for `url` when its transport needs `feature`, which this build lacks:
/// e.g. "ws:// needs the `websocket` feature of izaber-wamp".
fn feature_disabled(feature: &'static str, url: &str) -> Error {
    let scheme = url.split_once("://").map_or(url, |(scheme, _)| scheme);
    Error::FeatureDisabled {
        feature,
        what: format!("{}://", scheme.to_ascii_lowercase()),
    }
}

/// Fails with [`Error::FeatureDisabled`] when the transport `url` names is not
/// compiled in.
fn check_compiled_in(kind: Kind, url: &str) -> Result<(), Error> {
    match kind.missing_feature() {
        Some(feature) => Err(feature_disabled(feature, url)),
        None => Ok(()),
    }
}

/// Checks what can be checked before connecting: the URL scheme, that its transport is
/// compiled in, and for TLS that the CA and client certificate files can be used (this
/// also loads and caches the TLS configuration). Errors are [`Error::Config`] and
/// [`Error::FeatureDisabled`].
pub(crate) fn prepare(options: &ConnectOptions) -> Result<(), Error> {
    let kind = kind(&options.url).map_err(Error::Config)?;
    check_compiled_in(kind, &options.url)?;
    let tls = match kind {
        Kind::WebSocket { tls } | Kind::RawSocketTcp { tls } => tls,
        Kind::RawSocketUnix if cfg!(unix) => false,
        Kind::RawSocketUnix => {
            return Err(Error::Config(
                "unix:// URLs (RawSocket over a Unix socket) need a Unix system".into(),
            ))
        }
    };
    if tls {
        load_tls_config(&options.tls)?;
    }
    Ok(())
}

/// Loads the TLS configuration, so unusable certificate files fail before connecting.
#[cfg(all(feature = "tls", any(feature = "websocket", feature = "rawsocket")))]
fn load_tls_config(options: &TlsOptions) -> Result<(), Error> {
    tls::client_config(options).map_err(Error::Config)?;
    Ok(())
}

/// Without TLS compiled in there is nothing to load: [`prepare`] has refused TLS URLs.
#[cfg(not(all(feature = "tls", any(feature = "websocket", feature = "rawsocket"))))]
fn load_tls_config(_: &TlsOptions) -> Result<(), Error> {
    Ok(())
}

/// Opens a transport to `options.url`, choosing the transport by URL scheme.
///
/// Fails with [`Error::FeatureDisabled`] when that transport (or TLS) is not compiled
/// in.
pub(crate) fn connect(options: &ConnectOptions) -> Result<Box<dyn Transport>, Error> {
    let kind =
        kind(&options.url).map_err(connect_failure(&options.url, ConnectFailure::InvalidUrl))?;
    check_compiled_in(kind, &options.url)?;
    match kind {
        Kind::WebSocket { .. } => open_websocket(options),
        Kind::RawSocketTcp { .. } | Kind::RawSocketUnix => open_rawsocket(options),
    }
}

#[cfg(feature = "websocket")]
fn open_websocket(options: &ConnectOptions) -> Result<Box<dyn Transport>, Error> {
    Ok(Box::new(websocket::WebSocketTransport::connect(options)?))
}

/// Without the `websocket` feature: [`connect`] has refused the URL already.
#[cfg(not(feature = "websocket"))]
fn open_websocket(options: &ConnectOptions) -> Result<Box<dyn Transport>, Error> {
    Err(feature_disabled("websocket", &options.url))
}

#[cfg(feature = "rawsocket")]
fn open_rawsocket(options: &ConnectOptions) -> Result<Box<dyn Transport>, Error> {
    Ok(Box::new(rawsocket::RawSocketTransport::connect(options)?))
}

/// Without the `rawsocket` feature: [`connect`] has refused the URL already.
#[cfg(not(feature = "rawsocket"))]
fn open_rawsocket(options: &ConnectOptions) -> Result<Box<dyn Transport>, Error> {
    Err(feature_disabled("rawsocket", &options.url))
}

#[cfg(all(test, not(feature = "websocket")))]
mod tests {
    use super::*;

    #[test]
    fn a_transport_that_is_not_compiled_in_is_refused() {
        let options = ConnectOptions {
            url: "ws://127.0.0.1:1".into(),
            serializers: vec![Serializer::Json],
            max_message_size: 1024,
            limit: SetupLimit {
                deadline: Instant::now() + std::time::Duration::from_secs(1),
                abandoned: Default::default(),
            },
            tls: Default::default(),
        };
        match connect(&options) {
            Err(Error::FeatureDisabled { feature, what }) => {
                assert_eq!((feature, what.as_str()), ("websocket", "ws://"));
            }
            Err(other) => panic!("expected FeatureDisabled, got {other:?}"),
            Ok(_) => panic!("connected without the websocket feature"),
        }
    }
}
