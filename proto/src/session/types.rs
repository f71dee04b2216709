//! What a session is configured with and what it reports to the layer above.

use crate::auth::Authenticator;
use crate::codec::Serializer;
use crate::error::Error;
use crate::message::Payload;
use crate::value::Dict;
use std::fmt;
use std::sync::Arc;

/// What a session needs to join.
///
/// ```
/// use izaber_wamp_proto::auth::Ticket;
/// use izaber_wamp_proto::session::{Session, SessionConfig};
/// use std::sync::Arc;
///
/// let mut config = SessionConfig::new("realm1");
/// config.auth.push(Arc::new(Ticket::new("alice", "s3cret")));
/// let mut session = Session::<()>::new(config);
///
/// let hello = String::from_utf8(session.pop_transmit().unwrap())?;
/// assert!(hello.contains(r#""authid":"alice""#));
/// assert!(hello.contains(r#""authmethods":["ticket"]"#));
/// # Ok::<(), std::string::FromUtf8Error>(())
/// ```
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
///
/// ```
/// use izaber_wamp_proto::session::CancelMode;
///
/// assert_eq!(CancelMode::default(), CancelMode::KillNoWait);
/// assert_eq!(CancelMode::Skip.as_str(), "skip");
/// ```
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
///
/// ```
/// use izaber_wamp_proto::session::{Session, SessionConfig, State};
///
/// let mut session = Session::<()>::new(SessionConfig::new("realm1"));
/// assert_eq!(session.state(), State::Joining);
/// session.handle_frame(br#"[2,4711,{}]"#); // WELCOME
/// assert_eq!(session.state(), State::Established);
/// session.goodbye("wamp.close.normal");
/// assert_eq!(session.state(), State::Closing);
/// session.handle_frame(br#"[6,{},"wamp.close.goodbye_and_out"]"#);
/// assert_eq!(session.state(), State::Closed);
/// ```
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
///
/// ```
/// use izaber_wamp_proto::session::{Output, Reply, Session, SessionConfig};
/// use izaber_wamp_proto::Dict;
///
/// let mut session = Session::new(SessionConfig::new("realm1"));
/// session.handle_frame(br#"[2,4711,{}]"#); // WELCOME
/// # session.pop_output();
/// let request = session
///     .register("com.example.add".into(), Dict::new(), "add")
///     .unwrap();
/// session.handle_frame(format!("[65,{request},9001]").as_bytes()); // REGISTERED
/// assert!(matches!(
///     session.pop_output(),
///     Some(Output::Completed { ctx: "add", result: Ok(Reply::Registered(9001)) })
/// ));
/// ```
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
///
/// ```
/// use izaber_wamp_proto::session::{CloseReason, Output, Session, SessionConfig};
///
/// let mut session = Session::<()>::new(SessionConfig::new("realm1"));
/// session.handle_frame(br#"[3,{"message":"no such realm"},"wamp.error.no_such_realm"]"#);
/// let Some(Output::Closed(reason)) = session.pop_output() else { panic!() };
/// assert_eq!(
///     reason,
///     CloseReason::Abort {
///         reason: "wamp.error.no_such_realm".into(),
///         message: Some("no such realm".into()),
///     }
/// );
/// assert_eq!(
///     reason.to_string(),
///     "session aborted by the router: wamp.error.no_such_realm: no such realm"
/// );
/// ```
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
///
/// ```
/// use izaber_wamp_proto::message::Payload;
/// use izaber_wamp_proto::session::{Output, Session, SessionConfig};
/// use izaber_wamp_proto::{Dict, Value};
///
/// let mut session = Session::<()>::new(SessionConfig::new("realm1"));
/// # session.pop_transmit();
/// session.handle_frame(br#"[2,4711,{}]"#); // WELCOME
/// session.handle_frame(br#"[68,1,9001,{},[2,3]]"#); // INVOCATION
/// while let Some(output) = session.pop_output() {
///     match output {
///         Output::Joined { session: id, .. } => assert_eq!(id, 4711),
///         Output::Invocation { request, payload, .. } => {
///             let sum: i64 = payload.args.iter().filter_map(Value::as_i64).sum();
///             let result = Payload::new(vec![sum.into()], Dict::new());
///             session.yield_result(request, result, Dict::new());
///         }
///         other => panic!("unexpected {other:?}"),
///     }
/// }
/// assert_eq!(session.pop_transmit().unwrap(), br#"[70,1,{},[5]]"#); // YIELD
/// ```
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
    /// longer wanted. Unless the mode is `killnowait`, the session already answered
    /// `wamp.error.canceled`.
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
