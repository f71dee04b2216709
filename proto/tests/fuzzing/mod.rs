//! What the stable fuzz test (`tests/fuzz_decoders.rs`) and the cargo-fuzz targets
//! (`fuzz/`) share: the entry points every input is fed to, a seed corpus of valid
//! input for each, and a builder that turns bytes into message-shaped values.
//!
//! Every entry point takes input straight from a peer or a file: the three frame
//! decoders, the message parser, the RawSocket framer and the OpenSSH key parser.

#![allow(dead_code)] // each user takes what it needs

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use izaber_wamp_proto::auth::Cryptosign;
use izaber_wamp_proto::message::{Message, Payload};
use izaber_wamp_proto::rawsocket::{self, Decoder, FrameKind};
use izaber_wamp_proto::{Dict, Serializer, Value};

/// An entry point: any bytes in, any result, never a panic.
pub type Target = fn(&[u8]);

/// Every entry point, by name.
pub const TARGETS: [(&str, Target); 6] = [
    ("json", json),
    ("msgpack", msgpack),
    ("cbor", cbor),
    ("message", message),
    ("rawsocket", rawsocket_stream),
    ("openssh", openssh),
];

/// `Serializer::Json.decode`.
pub fn json(data: &[u8]) {
    let _ = Serializer::Json.decode(data);
}

/// `Serializer::MsgPack.decode`.
pub fn msgpack(data: &[u8]) {
    let _ = Serializer::MsgPack.decode(data);
}

/// `Serializer::Cbor.decode`.
pub fn cbor(data: &[u8]) {
    let _ = Serializer::Cbor.decode(data);
}

/// `Message::from_value` on a message-shaped value built from the bytes (the
/// decoders reach it too, but only with what survives decoding).
pub fn message(data: &[u8]) {
    let _ = Message::from_value(value_from_bytes(data));
}

/// The RawSocket frame decoder over the bytes as a stream, and the handshake reply
/// parser over their first four. The first byte picks the decoder's limit (512 bytes
/// to 16 MiB) and the second the size of the pieces the stream arrives in.
pub fn rawsocket_stream(data: &[u8]) {
    let [limit, piece, stream @ ..] = data else {
        return;
    };
    let mut decoder = Decoder::new(rawsocket::max_length(limit & 0x0f));
    'stream: for chunk in stream.chunks(usize::from(*piece) + 1) {
        let mut input = chunk;
        loop {
            match decoder.feed(&mut input) {
                Ok(Some(_frame)) => {}
                Ok(None) => break,
                Err(_) => break 'stream,
            }
        }
    }
    if let Some(reply) = data.first_chunk::<4>() {
        for serializer in Serializer::ALL {
            let _ = rawsocket::parse_handshake_reply(*reply, serializer);
        }
    }
}

const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END: &str = "-----END OPENSSH PRIVATE KEY-----";

/// `Cryptosign::from_key_data` on the bytes as a key file, and on them armoured as
/// the binary content of an OpenSSH key (so the binary parser sees them).
pub fn openssh(data: &[u8]) {
    let _ = Cryptosign::from_key_data(data);
    let _ = Cryptosign::from_key_data(armour(data).as_bytes());
}

/// The binary content of an unencrypted OpenSSH ed25519 key file (the format of
/// `openssh-key-v1`, written out here rather than copied from a real key).
pub fn openssh_key_blob() -> Vec<u8> {
    let seed = [7u8; 32];
    let hex = Cryptosign::from_seed(seed).public_key_hex();
    let public: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    let string = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    };
    let mut public_key = Vec::new();
    string(&mut public_key, b"ssh-ed25519");
    string(&mut public_key, &public);
    let mut private = vec![1, 2, 3, 4, 1, 2, 3, 4]; // two equal check numbers
    private.extend_from_slice(&public_key);
    string(&mut private, &[&seed[..], &public].concat());
    string(&mut private, b"fuzz");
    for pad in 1..=7u8 {
        if private.len() % 8 == 0 {
            break;
        }
        private.push(pad);
    }
    let mut blob = b"openssh-key-v1\0".to_vec();
    string(&mut blob, b"none");
    string(&mut blob, b"none");
    string(&mut blob, b"");
    blob.extend_from_slice(&1u32.to_be_bytes());
    string(&mut blob, &public_key);
    string(&mut blob, &private);
    blob
}

/// A key file around a blob.
pub fn armour(blob: &[u8]) -> String {
    format!("{BEGIN}\n{}\n{END}\n", BASE64.encode(blob))
}

/// A payload with a bit of everything each format encodes differently.
pub fn sample_payload() -> Payload {
    let nested = Value::Dict(Dict::from([
        (
            "list".into(),
            Value::List(vec![1.into(), (-1).into(), Value::Null]),
        ),
        ("bytes".into(), Value::bytes(vec![0, 1, 0xfe, 0xff])),
        ("text".into(), "zürich ☃ \u{0}".into()),
        ("float".into(), Value::Float(-0.5)),
        ("big".into(), Value::UInt(u64::MAX)),
        ("min".into(), Value::Int(i64::MIN)),
        ("yes".into(), true.into()),
        ("long".into(), "x".repeat(300).into()),
    ]));
    Payload::new(
        vec![
            nested.clone(),
            Value::List(vec![nested.clone()]),
            Value::from(42),
        ],
        Dict::from([("k".into(), nested), ("e".into(), Value::Dict(Dict::new()))]),
    )
}

/// One message of every type the client knows.
pub fn sample_messages() -> Vec<Message> {
    let d = || Dict::from([("x".to_owned(), Value::from(1))]);
    let p = sample_payload;
    let s = |text: &str| text.to_owned();
    vec![
        Message::Hello {
            realm: s("realm1"),
            details: d(),
        },
        Message::Welcome {
            session: 9_007_199_254_740_992,
            details: d(),
        },
        Message::Abort {
            details: d(),
            reason: s("wamp.error.no_such_realm"),
            payload: p(),
        },
        Message::Challenge {
            method: s("wampcra"),
            extra: d(),
        },
        Message::Authenticate {
            signature: "sig".into(),
            extra: d(),
        },
        Message::Goodbye {
            details: d(),
            reason: s("wamp.close.normal"),
        },
        Message::Error {
            request_type: 48,
            request: 7,
            details: d(),
            error: s("wamp.error.invalid_argument"),
            payload: p(),
        },
        Message::Publish {
            request: 1,
            options: d(),
            topic: s("com.topic"),
            payload: p(),
        },
        Message::Published {
            request: 1,
            publication: 2,
        },
        Message::Subscribe {
            request: 1,
            options: d(),
            topic: s("com.topic"),
        },
        Message::Subscribed {
            request: 1,
            subscription: 3,
        },
        Message::Unsubscribe {
            request: 1,
            subscription: 3,
        },
        Message::Unsubscribed { request: 1 },
        Message::SubscriptionRevoked {
            details: Dict::from([
                ("subscription".into(), 3.into()),
                ("reason".into(), "x".into()),
            ]),
        },
        Message::Event {
            subscription: 3,
            publication: 4,
            details: d(),
            payload: p(),
        },
        Message::Call {
            request: 5,
            options: d(),
            procedure: s("com.add"),
            payload: p(),
        },
        Message::Cancel {
            request: 5,
            options: d(),
        },
        Message::Result {
            request: 5,
            details: d(),
            payload: p(),
        },
        Message::Register {
            request: 6,
            options: d(),
            procedure: s("com.add"),
        },
        Message::Registered {
            request: 6,
            registration: 8,
        },
        Message::Unregister {
            request: 6,
            registration: 8,
        },
        Message::Unregistered { request: 6 },
        Message::RegistrationRevoked {
            details: Dict::from([("registration".into(), 8.into())]),
        },
        Message::Invocation {
            request: 9,
            registration: 8,
            details: d(),
            payload: p(),
        },
        Message::Interrupt {
            request: 9,
            options: d(),
        },
        Message::Yield {
            request: 9,
            options: d(),
            payload: Payload::default(),
        },
    ]
}

/// Valid input for every entry point: every sample message in every serializer (as
/// it is, and as a RawSocket stream of frames), the test key as text and as its
/// binary content, a hex seed, and bytes that build every message type for
/// `message`.
pub fn seed_corpus() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    for serializer in Serializer::ALL {
        let mut stream = vec![0x0f, 0xff];
        for message in sample_messages() {
            let Ok(frame) = serializer.encode(message) else {
                continue; // a serializer left out of this build
            };
            rawsocket::encode_frame(FrameKind::Message, &frame, &mut stream);
            corpus.push(frame);
        }
        rawsocket::encode_frame(FrameKind::Ping, b"ping", &mut stream);
        rawsocket::encode_frame(FrameKind::Pong, b"", &mut stream);
        corpus.push(stream);
    }
    let key = openssh_key_blob();
    corpus.push(armour(&key).into_bytes());
    corpus.push(key);
    corpus.push(b"ef3393187668e02610c21f5b57eaff1fcc0eca523cc40f3eceb00bee5c97c9d3".to_vec());
    for code in 0..CODES.len() as u8 {
        corpus.push(vec![code, 10, 1, 9, 2, 6, 4, 12, 3, 7]);
    }
    corpus
}

/// The message type codes, so that most built values have a real one.
const CODES: [u64; 24] = [
    1, 2, 3, 4, 5, 6, 8, 16, 17, 32, 33, 34, 35, 36, 48, 49, 50, 64, 65, 66, 67, 68, 69, 70,
];

/// Dict keys the message parser looks at, and one it does not.
const KEYS: [&str; 5] = ["subscription", "registration", "reason", "message", "x"];

/// A message-shaped value from bytes: a list of a type code (mostly a real one) and
/// up to seven elements, each read from the bytes by a small opcode language. Every
/// allocation is paid for with input bytes: a dict entry takes at least two.
pub fn value_from_bytes(data: &[u8]) -> Value {
    let mut builder = Builder { data, position: 0 };
    let first = builder.next();
    let code = match CODES.get(usize::from(first)) {
        Some(&code) => Value::from(code),
        None => Value::Int(i64::from(first as i8)),
    };
    let mut items = vec![code];
    while builder.position < data.len() && items.len() < 8 {
        items.push(builder.value(0));
    }
    Value::List(items)
}

struct Builder<'a> {
    data: &'a [u8],
    position: usize,
}

impl Builder<'_> {
    /// The next byte; zeros once the data ends.
    fn next(&mut self) -> u8 {
        let byte = self.data.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        byte
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |n, _| n << 8 | u64::from(self.next()))
    }

    /// Up to 15 of the next bytes, as the byte before them says.
    fn take(&mut self) -> &[u8] {
        let n = usize::from(self.next() % 16);
        let start = self.position.min(self.data.len());
        let end = (start + n).min(self.data.len());
        self.position = end;
        &self.data[start..end]
    }

    fn more(&self) -> bool {
        self.position < self.data.len()
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.next() % 13 {
            0 => Value::Null,
            1 => Value::Bool(self.next() & 1 == 1),
            2 => Value::Int(i64::from(self.next() as i8)),
            3 => Value::Int(self.u64() as i64),
            4 => Value::from(self.u64()),
            5 => Value::Float(f64::from_bits(self.u64())),
            6 => Value::String(String::from_utf8_lossy(self.take()).into_owned()),
            7 => Value::Bytes(self.take().to_vec()),
            8 if depth < 8 => {
                let n = self.next() % 8;
                let mut items = Vec::new();
                for _ in 0..n {
                    if !self.more() {
                        break;
                    }
                    items.push(self.value(depth + 1));
                }
                Value::List(items)
            }
            9 if depth < 8 => {
                let n = self.next() % 4;
                let mut dict = Dict::new();
                for _ in 0..n {
                    if !self.more() {
                        break;
                    }
                    let key = KEYS[usize::from(self.next()) % KEYS.len()];
                    dict.insert(key.to_owned(), self.value(depth + 1));
                }
                Value::Dict(dict)
            }
            10 => Value::from(u64::from(self.next()) + 1),
            11 => Value::String(KEYS[usize::from(self.next()) % KEYS.len()].to_owned()),
            _ => Value::Int(0),
        }
    }
}
