//! WAMP over RawSocket: `tcpip://host:port` (alias `rs://`), `tcpips://host:port`
//! (alias `rss://`, TLS) and `unix:///path/to/socket` (Unix only).
//!
//! ## Handshake
//!
//! The client sends `7F, LENGTH << 4 | SERIALIZER, 0, 0`: the largest message it
//! accepts is 2^(9 + LENGTH) bytes (the largest such size not over
//! [`ConnectOptions::max_message_size`], at most 16 MiB), and SERIALIZER is the first
//! configured serializer (RawSocket offers exactly one). The router answers in the
//! same layout with its own maximum, which caps outgoing messages, or with an error
//! code (1 unsupported serializer, 2 unacceptable length, 3 reserved bits used,
//! 4 connection limit reached). The handshake runs blocking, before the connect
//! deadline.
//!
//! ## Framing
//!
//! Every frame starts with 4 bytes, `RRRR XTTT` and a 24-bit big-endian length; `X` is
//! a 25th length bit, set only for a length of exactly 2^24. `TTT` is 0 for a WAMP
//! message, 1 for PING and 2 for PONG. Reserved bits and types are protocol errors,
//! and a frame longer than our announced maximum is refused from its header. The
//! handshake bytes, the header codec and the frame decoder are sans-I/O, in
//! [`izaber_wamp_proto::rawsocket`]; this module is the socket around them.
//!
//! ## Liveness
//!
//! RawSocket has PING and PONG frames, but Crossbar.io drops a connection on which it
//! receives a PING, so this transport never sends one: [`Transport::ping`] does
//! nothing and [`Transport::probes_liveness`] is false (PINGs from the router are
//! answered with PONGs all the same). A lost connection is noticed when the socket
//! reports EOF or an error, which is at once when the router process exits or is
//! killed, or its host resets the connection. A router that freezes, or a host that
//! vanishes without a reset, is not noticed by the transport; requests then fail with
//! their timeouts. Use WebSocket where that matters.

use super::socket::is_timeout;
use super::stream::{describe_tls_error, Connected, Stream};
use super::{connect_failure, connect_io_failure};
use super::{ConnectOptions, Frame, Received, Transport, TransportError};
use crate::error::ConnectFailure;
use crate::error::Error;
use crate::proto::codec::Serializer;
use crate::proto::rawsocket::{
    encode_frame, handshake_request, max_length, parse_handshake_reply, Decoder, FrameError,
    FrameKind,
};
use std::io::{self, Read, Write};

/// How much is read from the socket at once.
const READ_CHUNK: usize = 64 * 1024;

/// The host and port of `host:port[/...]` (IPv6 hosts in brackets).
fn host_port(authority_and_path: &str) -> Result<(String, u16), String> {
    let authority = authority_and_path
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("the host has an unclosed [")?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    let port =
        port.ok_or("the URL has no port (RawSocket URLs need one, e.g. tcpip://host:8081)")?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("invalid port {port:?}"))?;
    Ok((host.to_owned(), port))
}

/// Opens the stream the URL names (TCP, TCP with TLS, or a Unix socket).
fn open(options: &ConnectOptions) -> Result<Stream, Error> {
    let url = options.url.as_str();
    let fail = connect_failure(url, ConnectFailure::InvalidUrl);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| fail("not a URL".into()))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "unix" {
        return open_unix(url, rest, options);
    }
    let secure = matches!(scheme.as_str(), "tcpips" | "rss");
    let (host, port) = host_port(rest).map_err(fail)?;
    let tls = secure.then_some(&options.tls);
    Connected::open(url, &host, port, tls, &options.limit)
}

#[cfg(unix)]
fn open_unix(url: &str, path: &str, options: &ConnectOptions) -> Result<Stream, Error> {
    if path.is_empty() {
        return Err(Error::connect(
            url,
            ConnectFailure::InvalidUrl,
            "the URL has no socket path (expected unix:///path/to/socket)",
        ));
    }
    Connected::open_unix(url, std::path::Path::new(path), &options.limit)
}

#[cfg(not(unix))]
fn open_unix(url: &str, _path: &str, _options: &ConnectOptions) -> Result<Stream, Error> {
    Err(Error::connect(
        url,
        ConnectFailure::InvalidUrl,
        "unix:// URLs (RawSocket over a Unix socket) need a Unix system",
    ))
}

/// Explains a failed read of the handshake reply.
fn handshake_read_failure(error: &io::Error, serializer: Serializer) -> String {
    if let Some(tls_error) = describe_tls_error(error) {
        return tls_error;
    }
    if is_timeout(error) {
        return "timed out waiting for the router's RawSocket handshake reply".into();
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted => format!(
            "the router closed the connection during the RawSocket handshake ({error}); \
             Crossbar.io does this when serializer {} is not enabled on the transport, \
             or the address is not a RawSocket endpoint",
            serializer.name()
        ),
        _ => format!("RawSocket handshake failed: {error}"),
    }
}

/// An open RawSocket connection carrying WAMP messages in length-prefixed frames.
pub(crate) struct RawSocketTransport {
    stream: Stream,
    serializer: Serializer,
    /// The largest message we may send: the router's maximum, or our configured
    /// maximum if that is smaller.
    max_outgoing: usize,
    decoder: Decoder,
    /// Bytes read from the socket: `read_buf[read_pos..read_len]` are not decoded yet.
    read_buf: Box<[u8]>,
    read_pos: usize,
    read_len: usize,
    /// Encoded frames: `out[out_pos..]` are not written yet.
    out: Vec<u8>,
    out_pos: usize,
}

impl RawSocketTransport {
    /// Connects and runs the RawSocket handshake; the transport stays in setup mode
    /// until [`Transport::finish_setup`].
    pub fn connect(options: &ConnectOptions) -> Result<Self, Error> {
        let url = options.url.as_str();
        let serializer = *options
            .serializers
            .first()
            .ok_or_else(|| Error::Config("no serializer configured".into()))?;
        let mut stream = open(options)?;
        let request = handshake_request(serializer, options.max_message_size);
        let max_incoming = max_length(request[1] >> 4);
        if let Err(e) = stream.write_all(&request).and_then(|()| stream.flush()) {
            let detail = if is_timeout(&e) {
                "timed out sending the RawSocket handshake".into()
            } else {
                format!("cannot send the RawSocket handshake: {e}")
            };
            return Err(connect_io_failure(url, &e, detail));
        }
        let mut reply = [0u8; 4];
        stream
            .read_exact(&mut reply)
            .map_err(|e| connect_io_failure(url, &e, handshake_read_failure(&e, serializer)))?;
        let router_max = parse_handshake_reply(reply, serializer)
            .map_err(|e| connect_failure(url, ConnectFailure::Handshake)(e.to_string()))?;
        log::debug!(
            "connected to {url} over RawSocket with {}; messages up to {max_incoming} bytes \
             in, {router_max} bytes out",
            serializer.name()
        );
        Ok(RawSocketTransport {
            stream,
            serializer,
            max_outgoing: router_max.min(options.max_message_size),
            decoder: Decoder::new(max_incoming),
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
            read_pos: 0,
            read_len: 0,
            out: Vec::new(),
            out_pos: 0,
        })
    }

    /// Queues a frame for the next flush.
    fn queue(&mut self, kind: FrameKind, payload: &[u8]) -> Result<(), TransportError> {
        if payload.len() > self.max_outgoing {
            return Err(TransportError::Protocol(format!(
                "an outgoing RawSocket frame of {} bytes exceeds the router's maximum of {} bytes",
                payload.len(),
                self.max_outgoing
            )));
        }
        // Drop what is written once it is most of the buffer, so the buffer does not
        // grow while the socket keeps up only partly.
        if self.out_pos > 0 && self.out_pos >= self.out.len() / 2 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        encode_frame(kind, payload, &mut self.out);
        Ok(())
    }
}

fn frame_error(error: FrameError) -> TransportError {
    match error {
        FrameError::TooLarge { size, limit } => TransportError::TooLarge { size, limit },
        other => TransportError::Protocol(other.to_string()),
    }
}

fn io_error(error: io::Error) -> TransportError {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => {
            TransportError::Closed("the router closed the connection".into())
        }
        _ => match describe_tls_error(&error) {
            Some(tls_error) => TransportError::Protocol(tls_error),
            None => TransportError::Io(error),
        },
    }
}

impl Transport for RawSocketTransport {
    fn serializer(&self) -> Serializer {
        self.serializer
    }

    fn max_outgoing(&self) -> usize {
        self.max_outgoing
    }

    fn register(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        self.stream.register(registry, token, interest)
    }

    fn bytes_read(&mut self) -> u64 {
        self.stream.bytes_read()
    }

    #[cfg(unix)]
    fn raw_fd(&mut self) -> std::os::fd::RawFd {
        self.stream.raw_fd()
    }

    fn send(&mut self, frame: Vec<u8>) -> Result<(), TransportError> {
        self.queue(FrameKind::Message, &frame)
    }

    fn flush(&mut self) -> Result<bool, TransportError> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => {
                    return Err(TransportError::Closed(
                        "the connection accepts no more data".into(),
                    ))
                }
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        // Pushes out TLS records still queued (nothing to do on a plain socket).
        loop {
            match self.stream.flush() {
                Ok(()) => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    fn receive(&mut self) -> Result<Option<Received>, TransportError> {
        loop {
            while self.read_pos < self.read_len {
                let mut input = &self.read_buf[self.read_pos..self.read_len];
                let before = input.len();
                let frame = self.decoder.feed(&mut input).map_err(frame_error)?;
                self.read_pos += before - input.len();
                match frame {
                    Some((FrameKind::Message, payload)) => {
                        return Ok(Some(Received::Frame(Frame::Owned(payload))))
                    }
                    // Answered at once: during setup nothing else would flush it. A
                    // socket too full to take it now takes it at the next flush.
                    Some((FrameKind::Ping, payload)) => {
                        self.queue(FrameKind::Pong, &payload)?;
                        self.flush()?;
                    }
                    Some((FrameKind::Pong, _)) => return Ok(Some(Received::Pong)),
                    None => {}
                }
            }
            match self.stream.read(&mut self.read_buf) {
                Ok(0) => {
                    return Err(TransportError::Closed(
                        "the router closed the connection".into(),
                    ))
                }
                Ok(n) => {
                    self.read_pos = 0;
                    self.read_len = n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    /// Does nothing: Crossbar.io drops a RawSocket connection on a PING (see the module
    /// docs).
    fn ping(&mut self) -> Result<(), TransportError> {
        Ok(())
    }

    fn probes_liveness(&self) -> bool {
        false
    }

    fn close(&mut self) {
        // RawSocket has no close message: say goodbye to TLS, write what is queued
        // (best effort, the socket is not waited for) and let the drop close it.
        self.stream.close_notify();
        let _ = self.flush();
    }

    fn finish_setup(&mut self) -> io::Result<()> {
        self.stream.finish_setup()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_and_port() {
        assert_eq!(host_port("127.0.0.1:8081"), Ok(("127.0.0.1".into(), 8081)));
        assert_eq!(host_port("localhost:1/"), Ok(("localhost".into(), 1)));
        assert_eq!(host_port("[::1]:9000/x"), Ok(("::1".into(), 9000)));
        assert!(host_port("localhost").unwrap_err().contains("no port"));
        assert!(host_port(":80").unwrap_err().contains("no host"));
        assert!(host_port("host:http").unwrap_err().contains("invalid port"));
        assert!(host_port("[::1").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn a_closed_connection_during_the_handshake_hints_at_the_serializer() {
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        let why = handshake_read_failure(&eof, Serializer::Cbor);
        assert!(why.contains("serializer cbor"), "{why}");
        let timeout = io::Error::from(io::ErrorKind::WouldBlock);
        assert!(handshake_read_failure(&timeout, Serializer::Cbor).contains("timed out"));
    }
}
