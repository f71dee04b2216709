//! Requests from the moment the loop takes them until they are answered: the one
//! table of pending requests and their deadlines, and routing (send now, wait for the
//! rejoin, keep in the offline buffer, or refuse).
//!
//! Design: every request is made with one deadline (its timeout from the moment it
//! was made) and this table is the one timer for requests: whether a request still
//! waits for the rejoin or is already at the router, it expires here, at that
//! instant. An expired call is canceled at the router (the session sends CANCEL); a
//! late REGISTERED or SUBSCRIBED is undone. A blocking caller sleeps on its reply slot
//! until that same instant, so it never waits longer, even when the I/O thread is
//! busy; the table's expiry is then only the clean-up, and what wakes async callers.

use super::inbound::LocalId;
use super::status::Counters;
use super::EventLoop;
use crate::error::Error;
use crate::id_map::IdMap;
use crate::proto::message::Payload;
use crate::proto::session::{CancelMode, Reply};
use crate::proto::value::{Dict, Value};
use crate::sync::{slot, stream};
use crate::trace;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// Where a request's outcome goes.
pub(crate) type ReplySender = slot::Sender<Result<Reply, Error>>;

/// What a started call (`Client::start_call`) receives: progressive results, then
/// the outcome.
#[derive(Debug)]
pub(crate) enum CallUpdate {
    /// A progressive result; more follow.
    Progress { details: Dict, payload: Payload },
    /// The call's outcome; the last update.
    Done(Result<Reply, Error>),
}

/// Where a started call's updates go.
pub(crate) type UpdateSender = stream::Sender<CallUpdate>;

/// Where a request's answer goes: a reply slot, or the update stream of a started call.
pub(crate) enum Replier {
    Slot(ReplySender),
    Stream(UpdateSender),
}

impl Replier {
    /// Hands over the outcome; gives it back when nobody waits for it any more.
    pub fn send(self, result: Result<Reply, Error>) -> Result<(), Result<Reply, Error>> {
        match self {
            Replier::Slot(slot) => slot.send(result),
            Replier::Stream(stream) if stream.is_abandoned() => Err(result),
            Replier::Stream(stream) => {
                stream.send(CallUpdate::Done(result), true);
                Ok(())
            }
        }
    }
}

/// The session's context for a request: the key of its entry in the table. The
/// client handle picks the keys of its requests (so it can name a call to cancel);
/// the loop's own requests (restores, buffered publishes) have the top bit set.
pub(crate) type Token = u64;

/// The bit that marks the loop's own tokens.
const INTERNAL: Token = 1 << 63;

/// How long a call canceled with `kill` waits for the router's answer.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// The error a canceled call ends with.
fn canceled() -> Error {
    Error::Wamp(crate::proto::WampError::new("wamp.error.canceled"))
}

/// What a request asks the router for.
#[derive(Debug)]
pub(crate) enum Body {
    Call {
        procedure: String,
        options: Dict,
        payload: Payload,
    },
    Register {
        local: LocalId,
        procedure: String,
        options: Dict,
    },
    Unregister {
        local: LocalId,
    },
    Subscribe {
        local: LocalId,
        topic: String,
        options: Dict,
    },
    Unsubscribe {
        local: LocalId,
    },
    Publish {
        topic: String,
        options: Dict,
        payload: Payload,
    },
}

impl Body {
    /// True for an unacknowledged publish, the only kind the offline buffer keeps;
    /// it is done once written.
    pub fn completes_when_sent(&self) -> bool {
        matches!(self, Body::Publish { options, .. } if options.get("acknowledge") != Some(&Value::Bool(true)))
    }
}

/// What a request does, for messages: `call com.example.add`. The one place where
/// the operation text of timeouts and logs is made. Cheap to clone (the URI is
/// shared): the loop's table and a waiting caller each keep one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    kind: &'static str,
    uri: std::sync::Arc<str>,
}

impl Operation {
    /// A call of `procedure`.
    pub fn call(procedure: &str) -> Self {
        Self::new("call", procedure)
    }

    /// `kind` (`call`, `register`, `unregister`, `subscribe`, `unsubscribe`,
    /// `publish`, `connect to`) of `uri`.
    pub fn new(kind: &'static str, uri: &str) -> Self {
        Operation {
            kind,
            uri: uri.into(),
        }
    }

    /// What kind of request it is (`call`, `publish`, ...).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The URI it is about.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The error for this operation when `after` passed without an answer.
    pub fn timed_out(&self, after: Duration) -> Error {
        Error::Timeout {
            operation: self.to_string(),
            after,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.uri)
    }
}

/// A request as the client hands it to the loop.
pub(crate) struct Request {
    /// Its key, unique among the client's requests (see [`Token`]).
    pub key: Token,
    pub body: Body,
    pub operation: Operation,
    /// The request's timeout, and the instant it passes.
    pub timeout: Duration,
    pub deadline: Instant,
    pub reply: Replier,
    /// Its `wamp.request` span, which records the WAMP request ID once it is sent.
    pub span: trace::Span,
}

/// What to do when a request is answered, beyond replying.
#[derive(Debug, Clone, Copy)]
pub(super) enum Follow {
    /// Only reply.
    Reply,
    /// A REGISTER or SUBSCRIBE made by the user: record the router's ID.
    Create(LocalId),
    /// Re-creating a registration or subscription after a rejoin, try `attempt`.
    Restore { local: LocalId, attempt: u32 },
}

/// A pending request.
pub(super) struct Entry {
    pub operation: Operation,
    pub timeout: Duration,
    /// `None` for restores, which wait as long as the session lasts.
    pub deadline: Option<Instant>,
    /// `None` for restores, whose outcome only the loop sees.
    pub reply: Option<Replier>,
    pub follow: Follow,
    pub state: EntryState,
    /// Canceled with `kill`: the call ends with `wamp.error.canceled` at the
    /// deadline if the router has not answered by then.
    pub killed: bool,
    /// The request's span (empty for the loop's own requests).
    pub span: trace::Span,
}

impl Entry {
    /// The session sent the request as `request`.
    pub fn sent(&mut self, request: u64) {
        self.state = EntryState::InFlight { request };
        self.span.record_request(request);
    }
}

/// Where a pending request is.
pub(super) enum EntryState {
    /// Waiting for the (re)join to be sent.
    Waiting(Body),
    /// Sent as session request `request`; the answer is awaited.
    InFlight { request: u64 },
}

/// The table of pending requests.
#[derive(Default)]
pub(super) struct Requests {
    /// The last of the loop's own tokens.
    last_token: Token,
    entries: IdMap<Token, Entry>,
    /// Deadlines, earliest first; entries already gone are skipped lazily.
    deadlines: BinaryHeap<Reverse<(Instant, Token)>>,
    /// Requests waiting for the rejoin, in the order they were made.
    waiting: VecDeque<Token>,
    /// Unacknowledged publishes kept while disconnected, sent after the rejoin.
    offline: VecDeque<Body>,
}

impl Requests {
    /// Adds one of the loop's own requests and returns its token.
    pub fn insert(&mut self, entry: Entry) -> Token {
        self.last_token += 1;
        let token = INTERNAL | self.last_token;
        self.insert_keyed(token, entry);
        token
    }

    /// Adds a request under the key the client chose.
    pub fn insert_keyed(&mut self, token: Token, entry: Entry) {
        if let Some(deadline) = entry.deadline {
            self.deadlines.push(Reverse((deadline, token)));
        }
        if matches!(entry.state, EntryState::Waiting(_)) {
            self.waiting.push_back(token);
        }
        self.entries.insert(token, entry);
    }

    /// Moves the deadline of request `token` earlier, to `deadline`.
    pub fn hasten(&mut self, token: Token, deadline: Instant) {
        if let Some(entry) = self.entries.get_mut(&token) {
            if entry.deadline.is_none_or(|d| deadline < d) {
                entry.deadline = Some(deadline);
                self.deadlines.push(Reverse((deadline, token)));
            }
        }
    }

    pub fn get_mut(&mut self, token: Token) -> Option<&mut Entry> {
        self.entries.get_mut(&token)
    }

    pub fn remove(&mut self, token: Token) -> Option<Entry> {
        self.entries.remove(&token)
    }

    /// The earliest deadline of a pending request.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            if self.entries.contains_key(&token) {
                return Some(when);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Removes and returns the requests whose deadline is at or before `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Entry> {
        let mut expired = Vec::new();
        while let Some(Reverse((when, token))) = self.deadlines.peek().copied() {
            if when > now {
                break;
            }
            self.deadlines.pop();
            if let Some(entry) = self.entries.remove(&token) {
                expired.push(entry);
            }
        }
        expired
    }

    /// The waiting requests, in order, for sending after the rejoin.
    pub fn take_waiting(&mut self) -> Vec<(Token, Body)> {
        let mut ready = Vec::new();
        for token in std::mem::take(&mut self.waiting) {
            let Some(entry) = self.entries.get_mut(&token) else {
                continue; // expired meanwhile
            };
            let placeholder = EntryState::InFlight { request: 0 };
            if let EntryState::Waiting(body) = std::mem::replace(&mut entry.state, placeholder) {
                ready.push((token, body));
            }
        }
        ready
    }

    /// Removes every request (the loop is ending).
    pub fn drain(&mut self) -> Vec<Entry> {
        self.waiting.clear();
        self.deadlines.clear();
        self.entries.drain().map(|(_, entry)| entry).collect()
    }
}

impl EventLoop {
    /// Takes a request from the client: sends it, holds it until the rejoin, or
    /// refuses it.
    pub(super) fn submit(&mut self, request: Request) {
        if self.closing.is_some() {
            let _ = request.reply.send(Err(Error::Closed));
            return;
        }
        let follow = match &request.body {
            Body::Register {
                local,
                procedure,
                options,
            } => {
                self.registry
                    .add_procedure(*local, procedure.clone(), options.clone());
                Follow::Create(*local)
            }
            Body::Subscribe {
                local,
                topic,
                options,
            } => {
                self.registry
                    .add_topic(*local, topic.clone(), options.clone());
                Follow::Create(*local)
            }
            Body::Unregister { local } | Body::Unsubscribe { local } => {
                return self.remove_entry(*local, request);
            }
            Body::Call { .. } | Body::Publish { .. } => Follow::Reply,
        };
        if self.is_joined() {
            let (token, body) = self.track(request, follow);
            self.send_request(token, body);
        } else {
            self.hold(request, follow);
        }
    }

    /// Puts `request` in the table as about to be sent; returns its key and body.
    fn track(&mut self, request: Request, follow: Follow) -> (Token, Body) {
        let token = request.key;
        self.requests.insert_keyed(
            token,
            Entry {
                operation: request.operation,
                timeout: request.timeout,
                deadline: Some(request.deadline),
                reply: Some(request.reply),
                follow,
                state: EntryState::InFlight { request: 0 },
                killed: false,
                span: request.span,
            },
        );
        (token, request.body)
    }

    /// Unregister or unsubscribe: forgets the entry at once (while disconnected there
    /// is nothing to tell the router; once asked, late invocations are answered with
    /// `no_such_registration`) and asks the router when it knows the entry.
    fn remove_entry(&mut self, local: LocalId, request: Request) {
        let (router_id, missing) = match request.body {
            Body::Unregister { .. } => (
                self.registry.remove_procedure(local),
                "wamp.error.no_such_registration",
            ),
            _ => (
                self.registry.remove_topic(local),
                "wamp.error.no_such_subscription",
            ),
        };
        let router_id = match router_id {
            None => {
                let error = Error::Wamp(crate::proto::WampError::new(missing));
                let _ = request.reply.send(Err(error));
                return;
            }
            Some(None) => {
                let done = match request.body {
                    Body::Unregister { .. } => Reply::Unregistered,
                    _ => Reply::Unsubscribed,
                };
                let _ = request.reply.send(Ok(done));
                return;
            }
            Some(Some(router_id)) => router_id,
        };
        let unregister = matches!(request.body, Body::Unregister { .. });
        let (token, _) = self.track(request, Follow::Reply);
        let Some(session) = self.link.session() else {
            return self.finish_request(token, Err(Error::ConnectionLost("not connected".into())));
        };
        let sent = if unregister {
            session.unregister(router_id, token)
        } else {
            session.unsubscribe(router_id, token)
        };
        if let (Some(request), Some(entry)) = (sent, self.requests.get_mut(token)) {
            entry.sent(request);
        }
    }

    /// Sends the request with table entry `token` on the joined session.
    pub(super) fn send_request(&mut self, token: Token, body: Body) {
        let counters = &self.status.counters;
        let Some(session) = self.link.session() else {
            return self.finish_request(token, Err(Error::ConnectionLost("not connected".into())));
        };
        let sent = match body {
            Body::Call {
                procedure,
                options,
                payload,
            } => {
                Counters::bump(&counters.calls);
                session.call(procedure, options, payload, token)
            }
            Body::Register {
                procedure, options, ..
            } => session.register(procedure, options, token),
            Body::Subscribe { topic, options, .. } => session.subscribe(topic, options, token),
            Body::Publish {
                topic,
                options,
                payload,
            } => {
                Counters::bump(&counters.publications);
                session.publish(topic, options, payload, token)
            }
            // Never held: handled at once by `remove_entry`.
            Body::Unregister { .. } | Body::Unsubscribe { .. } => None,
        };
        if let (Some(request), Some(entry)) = (sent, self.requests.get_mut(token)) {
            entry.sent(request);
        }
    }

    /// Keeps a request made while disconnected, as the configuration says.
    fn hold(&mut self, request: Request, follow: Follow) {
        let limit = self.settings.offline_publish_buffer;
        if limit > 0 && request.body.completes_when_sent() {
            if self.requests.offline.len() < limit {
                // The publisher is answered now; the later send answers no one.
                let _ = request.reply.send(Ok(Reply::Published(0)));
                self.requests.offline.push_back(request.body);
            } else {
                let _ = request.reply.send(Err(Error::ConnectionLost(format!(
                    "not connected, and the offline publish buffer is full ({limit} publishes)"
                ))));
            }
            return;
        }
        if !self.settings.wait_while_reconnecting {
            self.forget_created(follow);
            let _ = request.reply.send(Err(Error::ConnectionLost(
                "not connected; reconnecting to the router".into(),
            )));
            return;
        }
        self.requests.insert_keyed(
            request.key,
            Entry {
                operation: request.operation,
                timeout: request.timeout,
                deadline: Some(request.deadline),
                reply: Some(request.reply),
                follow,
                state: EntryState::Waiting(request.body),
                killed: false,
                span: request.span,
            },
        );
    }

    /// Sends what waited for the rejoin: first the offline publishes, then the
    /// requests, each in the order they were made.
    pub(super) fn send_waiting(&mut self) {
        for body in std::mem::take(&mut self.requests.offline) {
            let token = self.requests.insert(Entry {
                operation: Operation::new("publish", ""),
                timeout: Duration::ZERO,
                deadline: None,
                reply: None,
                follow: Follow::Reply,
                state: EntryState::InFlight { request: 0 },
                killed: false,
                span: trace::Span::default(),
            });
            self.send_request(token, body);
        }
        for (token, body) in self.requests.take_waiting() {
            self.send_request(token, body);
        }
    }

    /// Fails requests whose deadline passed; calls at the router are canceled.
    /// Fails requests whose deadline passed: a timeout, or for a call canceled with
    /// `kill` that the router did not answer, `wamp.error.canceled`. Calls at the
    /// router are canceled with the configured mode.
    pub(super) fn expire_requests(&mut self, now: Instant) {
        let mode = self.settings.timeout_cancel_mode;
        for entry in self.requests.expire(now) {
            if let (EntryState::InFlight { request }, Some(session)) =
                (&entry.state, self.link.session())
            {
                session.abandon(*request, mode);
            }
            self.forget_created(entry.follow);
            Counters::bump(&self.status.counters.errors);
            let error = if entry.killed {
                canceled()
            } else {
                entry.operation.timed_out(entry.timeout)
            };
            if let Some(reply) = entry.reply {
                let _ = reply.send(Err(error));
            }
        }
    }

    /// Cancels the call with key `token`: it ends with `wamp.error.canceled`, at once
    /// for `skip` and `killnowait`, and for `kill` when the router answers, at the
    /// latest [`KILL_WAIT`] later (Crossbar.io never answers some cancels).
    pub(super) fn cancel(&mut self, token: Token, mode: CancelMode) {
        let Some(entry) = self.requests.get_mut(token) else {
            return; // over already
        };
        let request = match entry.state {
            EntryState::InFlight { request } if request != 0 => request,
            // Not sent yet (waiting for the rejoin): nothing to tell the router.
            _ => return self.finish_request(token, Err(canceled())),
        };
        let Some(session) = self.link.session() else {
            return self.finish_request(token, Err(canceled()));
        };
        match session.cancel(request, mode) {
            Some(_) => self.finish_request(token, Err(canceled())),
            None => {
                if let Some(entry) = self.requests.get_mut(token) {
                    entry.killed = true;
                }
                self.requests.hasten(token, Instant::now() + KILL_WAIT);
            }
        }
    }

    /// A REGISTER or SUBSCRIBE that will never succeed: forget its registry entry.
    fn forget_created(&mut self, follow: Follow) {
        if let Follow::Create(local) = follow {
            self.registry.forget_unconfirmed(local);
        }
    }

    /// The session answered request `token`.
    pub(super) fn finish_request(&mut self, token: Token, result: Result<Reply, Error>) {
        let Some(entry) = self.requests.remove(token) else {
            return;
        };
        if result.is_err() {
            Counters::bump(&self.status.counters.errors);
        }
        match (entry.follow, &result) {
            (Follow::Create(local), Ok(Reply::Registered(id) | Reply::Subscribed(id))) => {
                self.registry.confirmed(local, *id)
            }
            (Follow::Create(local), _) => self.registry.forget_unconfirmed(local),
            (Follow::Restore { local, attempt }, _) => {
                return self.restored(local, attempt, result)
            }
            (Follow::Reply, _) => {}
        }
        let Some(reply) = entry.reply else {
            return;
        };
        if let (Err(Ok(_)), Follow::Create(local)) = (reply.send(result), entry.follow) {
            // The caller stopped waiting (its deadline passed) just before the router
            // confirmed: nobody holds a handle to it, so undo it.
            self.undo_created(local);
        }
    }

    /// A progressive result of the call `token`, for its caller.
    pub(super) fn progress(&mut self, token: Token, details: Dict, payload: Payload) {
        if let Some(Entry {
            reply: Some(Replier::Stream(updates)),
            ..
        }) = self.requests.get_mut(token)
        {
            updates.send(CallUpdate::Progress { details, payload }, false);
        }
    }

    /// Sends the next chunk of the progressive call invocation `token`.
    pub(super) fn call_chunk(&mut self, token: Token, payload: Payload, last: bool) {
        let Some(entry) = self.requests.get_mut(token) else {
            return; // over already
        };
        let (EntryState::InFlight { request }, procedure) =
            (&entry.state, entry.operation.uri().to_owned())
        else {
            return; // not sent yet: the client sends chunks only once the call is out
        };
        let request = *request;
        let Some(session) = self.link.session() else {
            return;
        };
        if let Err(e) = session.call_chunk(request, procedure, payload, last) {
            self.finish_request(token, Err(e.into()));
        }
    }

    /// Removes a registration or subscription nobody holds, at the router too.
    fn undo_created(&mut self, local: LocalId) {
        let (registration, subscription) = (
            self.registry.remove_procedure(local).flatten(),
            self.registry.remove_topic(local).flatten(),
        );
        let Some(session) = self.link.session() else {
            return;
        };
        // No answer is awaited: the session ignores replies to requests nobody waits for.
        let token = Token::MAX;
        let sent = match (registration, subscription) {
            (Some(id), _) => session.unregister(id, token),
            (_, Some(id)) => session.unsubscribe(id, token),
            (None, None) => None,
        };
        if let Some(request) = sent {
            session.abandon(request, CancelMode::KillNoWait);
        }
    }

    /// Fails every pending request with `error` (the loop is ending).
    pub(super) fn fail_requests(&mut self, error: &Error) {
        let offline = self.requests.offline.len();
        if offline > 0 {
            log::warn!("{offline} buffered publishes were never sent: the client closed first");
            self.requests.offline.clear();
        }
        for entry in self.requests.drain() {
            if let Some(reply) = entry.reply {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}
