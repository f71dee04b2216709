//! The WAMP protocol without I/O: messages, serializers, URIs, IDs, authentication and
//! the session state machine. Nothing here touches a socket, a thread or a clock of its
//! own, so every part is tested with bytes in and bytes out.

pub mod auth;
#[cfg(feature = "cbor")]
mod cbor;
pub mod codec;
pub mod id;
pub mod message;
#[cfg(feature = "msgpack")]
mod msgpack;
pub mod session;
pub mod uri;
