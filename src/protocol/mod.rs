//! The WAMP protocol without I/O: messages, serializers, URIs, IDs, authentication and
//! the session state machine. Nothing here touches a socket, a thread or a clock of its
//! own, so every part is tested with bytes in and bytes out.

pub mod auth;
pub mod codec;
pub mod id;
pub mod message;
mod msgpack;
pub mod session;
pub mod uri;
