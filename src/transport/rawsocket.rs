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
//! and a frame longer than our announced maximum is refused from its header, before
//! anything is allocated for it.
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
use super::{ConnectOptions, Received, Transport, TransportError};
use crate::error::ConnectFailure;
use crate::error::Error;
use crate::proto::codec::Serializer;
use std::fmt;
use std::io::{self, Read, Write};

/// The first byte of every handshake message.
const MAGIC: u8 = 0x7F;
/// The longest frame a header can express: 2^24 bytes (with the X bit).
const MAX_FRAME: usize = 1 << 24;
/// How much is read from the socket at once.
const READ_CHUNK: usize = 64 * 1024;

/// The type of a frame, from the low 3 bits of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Message,
    Ping,
    Pong,
}

impl FrameKind {
    fn code(self) -> u8 {
        match self {
            FrameKind::Message => 0,
            FrameKind::Ping => 1,
            FrameKind::Pong => 2,
        }
    }
}

/// The LENGTH nibble for `max_message_size`: the largest n (at most 15) with
/// 2^(9+n) <= max_message_size; 0 when even 512 bytes is over it.
fn length_exponent(max_message_size: usize) -> u8 {
    let mut n = 0u8;
    while n < 15 && (1usize << (10 + n)) <= max_message_size {
        n += 1;
    }
    n
}

/// The message size a LENGTH nibble stands for: 2^(9+n).
fn max_length(exponent: u8) -> usize {
    1usize << (9 + usize::from(exponent.min(15)))
}

/// The client's handshake message.
fn handshake_request(serializer: Serializer, max_message_size: usize) -> [u8; 4] {
    let length = length_exponent(max_message_size);
    [MAGIC, length << 4 | serializer.rawsocket_id(), 0, 0]
}

/// What is wrong with the router's handshake reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HandshakeError {
    /// The first byte is not 0x7F: not a RawSocket peer.
    BadMagic(u8),
    /// The two reserved bytes are not zero.
    ReservedBytes([u8; 2]),
    /// The router refused with this error code.
    Refused { code: u8, serializer: Serializer },
    /// The router echoed another serializer than the one asked for.
    WrongSerializer { asked: Serializer, got: u8 },
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::BadMagic(byte) => write!(
                f,
                "the router's RawSocket handshake reply starts with 0x{byte:02X} instead of \
                 0x7F (is this a RawSocket endpoint?)"
            ),
            HandshakeError::ReservedBytes(bytes) => write!(
                f,
                "the router's RawSocket handshake reply has non-zero reserved bytes \
                 {:02X} {:02X}",
                bytes[0], bytes[1]
            ),
            HandshakeError::Refused { code, serializer } => match code {
                1 => write!(
                    f,
                    "the router does not support serializer {} over RawSocket",
                    serializer.name()
                ),
                2 => f.write_str(
                    "the router refused the RawSocket handshake: max length unacceptable",
                ),
                3 => f.write_str("the router refused the RawSocket handshake: reserved bits used"),
                4 => f.write_str(
                    "the router refused the RawSocket handshake: connection limit reached",
                ),
                other => write!(
                    f,
                    "the router refused the RawSocket handshake with unknown error code {other}"
                ),
            },
            HandshakeError::WrongSerializer { asked, got } => write!(
                f,
                "the router answered the RawSocket handshake with serializer {got} instead of \
                 {} ({})",
                asked.rawsocket_id(),
                asked.name()
            ),
        }
    }
}

/// Checks the router's handshake reply; returns the largest message the router
/// accepts.
fn parse_handshake_reply(reply: [u8; 4], asked: Serializer) -> Result<usize, HandshakeError> {
    if reply[0] != MAGIC {
        return Err(HandshakeError::BadMagic(reply[0]));
    }
    if reply[2] != 0 || reply[3] != 0 {
        return Err(HandshakeError::ReservedBytes([reply[2], reply[3]]));
    }
    let high = reply[1] >> 4;
    let low = reply[1] & 0x0F;
    if low == 0 {
        return Err(HandshakeError::Refused {
            code: high,
            serializer: asked,
        });
    }
    if low != asked.rawsocket_id() {
        return Err(HandshakeError::WrongSerializer { asked, got: low });
    }
    Ok(max_length(high))
}

/// The header of a frame of `len` bytes (at most 2^24).
fn encode_header(kind: FrameKind, len: usize) -> [u8; 4] {
    debug_assert!(len <= MAX_FRAME);
    let (x, len) = if len == MAX_FRAME {
        (0x08, 0)
    } else {
        (0x00, len)
    };
    [
        x | kind.code(),
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
    ]
}

/// The type and length of a frame from its header.
fn decode_header(header: [u8; 4]) -> Result<(FrameKind, usize), TransportError> {
    let first = header[0];
    if first & 0xF0 != 0 {
        return Err(TransportError::Protocol(format!(
            "RawSocket frame header {first:02X} {:02X} {:02X} {:02X} has reserved bits set",
            header[1], header[2], header[3]
        )));
    }
    let kind = match first & 0x07 {
        0 => FrameKind::Message,
        1 => FrameKind::Ping,
        2 => FrameKind::Pong,
        other => {
            return Err(TransportError::Protocol(format!(
                "RawSocket frame of reserved type {other}"
            )))
        }
    };
    let low = usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
    let len = if first & 0x08 != 0 {
        if low != 0 {
            return Err(TransportError::Protocol(format!(
                "RawSocket frame length over 2^24 ({} bytes)",
                MAX_FRAME + low
            )));
        }
        MAX_FRAME
    } else {
        low
    };
    Ok((kind, len))
}

/// Appends a frame (header and payload) to `out`.
fn encode_frame(kind: FrameKind, payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(4 + payload.len());
    out.extend_from_slice(&encode_header(kind, payload.len()));
    out.extend_from_slice(payload);
}

/// Where the decoder is within the current frame.
enum DecodeState {
    Header {
        bytes: [u8; 4],
        have: usize,
    },
    Payload {
        kind: FrameKind,
        data: Vec<u8>,
        len: usize,
    },
}

/// Cuts a byte stream into frames, whatever pieces it arrives in.
struct Decoder {
    state: DecodeState,
    /// The longest frame accepted.
    limit: usize,
}

impl Decoder {
    fn new(limit: usize) -> Self {
        Decoder {
            state: DecodeState::Header {
                bytes: [0; 4],
                have: 0,
            },
            limit,
        }
    }

    /// Consumes bytes of `input` up to the end of the next frame, returning the frame
    /// once complete; `Ok(None)` when `input` ran out first.
    fn feed(&mut self, input: &mut &[u8]) -> Result<Option<(FrameKind, Vec<u8>)>, TransportError> {
        loop {
            match &mut self.state {
                DecodeState::Header { bytes, have } => {
                    let take = (4 - *have).min(input.len());
                    bytes[*have..*have + take].copy_from_slice(&input[..take]);
                    *have += take;
                    *input = &input[take..];
                    if *have < 4 {
                        return Ok(None);
                    }
                    let (kind, len) = decode_header(*bytes)?;
                    if len > self.limit {
                        return Err(TransportError::TooLarge {
                            size: len,
                            limit: self.limit,
                        });
                    }
                    self.state = DecodeState::Payload {
                        kind,
                        data: Vec::with_capacity(len),
                        len,
                    };
                }
                DecodeState::Payload { kind, data, len } => {
                    let take = (*len - data.len()).min(input.len());
                    data.extend_from_slice(&input[..take]);
                    *input = &input[take..];
                    if data.len() < *len {
                        return Ok(None);
                    }
                    let frame = (*kind, std::mem::take(data));
                    self.state = DecodeState::Header {
                        bytes: [0; 4],
                        have: 0,
                    };
                    return Ok(Some(frame));
                }
            }
        }
    }
}

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
                let frame = self.decoder.feed(&mut input)?;
                self.read_pos += before - input.len();
                match frame {
                    Some((FrameKind::Message, payload)) => {
                        return Ok(Some(Received::Frame(payload)))
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
    fn the_length_nibble_is_the_largest_power_not_over_the_maximum() {
        assert_eq!(length_exponent(16 * 1024 * 1024), 15);
        assert_eq!(length_exponent(usize::MAX), 15);
        assert_eq!(length_exponent(16 * 1024 * 1024 - 1), 14);
        assert_eq!(length_exponent(1024 * 1024), 11);
        assert_eq!(length_exponent(1024 * 1024 + 5), 11);
        assert_eq!(length_exponent(512), 0);
        assert_eq!(length_exponent(1023), 0);
        assert_eq!(length_exponent(1024), 1);
        assert_eq!(length_exponent(100), 0);
        assert_eq!(max_length(0), 512);
        assert_eq!(max_length(11), 1024 * 1024);
        assert_eq!(max_length(15), 16 * 1024 * 1024);
    }

    #[test]
    fn handshake_requests_match_the_spec() {
        // 7F F2 00 00 = msgpack, 16 MiB (the spec's example).
        assert_eq!(
            handshake_request(Serializer::MsgPack, 16 * 1024 * 1024),
            [0x7F, 0xF2, 0, 0]
        );
        assert_eq!(
            handshake_request(Serializer::Json, 1024 * 1024),
            [0x7F, 0xB1, 0, 0]
        );
        assert_eq!(handshake_request(Serializer::Cbor, 600), [0x7F, 0x03, 0, 0]);
    }

    #[test]
    fn good_replies_give_the_routers_maximum() {
        // Crossbar with max_message_size 1 MiB answered 7F B1 / B2 / B3.
        assert_eq!(
            parse_handshake_reply([0x7F, 0xB1, 0, 0], Serializer::Json),
            Ok(1024 * 1024)
        );
        assert_eq!(
            parse_handshake_reply([0x7F, 0xF3, 0, 0], Serializer::Cbor),
            Ok(16 * 1024 * 1024)
        );
        assert_eq!(
            parse_handshake_reply([0x7F, 0x02, 0, 0], Serializer::MsgPack),
            Ok(512)
        );
    }

    #[test]
    fn bad_replies_are_refused_with_readable_reasons() {
        let json = Serializer::Json;
        let reason = |reply: [u8; 4]| {
            parse_handshake_reply(reply, json)
                .expect_err("must be refused")
                .to_string()
        };
        assert!(reason([0x48, 0x54, 0x54, 0x50]).contains("0x48 instead of 0x7F"));
        assert!(reason([0x7F, 0xF1, 0, 1]).contains("reserved bytes"));
        assert!(reason([0x7F, 0xF1, 1, 0]).contains("reserved bytes"));
        assert_eq!(
            reason([0x7F, 0x10, 0, 0]),
            "the router does not support serializer json over RawSocket"
        );
        assert!(reason([0x7F, 0x20, 0, 0]).ends_with("max length unacceptable"));
        assert!(reason([0x7F, 0x30, 0, 0]).ends_with("reserved bits used"));
        assert!(reason([0x7F, 0x40, 0, 0]).ends_with("connection limit reached"));
        assert!(reason([0x7F, 0x00, 0, 0]).contains("unknown error code 0"));
        assert!(reason([0x7F, 0x70, 0, 0]).contains("unknown error code 7"));
        assert_eq!(
            parse_handshake_reply([0x7F, 0xF2, 0, 0], json),
            Err(HandshakeError::WrongSerializer {
                asked: json,
                got: 2
            })
        );
        assert!(reason([0x7F, 0xF2, 0, 0]).contains("serializer 2 instead of 1 (json)"));
    }

    #[test]
    fn headers_round_trip_including_the_25th_bit() {
        assert_eq!(
            encode_header(FrameKind::Message, 0x0415),
            [0, 0, 0x04, 0x15]
        );
        assert_eq!(encode_header(FrameKind::Ping, 3), [1, 0, 0, 3]);
        assert_eq!(
            encode_header(FrameKind::Pong, 0xFF_FFFF),
            [2, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(
            encode_header(FrameKind::Message, MAX_FRAME),
            [0x08, 0, 0, 0]
        );
        for (kind, len) in [
            (FrameKind::Message, 0),
            (FrameKind::Message, 1),
            (FrameKind::Ping, 65536),
            (FrameKind::Pong, MAX_FRAME - 1),
            (FrameKind::Message, MAX_FRAME),
        ] {
            let decoded = decode_header(encode_header(kind, len)).expect("valid");
            assert_eq!(decoded, (kind, len));
        }
    }

    #[test]
    fn reserved_bits_and_types_are_protocol_errors() {
        for header in [
            [0x10, 0, 0, 1],
            [0x80, 0, 0, 1],
            [0x03, 0, 0, 1],
            [0x07, 0, 0, 1],
            [0x08, 0, 0, 1], // X set with more length bits: over 2^24
        ] {
            assert!(
                matches!(decode_header(header), Err(TransportError::Protocol(_))),
                "{header:02X?}"
            );
        }
    }

    fn frames(bytes: &[u8], pieces: usize, limit: usize) -> Vec<(FrameKind, Vec<u8>)> {
        let mut decoder = Decoder::new(limit);
        let mut out = Vec::new();
        for chunk in bytes.chunks(pieces.max(1)) {
            let mut input = chunk;
            while let Some(frame) = decoder.feed(&mut input).expect("valid") {
                out.push(frame);
            }
            assert!(input.is_empty());
        }
        out
    }

    #[test]
    fn frames_are_reassembled_from_any_split() {
        let mut stream = Vec::new();
        encode_frame(FrameKind::Message, b"[1,\"realm\",{}]", &mut stream);
        encode_frame(FrameKind::Ping, b"abc", &mut stream);
        encode_frame(FrameKind::Message, b"", &mut stream);
        encode_frame(FrameKind::Pong, &[0xEF, 0xBB, 0xBF, 0x00], &mut stream);
        let expected = vec![
            (FrameKind::Message, b"[1,\"realm\",{}]".to_vec()),
            (FrameKind::Ping, b"abc".to_vec()),
            (FrameKind::Message, Vec::new()),
            (FrameKind::Pong, vec![0xEF, 0xBB, 0xBF, 0x00]),
        ];
        for piece in [1, 2, 3, 5, 7, 1000] {
            assert_eq!(frames(&stream, piece, 1024), expected, "pieces of {piece}");
        }
    }

    #[test]
    fn an_oversized_frame_is_refused_from_its_header() {
        let mut decoder = Decoder::new(512);
        // Only the header: the payload never needs to arrive for the refusal.
        let mut input: &[u8] = &[0x00, 0x00, 0x02, 0x01];
        match decoder.feed(&mut input) {
            Err(TransportError::TooLarge { size, limit }) => {
                assert_eq!((size, limit), (513, 512));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let mut decoder = Decoder::new(512);
        let mut input: &[u8] = &[0x00, 0x00, 0x02, 0x00];
        assert!(matches!(decoder.feed(&mut input), Ok(None)));
    }

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
