//! The event loop: one per client, keeping the connection, the session and reconnects.
//!
//! Design: all connection state lives in one [`EventLoop`] behind a mutex. The I/O
//! thread waits in one `mio::Poll` on the socket and a `mio::Waker`, without the lock;
//! when something happens it takes the lock, reads, acts and writes. A user thread or
//! handler worker with a [`Command`] queues it on a channel, takes the lock and
//! handles the queue itself, sending the message from its own thread: a call then
//! costs no wake-up of the I/O thread (a context switch) on the way out. Whoever holds
//! the lock drains the whole queue, so commands from threads waiting for the lock go
//! out together in one socket flush, in order. The I/O thread is woken (through the
//! waker, skipped when a wake is already pending) only when it must notice something:
//! an earlier deadline, or its end.
//!
//! Connecting (DNS, TCP, TLS and WebSocket handshakes) blocks, so each attempt runs on
//! a short-lived connector thread that hands the finished transport back; meanwhile the
//! loop keeps answering commands and enforcing timeouts. After a loss the loop
//! reconnects with back-off, rejoins, restores every registration and subscription
//! from its [`Registry`], and only then runs join hooks and sends what waited.
//!
//! Replies travel back on a per-request channel carried in the command. Handlers and
//! hooks run on the [`WorkerPool`]; handler results come back as [`Command::Yield`].

mod dispatch;
mod registry;

use crate::client::handler::{EventHandler, ProcedureHandler};
use crate::client::hooks::{ConnectionState, HookEvent, Hooks};
use crate::client::stats::Counters;
use crate::client::{Client, ClientConfig, ClientInner, ReconnectPolicy};
use crate::error::{Error, WampError};
use crate::pool::{SerialQueue, WorkerPool};
use crate::protocol::message::Payload;
use crate::protocol::session::{CloseReason, Output, Reply, Session, SessionConfig};
use crate::transport::{self, ConnectOptions, Received, Transport};
use crate::value::{Dict, Value};
use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Poll, Token, Waker};
use parking_lot::Mutex;
use registry::{Registry, Restore};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

const WAKER: Token = Token(0);
const SOCKET: Token = Token(1);
/// How long a closing client waits for the router's GOODBYE before closing the socket.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);
/// `wamp.error.procedure_already_exists` on restore: our old session may still hold the
/// procedure until the router notices it is gone, so retry after this, doubling up to
/// [`RESTORE_RETRY_MAX`].
const RESTORE_RETRY: Duration = Duration::from_millis(500);
const RESTORE_RETRY_MAX: Duration = Duration::from_secs(5);

/// Where a request's outcome goes.
pub(crate) type ReplySender = crate::oneshot::Sender<Result<Reply, Error>>;

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

impl Command {
    /// What the command does, for timeout messages.
    fn operation(&self) -> String {
        match self {
            Command::Call { procedure, .. } => format!("call {procedure}"),
            Command::Register { procedure, .. } => format!("register {procedure}"),
            Command::Unregister { .. } => "unregister".into(),
            Command::Subscribe { topic, .. } => format!("subscribe {topic}"),
            Command::Unsubscribe { .. } => "unsubscribe".into(),
            Command::Publish { topic, .. } => format!("publish {topic}"),
            Command::Yield { .. } => "yield".into(),
            Command::Close { .. } => "close".into(),
        }
    }

    fn timeout(&self) -> Option<Duration> {
        match self {
            Command::Call { timeout, .. }
            | Command::Register { timeout, .. }
            | Command::Unregister { timeout, .. }
            | Command::Subscribe { timeout, .. }
            | Command::Unsubscribe { timeout, .. }
            | Command::Publish { timeout, .. } => Some(*timeout),
            Command::Yield { .. } | Command::Close { .. } => None,
        }
    }

    /// Answers the command with `error` (commands without a reply are dropped).
    fn reject(self, error: Error) {
        let reply = match self {
            Command::Call { reply, .. }
            | Command::Register { reply, .. }
            | Command::Unregister { reply, .. }
            | Command::Subscribe { reply, .. }
            | Command::Unsubscribe { reply, .. }
            | Command::Publish { reply, .. } => reply,
            Command::Yield { .. } | Command::Close { .. } => return,
        };
        let _ = reply.send(Err(error));
    }

    /// True for an unacknowledged publish, the only kind the offline buffer keeps.
    fn is_unacknowledged_publish(&self) -> bool {
        matches!(self, Command::Publish { options, .. } if options.get("acknowledge") != Some(&Value::Bool(true)))
    }
}

/// The sending side of the command channel; cloneable and cheap.
#[derive(Clone)]
pub(crate) struct CommandSender {
    channel: Sender<Command>,
    waker: Arc<LoopWaker>,
    core: Arc<Core>,
}

/// The loop's state, shared by the I/O thread and threads sending commands. Empty
/// until [`start`] fills it, and again once the loop has finished.
type Core = Mutex<Option<EventLoop>>;

impl CommandSender {
    /// Queues the command and handles the queue on this thread, as soon as the lock
    /// is free; the I/O thread is woken only when it must notice something. Fails when
    /// the loop has stopped.
    pub fn send(&self, command: Command) -> Result<(), ()> {
        self.channel.send(command).map_err(|_| ())?;
        if crate::wake::in_locked_section() {
            // Reached from code running under the lock (a value dropped there): the
            // holder, or the woken I/O thread, handles the queue.
            self.waker.wake();
            return Ok(());
        }
        let must_wake = crate::wake::locked(|| match self.core.lock().as_mut() {
            Some(event_loop) => {
                event_loop.handle_queued_commands();
                event_loop.pump();
                event_loop.needs_attention()
            }
            None => true,
        });
        if must_wake {
            self.waker.wake();
        }
        Ok(())
    }
}

/// Wakes the I/O thread out of its poll.
struct LoopWaker {
    waker: Waker,
    wake_pending: AtomicBool,
}

impl LoopWaker {
    /// Wakes the loop unless a wake is already pending.
    fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            // If waking fails the loop is gone; the dropped reply channel reports that.
            let _ = self.waker.wake();
        }
    }
}

/// What the handle can see of the connection.
#[derive(Debug)]
pub(crate) struct Status {
    pub session: Mutex<Option<SessionInfo>>,
    pub state: Mutex<ConnectionState>,
    /// Why the loop stopped, once it has.
    pub ended: Mutex<Option<Error>>,
    pub counters: Counters,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            session: Mutex::new(None),
            state: Mutex::new(ConnectionState::Connecting),
            ended: Mutex::new(None),
            counters: Counters::default(),
        }
    }
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

impl SessionInfo {
    fn from_welcome(session_id: u64, details: Dict) -> Self {
        let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
        SessionInfo {
            session_id,
            realm: text("realm").unwrap_or_default(),
            authid: text("authid"),
            authrole: text("authrole"),
            authmethod: text("authmethod"),
            details: details.clone(),
        }
    }
}

/// Per-request context given to the session; says what to do with the reply.
enum Ctx {
    Plain(ReplySender),
    Register {
        reply: ReplySender,
        procedure: String,
        options: Dict,
        handler: ProcedureHandler,
    },
    Subscribe {
        reply: ReplySender,
        topic: String,
        options: Dict,
        handler: EventHandler,
    },
    /// Re-creating a registration or subscription after a rejoin.
    Restore(Restoring),
}

/// A registration or subscription being re-created, and how many tries it took so far.
#[derive(Debug, Clone, Copy)]
struct Restoring {
    local_id: u64,
    attempt: u32,
}

/// The connection, from the loop's point of view.
enum Link {
    /// Not connected; the next attempt starts at `until`.
    Waiting { until: Instant, attempt: u32 },
    /// A connector thread is setting up a transport.
    Connecting { attempt: u32 },
    /// Connected; `joined` once WELCOME arrived.
    Up(Box<Connection>),
}

struct Connection {
    transport: Box<dyn Transport>,
    session: Session<Ctx>,
    joined: bool,
    /// Restore requests not yet answered; join hooks wait for them.
    restoring: usize,
    /// Give up on the join at this instant.
    join_deadline: Instant,
    last_heard: Instant,
    /// A ping is out; declare the connection dead if nothing arrives by then.
    probe_deadline: Option<Instant>,
    /// The socket did not take everything written: new commands wait until it drains,
    /// so a slow router slows down publishers instead of our buffer growing without end.
    write_blocked: bool,
}

/// A request that arrived while the session was not joined, waiting for the rejoin.
struct Waiting {
    deadline: Instant,
    timeout: Duration,
    command: Command,
}

/// Settings the loop needs, taken from the client configuration.
struct Settings {
    connect: ConnectOptions,
    connect_timeout: Duration,
    session: SessionConfig,
    reconnect: ReconnectPolicy,
    ping_interval: Option<Duration>,
    pong_timeout: Duration,
    wait_while_reconnecting: bool,
    offline_publish_buffer: usize,
    failure_uri: String,
    hooks: Hooks,
}

/// Starts the I/O thread and waits until the session has joined, or the first connect
/// failed for good, or `config.connect_timeout` passed.
pub(crate) fn start(
    config: &ClientConfig,
    client: Weak<ClientInner>,
    status: Arc<Status>,
    commands: Receiver<Command>,
    poll: Poll,
    sender: CommandSender,
) -> Result<std::thread::JoinHandle<()>, Error> {
    let connect_error = |detail: String| Error::Connect {
        url: config.url.clone(),
        detail,
    };
    let serializers = config.compiled_in_serializers()?;
    let (joined_tx, joined_rx) = crossbeam_channel::bounded(1);
    let settings = Settings {
        connect: ConnectOptions {
            url: config.url.clone(),
            serializers: serializers.clone(),
            max_message_size: config.max_message_size,
            deadline: Instant::now(),
            tls: config.tls.clone(),
        },
        connect_timeout: config.connect_timeout,
        session: SessionConfig {
            realm: config.realm.clone(),
            auth: config.auth.clone(),
            agent: config.agent.clone(),
            serializer: serializers[0],
            max_message_size: config.max_message_size,
            authextra: config.authextra.clone(),
        },
        reconnect: config.reconnect.clone(),
        ping_interval: config.ping_interval,
        pong_timeout: config.pong_timeout,
        wait_while_reconnecting: config.wait_while_reconnecting,
        offline_publish_buffer: config.offline_publish_buffer,
        failure_uri: config.handler_failure_uri.clone(),
        hooks: config.hooks.clone(),
    };
    // A bad URL scheme or unusable TLS files fail now, not after connect_timeout.
    transport::prepare(&settings.connect)?;
    let pool = WorkerPool::new(
        "izaber-wamp-handler",
        config.max_handler_threads,
        Duration::from_secs(10),
    );
    let first_deadline = Instant::now() + config.connect_timeout;
    let url = config.url.clone();
    let poll_registry = poll
        .registry()
        .try_clone()
        .map_err(|e| connect_error(format!("cannot share the poller: {e}")))?;
    let (connected_tx, connected) = crossbeam_channel::unbounded();
    *sender.core.lock() = Some(EventLoop {
        poll_registry,
        waker: Arc::clone(&sender.waker),
        settings,
        link: Link::Waiting {
            until: Instant::now(),
            attempt: 0,
        },
        commands: Some(commands),
        connected,
        connected_tx,
        client,
        pool,
        status,
        registry: Registry::default(),
        first_join: Some((first_deadline, joined_tx)),
        last_failure: None,
        waiting: VecDeque::new(),
        offline: VecDeque::new(),
        restore_retries: Vec::new(),
        closing: None,
        ended: None,
        sleeping_until: None,
        hook_queue: SerialQueue::new(|job: HookJob| job()),
    });
    let core = Arc::clone(&sender.core);
    let thread = std::thread::Builder::new()
        .name("izaber-wamp-io".into())
        .spawn(move || run(&core, poll))
        .map_err(|e| connect_error(format!("cannot start the I/O thread: {e}")))?;
    // The loop enforces the deadline itself; the margin only guards against a stuck loop.
    match joined_rx.recv_timeout(config.connect_timeout + Duration::from_secs(5)) {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Timeout {
            operation: format!("connect to {url}"),
            after: config.connect_timeout,
        }),
    }
}

struct EventLoop {
    /// Where transports register their sockets with the I/O thread's poller.
    poll_registry: mio::Registry,
    waker: Arc<LoopWaker>,
    settings: Settings,
    link: Link,
    /// Queued commands; dropped when the loop stops, so later sends fail.
    commands: Option<Receiver<Command>>,
    /// Finished connection attempts from connector threads.
    connected: Receiver<Result<Box<dyn Transport>, Error>>,
    connected_tx: Sender<Result<Box<dyn Transport>, Error>>,
    client: Weak<ClientInner>,
    pool: WorkerPool,
    status: Arc<Status>,
    registry: Registry,
    /// Until the first join: its deadline and where to report the outcome.
    first_join: Option<(Instant, Sender<Result<(), Error>>)>,
    /// Why the last connection attempt failed, for the first connect's error.
    last_failure: Option<Error>,
    /// Requests waiting for the rejoin.
    waiting: VecDeque<Waiting>,
    /// Unacknowledged publishes kept while disconnected.
    offline: VecDeque<Command>,
    /// Registrations to re-create again: (when, local ID).
    restore_retries: Vec<(Instant, Restoring)>,
    /// While closing: when to give up waiting for GOODBYE, and whom to tell.
    closing: Option<(Instant, Vec<Sender<()>>)>,
    ended: Option<Error>,
    /// When the sleeping I/O thread wakes by itself (`None`: only on I/O or a wake).
    sleeping_until: Option<Instant>,
    /// Hook runs, in the order of the events they report.
    hook_queue: Arc<SerialQueue<HookJob>>,
}

type HookJob = Box<dyn FnOnce() + Send>;

/// The I/O thread: waits for socket events and wakes without the lock, then handles
/// them, queued commands and timers with it, until the loop ends.
fn run(core: &Core, mut poll: Poll) {
    let mut events = Events::with_capacity(64);
    loop {
        let next = crate::wake::locked(|| {
            let mut guard = core.lock();
            let event_loop = guard.as_mut()?;
            event_loop.handle_events(&events);
            event_loop.check_timers();
            event_loop.pump();
            if event_loop.ended.is_some() {
                event_loop.finish();
                // Dropping the loop closes the socket and the command queue, so later
                // requests fail at once; handlers it drops may hold clients, so not
                // under the lock.
                let finished = guard.take();
                drop(guard);
                drop(finished);
                return None;
            }
            event_loop.sleeping_until = event_loop.next_deadline();
            Some(event_loop.sleeping_until)
        });
        let Some(sleep_until) = next else {
            return;
        };
        let timeout = sleep_until.map(|d| d.saturating_duration_since(Instant::now()));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                crate::wake::locked(|| {
                    if let Some(event_loop) = core.lock().as_mut() {
                        event_loop.fail_connection(&format!("poll failed: {e}"));
                    }
                });
            }
        }
    }
}

impl EventLoop {
    /// Acts on what the poller reported, then on finished connection attempts and on
    /// queued commands.
    fn handle_events(&mut self, events: &Events) {
        for event in events.iter() {
            if event.token() != SOCKET {
                continue;
            }
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                self.read_frames();
            }
            if event.is_writable() {
                self.socket_drained();
            }
        }
        self.waker.wake_pending.store(false, Ordering::Release);
        while let Ok(result) = self.connected.try_recv() {
            self.connection_attempt_done(result);
        }
        self.handle_queued_commands();
    }

    /// Handles queued commands until the queue is empty or the socket is full.
    fn handle_queued_commands(&mut self) {
        while !self.write_blocked() {
            let Some(Ok(command)) = self.commands.as_ref().map(Receiver::try_recv) else {
                break;
            };
            self.handle_command(command);
        }
    }

    /// Whether the sleeping I/O thread must wake for what this thread just did: it
    /// ended the loop, or set a deadline earlier than the one the loop sleeps until.
    fn needs_attention(&mut self) -> bool {
        if self.ended.is_some() {
            return true;
        }
        match (self.next_deadline(), self.sleeping_until) {
            (Some(deadline), Some(sleeping_until)) => deadline < sleeping_until,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// The earliest instant something must happen without I/O.
    fn next_deadline(&mut self) -> Option<Instant> {
        let mut link_deadlines = [None; 3];
        match &mut self.link {
            Link::Waiting { until, .. } => link_deadlines[0] = Some(*until),
            Link::Connecting { .. } => {}
            Link::Up(connection) => {
                link_deadlines[0] = connection.session.next_timeout();
                if !connection.joined {
                    link_deadlines[1] = Some(connection.join_deadline);
                }
                let ping_interval = self
                    .settings
                    .ping_interval
                    .filter(|_| connection.transport.probes_liveness());
                link_deadlines[2] = match (connection.probe_deadline, ping_interval) {
                    (Some(deadline), _) => Some(deadline),
                    (None, Some(interval)) => Some(connection.last_heard + interval),
                    (None, None) => None,
                };
            }
        }
        [
            self.first_join.as_ref().map(|(d, _)| *d),
            self.closing.as_ref().map(|(d, _)| *d),
            self.waiting.iter().map(|w| w.deadline).min(),
            self.restore_retries.iter().map(|(d, _)| *d).min(),
        ]
        .into_iter()
        .chain(link_deadlines)
        .flatten()
        .min()
    }

    fn check_timers(&mut self) {
        let now = Instant::now();
        if self.closing.as_ref().is_some_and(|(d, _)| *d <= now) {
            // The router did not answer our GOODBYE in time; close anyway.
            self.end(Error::Closed);
            return;
        }
        if let Some((deadline, _)) = &self.first_join {
            if *deadline <= now {
                let error = match self.last_failure.take() {
                    Some(e) => e,
                    None => Error::Timeout {
                        operation: format!("connect to {}", self.settings.connect.url),
                        after: self.settings.connect_timeout,
                    },
                };
                self.end(error);
                return;
            }
        }
        self.expire_waiting(now);
        self.retry_restores(now);
        match &mut self.link {
            Link::Waiting { until, attempt } if *until <= now => {
                let attempt = *attempt + 1;
                self.start_connecting(attempt);
            }
            Link::Up(connection) => {
                connection.session.handle_timeout(now);
                if !connection.joined && connection.join_deadline <= now {
                    self.fail_connection("the router did not accept the session in time");
                } else if connection.probe_deadline.is_some_and(|d| d <= now) {
                    let silent = self.settings.pong_timeout;
                    self.fail_connection(&format!(
                        "no answer from the router for {silent:?} after a ping"
                    ));
                } else if let Some(interval) = self
                    .settings
                    .ping_interval
                    .filter(|_| connection.transport.probes_liveness())
                {
                    if connection.probe_deadline.is_none()
                        && connection.last_heard + interval <= now
                    {
                        connection.probe_deadline = Some(now + self.settings.pong_timeout);
                        if let Err(e) = connection.transport.ping() {
                            self.fail_connection(&e.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn expire_waiting(&mut self, now: Instant) {
        if !self.waiting.iter().any(|w| w.deadline <= now) {
            return;
        }
        let (expired, kept): (Vec<_>, Vec<_>) =
            self.waiting.drain(..).partition(|w| w.deadline <= now);
        self.waiting = kept.into();
        for w in expired {
            let operation = w.command.operation();
            Counters::bump(&self.status.counters.errors);
            w.command.reject(Error::Timeout {
                operation,
                after: w.timeout,
            });
        }
    }

    fn retry_restores(&mut self, now: Instant) {
        if !self.restore_retries.iter().any(|(d, _)| *d <= now) {
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) =
            self.restore_retries.drain(..).partition(|(d, _)| *d <= now);
        self.restore_retries = later;
        for (_, restoring) in due {
            self.restore_procedure(restoring, now);
        }
    }

    /// Starts a connection attempt on a connector thread.
    fn start_connecting(&mut self, attempt: u32) {
        self.set_state(if self.first_join.is_some() {
            ConnectionState::Connecting
        } else {
            ConnectionState::Reconnecting
        });
        log::info!(
            "connecting to {} (attempt {attempt})",
            self.settings.connect.url
        );
        let mut options = self.settings.connect.clone();
        options.deadline = Instant::now() + self.settings.connect_timeout;
        let results = self.connected_tx.clone();
        let waker = Arc::clone(&self.waker);
        let spawned = std::thread::Builder::new()
            .name("izaber-wamp-connect".into())
            .spawn(move || {
                // If the loop is gone the transport is dropped here, closing the socket.
                let _ = results.send(transport::connect(&options));
                waker.wake();
            });
        self.link = Link::Connecting { attempt };
        if let Err(e) = spawned {
            self.connection_attempt_done(Err(Error::Connect {
                url: self.settings.connect.url.clone(),
                detail: format!("cannot start a connector thread: {e}"),
            }));
        }
    }

    fn connection_attempt_done(&mut self, result: Result<Box<dyn Transport>, Error>) {
        let Link::Connecting { attempt } = self.link else {
            return; // closed meanwhile; dropping the transport closes it
        };
        let mut transport = match result {
            Ok(transport) => transport,
            Err(e) => return self.attempt_failed(attempt, e),
        };
        if let Err(e) = transport.register(&self.poll_registry, SOCKET) {
            let url = self.settings.connect.url.clone();
            return self.attempt_failed(
                attempt,
                Error::Connect {
                    url,
                    detail: e.to_string(),
                },
            );
        }
        let mut session_config = self.settings.session.clone();
        session_config.serializer = transport.serializer();
        session_config.max_message_size = transport.max_outgoing();
        let now = Instant::now();
        self.link = Link::Up(Box::new(Connection {
            transport,
            session: Session::new(session_config),
            joined: false,
            restoring: 0,
            join_deadline: now + self.settings.connect_timeout,
            last_heard: now,
            probe_deadline: None,
            write_blocked: false,
        }));
    }

    /// A connection attempt failed: retry after a back-off, or give up.
    fn attempt_failed(&mut self, attempt: u32, error: Error) {
        log::warn!(
            "connection attempt {attempt} to {} failed: {error}",
            self.settings.connect.url
        );
        let policy = &self.settings.reconnect;
        let gave_up = policy.max_attempts.is_some_and(|max| attempt >= max);
        if !policy.enabled || gave_up {
            return self.end(error);
        }
        let delay = policy.delay(attempt, random_fraction());
        log::info!("reconnecting in {delay:?}");
        self.last_failure = Some(error);
        self.link = Link::Waiting {
            until: Instant::now() + delay,
            attempt,
        };
    }

    /// The connection is unusable: let the session fail its requests and close.
    fn fail_connection(&mut self, why: &str) {
        if let Link::Up(connection) = &mut self.link {
            connection.session.connection_lost(why);
        }
    }

    fn read_frames(&mut self) {
        if let Link::Up(connection) = &mut self.link {
            connection.transport.readable();
        }
        loop {
            let Link::Up(connection) = &mut self.link else {
                return;
            };
            match connection.transport.receive() {
                Ok(Some(received)) => {
                    connection.last_heard = Instant::now();
                    connection.probe_deadline = None;
                    if let Received::Frame(frame) = received {
                        Counters::bump(&self.status.counters.messages_received);
                        connection.session.handle_frame(&frame);
                        self.handle_outputs();
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    connection.session.connection_lost(&e.to_string());
                    return;
                }
            }
        }
    }

    /// Acts on session outputs, then writes whatever the session queued.
    fn pump(&mut self) {
        self.handle_outputs();
        let Link::Up(connection) = &mut self.link else {
            return;
        };
        let mut failure = None;
        while let Some(frame) = connection.session.pop_transmit() {
            Counters::bump(&self.status.counters.messages_sent);
            if let Err(e) = connection.transport.send(frame) {
                failure = Some(e.to_string());
                break;
            }
        }
        if failure.is_none() {
            match connection.transport.flush() {
                Ok(flushed) => connection.write_blocked = !flushed,
                Err(e) => failure = Some(e.to_string()),
            }
        }
        if let Some(why) = failure {
            connection.session.connection_lost(&why);
            self.handle_outputs();
        }
    }

    /// The socket took more of what we wrote: the router is reading, so it is alive.
    /// Write the rest; once all is out, commands flow again.
    fn socket_drained(&mut self) {
        let Link::Up(connection) = &mut self.link else {
            return;
        };
        connection.last_heard = Instant::now();
        connection.probe_deadline = None;
        match connection.transport.flush() {
            Ok(flushed) => connection.write_blocked = !flushed,
            Err(e) => connection.session.connection_lost(&e.to_string()),
        }
    }

    fn write_blocked(&self) -> bool {
        matches!(&self.link, Link::Up(connection) if connection.write_blocked)
    }

    fn session(&mut self) -> Option<&mut Session<Ctx>> {
        match &mut self.link {
            Link::Up(connection) if connection.joined => Some(&mut connection.session),
            _ => None,
        }
    }

    fn handle_command(&mut self, command: Command) {
        if let Command::Close { done } = command {
            return self.close(done);
        }
        if self.closing.is_some() {
            return command.reject(Error::Closed);
        }
        match command {
            Command::Unregister {
                registration,
                timeout,
                reply,
            } => self.unregister(registration, timeout, reply),
            Command::Unsubscribe {
                subscription,
                timeout,
                reply,
            } => self.unsubscribe(subscription, timeout, reply),
            Command::Yield { request, result } => {
                if let Some(session) = self.session() {
                    match result {
                        Ok(payload) => session.yield_result(request, payload),
                        Err(error) => session.yield_error(request, error),
                    }
                }
            }
            command if self.session().is_some() => self.send_request(command),
            command => self.hold(command),
        }
    }

    /// Keeps a request made while disconnected, as the configuration says.
    fn hold(&mut self, mut command: Command) {
        let limit = self.settings.offline_publish_buffer;
        if limit > 0 && command.is_unacknowledged_publish() {
            if self.offline.len() < limit {
                if let Command::Publish { reply, .. } = &mut command {
                    // The publisher is answered now; the later send answers no one.
                    let answered = std::mem::replace(reply, crate::oneshot::channel().0);
                    let _ = answered.send(Ok(Reply::Published(0)));
                }
                self.offline.push_back(command);
            } else {
                command.reject(Error::ConnectionLost(format!(
                    "not connected, and the offline publish buffer is full ({limit} publishes)"
                )));
            }
            return;
        }
        if !self.settings.wait_while_reconnecting {
            return command.reject(Error::ConnectionLost(
                "not connected; reconnecting to the router".into(),
            ));
        }
        let timeout = command.timeout().unwrap_or_default();
        self.waiting.push_back(Waiting {
            deadline: Instant::now() + timeout,
            timeout,
            command,
        });
    }

    /// Sends a request on the joined session.
    fn send_request(&mut self, command: Command) {
        let counters = &self.status.counters;
        let now = Instant::now();
        let Some(session) = (match &mut self.link {
            Link::Up(connection) if connection.joined => Some(&mut connection.session),
            _ => None,
        }) else {
            return command.reject(Error::ConnectionLost("not connected".into()));
        };
        match command {
            Command::Call {
                procedure,
                options,
                payload,
                timeout,
                reply,
            } => {
                Counters::bump(&counters.calls);
                session.call(
                    procedure,
                    options,
                    payload,
                    Some(timeout),
                    Ctx::Plain(reply),
                    now,
                )
            }
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
                    options: options.clone(),
                    handler,
                };
                session.register(procedure, options, Some(timeout), ctx, now)
            }
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
                    options: options.clone(),
                    handler,
                };
                session.subscribe(topic, options, Some(timeout), ctx, now)
            }
            Command::Publish {
                topic,
                options,
                payload,
                timeout,
                reply,
            } => {
                Counters::bump(&counters.publications);
                session.publish(
                    topic,
                    options,
                    payload,
                    Some(timeout),
                    Ctx::Plain(reply),
                    now,
                )
            }
            other => other.reject(Error::ProtocolViolation("unexpected command".into())),
        }
    }

    fn unregister(&mut self, local_id: u64, timeout: Duration, reply: ReplySender) {
        if !self.registry.has_procedure(local_id) {
            let _ = reply.send(Err(Error::Wamp(WampError::new(
                "wamp.error.no_such_registration",
            ))));
            return;
        }
        self.restore_retries.retain(|(_, r)| r.local_id != local_id);
        // Forget it at once: while disconnected there is nothing to tell the router, and
        // once asked, late invocations are answered with no_such_registration.
        match (self.registry.remove_procedure(local_id), self.session()) {
            (Some(router_id), Some(session)) => {
                session.unregister(router_id, Some(timeout), Ctx::Plain(reply), Instant::now())
            }
            _ => drop(reply.send(Ok(Reply::Unregistered))),
        }
    }

    fn unsubscribe(&mut self, local_id: u64, timeout: Duration, reply: ReplySender) {
        if !self.registry.has_topic(local_id) {
            let _ = reply.send(Err(Error::Wamp(WampError::new(
                "wamp.error.no_such_subscription",
            ))));
            return;
        }
        // Other local subscriptions may share the router's subscription: then keep it.
        match (self.registry.remove_topic(local_id), self.session()) {
            (Some(router_id), Some(session)) => {
                session.unsubscribe(router_id, Some(timeout), Ctx::Plain(reply), Instant::now())
            }
            _ => drop(reply.send(Ok(Reply::Unsubscribed))),
        }
    }

    fn close(&mut self, done: Sender<()>) {
        if let Some((_, waiting)) = &mut self.closing {
            waiting.push(done);
            return;
        }
        self.closing = Some((Instant::now() + GOODBYE_WAIT, vec![done]));
        match &mut self.link {
            Link::Up(connection) if connection.joined => {
                connection.session.goodbye("wamp.close.close_realm")
            }
            _ => self.end(Error::Closed),
        }
    }

    fn handle_outputs(&mut self) {
        loop {
            let Link::Up(connection) = &mut self.link else {
                return;
            };
            let Some(output) = connection.session.pop_output() else {
                return;
            };
            match output {
                Output::Joined { session, details } => self.joined(session, details),
                Output::Completed { ctx, result } => self.completed(ctx, result),
                Output::Invocation {
                    request,
                    registration,
                    details,
                    payload,
                } => {
                    Counters::bump(&self.status.counters.invocations);
                    self.invoke(request, registration, details, payload)
                }
                Output::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                } => {
                    Counters::bump(&self.status.counters.events);
                    self.deliver(subscription, publication, details, payload)
                }
                Output::RegistrationRevoked {
                    registration,
                    reason,
                } => {
                    if let Some(procedure) = self.registry.registration_revoked(registration) {
                        log::warn!(
                            "the router revoked the registration of {procedure}: {reason:?}"
                        );
                    }
                }
                Output::SubscriptionRevoked {
                    subscription,
                    reason,
                } => {
                    for topic in self.registry.subscription_revoked(subscription) {
                        log::warn!("the router revoked the subscription to {topic}: {reason:?}");
                    }
                }
                Output::Closed(reason) => self.session_closed(reason),
            }
        }
    }

    fn joined(&mut self, session_id: u64, details: Dict) {
        let info = SessionInfo::from_welcome(session_id, details);
        log::info!(
            "joined session {session_id} as {:?} ({:?})",
            info.authid,
            info.authrole
        );
        *self.status.session.lock() = Some(info);
        if self.first_join.is_none() {
            Counters::bump(&self.status.counters.reconnections);
        }
        self.last_failure = None;
        let restores = self.registry.to_restore();
        let now = Instant::now();
        let Link::Up(connection) = &mut self.link else {
            return;
        };
        connection.joined = true;
        connection.restoring = restores.len();
        for restore in restores {
            match restore {
                Restore::Procedure {
                    local_id,
                    procedure,
                    options,
                } => connection.session.register(
                    procedure,
                    options,
                    None,
                    Ctx::Restore(Restoring {
                        local_id,
                        attempt: 0,
                    }),
                    now,
                ),
                Restore::Topic {
                    local_id,
                    topic,
                    options,
                } => connection.session.subscribe(
                    topic,
                    options,
                    None,
                    Ctx::Restore(Restoring {
                        local_id,
                        attempt: 0,
                    }),
                    now,
                ),
            }
        }
        if connection.restoring == 0 {
            self.ready();
        }
    }

    /// Joined and restored: report it and send what waited.
    fn ready(&mut self) {
        self.set_state(ConnectionState::Joined);
        if let Some(info) = self.status.session.lock().clone() {
            self.run_hooks(HookEvent::Join(info));
        }
        // Only now may `Client::connect` return: a hook the caller adds next must not
        // be picked up by this join's hook run.
        if let Some((_, report)) = self.first_join.take() {
            let _ = report.send(Ok(()));
        }
        for command in std::mem::take(&mut self.offline) {
            self.send_request(command);
        }
        for waiting in std::mem::take(&mut self.waiting) {
            self.handle_command(waiting.command);
        }
    }

    fn session_closed(&mut self, reason: CloseReason) {
        log::info!("session closed: {reason:?}");
        let was_joined = matches!(&self.link, Link::Up(c) if c.joined);
        let error = reason.to_error();
        self.link = Link::Waiting {
            until: Instant::now(),
            attempt: 0,
        };
        self.registry.connection_lost();
        self.restore_retries.clear();
        *self.status.session.lock() = None;
        if was_joined {
            self.run_hooks(HookEvent::Leave(error.clone()));
        }
        self.run_hooks(HookEvent::Disconnect);
        let fatal_at_first_join =
            self.first_join.is_some() && matches!(reason, CloseReason::Abort { .. });
        if self.closing.is_some()
            || fatal_at_first_join
            || matches!(reason, CloseReason::ClientGoodbye)
        {
            return self.end(error);
        }
        if !self.settings.reconnect.enabled {
            return self.end(error);
        }
        log::warn!(
            "connection to {} lost ({error}); reconnecting",
            self.settings.connect.url
        );
        let delay = if was_joined {
            Duration::ZERO
        } else {
            self.settings.reconnect.delay(1, random_fraction())
        };
        self.last_failure = Some(error);
        self.link = Link::Waiting {
            until: Instant::now() + delay,
            attempt: u32::from(!was_joined),
        };
        self.set_state(if self.first_join.is_some() {
            ConnectionState::Connecting
        } else {
            ConnectionState::Reconnecting
        });
    }

    fn completed(&mut self, ctx: Ctx, result: Result<Reply, Error>) {
        if result.is_err() {
            Counters::bump(&self.status.counters.errors);
        }
        match (ctx, result) {
            (Ctx::Plain(reply), result) => drop(reply.send(result)),
            (
                Ctx::Register {
                    reply,
                    procedure,
                    options,
                    handler,
                },
                Ok(Reply::Registered(router_id)),
            ) => {
                let local_id = self
                    .registry
                    .add_procedure(procedure, options, handler, router_id);
                let _ = reply.send(Ok(Reply::Registered(local_id)));
            }
            (
                Ctx::Subscribe {
                    reply,
                    topic,
                    options,
                    handler,
                },
                Ok(Reply::Subscribed(router_id)),
            ) => {
                let local_id = self.registry.add_topic(topic, options, handler, router_id);
                let _ = reply.send(Ok(Reply::Subscribed(local_id)));
            }
            (Ctx::Register { reply, .. } | Ctx::Subscribe { reply, .. }, result) => {
                drop(reply.send(result))
            }
            (Ctx::Restore(restoring), result) => self.restored(restoring, result),
        }
    }

    fn restored(&mut self, restoring: Restoring, result: Result<Reply, Error>) {
        let local_id = restoring.local_id;
        match result {
            Ok(Reply::Registered(router_id)) => {
                self.registry.procedure_restored(local_id, router_id)
            }
            Ok(Reply::Subscribed(router_id)) => self.registry.topic_restored(local_id, router_id),
            Err(e) if e.wamp_uri() == Some("wamp.error.procedure_already_exists") => {
                let delay = RESTORE_RETRY
                    .saturating_mul(1 << restoring.attempt.min(8))
                    .min(RESTORE_RETRY_MAX);
                log::warn!("cannot restore a registration yet (another session, maybe our old one, holds it): {e}; retrying in {delay:?}");
                let next = Restoring {
                    attempt: restoring.attempt + 1,
                    ..restoring
                };
                self.restore_retries.push((Instant::now() + delay, next));
            }
            Err(e) => {
                log::error!("cannot restore a registration or subscription after reconnecting: {e}")
            }
            Ok(other) => log::error!("unexpected reply while restoring: {other:?}"),
        }
        if let Link::Up(connection) = &mut self.link {
            if connection.restoring > 0 {
                connection.restoring -= 1;
                if connection.restoring == 0 {
                    self.ready();
                }
            }
        }
    }

    fn restore_procedure(&mut self, restoring: Restoring, now: Instant) {
        let Some((procedure, options)) = self.registry.procedure_spec(restoring.local_id) else {
            return;
        };
        if let Some(session) = self.session() {
            session.register(procedure, options, None, Ctx::Restore(restoring), now);
        }
    }

    fn set_state(&mut self, state: ConnectionState) {
        let changed = {
            let mut current = self.status.state.lock();
            std::mem::replace(&mut *current, state) != state
        };
        if changed {
            self.run_hooks(HookEvent::State(state));
        }
    }

    /// Runs the hooks for `event` on the pool, after those of earlier events.
    fn run_hooks(&self, event: HookEvent) {
        let job = self.settings.hooks.job(event);
        // A queued hook must not keep the client alive: when the user drops the last
        // handle, the client closes at once, and hooks still queued are skipped.
        let client = self.client.clone();
        let run = move || {
            if let Some(inner) = client.upgrade() {
                job(&Client::from_inner(inner));
            }
        };
        self.hook_queue.push(Box::new(run), &self.pool);
    }

    fn client(&self) -> Option<Client> {
        self.client.upgrade().map(Client::from_inner)
    }

    /// Stops the loop with `error` as the reason requests fail from now on.
    fn end(&mut self, error: Error) {
        if self.ended.is_none() {
            self.ended = Some(error);
        }
    }

    /// Closes the transport and tells everyone still waiting.
    fn finish(&mut self) {
        if let Link::Up(connection) = &mut self.link {
            connection.transport.close();
        }
        let error = self.ended.take().unwrap_or(Error::Closed);
        if let Some((_, report)) = self.first_join.take() {
            let _ = report.send(Err(error.clone()));
        }
        *self.status.session.lock() = None;
        *self.status.ended.lock() = Some(error.clone());
        self.set_state(ConnectionState::Closed);
        if !self.offline.is_empty() {
            log::warn!(
                "{} buffered publishes were never sent: the client closed first",
                self.offline.len()
            );
        }
        for waiting in std::mem::take(&mut self.waiting) {
            waiting.command.reject(error.clone());
        }
        // Commands that raced the end get the same answer as everyone else; later
        // sends fail on the dropped receiver.
        if let Some(commands) = self.commands.take() {
            while let Ok(command) = commands.try_recv() {
                command.reject(error.clone());
            }
        }
        // Dropping the `done` senders tells `close()` callers the loop has stopped.
        self.closing = None;
    }
}

/// A number in 0..1 that differs between calls and processes, for back-off jitter.
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A connected command channel: the loop's receiving side and the handle's sending side.
pub(crate) fn command_channel() -> std::io::Result<(Poll, Receiver<Command>, CommandSender)> {
    let poll = Poll::new()?;
    let waker = Arc::new(LoopWaker {
        waker: Waker::new(poll.registry(), WAKER)?,
        wake_pending: AtomicBool::new(false),
    });
    let (channel, commands) = crossbeam_channel::unbounded();
    let sender = CommandSender {
        channel,
        waker,
        core: Arc::new(Mutex::new(None)),
    };
    Ok((poll, commands, sender))
}
