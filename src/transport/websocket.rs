//! WAMP over WebSocket (tungstenite): `ws://` and `wss://`.

use super::read_ahead::ReadAhead;
use super::socket::is_timeout;
use super::stream::{describe_tls_error, Connected, Stream};
use super::{connect_failure, connect_io_failure};
use super::{ConnectOptions, Frame, Received, Transport, TransportError};
use crate::error::ConnectFailure;
use crate::error::Error;
use crate::proto::codec::Serializer;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::{HeaderValue, Uri};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// tungstenite's read size. It zero-fills that much before every read, also before
/// the read that finds nothing more (two per message), so it stays about the size of
/// a typical message: 8 KiB made the zeroing most of a small call's instructions
/// (callgrind: 111 M instructions for 2,000 sequential calls, 80 M with 1 KiB).
/// [`ReadAhead`] reads the socket in large chunks; a larger message only takes more
/// copies from it, each zeroing what it copies.
const READ_BUFFER_SIZE: usize = 1024;

/// An open WebSocket carrying one WAMP message per WebSocket message.
pub(crate) struct WebSocketTransport {
    socket: WebSocket<ReadAhead<Stream>>,
    serializer: Serializer,
    max_message_size: usize,
    /// Plain TCP: a short read means the socket is empty (not so under TLS).
    plain: bool,
}

impl WebSocketTransport {
    /// Connects and negotiates a `wamp.2.*` subprotocol; the transport stays in setup
    /// mode until [`Transport::finish_setup`].
    pub fn connect(options: &ConnectOptions) -> Result<Self, Error> {
        let url = options.url.as_str();
        let fail = connect_failure(url, ConnectFailure::InvalidUrl);
        if options.serializers.is_empty() {
            return Err(Error::Config("no serializer configured".into()));
        }
        let uri: Uri = url.parse().map_err(|e| fail(format!("invalid URL: {e}")))?;
        let secure = uri.scheme_str() == Some("wss");
        let host = uri
            .host()
            .ok_or_else(|| fail("the URL has no host".into()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });

        let mut request = uri
            .clone()
            .into_client_request()
            .map_err(|e| fail(e.to_string()))?;
        let offered: Vec<&str> = options
            .serializers
            .iter()
            .map(|s| s.subprotocol())
            .collect();
        let protocols =
            HeaderValue::from_str(&offered.join(", ")).map_err(|e| fail(e.to_string()))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocols);

        let tls = secure.then_some(&options.tls);
        let stream = Connected::open(url, host, port, tls, &options.limit)?;
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_SIZE)
            .max_message_size(Some(options.max_message_size))
            .max_frame_size(Some(options.max_message_size));
        let (socket, response) = match tungstenite::client::client_with_config(
            request,
            ReadAhead::new(stream),
            Some(config),
        ) {
            Ok(done) => done,
            Err(HandshakeError::Failure(e)) => return Err(handshake_failure(url, e)),
            Err(HandshakeError::Interrupted(_)) => {
                return Err(Error::connect(
                    url,
                    ConnectFailure::TimedOut,
                    "timed out during the TLS or WebSocket handshake",
                ))
            }
        };
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let serializer = Serializer::from_subprotocol(chosen)
            .filter(|s| options.serializers.contains(s))
            .ok_or_else(|| {
                Error::connect(
                    url,
                    ConnectFailure::Handshake,
                    format!("the router chose subprotocol {chosen:?}, not one of {offered:?}"),
                )
            })?;
        log::debug!("connected to {url} with {}", serializer.subprotocol());
        Ok(WebSocketTransport {
            socket,
            serializer,
            max_message_size: options.max_message_size,
            plain: !secure,
        })
    }
}

fn handshake_failure(url: &str, error: tungstenite::Error) -> Error {
    match error {
        tungstenite::Error::Http(response) => {
            let status = response.status();
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let detail = format!(
                "the router refused the WebSocket upgrade with HTTP {status} {}",
                body.trim()
            );
            Error::connect(url, ConnectFailure::Handshake, detail)
        }
        tungstenite::Error::Io(e) if is_timeout(&e) && describe_tls_error(&e).is_none() => {
            Error::connect_io(url, &e, "timed out during the TLS or WebSocket handshake")
        }
        tungstenite::Error::Io(e) => connect_io_failure(url, &e, e.to_string()),
        other => Error::connect(url, ConnectFailure::Handshake, other.to_string()),
    }
}

fn transport_error(error: tungstenite::Error, limit: usize) -> TransportError {
    use tungstenite::error::CapacityError;
    match error {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            TransportError::Closed("the WebSocket is closed".into())
        }
        tungstenite::Error::Io(e) => TransportError::Io(e),
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, .. }) => {
            TransportError::TooLarge { size, limit }
        }
        other => TransportError::Protocol(other.to_string()),
    }
}

fn would_block(error: &tungstenite::Error) -> bool {
    matches!(error, tungstenite::Error::Io(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

impl Transport for WebSocketTransport {
    fn serializer(&self) -> Serializer {
        self.serializer
    }

    fn max_outgoing(&self) -> usize {
        self.max_message_size
    }

    fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> std::io::Result<()> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        self.socket
            .get_mut()
            .get_mut()
            .register(registry, token, interest)
    }

    fn bytes_read(&mut self) -> u64 {
        self.socket.get_mut().get_mut().bytes_read()
    }

    #[cfg(unix)]
    fn raw_fd(&mut self) -> std::os::fd::RawFd {
        self.socket.get_mut().get_mut().raw_fd()
    }

    fn readable(&mut self) {
        self.socket.get_mut().readable();
    }

    fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportError> {
        let message = if self.serializer.is_text() {
            let text =
                String::from_utf8(frame).map_err(|e| TransportError::Protocol(e.to_string()))?;
            Message::Text(text.into())
        } else {
            Message::Binary(frame.into())
        };
        match self.socket.write(message) {
            // WouldBlock means "queued, flush later".
            Err(e) if !would_block(&e) => Err(transport_error(e, self.max_message_size)),
            _ => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<bool, TransportError> {
        match self.socket.flush() {
            Ok(()) => Ok(true),
            Err(e) if would_block(&e) => Ok(false),
            Err(e) => Err(transport_error(e, self.max_message_size)),
        }
    }

    fn receive(&mut self) -> Result<Option<Received>, TransportError> {
        loop {
            let message = match self.socket.read() {
                Ok(message) => message,
                Err(e) if would_block(&e) => return Ok(None),
                Err(e) => return Err(transport_error(e, self.max_message_size)),
            };
            match message {
                Message::Text(text) if self.serializer.is_text() => {
                    return Ok(Some(Received::Frame(Frame::Shared(text.into()))))
                }
                Message::Binary(data) if !self.serializer.is_text() => {
                    return Ok(Some(Received::Frame(Frame::Shared(data))))
                }
                Message::Text(_) | Message::Binary(_) => {
                    return Err(TransportError::Protocol(format!(
                        "received a {} frame on {}",
                        if self.serializer.is_text() {
                            "binary"
                        } else {
                            "text"
                        },
                        self.serializer.subprotocol()
                    )))
                }
                Message::Close(frame) => {
                    let why = frame.map_or_else(
                        || "no reason given".to_owned(),
                        |f| format!("code {}: {}", f.code, f.reason),
                    );
                    return Err(TransportError::Closed(format!(
                        "the router closed the WebSocket ({why})"
                    )));
                }
                // Pings are answered by tungstenite on the next flush. Pongs carry no WAMP data
                // but prove the router alive, so report them.
                Message::Pong(_) => return Ok(Some(Received::Pong)),
                Message::Ping(_) | Message::Frame(_) => continue,
            }
        }
    }

    fn ping(&mut self) -> Result<(), TransportError> {
        match self
            .socket
            .write(Message::Ping(tungstenite::Bytes::from_static(b"izaber")))
        {
            Err(e) if !would_block(&e) => Err(transport_error(e, self.max_message_size)),
            _ => Ok(()),
        }
    }

    fn close(&mut self) {
        // Best effort: the socket is dropped right after.
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }

    fn finish_setup(&mut self) -> std::io::Result<()> {
        self.socket.get_mut().get_mut().finish_setup()?;
        if self.plain {
            self.socket.get_mut().trust_short_reads();
        }
        Ok(())
    }
}
