//! Transports: move whole WAMP frames between the client and the router.
//!
//! A transport is set up blocking (with a deadline) by [`connect`], then switched to
//! non-blocking mode and driven by the event loop through the small [`Transport`] trait:
//! the loop registers it with its poller and calls `receive` / `send` / `flush` when the
//! socket is ready.

mod stream;
mod tls;
mod websocket;

use crate::error::Error;
use crate::protocol::codec::Serializer;
use std::fmt;
use std::time::Instant;

pub(crate) use websocket::WebSocketTransport;

/// What can go wrong on an open transport.
#[derive(Debug)]
pub enum TransportError {
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

/// Something that arrived on a transport.
#[derive(Debug)]
pub enum Received {
    /// One complete WAMP frame.
    Frame(Vec<u8>),
    /// The answer to a [`Transport::ping`]: no data, but proof the peer is alive.
    Pong,
}

/// An open, non-blocking connection carrying WAMP frames.
pub trait Transport: Send {
    /// The serializer both sides agreed on.
    fn serializer(&self) -> Serializer;

    /// The largest frame the peer accepts, in bytes.
    fn max_outgoing(&self) -> usize;

    /// Registers the socket with the poller for read and write readiness.
    fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> std::io::Result<()>;

    /// Queues one frame. It goes out on the next [`flush`](Transport::flush).
    fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportError>;

    /// Writes queued data. `Ok(true)` when everything is written, `Ok(false)` when the
    /// socket is full (wait for write readiness).
    fn flush(&mut self) -> Result<bool, TransportError>;

    /// The next thing received, or `Ok(None)` when no more data is ready.
    fn receive(&mut self) -> Result<Option<Received>, TransportError>;

    /// Sends a liveness probe (a WebSocket ping), if the transport has one; any frame
    /// received afterwards proves the peer alive.
    fn ping(&mut self) -> Result<(), TransportError>;

    /// Starts a clean close (e.g. a WebSocket close frame), best effort.
    fn close(&mut self);
}

/// Connection settings shared by all transports.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `ws://` or `wss://` URL of the router.
    pub url: String,
    /// Serializers to offer, most preferred first.
    pub serializers: Vec<Serializer>,
    /// The largest message accepted or sent, in bytes.
    pub max_message_size: usize,
    /// Give up on connecting at this instant.
    pub deadline: Instant,
}

/// Opens a transport to `options.url`, choosing the transport by URL scheme.
pub fn connect(options: &ConnectOptions) -> Result<Box<dyn Transport>, Error> {
    let scheme = options.url.split("://").next().unwrap_or_default();
    match scheme {
        "ws" | "wss" => Ok(Box::new(WebSocketTransport::connect(options)?)),
        _ => Err(Error::Connect {
            url: options.url.clone(),
            detail: format!("unsupported URL scheme {scheme:?} (expected ws:// or wss://)"),
        }),
    }
}
