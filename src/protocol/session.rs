//! The WAMP session state machine, without I/O.
//!
//! Design: the session is fed frames ([`Session::handle_frame`]), user requests
//! ([`Session::call`], [`Session::register`], ...) and the clock
//! ([`Session::handle_timeout`]). It answers with encoded frames to write
//! ([`Session::pop_transmit`]) and [`Output`]s for the layer above
//! ([`Session::pop_output`]). Every request carries an opaque context `C` (the event
//! loop uses the caller's reply channel) that comes back in exactly one
//! [`Output::Completed`], whether the request succeeds, fails, times out or the session
//! ends. So a caller can never be left waiting by the session.
//!
//! Pending requests live in one table keyed by request ID because every reply names
//! its request ID; deadlines live in a heap beside it so the next timeout is cheap to
//! find, and entries are dropped lazily when their request already completed.

use super::auth::{add_hello_details, Authenticator};
use super::codec::Serializer;
use super::id::RequestIds;
use super::message::{code, Message, Payload};
use super::uri::{self, MatchPolicy};
use crate::error::{Error, WampError};
use crate::value::{Dict, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a session needs to join.
#[derive(Debug, Clone)]
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
    /// The router said GOODBYE, e.g. after `wamp.session.kill`.
    RouterGoodbye {
        /// The GOODBYE reason URI.
        reason: String,
        /// `Details.message`, if any.
        message: Option<String>,
    },
    /// ABORT, from the router or from us.
    Abort {
        /// The ABORT reason URI.
        reason: String,
        /// `Details.message`, if any.
        message: Option<String>,
    },
    /// The router broke the protocol; we sent ABORT.
    ProtocolViolation(String),
    /// The transport went away.
    ConnectionLost(String),
}

impl CloseReason {
    /// The error given to requests that were pending when the session ended.
    pub fn to_error(&self) -> Error {
        match self {
            CloseReason::ClientGoodbye => Error::Closed,
            CloseReason::RouterGoodbye { reason, message } => {
                Error::ConnectionLost(match message {
                    Some(m) => format!("the router ended the session: {reason}: {m}"),
                    None => format!("the router ended the session: {reason}"),
                })
            }
            CloseReason::Abort { reason, message } => Error::Abort {
                reason: reason.clone(),
                message: message.clone(),
            },
            CloseReason::ProtocolViolation(why) => Error::ProtocolViolation(why.clone()),
            CloseReason::ConnectionLost(why) => Error::ConnectionLost(why.clone()),
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
    /// The router asks us to run a registered procedure; answer with
    /// [`Session::yield_result`] or [`Session::yield_error`].
    Invocation {
        /// INVOCATION request ID, to answer with.
        request: u64,
        /// The router's registration ID.
        registration: u64,
        /// INVOCATION.Details.
        details: Dict,
        /// The call's arguments.
        payload: Payload,
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
    /// The session is over; close the transport.
    Closed(CloseReason),
}

#[derive(Debug)]
enum Kind {
    Call {
        procedure: String,
    },
    Register,
    Unregister,
    Subscribe,
    Unsubscribe,
    Publish,
    /// A REGISTER or SUBSCRIBE whose caller gave up: undo it if it succeeds late.
    Abandoned,
}

#[derive(Debug)]
struct Pending<C> {
    kind: Kind,
    ctx: Option<C>,
    deadline: Option<(Instant, Duration)>,
}

/// One WAMP session, from HELLO to the end. See the module docs for how it is driven.
#[derive(Debug)]
pub struct Session<C> {
    config: SessionConfig,
    state: State,
    session_id: Option<u64>,
    router_roles: Dict,
    ids: RequestIds,
    pending: HashMap<u64, Pending<C>>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    /// INVOCATIONs we have not answered; a YIELD for anything else is dropped.
    invocations: HashSet<u64>,
    transmit: VecDeque<Vec<u8>>,
    outputs: VecDeque<Output<C>>,
}

impl<C> Session<C> {
    /// A new session; HELLO is queued for transmission at once.
    pub fn new(config: SessionConfig) -> Self {
        let mut session = Session {
            config,
            state: State::Joining,
            session_id: None,
            router_roles: Dict::new(),
            ids: RequestIds::new(),
            pending: HashMap::new(),
            deadlines: BinaryHeap::new(),
            invocations: HashSet::new(),
            transmit: VecDeque::new(),
            outputs: VecDeque::new(),
        };
        let hello = Message::Hello {
            realm: session.config.realm.clone(),
            details: session.hello_details(),
        };
        if let Err(e) = session.send(hello) {
            session.close(CloseReason::Abort {
                reason: "wamp.error.invalid_argument".into(),
                message: Some(format!("cannot send HELLO: {e}")),
            });
        }
        session
    }

    fn hello_details(&self) -> Dict {
        let features = |names: &[&str]| {
            let flags: Dict = names
                .iter()
                .map(|n| (n.to_string(), Value::Bool(true)))
                .collect();
            Value::Dict(Dict::from([("features".to_string(), Value::Dict(flags))]))
        };
        let roles = Dict::from([
            (
                "caller".to_string(),
                features(&["call_canceling", "caller_identification"]),
            ),
            (
                "callee".to_string(),
                features(&[
                    "call_canceling",
                    "caller_identification",
                    "pattern_based_registration",
                    "shared_registration",
                    "registration_revocation",
                ]),
            ),
            (
                "publisher".to_string(),
                features(&[
                    "publisher_exclusion",
                    "publisher_identification",
                    "subscriber_blackwhite_listing",
                ]),
            ),
            (
                "subscriber".to_string(),
                features(&[
                    "pattern_based_subscription",
                    "publisher_identification",
                    "subscription_revocation",
                ]),
            ),
        ]);
        let mut details = Dict::from([
            ("roles".to_string(), Value::Dict(roles)),
            ("agent".to_string(), Value::from(self.config.agent.as_str())),
        ]);
        add_hello_details(&mut details, &self.config.auth, &self.config.authextra);
        details
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

    /// The next output to act on, if any.
    pub fn pop_output(&mut self) -> Option<Output<C>> {
        self.outputs.pop_front()
    }

    /// Number of requests waiting for an answer.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn next_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, request))) = self.deadlines.peek().copied() {
            let live = self
                .pending
                .get(&request)
                .is_some_and(|p| p.deadline.is_some_and(|(d, _)| d == when));
            if live {
                return Some(when);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Fails every request whose deadline is at or before `now`. A timed-out call is
    /// canceled at the router (mode `killnowait`) when the router supports it.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((when, request))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            let expired = self
                .pending
                .get(&request)
                .is_some_and(|p| p.deadline.is_some_and(|(d, _)| d == when));
            if expired {
                self.expire(request);
            }
        }
    }

    fn expire(&mut self, request: u64) {
        let Some(mut pending) = self.pending.remove(&request) else {
            return;
        };
        let after = pending.deadline.map_or(Duration::ZERO, |(_, t)| t);
        let operation = match &pending.kind {
            Kind::Call { procedure } => {
                if self.router_supports("dealer", "call_canceling") {
                    let options = Dict::from([("mode".to_string(), Value::from("killnowait"))]);
                    // A CANCEL is tiny; if even it cannot be sent the session is already failing.
                    let _ = self.send(Message::Cancel { request, options });
                }
                format!("call {procedure}")
            }
            Kind::Register | Kind::Subscribe => {
                // Keep the entry so a late success is undone instead of leaking.
                let ctx = pending.ctx.take();
                let what = if matches!(pending.kind, Kind::Register) {
                    "register"
                } else {
                    "subscribe"
                };
                self.pending.insert(
                    request,
                    Pending {
                        kind: Kind::Abandoned,
                        ctx: None,
                        deadline: None,
                    },
                );
                if let Some(ctx) = ctx {
                    self.complete_with(
                        ctx,
                        Err(Error::Timeout {
                            operation: what.into(),
                            after,
                        }),
                    );
                }
                return;
            }
            Kind::Unregister => "unregister".into(),
            Kind::Unsubscribe => "unsubscribe".into(),
            Kind::Publish => "publish".into(),
            Kind::Abandoned => return,
        };
        if let Some(ctx) = pending.ctx {
            self.complete_with(ctx, Err(Error::Timeout { operation, after }));
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

    /// Sends a request message with the next request ID, which is used up only if the
    /// message could be sent.
    fn send_request(&mut self, build: impl FnOnce(u64) -> Message) -> Result<u64, Error> {
        match self.state {
            State::Established => {}
            State::Joining => {
                return Err(Error::ConnectionLost(
                    "the session has not joined yet".into(),
                ))
            }
            State::Closing | State::Closed => return Err(Error::Closed),
        }
        let request = self.ids.peek();
        self.send(build(request))?;
        Ok(self.ids.next_id())
    }

    /// Sends a request and records it as pending; a failure to send completes `ctx`.
    fn request(
        &mut self,
        kind: Kind,
        ctx: Option<C>,
        deadline: Option<(Instant, Duration)>,
        build: impl FnOnce(u64) -> Message,
    ) {
        let request = match self.send_request(build) {
            Ok(request) => request,
            Err(e) => {
                if let Some(ctx) = ctx {
                    self.complete_with(ctx, Err(e));
                }
                return;
            }
        };
        if let Some((when, _)) = deadline {
            self.deadlines.push(Reverse((when, request)));
        }
        self.pending.insert(
            request,
            Pending {
                kind,
                ctx,
                deadline,
            },
        );
    }

    fn check_uri(
        &mut self,
        ctx: &mut Option<C>,
        uri: &str,
        policy: Result<MatchPolicy, Error>,
        reserved_ok: bool,
    ) -> bool {
        let result = policy
            .and_then(|policy| uri::validate(uri, policy).map_err(Error::from))
            .and_then(|()| {
                if !reserved_ok && uri::is_reserved(uri) {
                    Err(Error::InvalidUri(uri::UriError {
                        uri: uri.to_owned(),
                        reason: "the wamp. namespace is reserved for the router",
                    }))
                } else {
                    Ok(())
                }
            });
        match result {
            Ok(()) => true,
            Err(e) => {
                if let Some(ctx) = ctx.take() {
                    self.complete_with(ctx, Err(e));
                }
                false
            }
        }
    }

    /// Calls a procedure.
    pub fn call(
        &mut self,
        procedure: String,
        options: Dict,
        payload: Payload,
        timeout: Option<Duration>,
        ctx: C,
        now: Instant,
    ) {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &procedure, Ok(MatchPolicy::Exact), true) {
            return;
        }
        let kind = Kind::Call {
            procedure: procedure.clone(),
        };
        self.request(kind, ctx, deadline(timeout, now), |request| Message::Call {
            request,
            options,
            procedure,
            payload,
        });
    }

    /// Registers a procedure; `options` may carry `match`, `invoke`, ...
    pub fn register(
        &mut self,
        procedure: String,
        options: Dict,
        timeout: Option<Duration>,
        ctx: C,
        now: Instant,
    ) {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &procedure, match_policy(&options), false) {
            return;
        }
        self.request(Kind::Register, ctx, deadline(timeout, now), |request| {
            Message::Register {
                request,
                options,
                procedure,
            }
        });
    }

    /// Removes a registration by the router's registration ID.
    pub fn unregister(
        &mut self,
        registration: u64,
        timeout: Option<Duration>,
        ctx: C,
        now: Instant,
    ) {
        self.request(
            Kind::Unregister,
            Some(ctx),
            deadline(timeout, now),
            |request| Message::Unregister {
                request,
                registration,
            },
        );
    }

    /// Subscribes to a topic; `options` may carry `match`, `get_retained`, ...
    pub fn subscribe(
        &mut self,
        topic: String,
        options: Dict,
        timeout: Option<Duration>,
        ctx: C,
        now: Instant,
    ) {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &topic, match_policy(&options), true) {
            return;
        }
        self.request(Kind::Subscribe, ctx, deadline(timeout, now), |request| {
            Message::Subscribe {
                request,
                options,
                topic,
            }
        });
    }

    /// Removes a subscription by the router's subscription ID.
    pub fn unsubscribe(
        &mut self,
        subscription: u64,
        timeout: Option<Duration>,
        ctx: C,
        now: Instant,
    ) {
        self.request(
            Kind::Unsubscribe,
            Some(ctx),
            deadline(timeout, now),
            |request| Message::Unsubscribe {
                request,
                subscription,
            },
        );
    }

    /// Publishes an event. With `options.acknowledge == true` the context completes with
    /// [`Reply::Published`]; otherwise it completes as soon as the PUBLISH is queued
    /// (with [`Reply::Published`]`(0)`), because the router will never answer.
    pub fn publish(
        &mut self,
        topic: String,
        options: Dict,
        payload: Payload,
        timeout: Option<Duration>,
        ctx: C,
        now: Instant,
    ) {
        let mut ctx = Some(ctx);
        if !self.check_uri(&mut ctx, &topic, Ok(MatchPolicy::Exact), false) {
            return;
        }
        if matches!(options.get("acknowledge"), Some(Value::Bool(true))) {
            self.request(Kind::Publish, ctx, deadline(timeout, now), |request| {
                Message::Publish {
                    request,
                    options,
                    topic,
                    payload,
                }
            });
            return;
        }
        // The router never answers an unacknowledged publish: done once it is sent.
        let sent = self.send_request(|request| Message::Publish {
            request,
            options,
            topic,
            payload,
        });
        if let Some(ctx) = ctx {
            self.complete_with(ctx, sent.map(|_| Reply::Published(0)));
        }
    }

    /// Answers an INVOCATION with a result. Ignored if the invocation was interrupted.
    /// If the result is too large to send, the caller gets an error instead.
    pub fn yield_result(&mut self, request: u64, payload: Payload) {
        if !self.invocations.remove(&request) || self.state != State::Established {
            return;
        }
        if let Err(e) = self.send(Message::Yield {
            request,
            options: Dict::new(),
            payload,
        }) {
            let error = WampError::new(match e {
                Error::PayloadTooLarge { .. } => "wamp.error.payload_size_exceeded",
                _ => "wamp.error.invalid_payload",
            })
            .with_args(vec![Value::from(format!(
                "the callee could not send its result: {e}"
            ))]);
            self.invocations.insert(request);
            self.yield_error(request, error);
        }
    }

    /// Answers an INVOCATION with an error. Ignored if the invocation was interrupted.
    pub fn yield_error(&mut self, request: u64, error: WampError) {
        if !self.invocations.remove(&request) || self.state != State::Established {
            return;
        }
        let message = |error: WampError| Message::Error {
            request_type: code::INVOCATION,
            request,
            details: Dict::new(),
            error: error.uri,
            payload: Payload::new(error.args, error.kwargs),
        };
        if let Err(e) = self.send(message(error)) {
            let fallback =
                WampError::new("wamp.error.invalid_payload").with_args(vec![Value::from(format!(
                    "the callee could not send its error: {e}"
                ))]);
            // The fallback is a short string, so it always fits; if not, the session is failing anyway.
            let _ = self.send(message(fallback));
        }
    }

    /// Ends the session politely: GOODBYE, then [`Output::Closed`] once the router answers
    /// (or at once if the session was not established). Pending requests fail with
    /// [`Error::Closed`].
    pub fn goodbye(&mut self, reason: &str) {
        match self.state {
            State::Established => {
                let goodbye = Message::Goodbye {
                    details: Dict::new(),
                    reason: reason.into(),
                };
                if self.send(goodbye).is_err() {
                    self.close(CloseReason::ClientGoodbye);
                    return;
                }
                self.state = State::Closing;
                self.fail_all(&Error::Closed);
            }
            State::Joining => self.close(CloseReason::ClientGoodbye),
            State::Closing | State::Closed => {}
        }
    }

    /// The transport is gone: every pending request fails and the session closes.
    pub fn connection_lost(&mut self, why: &str) {
        match self.state {
            State::Closed => {}
            // We already said goodbye; the router closing the socket is the end of that.
            State::Closing => self.close(CloseReason::ClientGoodbye),
            _ => self.close(CloseReason::ConnectionLost(why.to_owned())),
        }
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
        self.deadlines.clear();
        self.invocations.clear();
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.fail_all(&reason.to_error());
        self.outputs.push_back(Output::Closed(reason));
    }

    fn protocol_violation(&mut self, why: String) {
        if self.state == State::Closed {
            return;
        }
        let details = Dict::from([("message".to_string(), Value::from(why.as_str()))]);
        let _ = self.send(Message::Abort {
            details,
            reason: "wamp.error.protocol_violation".into(),
            payload: Payload::default(),
        });
        self.close(CloseReason::ProtocolViolation(why));
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

    fn joined(&mut self, session: u64, details: Dict) {
        self.state = State::Established;
        self.session_id = Some(session);
        self.router_roles = details
            .get("roles")
            .and_then(Value::as_dict)
            .cloned()
            .unwrap_or_default();
        self.outputs.push_back(Output::Joined { session, details });
    }

    fn challenged(&mut self, method: &str, extra: &Dict) {
        let answer = match self.config.auth.iter().find(|a| a.method() == method) {
            Some(auth) => auth.authenticate(extra),
            None => Err(format!(
                "the router asked for {method:?} authentication, which was not offered"
            )),
        };
        match answer {
            Ok((signature, extra)) => {
                if let Err(e) = self.send(Message::Authenticate {
                    signature: signature.into(),
                    extra,
                }) {
                    self.abort_join(format!("cannot send AUTHENTICATE: {e}"));
                }
            }
            Err(why) => self.abort_join(why),
        }
    }

    fn abort_join(&mut self, why: String) {
        let details = Dict::from([("message".to_string(), Value::from(why.as_str()))]);
        let reason = "wamp.error.authentication_failed".to_string();
        let _ = self.send(Message::Abort {
            details,
            reason: reason.clone(),
            payload: Payload::default(),
        });
        self.close(CloseReason::Abort {
            reason,
            message: Some(why),
        });
    }

    fn handle_established(&mut self, message: Message) {
        match message {
            Message::Result {
                request,
                details,
                payload,
            } => {
                if matches!(details.get("progress"), Some(Value::Bool(true))) {
                    // Crossbar forwards progressive results even when not requested;
                    // they are not the final answer, and this client does not ask for them.
                    return;
                }
                self.reply(
                    request,
                    |k| matches!(k, Kind::Call { .. }),
                    Reply::Result { details, payload },
                );
            }
            Message::Registered {
                request,
                registration,
            } => self.created(request, Reply::Registered(registration), |request| {
                Message::Unregister {
                    request,
                    registration,
                }
            }),
            Message::Subscribed {
                request,
                subscription,
            } => self.created(request, Reply::Subscribed(subscription), |request| {
                Message::Unsubscribe {
                    request,
                    subscription,
                }
            }),
            Message::Unregistered { request } => self.reply(
                request,
                |k| matches!(k, Kind::Unregister),
                Reply::Unregistered,
            ),
            Message::Unsubscribed { request } => self.reply(
                request,
                |k| matches!(k, Kind::Unsubscribe),
                Reply::Unsubscribed,
            ),
            Message::Published {
                request,
                publication,
            } => self.reply(
                request,
                |k| matches!(k, Kind::Publish),
                Reply::Published(publication),
            ),
            Message::Error {
                request_type,
                request,
                error,
                payload,
                ..
            } => self.error_reply(request_type, request, error, payload),
            Message::Invocation {
                request,
                registration,
                details,
                payload,
            } => {
                self.invocations.insert(request);
                self.outputs.push_back(Output::Invocation {
                    request,
                    registration,
                    details,
                    payload,
                });
            }
            Message::Interrupt { request, options } => {
                if self.invocations.remove(&request)
                    && options.get("mode").and_then(Value::as_str) != Some("killnowait")
                {
                    let _ = self.send(Message::Error {
                        request_type: code::INVOCATION,
                        request,
                        details: Dict::new(),
                        error: "wamp.error.canceled".into(),
                        payload: Payload::default(),
                    });
                }
            }
            Message::Event {
                subscription,
                publication,
                details,
                payload,
            } => {
                self.outputs.push_back(Output::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                });
            }
            Message::RegistrationRevoked { details } => {
                let registration = details
                    .get("registration")
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                let reason = details
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.outputs.push_back(Output::RegistrationRevoked {
                    registration,
                    reason,
                });
            }
            Message::SubscriptionRevoked { details } => {
                let subscription = details
                    .get("subscription")
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                let reason = details
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                self.outputs.push_back(Output::SubscriptionRevoked {
                    subscription,
                    reason,
                });
            }
            other => self.protocol_violation(format!(
                "{} is not a message a client may receive in a session",
                other.name()
            )),
        }
    }

    fn is_abandoned(&self, request: u64) -> bool {
        self.pending
            .get(&request)
            .is_some_and(|p| matches!(p.kind, Kind::Abandoned))
    }

    /// REGISTERED or SUBSCRIBED: completes the request, or, when its caller gave up
    /// (timed out), undoes the late success with `undo` so nothing is left registered.
    fn created(&mut self, request: u64, reply: Reply, undo: impl FnOnce(u64) -> Message) {
        if self.is_abandoned(request) {
            self.pending.remove(&request);
            self.request(Kind::Abandoned, None, None, undo);
            return;
        }
        let registered = matches!(reply, Reply::Registered(_));
        let expected = move |kind: &Kind| match kind {
            Kind::Register => registered,
            Kind::Subscribe => !registered,
            _ => false,
        };
        self.reply(request, expected, reply);
    }

    /// Completes the pending request `request` if it is of the expected kind. A reply to an
    /// unknown request is dropped: it answers a request that already timed out.
    fn reply(&mut self, request: u64, expected: impl Fn(&Kind) -> bool, reply: Reply) {
        match self.pending.get(&request) {
            None => {}
            Some(p) if !expected(&p.kind) => {
                if matches!(p.kind, Kind::Abandoned) {
                    self.pending.remove(&request);
                } else {
                    self.protocol_violation(format!(
                        "request {request} got a reply of the wrong type"
                    ));
                }
            }
            Some(_) => {
                if let Some(Pending { ctx: Some(ctx), .. }) = self.pending.remove(&request) {
                    self.complete_with(ctx, Ok(reply));
                }
            }
        }
    }

    fn error_reply(&mut self, request_type: u64, request: u64, uri: String, payload: Payload) {
        let Some(pending) = self.pending.get(&request) else {
            return;
        };
        let expected = match pending.kind {
            Kind::Call { .. } => code::CALL,
            Kind::Register => code::REGISTER,
            Kind::Unregister => code::UNREGISTER,
            Kind::Subscribe => code::SUBSCRIBE,
            Kind::Unsubscribe => code::UNSUBSCRIBE,
            Kind::Publish => code::PUBLISH,
            Kind::Abandoned => request_type,
        };
        if expected != request_type {
            self.protocol_violation(format!("ERROR for request {request} names request type {request_type}, expected {expected}"));
            return;
        }
        if let Some(Pending { ctx: Some(ctx), .. }) = self.pending.remove(&request) {
            let error = WampError {
                uri,
                args: payload.args,
                kwargs: payload.kwargs,
            };
            self.complete_with(ctx, Err(Error::Wamp(error)));
        }
    }
}

fn message_of(details: &Dict) -> Option<String> {
    details
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn deadline(timeout: Option<Duration>, now: Instant) -> Option<(Instant, Duration)> {
    timeout.map(|t| (now + t, t))
}

/// The `match` option; an unknown value is refused here because Crossbar drops the
/// whole connection on one.
fn match_policy(options: &Dict) -> Result<MatchPolicy, Error> {
    match options.get("match") {
        None => Ok(MatchPolicy::Exact),
        Some(Value::String(s)) if s == "exact" => Ok(MatchPolicy::Exact),
        Some(Value::String(s)) if s == "prefix" => Ok(MatchPolicy::Prefix),
        Some(Value::String(s)) if s == "wildcard" => Ok(MatchPolicy::Wildcard),
        Some(other) => Err(Error::Config(format!(
            "option match must be \"exact\", \"prefix\" or \"wildcard\", not {other}"
        ))),
    }
}
