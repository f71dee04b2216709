//! WAMP's RawSocket framing without I/O: the opening handshake's bytes, the 4-byte
//! frame header, and an incremental [`Decoder`] that cuts a byte stream into frames.
//! The client's transport (`tcpip://`, `unix://`) drives these over a socket.
//!
//! ## Handshake
//!
//! The client sends `7F, LENGTH << 4 | SERIALIZER, 0, 0` ([`handshake_request`]): the
//! largest message it accepts is 2^(9 + LENGTH) bytes, and SERIALIZER is the one
//! serializer it offers. The router answers in the same layout with its own maximum,
//! or with an error code (1 unsupported serializer, 2 unacceptable length, 3 reserved
//! bits used, 4 connection limit reached); [`parse_handshake_reply`] reads it.
//!
//! ## Framing
//!
//! Every frame starts with 4 bytes, `RRRR XTTT` and a 24-bit big-endian length; `X` is
//! a 25th length bit, set only for a length of exactly 2^24. `TTT` is 0 for a WAMP
//! message, 1 for PING and 2 for PONG. Reserved bits and types are protocol errors,
//! and a frame longer than the announced maximum is refused from its header. The
//! [`Decoder`] never reserves memory for more of a frame than has arrived (at most
//! twice that), whatever length the header claims.
//!
//! ```
//! use izaber_wamp_proto::rawsocket::{encode_frame, Decoder, FrameKind};
//!
//! let mut stream = Vec::new();
//! encode_frame(FrameKind::Message, b"[6,{},\"wamp.close.normal\"]", &mut stream);
//! encode_frame(FrameKind::Ping, b"", &mut stream);
//!
//! let mut decoder = Decoder::new(1024);
//! let mut frames = Vec::new();
//! // Whatever pieces the bytes arrive in.
//! for piece in stream.chunks(5) {
//!     let mut input = piece;
//!     while let Some(frame) = decoder.feed(&mut input)? {
//!         frames.push(frame);
//!     }
//! }
//! assert_eq!(frames[0], (FrameKind::Message, b"[6,{},\"wamp.close.normal\"]".to_vec()));
//! assert_eq!(frames[1], (FrameKind::Ping, Vec::new()));
//! # Ok::<(), izaber_wamp_proto::rawsocket::FrameError>(())
//! ```

use crate::codec::Serializer;
use std::fmt;

/// The first byte of every handshake message.
pub const MAGIC: u8 = 0x7F;
/// The longest frame a header can express: 2^24 bytes (with the X bit).
pub const MAX_FRAME: usize = 1 << 24;

/// The type of a frame, from the low 3 bits of its first byte.
///
/// ```
/// use izaber_wamp_proto::rawsocket::{encode_header, FrameKind};
///
/// assert_eq!(FrameKind::Ping.code(), 1);
/// assert_eq!(encode_header(FrameKind::Ping, 3), [0x01, 0, 0, 3]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A WAMP message.
    Message,
    /// A PING, to be answered with a PONG carrying the same payload.
    Ping,
    /// A PONG.
    Pong,
}

impl FrameKind {
    /// The type code in a frame header.
    pub fn code(self) -> u8 {
        match self {
            FrameKind::Message => 0,
            FrameKind::Ping => 1,
            FrameKind::Pong => 2,
        }
    }
}

/// The LENGTH nibble for `max_message_size`: the largest n (at most 15) with
/// 2^(9+n) <= max_message_size; 0 when even 512 bytes is over it.
pub fn length_exponent(max_message_size: usize) -> u8 {
    let mut n = 0u8;
    while n < 15 && (1usize << (10 + n)) <= max_message_size {
        n += 1;
    }
    n
}

/// The message size a LENGTH nibble stands for: 2^(9+n).
pub fn max_length(exponent: u8) -> usize {
    1usize << (9 + usize::from(exponent.min(15)))
}

/// The client's handshake message, offering `serializer` and accepting messages of
/// up to the largest power of two not over `max_message_size` (at most 16 MiB).
pub fn handshake_request(serializer: Serializer, max_message_size: usize) -> [u8; 4] {
    let length = length_exponent(max_message_size);
    [MAGIC, length << 4 | serializer.rawsocket_id(), 0, 0]
}

/// What is wrong with the router's handshake reply.
///
/// ```
/// use izaber_wamp_proto::rawsocket::{parse_handshake_reply, HandshakeError};
/// use izaber_wamp_proto::Serializer;
///
/// // Error code 1 in the high nibble, serializer 0: unsupported serializer.
/// let err = parse_handshake_reply([0x7F, 0x10, 0, 0], Serializer::Cbor).unwrap_err();
/// assert_eq!(err, HandshakeError::Refused { code: 1, serializer: Serializer::Cbor });
/// assert_eq!(err.to_string(), "the router does not support serializer cbor over RawSocket");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The first byte is not 0x7F: not a RawSocket peer.
    BadMagic(u8),
    /// The two reserved bytes are not zero.
    ReservedBytes([u8; 2]),
    /// The router refused with this error code.
    Refused {
        /// The error code (1 to 4 are defined).
        code: u8,
        /// The serializer that was asked for.
        serializer: Serializer,
    },
    /// The router echoed another serializer than the one asked for.
    WrongSerializer {
        /// The serializer that was asked for.
        asked: Serializer,
        /// The serializer number in the reply.
        got: u8,
    },
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

impl std::error::Error for HandshakeError {}

/// Checks the router's handshake reply to a request for `asked`; returns the largest
/// message the router accepts.
///
/// # Errors
///
/// [`HandshakeError::BadMagic`] when the first byte is not 0x7F,
/// [`HandshakeError::ReservedBytes`] when the last two bytes are not zero,
/// [`HandshakeError::Refused`] when the router answers with an error code, and
/// [`HandshakeError::WrongSerializer`] when it names another serializer.
///
/// ```
/// use izaber_wamp_proto::rawsocket::{handshake_request, parse_handshake_reply};
/// use izaber_wamp_proto::Serializer;
///
/// let request = handshake_request(Serializer::Json, 16 * 1024 * 1024);
/// assert_eq!(request, [0x7F, 0xF1, 0, 0]);
/// // The router accepts up to 1 MiB (LENGTH 11).
/// assert_eq!(parse_handshake_reply([0x7F, 0xB1, 0, 0], Serializer::Json)?, 1024 * 1024);
/// # Ok::<(), izaber_wamp_proto::rawsocket::HandshakeError>(())
/// ```
pub fn parse_handshake_reply(reply: [u8; 4], asked: Serializer) -> Result<usize, HandshakeError> {
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
pub fn encode_header(kind: FrameKind, len: usize) -> [u8; 4] {
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

/// Why a frame cannot be read.
///
/// ```
/// use izaber_wamp_proto::rawsocket::{Decoder, FrameError};
///
/// let mut decoder = Decoder::new(1024);
/// let err = decoder.feed(&mut &[0x00, 0x00, 0x10, 0x00][..]).unwrap_err();
/// assert_eq!(err, FrameError::TooLarge { size: 4096, limit: 1024 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The header has one of its 4 reserved bits set.
    ReservedBits([u8; 4]),
    /// The header's type is not message, PING or PONG.
    ReservedType(u8),
    /// The header's X bit is set together with other length bits: over 2^24 bytes.
    OverMaximum(usize),
    /// The frame is longer than the limit announced in the handshake.
    TooLarge {
        /// The length in the header.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::ReservedBits(header) => write!(
                f,
                "RawSocket frame header {:02X} {:02X} {:02X} {:02X} has reserved bits set",
                header[0], header[1], header[2], header[3]
            ),
            FrameError::ReservedType(kind) => write!(f, "RawSocket frame of reserved type {kind}"),
            FrameError::OverMaximum(len) => {
                write!(f, "RawSocket frame length over 2^24 ({len} bytes)")
            }
            FrameError::TooLarge { size, limit } => write!(
                f,
                "RawSocket frame of {size} bytes exceeds the maximum message size of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// The type and length of a frame from its header.
///
/// # Errors
///
/// [`FrameError::ReservedBits`] when any of the high 4 bits of the first byte is
/// set, [`FrameError::ReservedType`] for a type other than message, PING and PONG,
/// and [`FrameError::OverMaximum`] when the X bit comes with other length bits.
///
/// ```
/// use izaber_wamp_proto::rawsocket::{decode_header, FrameError, FrameKind, MAX_FRAME};
///
/// assert_eq!(decode_header([0x00, 0x00, 0x01, 0x00])?, (FrameKind::Message, 256));
/// assert_eq!(decode_header([0x08, 0, 0, 0])?, (FrameKind::Message, MAX_FRAME));
/// assert_eq!(decode_header([0x03, 0, 0, 0]), Err(FrameError::ReservedType(3)));
/// # Ok::<(), FrameError>(())
/// ```
pub fn decode_header(header: [u8; 4]) -> Result<(FrameKind, usize), FrameError> {
    let first = header[0];
    if first & 0xF0 != 0 {
        return Err(FrameError::ReservedBits(header));
    }
    let kind = match first & 0x07 {
        0 => FrameKind::Message,
        1 => FrameKind::Ping,
        2 => FrameKind::Pong,
        other => return Err(FrameError::ReservedType(other)),
    };
    let low = usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
    let len = if first & 0x08 != 0 {
        if low != 0 {
            return Err(FrameError::OverMaximum(MAX_FRAME + low));
        }
        MAX_FRAME
    } else {
        low
    };
    Ok((kind, len))
}

/// Appends a frame (header and payload, at most 2^24 bytes) to `out`.
pub fn encode_frame(kind: FrameKind, payload: &[u8], out: &mut Vec<u8>) {
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
///
/// A frame longer than the limit is refused from its header. Memory for a frame's
/// payload is reserved as its bytes arrive, never for more than twice what has
/// arrived nor more than the header's length, so a header claiming 16 MiB costs
/// nothing until the bytes come.
///
/// ```
/// use izaber_wamp_proto::rawsocket::{encode_frame, Decoder, FrameKind};
///
/// let mut stream = Vec::new();
/// encode_frame(FrameKind::Message, b"[6,{},\"wamp.close.normal\"]", &mut stream);
///
/// let mut decoder = Decoder::new(16 * 1024 * 1024);
/// let (first, rest) = stream.split_at(10);
/// assert_eq!(decoder.feed(&mut &first[..])?, None); // not all there yet
/// let frame = decoder.feed(&mut &rest[..])?;
/// assert_eq!(frame, Some((FrameKind::Message, b"[6,{},\"wamp.close.normal\"]".to_vec())));
/// # Ok::<(), izaber_wamp_proto::rawsocket::FrameError>(())
/// ```
pub struct Decoder {
    state: DecodeState,
    /// The longest frame accepted.
    limit: usize,
}

impl Decoder {
    /// A decoder that accepts frames of up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Decoder {
            state: DecodeState::Header {
                bytes: [0; 4],
                have: 0,
            },
            limit,
        }
    }

    /// Consumes bytes of `input` up to the end of the next frame, returning the frame
    /// once complete; `Ok(None)` when `input` ran out first. After an error the
    /// stream cannot be read on.
    ///
    /// # Errors
    ///
    /// The [`FrameError`]s of [`decode_header`] for a bad header, and
    /// [`FrameError::TooLarge`] when the header's length is over the decoder's limit.
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<Option<(FrameKind, Vec<u8>)>, FrameError> {
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
                        return Err(FrameError::TooLarge {
                            size: len,
                            limit: self.limit,
                        });
                    }
                    self.state = DecodeState::Payload {
                        kind,
                        data: Vec::new(),
                        len,
                    };
                }
                DecodeState::Payload { kind, data, len } => {
                    let take = (*len - data.len()).min(input.len());
                    // Doubles as the bytes arrive (so a large frame is copied a few
                    // times, not once per read), but never past the header's length.
                    if data.capacity() - data.len() < take {
                        let grow = take.max(data.len()).min(*len - data.len());
                        data.reserve_exact(grow);
                    }
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
            assert!(decode_header(header).is_err(), "{header:02X?}");
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
            Err(FrameError::TooLarge { size, limit }) => {
                assert_eq!((size, limit), (513, 512));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let mut decoder = Decoder::new(512);
        let mut input: &[u8] = &[0x00, 0x00, 0x02, 0x00];
        assert!(matches!(decoder.feed(&mut input), Ok(None)));
    }

    #[test]
    fn memory_for_a_payload_is_reserved_as_it_arrives_not_as_the_header_claims() {
        let mut decoder = Decoder::new(MAX_FRAME);
        let mut input: &[u8] = &[0x08, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(decoder.feed(&mut input), Ok(None));
        let capacity = |decoder: &Decoder| match &decoder.state {
            DecodeState::Payload { data, .. } => data.capacity(),
            DecodeState::Header { .. } => 0,
        };
        assert!(capacity(&decoder) <= 20, "{}", capacity(&decoder));
        // It doubles as bytes come, and never goes past the header's length.
        let chunk = vec![0u8; 1000];
        for _ in 0..100 {
            let mut input = &chunk[..];
            assert_eq!(decoder.feed(&mut input), Ok(None));
        }
        assert!(capacity(&decoder) <= 2 * 100_010, "{}", capacity(&decoder));

        let mut decoder = Decoder::new(1024);
        let mut stream = Vec::new();
        encode_frame(FrameKind::Message, &[7; 1000], &mut stream);
        for piece in stream.chunks(300) {
            let mut input = piece;
            if let Some((_, payload)) = decoder.feed(&mut input).expect("valid") {
                assert_eq!(payload.len(), 1000);
                assert!(payload.capacity() <= 1000);
            }
        }
    }
}
