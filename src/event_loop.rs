//! The I/O thread: one per client, owning the transport and the session.
//!
//! Design: user threads and handler workers never touch the socket. They put a
//! [`Command`] on a channel and wake the loop through a `mio::Waker`; the loop waits in
//! one `mio::Poll` on both the socket and that waker, so a queued command is sent and
//! an incoming frame handled as soon as either happens, without polling on a timer.
//! (A thread per direction would need a lock around the session and a second thread
//! hop for every reply; a single poller keeps the session single-owner.) Commands
//! arriving while the loop is busy are batched into one socket flush, and the wake-up
//! syscall is skipped when a wake is already pending.
//!
//! Replies travel back on a per-request channel carried in the command. Handlers run on
//! the [`WorkerPool`]; their results come back as [`Command::Yield`].

use crate::client::handler::{
    Event, EventDetails, EventHandler, HandlerError, Invocation, InvocationDetails,
    ProcedureHandler,
};
use crate::client::{Client, ClientInner};
use crate::error::{Error, WampError};
use crate::pool::WorkerPool;
use crate::protocol::message::Payload;
use crate::protocol::session::{CloseReason, Output, Reply, Session, SessionConfig};
use crate::transport::{self, ConnectOptions, Transport};
use crate::value::{Dict, Value};
use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Poll, Token, Waker};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

const WAKER: Token = Token(0);
const SOCKET: Token = Token(1);
/// How long a closing client waits for the router's GOODBYE before closing the socket.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

/// Where a request's outcome goes.
pub(crate) type ReplySender = Sender<Result<Reply, Error>>;

/// Work for the event loop.
pub(crate) enum Command {
    Call {
        procedure: String,
        options: Dict,
        payload: Payload,
        timeout: Duration,
        reply: ReplySender,
    },
    Register {
        procedure: String,
        options: Dict,
        handler: ProcedureHandler,
        timeout: Duration,
        reply: ReplySender,
    },
    Unregister {
        registration: u64,
        timeout: Duration,
        reply: ReplySender,
    },
    Subscribe {
        topic: String,
        options: Dict,
        handler: EventHandler,
        timeout: Duration,
        reply: ReplySender,
    },
    Unsubscribe {
        subscription: u64,
        timeout: Duration,
        reply: ReplySender,
    },
    Publish {
        topic: String,
        options: Dict,
        payload: Payload,
        timeout: Duration,
        reply: ReplySender,
    },
    /// A handler's answer to an INVOCATION.
    Yield {
        request: u64,
        result: Result<Payload, WampError>,
    },
    /// Say GOODBYE, close the socket and stop; `done` is dropped when the loop has stopped.
    Close { done: Sender<()> },
}

/// The sending side of the command channel; cloneable and cheap.
#[derive(Clone)]
pub(crate) struct CommandSender {
    channel: Sender<Command>,
    waker: Arc<Waker>,
    wake_pending: Arc<AtomicBool>,
}

impl CommandSender {
    /// Queues a command and wakes the loop unless a wake is already pending.
    /// Fails when the loop has stopped.
    pub fn send(&self, command: Command) -> Result<(), ()> {
        self.channel.send(command).map_err(|_| ())?;
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            // If waking fails the loop is gone; the dropped reply channel reports that.
            let _ = self.waker.wake();
        }
        Ok(())
    }
}

/// What the handle can see of the connection.
#[derive(Debug, Default)]
pub(crate) struct Status {
    pub session: Mutex<Option<SessionInfo>>,
    /// Why the loop stopped, once it has.
    pub ended: Mutex<Option<Error>>,
}

/// The joined session, as the router described it in WELCOME.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session ID.
    pub session_id: u64,
    /// The realm joined.
    pub realm: String,
    /// The authid the router assigned.
    pub authid: Option<String>,
    /// The authrole the router assigned.
    pub authrole: Option<String>,
    /// The authentication method used.
    pub authmethod: Option<String>,
    /// All WELCOME details.
    pub details: Dict,
}

/// Per-request context given to the session; says what to do with the reply.
enum Ctx {
    Plain(ReplySender),
    Register {
        reply: ReplySender,
        procedure: String,
        handler: ProcedureHandler,
    },
    Unregister {
        reply: ReplySender,
        router_id: u64,
    },
    Subscribe {
        reply: ReplySender,
        topic: String,
        handler: EventHandler,
    },
}

struct Procedure {
    local_id: u64,
    procedure: String,
    handler: ProcedureHandler,
}

/// One local subscription. Its events are delivered one at a time, in order.
struct Topic {
    local_id: u64,
    topic: String,
    handler: EventHandler,
    queue: Mutex<EventQueue>,
}

#[derive(Default)]
struct EventQueue {
    events: VecDeque<Event>,
    draining: bool,
}

/// Starts the I/O thread, connects and joins. Returns once joined, or with the reason
/// the join failed, within the configured connect timeout.
pub(crate) fn start(
    config: &crate::client::ClientConfig,
    client: Weak<ClientInner>,
    status: Arc<Status>,
    commands: Receiver<Command>,
    poll: Poll,
    sender: CommandSender,
) -> Result<std::thread::JoinHandle<()>, Error> {
    let (joined_tx, joined_rx) = crossbeam_channel::bounded(1);
    let deadline = Instant::now() + config.connect_timeout;
    let options = ConnectOptions {
        url: config.url.clone(),
        serializers: config.serializers.clone(),
        max_message_size: config.max_message_size,
        deadline,
    };
    let session_config = SessionConfig {
        realm: config.realm.clone(),
        auth: config.auth.clone(),
        agent: config.agent.clone(),
        serializer: config
            .serializers
            .first()
            .copied()
            .unwrap_or(crate::protocol::codec::Serializer::Json),
        max_message_size: config.max_message_size,
    };
    let pool = WorkerPool::new(
        "izaber-wamp-handler",
        config.max_handler_threads,
        Duration::from_secs(10),
    );
    let failure_uri = config.handler_failure_uri.clone();
    let connect_timeout = config.connect_timeout;
    let thread = std::thread::Builder::new()
        .name("izaber-wamp-io".into())
        .spawn(move || {
            let setup = Setup {
                options,
                connect_timeout,
                session_config,
                deadline,
                joined: joined_tx,
            };
            let Some(mut event_loop) = EventLoop::connect(
                setup,
                poll,
                commands,
                sender,
                client,
                pool,
                failure_uri,
                status.clone(),
            ) else {
                return;
            };
            event_loop.run();
            event_loop.finish();
        })
        .map_err(|e| Error::Connect {
            url: config.url.clone(),
            detail: format!("cannot start the I/O thread: {e}"),
        })?;
    // The loop enforces the deadline itself; the margin only guards against a stuck loop.
    match joined_rx.recv_timeout(config.connect_timeout + Duration::from_secs(5)) {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Timeout {
            operation: format!("connect to {}", config.url),
            after: config.connect_timeout,
        }),
    }
}

struct Setup {
    options: ConnectOptions,
    connect_timeout: Duration,
    session_config: SessionConfig,
    deadline: Instant,
    joined: Sender<Result<(), Error>>,
}

struct EventLoop {
    poll: Poll,
    transport: Box<dyn Transport>,
    session: Session<Ctx>,
    commands: Receiver<Command>,
    sender: CommandSender,
    client: Weak<ClientInner>,
    pool: WorkerPool,
    failure_uri: String,
    status: Arc<Status>,
    /// Until joined: the join deadline and where to report the outcome.
    joining: Option<(Instant, Sender<Result<(), Error>>)>,
    connect_timeout: Duration,
    /// While closing: when to give up waiting for GOODBYE, and whom to tell.
    closing: Option<(Instant, Vec<Sender<()>>)>,
    ended: Option<Error>,
    procedures: HashMap<u64, Procedure>,
    procedure_ids: HashMap<u64, u64>,
    topics: HashMap<u64, Vec<Arc<Topic>>>,
    topic_ids: HashMap<u64, u64>,
    next_local_id: u64,
}

impl EventLoop {
    #[allow(clippy::too_many_arguments)]
    fn connect(
        setup: Setup,
        poll: Poll,
        commands: Receiver<Command>,
        sender: CommandSender,
        client: Weak<ClientInner>,
        pool: WorkerPool,
        failure_uri: String,
        status: Arc<Status>,
    ) -> Option<EventLoop> {
        let connected = transport::connect(&setup.options).and_then(|mut transport| {
            transport
                .register(poll.registry(), SOCKET)
                .map_err(|e| Error::Connect {
                    url: setup.options.url.clone(),
                    detail: e.to_string(),
                })?;
            Ok(transport)
        });
        let transport = match connected {
            Ok(t) => t,
            Err(e) => {
                *status.ended.lock() = Some(e.clone());
                let _ = setup.joined.send(Err(e));
                return None;
            }
        };
        let mut session_config = setup.session_config;
        session_config.serializer = transport.serializer();
        session_config.max_message_size = transport.max_outgoing();
        Some(EventLoop {
            poll,
            transport,
            session: Session::new(session_config),
            commands,
            sender,
            client,
            pool,
            failure_uri,
            status,
            joining: Some((setup.deadline, setup.joined)),
            connect_timeout: setup.connect_timeout,
            closing: None,
            ended: None,
            procedures: HashMap::new(),
            procedure_ids: HashMap::new(),
            topics: HashMap::new(),
            topic_ids: HashMap::new(),
            next_local_id: 0,
        })
    }

    fn run(&mut self) {
        let mut events = Events::with_capacity(64);
        self.pump();
        while self.ended.is_none() {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    self.session.connection_lost(&format!("poll failed: {e}"));
                }
            }
            for event in events.iter() {
                if event.token() == SOCKET
                    && (event.is_readable() || event.is_read_closed() || event.is_error())
                {
                    self.read_frames();
                }
            }
            self.drain_commands();
            self.check_deadlines();
            self.pump();
        }
    }

    fn poll_timeout(&mut self) -> Option<Duration> {
        let deadlines = [
            self.session.next_timeout(),
            self.joining.as_ref().map(|(d, _)| *d),
            self.closing.as_ref().map(|(d, _)| *d),
        ];
        let next = deadlines.into_iter().flatten().min()?;
        Some(next.saturating_duration_since(Instant::now()))
    }

    fn read_frames(&mut self) {
        loop {
            match self.transport.receive() {
                Ok(Some(frame)) => {
                    log::trace!("received a frame of {} bytes", frame.len());
                    self.session.handle_frame(&frame);
                    self.handle_outputs();
                }
                Ok(None) => return,
                Err(e) => {
                    self.session.connection_lost(&e.to_string());
                    return;
                }
            }
        }
    }

    fn check_deadlines(&mut self) {
        let now = Instant::now();
        self.session.handle_timeout(now);
        if self.joining.as_ref().is_some_and(|(d, _)| *d <= now) {
            self.session
                .connection_lost("timed out waiting for the router to accept the session");
            if let Some((_, joined)) = self.joining.take() {
                let after = self.connect_timeout;
                let _ = joined.send(Err(Error::Timeout {
                    operation: "connecting and joining".into(),
                    after,
                }));
            }
        }
        if self.closing.as_ref().is_some_and(|(d, _)| *d <= now) {
            // The router did not answer our GOODBYE in time; close anyway.
            self.session.connection_lost("no GOODBYE from the router");
        }
    }

    /// Acts on session outputs, then writes whatever the session queued.
    fn pump(&mut self) {
        self.handle_outputs();
        while let Some(frame) = self.session.pop_transmit() {
            if let Err(e) = self.transport.send(frame) {
                self.session.connection_lost(&e.to_string());
                self.handle_outputs();
                return;
            }
        }
        if let Err(e) = self.transport.flush() {
            self.session.connection_lost(&e.to_string());
            self.handle_outputs();
        }
    }

    fn drain_commands(&mut self) {
        // Clear the flag before draining so a command queued after this point wakes us again.
        self.sender.wake_pending.store(false, Ordering::Release);
        while let Ok(command) = self.commands.try_recv() {
            self.handle_command(command);
        }
    }

    fn handle_command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Call {
                procedure,
                options,
                payload,
                timeout,
                reply,
            } => self.session.call(
                procedure,
                options,
                payload,
                Some(timeout),
                Ctx::Plain(reply),
                now,
            ),
            Command::Register {
                procedure,
                options,
                handler,
                timeout,
                reply,
            } => {
                let ctx = Ctx::Register {
                    reply,
                    procedure: procedure.clone(),
                    handler,
                };
                self.session
                    .register(procedure, options, Some(timeout), ctx, now)
            }
            Command::Unregister {
                registration,
                timeout,
                reply,
            } => match self.procedure_ids.get(&registration) {
                Some(&router_id) => self.session.unregister(
                    router_id,
                    Some(timeout),
                    Ctx::Unregister { reply, router_id },
                    now,
                ),
                None => {
                    let _ = reply.send(Err(Error::Wamp(WampError::new(
                        "wamp.error.no_such_registration",
                    ))));
                }
            },
            Command::Subscribe {
                topic,
                options,
                handler,
                timeout,
                reply,
            } => {
                let ctx = Ctx::Subscribe {
                    reply,
                    topic: topic.clone(),
                    handler,
                };
                self.session
                    .subscribe(topic, options, Some(timeout), ctx, now)
            }
            Command::Unsubscribe {
                subscription,
                timeout,
                reply,
            } => self.unsubscribe(subscription, timeout, reply, now),
            Command::Publish {
                topic,
                options,
                payload,
                timeout,
                reply,
            } => self.session.publish(
                topic,
                options,
                payload,
                Some(timeout),
                Ctx::Plain(reply),
                now,
            ),
            Command::Yield { request, result } => match result {
                Ok(payload) => self.session.yield_result(request, payload),
                Err(error) => self.session.yield_error(request, error),
            },
            Command::Close { done } => self.close(done),
        }
    }

    fn unsubscribe(&mut self, local_id: u64, timeout: Duration, reply: ReplySender, now: Instant) {
        let Some(router_id) = self.topic_ids.remove(&local_id) else {
            let _ = reply.send(Err(Error::Wamp(WampError::new(
                "wamp.error.no_such_subscription",
            ))));
            return;
        };
        let remaining = self.topics.get_mut(&router_id).map_or(0, |topics| {
            topics.retain(|t| t.local_id != local_id);
            topics.len()
        });
        if remaining > 0 {
            // Other local subscriptions share the router's subscription: keep it.
            let _ = reply.send(Ok(Reply::Unsubscribed));
            return;
        }
        self.topics.remove(&router_id);
        self.session
            .unsubscribe(router_id, Some(timeout), Ctx::Plain(reply), now);
    }

    fn close(&mut self, done: Sender<()>) {
        match &mut self.closing {
            Some((_, waiting)) => waiting.push(done),
            None => {
                self.closing = Some((Instant::now() + GOODBYE_WAIT, vec![done]));
                self.session.goodbye("wamp.close.close_realm");
            }
        }
    }

    fn handle_outputs(&mut self) {
        while let Some(output) = self.session.pop_output() {
            match output {
                Output::Joined { session, details } => self.joined(session, details),
                Output::Completed { ctx, result } => self.completed(ctx, result),
                Output::Invocation {
                    request,
                    registration,
                    details,
                    payload,
                } => self.invoke(request, registration, details, payload),
                Output::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                } => self.deliver(subscription, publication, details, payload),
                Output::RegistrationRevoked {
                    registration,
                    reason,
                } => {
                    if let Some(p) = self.procedures.remove(&registration) {
                        self.procedure_ids.remove(&p.local_id);
                        log::warn!(
                            "the router revoked the registration of {}: {reason:?}",
                            p.procedure
                        );
                    }
                }
                Output::SubscriptionRevoked {
                    subscription,
                    reason,
                } => {
                    for topic in self.topics.remove(&subscription).unwrap_or_default() {
                        self.topic_ids.remove(&topic.local_id);
                        log::warn!(
                            "the router revoked the subscription to {}: {reason:?}",
                            topic.topic
                        );
                    }
                }
                Output::Closed(reason) => self.closed(reason),
            }
        }
    }

    fn joined(&mut self, session_id: u64, details: Dict) {
        let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
        let info = SessionInfo {
            session_id,
            realm: text("realm").unwrap_or_default(),
            authid: text("authid"),
            authrole: text("authrole"),
            authmethod: text("authmethod"),
            details: details.clone(),
        };
        log::info!(
            "joined session {session_id} as {:?} ({:?})",
            info.authid,
            info.authrole
        );
        *self.status.session.lock() = Some(info);
        if let Some((_, joined)) = self.joining.take() {
            let _ = joined.send(Ok(()));
        }
    }

    fn closed(&mut self, reason: CloseReason) {
        log::info!("session closed: {reason:?}");
        *self.status.session.lock() = None;
        let error = reason.to_error();
        if let Some((_, joined)) = self.joining.take() {
            let _ = joined.send(Err(error.clone()));
        }
        self.ended = Some(error);
    }

    fn next_local_id(&mut self) -> u64 {
        self.next_local_id += 1;
        self.next_local_id
    }

    fn completed(&mut self, ctx: Ctx, result: Result<Reply, Error>) {
        match (ctx, result) {
            (Ctx::Plain(reply), result) => {
                let _ = reply.send(result);
            }
            (
                Ctx::Register {
                    reply,
                    procedure,
                    handler,
                },
                Ok(Reply::Registered(router_id)),
            ) => {
                let local_id = self.next_local_id();
                self.procedures.insert(
                    router_id,
                    Procedure {
                        local_id,
                        procedure,
                        handler,
                    },
                );
                self.procedure_ids.insert(local_id, router_id);
                let _ = reply.send(Ok(Reply::Registered(local_id)));
            }
            (Ctx::Unregister { reply, router_id }, result) => {
                let forget = match &result {
                    Ok(_) => true,
                    Err(e) => e.wamp_uri() == Some("wamp.error.no_such_registration"),
                };
                if forget {
                    if let Some(p) = self.procedures.remove(&router_id) {
                        self.procedure_ids.remove(&p.local_id);
                    }
                }
                let _ = reply.send(result);
            }
            (
                Ctx::Subscribe {
                    reply,
                    topic,
                    handler,
                },
                Ok(Reply::Subscribed(router_id)),
            ) => {
                let local_id = self.next_local_id();
                let entry = Topic {
                    local_id,
                    topic,
                    handler,
                    queue: Mutex::default(),
                };
                self.topics
                    .entry(router_id)
                    .or_default()
                    .push(Arc::new(entry));
                self.topic_ids.insert(local_id, router_id);
                let _ = reply.send(Ok(Reply::Subscribed(local_id)));
            }
            (Ctx::Register { reply, .. } | Ctx::Subscribe { reply, .. }, result) => {
                let _ = reply.send(result);
            }
        }
    }

    fn invoke(&mut self, request: u64, registration: u64, details: Dict, payload: Payload) {
        let (Some(procedure), Some(client)) = (self.procedures.get(&registration), self.client())
        else {
            let error = WampError::new("wamp.error.no_such_registration");
            self.session.yield_error(request, error);
            return;
        };
        let invocation = Invocation {
            args: payload.args,
            kwargs: payload.kwargs,
            details: InvocationDetails::from_raw(details, &procedure.procedure),
            client,
        };
        let handler = Arc::clone(&procedure.handler);
        let sender = self.sender.clone();
        let failure_uri = self.failure_uri.clone();
        self.pool.execute(move || {
            let result = match catch_unwind(AssertUnwindSafe(|| handler(invocation))) {
                Ok(Ok(result)) => Ok(Payload::new(result.args, result.kwargs)),
                Ok(Err(error)) => Err(error.into_wamp(&failure_uri)),
                Err(panic) => {
                    let message = panic_message(&panic);
                    log::error!("a procedure handler panicked: {message}");
                    Err(
                        HandlerError::Failed(format!("the handler panicked: {message}"))
                            .into_wamp(&failure_uri),
                    )
                }
            };
            // If the loop is gone the caller already got a connection error.
            let _ = sender.send(Command::Yield { request, result });
        });
    }

    fn client(&self) -> Option<Client> {
        self.client.upgrade().map(Client::from_inner)
    }

    fn deliver(&mut self, subscription: u64, publication: u64, details: Dict, payload: Payload) {
        let Some(topics) = self.topics.get(&subscription) else {
            return; // an event racing our UNSUBSCRIBE
        };
        let Some(client) = self.client() else {
            return; // the last handle is gone and the client is closing
        };
        let mut payload = Some(payload);
        for (i, topic) in topics.iter().enumerate() {
            let last = i + 1 == topics.len();
            let Payload { args, kwargs } = if last {
                payload.take().unwrap_or_default()
            } else {
                payload.clone().unwrap_or_default()
            };
            let event = Event {
                args,
                kwargs,
                details: EventDetails::from_raw(details.clone(), publication, &topic.topic),
                client: client.clone(),
            };
            let start_drain = {
                let mut queue = topic.queue.lock();
                queue.events.push_back(event);
                !std::mem::replace(&mut queue.draining, true)
            };
            if start_drain {
                let topic = Arc::clone(topic);
                self.pool.execute(move || drain_events(&topic));
            }
        }
    }

    /// Closes the transport and tells everyone still waiting.
    fn finish(&mut self) {
        self.transport.close();
        let error = self.ended.take().unwrap_or(Error::Closed);
        *self.status.ended.lock() = Some(error.clone());
        // Commands that raced the end get the same answer as everyone else.
        while let Ok(command) = self.commands.try_recv() {
            reject(command, &error);
        }
        // Dropping the `done` senders tells `close()` callers the loop has stopped.
        self.closing = None;
    }
}

fn reject(command: Command, error: &Error) {
    let reply = match command {
        Command::Call { reply, .. }
        | Command::Register { reply, .. }
        | Command::Unregister { reply, .. }
        | Command::Subscribe { reply, .. }
        | Command::Unsubscribe { reply, .. }
        | Command::Publish { reply, .. } => reply,
        Command::Yield { .. } | Command::Close { .. } => return,
    };
    let _ = reply.send(Err(error.clone()));
}

/// Runs queued events of one subscription in order until the queue is empty.
fn drain_events(topic: &Topic) {
    loop {
        let event = {
            let mut queue = topic.queue.lock();
            match queue.events.pop_front() {
                Some(event) => event,
                None => {
                    queue.draining = false;
                    return;
                }
            }
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| (topic.handler)(event))) {
            log::error!(
                "an event handler for {} panicked: {}",
                topic.topic,
                panic_message(&panic)
            );
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A connected command channel: the loop's receiving side and the handle's sending side.
pub(crate) fn command_channel() -> std::io::Result<(Poll, Receiver<Command>, CommandSender)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (channel, commands) = crossbeam_channel::unbounded();
    let sender = CommandSender {
        channel,
        waker,
        wake_pending: Arc::new(AtomicBool::new(false)),
    };
    Ok((poll, commands, sender))
}
