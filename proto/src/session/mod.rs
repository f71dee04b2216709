//! The WAMP session state machine, without I/O.
//!
//! Design: the session is fed frames ([`Session::handle_frame`]) and user requests
//! ([`Session::call`], [`Session::register`], ...). It answers with encoded frames to
//! write ([`Session::pop_transmit`]) and [`Output`]s for the layer above
//! ([`Session::pop_output`]). Every request carries an opaque context `C` that comes
//! back in exactly one [`Output::Completed`], whether the request succeeds, fails, is
//! abandoned or the session ends. So a caller can never be left waiting by the session.
//!
//! The session keeps no clock: the layer above owns each request's deadline and, when
//! it passes, calls [`Session::abandon`], which cancels a call at the router and makes
//! sure a late REGISTERED or SUBSCRIBED is undone. Pending requests live in one table
//! keyed by request ID because every reply names its request ID.
//!
//! * `join.rs`: HELLO, CHALLENGE and WELCOME.
//! * `requests.rs`: what the client asks for (CALL, REGISTER, ..., YIELD, GOODBYE).
//! * `replies.rs`: what the router sends once the session is established.

mod join;
mod replies;
mod requests;
mod types;

pub use types::{CancelMode, CloseReason, Output, Reply, SessionConfig, State};

use crate::error::Error;
use crate::id::IdMap;
use crate::id::RequestIds;
use crate::message::{Message, Payload};
use crate::value::{Dict, Value};
use std::collections::VecDeque;

#[derive(Debug)]
enum Kind {
    /// `progress`: the caller asked for progressive results.
    Call {
        progress: bool,
    },
    Register,
    Unregister,
    Subscribe,
    Unsubscribe,
    Publish,
    /// A REGISTER or SUBSCRIBE whose caller gave up: undo it if it succeeds late.
    Abandoned,
}

/// An INVOCATION being answered.
#[derive(Debug, Clone, Copy, Default)]
struct Invocation {
    /// The caller asked for progressive results.
    receive_progress: bool,
    /// More chunks of a progressive invocation are to come.
    chunks_open: bool,
}

#[derive(Debug)]
struct Pending<C> {
    kind: Kind,
    ctx: Option<C>,
}

/// One WAMP session, from HELLO to the end. See the module docs for how it is driven.
///
/// ```
/// use izaber_wamp_proto::message::Payload;
/// use izaber_wamp_proto::session::{Output, Reply, Session, SessionConfig};
/// use izaber_wamp_proto::{Dict, Value};
///
/// let mut session = Session::new(SessionConfig::new("realm1"));
/// let hello = session.pop_transmit().unwrap(); // write it to the transport
/// assert!(hello.starts_with(br#"[1,"realm1",{"#));
///
/// session.handle_frame(br#"[2,4711,{"roles":{"dealer":{}}}]"#); // WELCOME
/// assert!(matches!(session.pop_output(), Some(Output::Joined { session: 4711, .. })));
///
/// // A call; its context ("sum") comes back with the result.
/// let args = Payload::new(vec![2.into(), 3.into()], Dict::new());
/// let request = session.call("com.example.add".into(), Dict::new(), args, "sum").unwrap();
/// let call = session.pop_transmit().unwrap();
/// assert_eq!(call, format!(r#"[48,{request},{{}},"com.example.add",[2,3]]"#).as_bytes());
///
/// session.handle_frame(format!("[50,{request},{{}},[5]]").as_bytes()); // RESULT
/// match session.pop_output() {
///     Some(Output::Completed { ctx: "sum", result: Ok(Reply::Result { payload, .. }) }) => {
///         assert_eq!(payload.args, [Value::Int(5)]);
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct Session<C> {
    config: SessionConfig,
    state: State,
    session_id: Option<u64>,
    router_roles: Dict,
    ids: RequestIds,
    pending: IdMap<u64, Pending<C>>,
    /// INVOCATIONs we have not answered, and whether each caller asked for progressive
    /// results; a YIELD for anything else is dropped.
    invocations: IdMap<u64, Invocation>,
    transmit: VecDeque<Vec<u8>>,
    outputs: VecDeque<Output<C>>,
    /// Why the session ended, once it has.
    ended: Option<CloseReason>,
}

impl<C: Clone> Session<C> {
    /// A new session; HELLO is queued for transmission at once.
    pub fn new(config: SessionConfig) -> Self {
        let mut session = Session {
            config,
            state: State::Joining,
            session_id: None,
            router_roles: Dict::new(),
            ids: RequestIds::new(),
            pending: IdMap::default(),
            invocations: IdMap::default(),
            transmit: VecDeque::new(),
            outputs: VecDeque::new(),
            ended: None,
        };
        session.hello();
        session
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The session ID once joined.
    pub fn session_id(&self) -> Option<u64> {
        self.session_id
    }

    /// True when the router announced `feature` for `role` (`"dealer"` or `"broker"`).
    pub fn router_supports(&self, role: &str, feature: &str) -> bool {
        let flag = self
            .router_roles
            .get(role)
            .and_then(Value::as_dict)
            .and_then(|r| r.get("features"))
            .and_then(Value::as_dict)
            .and_then(|f| f.get(feature));
        matches!(flag, Some(Value::Bool(true)))
    }

    /// The next frame to write, if any.
    pub fn pop_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// True when frames wait to be written.
    pub fn has_transmit(&self) -> bool {
        !self.transmit.is_empty()
    }

    /// The next output to act on, if any.
    pub fn pop_output(&mut self) -> Option<Output<C>> {
        self.outputs.pop_front()
    }

    /// Number of requests waiting for an answer.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    /// The caller of request `request` gave up on it (its deadline passed): returns
    /// its context, and from now on the request's answer is ignored. A call is
    /// canceled at the router with `mode` when the router supports canceling; a
    /// REGISTER or SUBSCRIBE that succeeds late is undone. `None` when the request is
    /// not pending (already answered).
    pub fn abandon(&mut self, request: u64, mode: CancelMode) -> Option<C> {
        let pending = self.pending.get_mut(&request)?;
        let ctx = pending.ctx.take()?;
        match pending.kind {
            Kind::Call { .. } => {
                self.pending.remove(&request);
                self.send_cancel(request, mode);
            }
            // Keep the entry so a late success is undone instead of leaking.
            Kind::Register | Kind::Subscribe => pending.kind = Kind::Abandoned,
            Kind::Unregister | Kind::Unsubscribe | Kind::Publish | Kind::Abandoned => {
                self.pending.remove(&request);
            }
        }
        Some(ctx)
    }

    /// Sends CANCEL for call `request`, when the router supports canceling.
    fn send_cancel(&mut self, request: u64, mode: CancelMode) {
        if self.router_supports("dealer", "call_canceling") {
            let options = Dict::from([("mode".to_string(), Value::from(mode.as_str()))]);
            // A CANCEL is tiny; if even it cannot be sent the session is already failing.
            let _ = self.send(Message::Cancel { request, options });
        }
    }

    fn complete_with(&mut self, ctx: C, result: Result<Reply, Error>) {
        self.outputs.push_back(Output::Completed { ctx, result });
    }

    /// Encodes and queues a message, refusing it if it exceeds the peer's limit.
    fn send(&mut self, message: Message) -> Result<(), Error> {
        let name = message.name();
        let frame = self.config.serializer.encode(message)?;
        // Type and size only: contents may hold secrets (a ticket, a signature).
        log::trace!(
            "sending {name} ({} bytes, {})",
            frame.len(),
            self.config.serializer
        );
        if frame.len() > self.config.max_message_size {
            return Err(Error::PayloadTooLarge {
                size: frame.len(),
                limit: self.config.max_message_size,
            });
        }
        self.transmit.push_back(frame);
        Ok(())
    }

    fn fail_all(&mut self, error: &Error) {
        let mut failed: Vec<(u64, C)> = Vec::new();
        for (request, pending) in self.pending.drain() {
            if let Some(ctx) = pending.ctx {
                failed.push((request, ctx));
            }
        }
        // Complete in request order so callers see a deterministic sequence.
        failed.sort_by_key(|(request, _)| *request);
        for (_, ctx) in failed {
            self.complete_with(ctx, Err(error.clone()));
        }
        self.invocations.clear();
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.ended = Some(reason.clone());
        self.fail_all(&Error::SessionEnded(reason.clone()));
        self.outputs.push_back(Output::Closed(reason));
    }

    /// Sends ABORT with `reason` and `message`, then closes with `close_reason`.
    fn abort(&mut self, reason: &str, message: &str, close_reason: CloseReason) {
        let details = Dict::from([("message".to_string(), Value::from(message))]);
        let _ = self.send(Message::Abort {
            details,
            reason: reason.into(),
            payload: Payload::default(),
        });
        self.close(close_reason);
    }

    fn protocol_violation(&mut self, why: String) {
        if self.state == State::Closed {
            return;
        }
        self.abort(
            "wamp.error.protocol_violation",
            &why.clone(),
            CloseReason::ProtocolViolation(why),
        );
    }

    /// Feeds one received frame.
    pub fn handle_frame(&mut self, frame: &[u8]) {
        match self.config.serializer.decode(frame) {
            Ok(message) => {
                log::trace!(
                    "received {} ({} bytes, {})",
                    message.name(),
                    frame.len(),
                    self.config.serializer
                );
                self.handle_message(message)
            }
            Err(e) => self.protocol_violation(e.to_string()),
        }
    }

    /// Feeds one received, already decoded message.
    pub fn handle_message(&mut self, message: Message) {
        match (self.state, message) {
            (State::Closed, _) => {}
            (
                _,
                Message::Abort {
                    details, reason, ..
                },
            ) => {
                self.close(CloseReason::Abort {
                    reason,
                    message: message_of(&details),
                });
            }
            (State::Joining, Message::Welcome { session, details }) => {
                self.joined(session, details)
            }
            (State::Joining, Message::Challenge { method, extra }) => {
                self.challenged(&method, &extra)
            }
            (State::Joining, other) => self.protocol_violation(format!(
                "{} received before the session was established",
                other.name()
            )),
            (State::Closing, Message::Goodbye { .. }) => self.close(CloseReason::ClientGoodbye),
            // After our GOODBYE, late replies are expected and meaningless.
            (State::Closing, _) => {}
            (State::Established, Message::Goodbye { details, reason }) => {
                let reply = Message::Goodbye {
                    details: Dict::new(),
                    reason: "wamp.close.goodbye_and_out".into(),
                };
                let _ = self.send(reply);
                self.close(CloseReason::RouterGoodbye {
                    reason,
                    message: message_of(&details),
                });
            }
            (State::Established, message) => self.handle_established(message),
        }
    }
}

/// True when `dict[key]` is `true`: how WAMP options and details spell a flag.
fn flag(dict: &Dict, key: &str) -> bool {
    matches!(dict.get(key), Some(Value::Bool(true)))
}

fn message_of(details: &Dict) -> Option<String> {
    details
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
}
