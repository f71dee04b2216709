//! izaber-wamp
#![warn(missing_docs)]

pub mod client;
pub mod error;
mod event_loop;
mod pool;
pub mod protocol;
pub mod transport;
pub mod value;

pub use client::{
    CallOptions, CallResult, Client, ClientConfig, Event, EventDetails, HandlerError,
    HandlerResult, Invocation, InvocationDetails, InvokePolicy, PublishOptions, RegisterOptions,
    Registration, SubscribeOptions, Subscription,
};
pub use error::{Error, Result, WampError};
pub use event_loop::SessionInfo;
pub use protocol::codec::Serializer;
pub use protocol::uri::MatchPolicy;
pub use value::{from_value, to_value, Dict, Value};
