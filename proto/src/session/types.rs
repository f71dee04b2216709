//! What a session is configured with and what it reports to the layer above.

use crate::auth::Authenticator;
use crate::codec::Serializer;
use crate::error::Error;
use crate::message::Payload;
use crate::value::Dict;
use std::fmt;
use std::sync::Arc;

/// What a session needs to join.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The realm to join.
    pub realm: String,
    /// Authentication methods to offer, in order of preference; empty means anonymous.
    pub auth: Vec<Arc<dyn Authenticator>>,
    /// The `agent` string for HELLO.
    pub agent: String,
    /// The serializer negotiated by the transport.
    pub serializer: Serializer,
    /// The largest message the peer accepts, in bytes.
    pub max_message_size: usize,
    /// The user's `HELLO.Details.authextra` entries; those of the authenticators are
    /// merged over them.
    pub authextra: Dict,
}

impl SessionConfig {
    /// Joins `realm` with JSON, anonymous login (no authenticators), no `authextra`,
    /// this crate's name as the agent and a 16 MiB message limit; set the fields to
    /// change any of them.
    ///
    /// ```
    /// use izaber_wamp_proto::session::SessionConfig;
    /// use izaber_wamp_proto::Serializer;
    /// let mut config = SessionConfig::new("realm1");
    /// config.serializer = Serializer::Json;
    /// assert_eq!(config.realm, "realm1");
    /// ```
    pub fn new(realm: impl Into<String>) -> Self {
        SessionConfig {
            realm: realm.into(),
            auth: Vec::new(),
            agent: concat!("izaber-wamp-proto/", env!("CARGO_PKG_VERSION")).into(),
            serializer: Serializer::Json,
            max_message_size: 16 * 1024 * 1024,
            authextra: Dict::new(),
        }
    }
}

/// How a call is canceled (CANCEL's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum CancelMode {
    /// The router stops waiting for the callee, which is not told; a late result is
    /// dropped.
    Skip,
    /// The callee is interrupted and the call ends with whatever it answers next.
    Kill,
    /// The callee is interrupted and the call ends at once (the default).
    #[default]
    KillNoWait,
}

impl CancelMode {
    /// The mode's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelMode::Skip => "skip",
            CancelMode::Kill => "kill",
            CancelMode::KillNoWait => "killnowait",
        }
    }
}

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// HELLO sent; waiting for WELCOME, CHALLENGE or ABORT.
    Joining,
    /// WELCOME received.
    Established,
    /// We sent GOODBYE and wait for the router's.
    Closing,
    /// Over; nothing more is sent.
    Closed,
}

/// The successful answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// RESULT of a CALL.
    Result {
        /// RESULT.Details.
        details: Dict,
        /// The result payload, complete.
        payload: Payload,
    },
    /// REGISTERED, with the router's registration ID.
    Registered(u64),
    /// UNREGISTERED.
    Unregistered,
    /// SUBSCRIBED, with the router's subscription ID.
    Subscribed(u64),
    /// UNSUBSCRIBED.
    Unsubscribed,
    /// PUBLISHED, with the publication ID.
    Published(u64),
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CloseReason {
    /// We said GOODBYE (the router may or may not have answered).
    ClientGoodbye,
    /// The router said GOODBYE, e.g. after `wamp.session.kill`; we answered it.
    RouterGoodbye {
        /// The GOODBYE reason URI.
        reason: String,
        /// `Details.message`, if any.
        message: Option<String>,
    },
    /// The router sent ABORT.
    Abort {
        /// The ABORT reason URI.
        reason: String,
        /// `Details.message`, if any.
        message: Option<String>,
    },
    /// We gave up joining: the router asked for an authentication method that was not
    /// offered, or answering its challenge failed (we sent ABORT), or HELLO could not
    /// be sent at all.
    ClientAbort {
        /// The ABORT reason URI we sent.
        reason: String,
        /// Why.
        message: String,
    },
    /// The router broke the protocol; we sent ABORT with this message.
    ProtocolViolation(String),
    /// The transport went away.
    ConnectionLost(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_message =
            |f: &mut fmt::Formatter<'_>, what: &str, reason: &str, message: Option<&str>| {
                match message {
                    Some(m) => write!(f, "{what}: {reason}: {m}"),
                    None => write!(f, "{what}: {reason}"),
                }
            };
        match self {
            CloseReason::ClientGoodbye => f.write_str("the client said goodbye"),
            CloseReason::RouterGoodbye { reason, message } => with_message(
                f,
                "the router ended the session",
                reason,
                message.as_deref(),
            ),
            CloseReason::Abort { reason, message } => with_message(
                f,
                "session aborted by the router",
                reason,
                message.as_deref(),
            ),
            CloseReason::ClientAbort { reason, message } => {
                with_message(f, "session aborted by the client", reason, Some(message))
            }
            CloseReason::ProtocolViolation(why) => write!(f, "WAMP protocol violation: {why}"),
            CloseReason::ConnectionLost(why) => write!(f, "connection lost: {why}"),
        }
    }
}

/// Something the layer above must act on.
#[derive(Debug)]
pub enum Output<C> {
    /// The session is established.
    Joined {
        /// The session ID.
        session: u64,
        /// WELCOME.Details (authid, authrole, roles, ...).
        details: Dict,
    },
    /// A request is finished; `ctx` is the context it was made with.
    Completed {
        /// The request's context.
        ctx: C,
        /// Its outcome.
        result: Result<Reply, Error>,
    },
    /// A progressive result of a call made with `receive_progress`: the call goes on.
    Progress {
        /// The call's context.
        ctx: C,
        /// RESULT.Details (with `progress: true`).
        details: Dict,
        /// The partial result.
        payload: Payload,
    },
    /// The router asks us to run a registered procedure; answer with
    /// [`Session::yield_result`](super::Session::yield_result) or
    /// [`Session::yield_error`](super::Session::yield_error).
    Invocation {
        /// INVOCATION request ID, to answer with.
        request: u64,
        /// The router's registration ID.
        registration: u64,
        /// INVOCATION.Details.
        details: Dict,
        /// The call's arguments (the first chunk of a progressive invocation).
        payload: Payload,
    },
    /// A further chunk of a progressive invocation (the caller sends its call in
    /// parts); `last` for the final one.
    InvocationChunk {
        /// The INVOCATION request ID the chunk belongs to.
        request: u64,
        /// The chunk.
        payload: Payload,
        /// No more chunks follow.
        last: bool,
    },
    /// The caller canceled an invocation we are running (INTERRUPT); its answer is no
    /// longer wanted. For `kill` the session already answered `wamp.error.canceled`.
    Interrupt {
        /// The INVOCATION request ID.
        request: u64,
        /// The cancel mode the caller asked for.
        mode: CancelMode,
    },
    /// An event for one of our subscriptions.
    Event {
        /// The router's subscription ID.
        subscription: u64,
        /// The publication ID.
        publication: u64,
        /// EVENT.Details.
        details: Dict,
        /// The event's payload.
        payload: Payload,
    },
    /// The router removed one of our registrations.
    RegistrationRevoked {
        /// The router's registration ID.
        registration: u64,
        /// The router's reason, if given.
        reason: Option<String>,
    },
    /// The router removed one of our subscriptions.
    SubscriptionRevoked {
        /// The router's subscription ID.
        subscription: u64,
        /// The router's reason, if given.
        reason: Option<String>,
    },
    /// The session is over; close the transport once what is queued is written.
    Closed(CloseReason),
}
