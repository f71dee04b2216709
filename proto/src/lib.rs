//! # izaber-wamp-proto
//!
//! The [WAMP](https://wamp-proto.org) protocol without I/O, for clients: messages,
//! the JSON, MessagePack and CBOR serializers, the payload [`Value`], URI and ID
//! rules, authentication (ticket, WAMP-CRA, cryptosign), RawSocket framing and the
//! client session state machine. Nothing here touches a socket, a thread or a clock,
//! so every part is driven and tested with bytes in and bytes out, like `quinn-proto`
//! under `quinn`.
//!
//! [`izaber-wamp`](https://docs.rs/izaber-wamp) is the blocking client built on it;
//! use this crate directly to put WAMP on another I/O stack.
//!
//! ```
//! use izaber_wamp_proto::message::{Message, Payload};
//! use izaber_wamp_proto::{Dict, Serializer, Value};
//!
//! let call = Message::Call {
//!     request: 1,
//!     options: Dict::new(),
//!     procedure: "com.example.add".into(),
//!     payload: Payload::new(vec![Value::Int(2), Value::Int(3)], Dict::new()),
//! };
//! let frame = Serializer::Json.encode(call.clone())?;
//! assert_eq!(frame, br#"[48,1,{},"com.example.add",[2,3]]"#);
//! assert_eq!(Serializer::Json.decode(&frame)?, call);
//! # Ok::<(), izaber_wamp_proto::CodecError>(())
//! ```
//!
//! ## Cargo features
//!
//! `msgpack` and `cbor` (both on by default) build in the MessagePack and CBOR
//! serializers; JSON is always built in. Every [`Serializer`] variant exists in every
//! build; one that is left out fails with [`CodecError::FeatureDisabled`].
//!
//! ## API stability
//!
//! Configuration structs, errors and the enums that may grow ([`Serializer`],
//! [`message::Message`], [`MatchPolicy`], [`session::CancelMode`], the error enums)
//! are `#[non_exhaustive]`. What the session hands to the I/O layer above
//! ([`session::Output`], [`session::Reply`], [`session::CloseReason`],
//! [`session::State`], [`rawsocket::FrameKind`]) is deliberately exhaustive: an I/O
//! layer must handle every case, so a new one is a breaking change that the compiler
//! points out. [`Value`] is exhaustive too: it is WAMP's data model, which is fixed.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod auth;
#[cfg(feature = "cbor")]
mod cbor;
pub mod codec;
mod error;
pub mod id;
pub mod message;
#[cfg(feature = "msgpack")]
mod msgpack;
pub mod rawsocket;
pub mod session;
pub mod uri;
pub mod value;
#[cfg(any(feature = "msgpack", feature = "cbor"))]
mod wire;

pub use codec::{CodecError, Serializer};
pub use error::{Error, WampError};
pub use uri::{MatchPolicy, UriError};
pub use value::{from_value, from_value_ref, to_value, Dict, Value, ValueError};

/// The README's example, compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
