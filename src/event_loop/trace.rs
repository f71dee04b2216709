//! Trace logging of frames: the message type and size only, never the contents (a
//! frame may carry secrets, such as a ticket or an AUTHENTICATE signature).

use crate::protocol::codec::Serializer;
use crate::protocol::message::code;

/// Logs `frame` at trace level as e.g. `sending CALL (52 bytes, cbor)`.
pub(super) fn trace_frame(direction: &str, serializer: Serializer, frame: &[u8]) {
    if log::log_enabled!(log::Level::Trace) {
        let name = message_code(serializer, frame).map_or("unknown message", message_name);
        log::trace!(
            "{direction} {name} ({} bytes, {})",
            frame.len(),
            serializer.name()
        );
    }
}

/// The type code of an encoded message: its first element, read without decoding
/// the rest.
fn message_code(serializer: Serializer, frame: &[u8]) -> Option<u64> {
    match serializer {
        Serializer::Json => {
            let text = std::str::from_utf8(frame.get(..frame.len().min(32))?)
                .or_else(|e| std::str::from_utf8(&frame[..e.valid_up_to()]))
                .ok()?;
            let rest = text.trim_start().strip_prefix('[')?.trim_start();
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..digits].parse().ok()
        }
        Serializer::MsgPack => {
            let first = match frame.first()? {
                0x90..=0x9F => 1,
                0xDC => 3,
                0xDD => 5,
                _ => return None,
            };
            match *frame.get(first)? {
                small @ 0x00..=0x7F => Some(u64::from(small)),
                0xCC => frame.get(first + 1).map(|&b| u64::from(b)),
                _ => None,
            }
        }
        Serializer::Cbor => {
            let first = match frame.first()? {
                0x80..=0x97 | 0x9F => 1,
                0x98 => 2,
                0x99 => 3,
                0x9A => 5,
                _ => return None,
            };
            match *frame.get(first)? {
                small @ 0x00..=0x17 => Some(u64::from(small)),
                0x18 => frame.get(first + 1).map(|&b| u64::from(b)),
                _ => None,
            }
        }
    }
}

fn message_name(code: u64) -> &'static str {
    match code {
        code::HELLO => "HELLO",
        code::WELCOME => "WELCOME",
        code::ABORT => "ABORT",
        code::CHALLENGE => "CHALLENGE",
        code::AUTHENTICATE => "AUTHENTICATE",
        code::GOODBYE => "GOODBYE",
        code::ERROR => "ERROR",
        code::PUBLISH => "PUBLISH",
        code::PUBLISHED => "PUBLISHED",
        code::SUBSCRIBE => "SUBSCRIBE",
        code::SUBSCRIBED => "SUBSCRIBED",
        code::UNSUBSCRIBE => "UNSUBSCRIBE",
        code::UNSUBSCRIBED => "UNSUBSCRIBED",
        code::EVENT => "EVENT",
        code::CALL => "CALL",
        code::CANCEL => "CANCEL",
        code::RESULT => "RESULT",
        code::REGISTER => "REGISTER",
        code::REGISTERED => "REGISTERED",
        code::UNREGISTER => "UNREGISTER",
        code::UNREGISTERED => "UNREGISTERED",
        code::INVOCATION => "INVOCATION",
        code::INTERRUPT => "INTERRUPT",
        code::YIELD => "YIELD",
        _ => "unknown message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::Message;
    use crate::value::Dict;

    #[test]
    fn the_type_is_read_from_each_serializer() {
        for serializer in Serializer::ALL {
            let authenticate = Message::Authenticate {
                signature: "very-secret-signature".into(),
                extra: Dict::new(),
            };
            let frame = serializer.encode(authenticate).expect("encode");
            assert_eq!(
                message_code(serializer, &frame),
                Some(code::AUTHENTICATE),
                "{serializer:?}"
            );
            let goodbye = Message::Goodbye {
                details: Dict::new(),
                reason: "wamp.close.normal".into(),
            };
            let frame = serializer.encode(goodbye).expect("encode");
            assert_eq!(
                message_name(message_code(serializer, &frame).expect("code")),
                "GOODBYE"
            );
        }
        assert_eq!(message_code(Serializer::Json, b"[70, 1, {}]"), Some(70));
        assert_eq!(
            message_code(Serializer::MsgPack, &[0x93, 0xCC, 0x80]),
            Some(128)
        );
        assert_eq!(
            message_code(Serializer::Cbor, &[0x83, 0x18, 0x46]),
            Some(70)
        );
        assert_eq!(message_code(Serializer::Json, b"{}"), None);
        assert_eq!(message_code(Serializer::MsgPack, &[]), None);
    }
}
