//! The event loop: one per client, keeping the connection, the session and reconnects.
//!
//! Design: all connection state lives in one [`EventLoop`] behind the loop's lock
//! ([`crate::sync::lock`], whose rule every part here follows). The I/O thread waits
//! in one `mio::Poll` on the socket and a waker, without the lock; when something
//! happens it takes the lock, reads a bounded batch, acts, writes, checks deadlines
//! and releases it. Threads with requests take the lock themselves and write from
//! their own thread ([`handoff`]). Connecting runs on connector threads ([`link`]).
//!
//! * `handoff.rs`: commands from the client handle, and waking the I/O thread.
//! * `lead.rs`: a waiting caller reading the socket itself, in the I/O thread's stead.
//! * `link.rs`: connecting, reconnecting, liveness.
//! * `requests.rs`: pending requests, their deadlines, and routing.
//! * `lifecycle.rs`: join, restore, end, close.
//! * `registry.rs`: registrations and subscriptions across reconnects.
//! * `inbound.rs`: what is handed up to the client handle.
//! * `status.rs`: what the handle can read without the lock.
//!
//! The loop knows nothing of handlers or the client handle: it hands invocations,
//! events and life-cycle changes up through the [`Inbox`] trait, as protocol data.

mod handoff;
mod inbound;
mod lead;
mod lifecycle;
mod link;
mod registry;
mod requests;
mod status;

pub(crate) use handoff::{Command, CommandSender, SendError};
pub(crate) use inbound::{
    Admission, InboundEvent, InboundInvocation, Inbox, LifeEvent, LocalId, Wakeup,
};
pub(crate) use requests::{Body, CallUpdate, Operation, Replier, Request, Token};
pub use status::ConnectionState;
pub(crate) use status::{Counters, Status};

use crate::error::{ConnectFailure, Error, Result};
use crate::proto::message::Payload;
use crate::proto::session::{CancelMode, Output, SessionConfig};
use crate::proto::value::Dict;
use crate::proto::WampError;
use crate::sync::lock::{work_left_after_release, LoopLock};
use crate::trace;
use crate::transport::{self, ConnectOptions, Received};
use crossbeam_channel::{Receiver, Sender};
use handoff::LoopWaker;
use lead::Readiness;
use link::{AttemptResult, Link, SOCKET};
use mio::{Events, Poll};
use registry::Registry;
use requests::Requests;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most frames read in one hold of the lock: then the lock is released, so
/// handler wake-ups and requests from other threads get their turn, and deadlines are
/// checked between batches however fast the router sends.
const READ_BATCH: usize = 64;

/// The loop's state, shared by the I/O thread and threads sending commands. Empty
/// until [`start`] fills it, and again once the loop has finished.
pub(crate) type Core = LoopLock<Option<EventLoop>>;

/// How the loop reconnects; the client's `ReconnectPolicy` in the loop's terms.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    pub enabled: bool,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    pub multiplier: f64,
    pub max_attempts: Option<u32>,
    pub jitter: f64,
    /// A session that ends sooner than this after its join counts as a failed attempt.
    pub stable_after: Duration,
}

impl Backoff {
    /// The delay before attempt `attempt` (1-based), with jitter from `random` in 0..1.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = self.initial_delay.as_secs_f64() * self.multiplier.max(1.0).powi(exponent);
        let capped = base.min(self.max_delay.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0) * (2.0 * random - 1.0);
        Duration::from_secs_f64((capped * (1.0 + jitter)).max(0.0))
    }
}

/// Everything the loop needs from the client's configuration.
pub(crate) struct Settings {
    /// How to connect; its `url` is the router the current or next attempt uses.
    pub connect: ConnectOptions,
    /// Every router URL, the primary first: attempts rotate through them.
    pub urls: Vec<String>,
    pub connect_timeout: Duration,
    pub session: SessionConfig,
    pub reconnect: Backoff,
    pub ping_interval: Option<Duration>,
    pub pong_timeout: Duration,
    pub wait_while_reconnecting: bool,
    pub offline_publish_buffer: usize,
    /// How a call is canceled at the router when its timeout passes.
    pub timeout_cancel_mode: CancelMode,
}

pub(crate) struct EventLoop {
    /// Where transports register their sockets with the I/O thread's poller.
    poll_registry: mio::Registry,
    waker: Arc<LoopWaker>,
    /// The leaders' poller, which each new socket is registered with too.
    lead: Option<Arc<lead::Lead>>,
    settings: Settings,
    link: Link,
    requests: Requests,
    registry: Registry,
    inbox: Arc<dyn Inbox>,
    status: Arc<Status>,
    /// Queued commands; dropped when the loop stops, so later sends fail.
    commands: Option<handoff::CommandQueue>,
    /// Finished connection attempts from connector threads.
    connected: Receiver<AttemptResult>,
    connected_tx: Sender<AttemptResult>,
    /// Until the first join: its deadline and where to report the outcome.
    first_join: Option<(Instant, Sender<Result<()>>)>,
    /// Why the last connection attempt failed, for the first connect's error.
    last_failure: Option<Error>,
    /// Sessions in a row that the router ended soon after the join.
    failed_sessions: u32,
    /// Registrations to re-create again: (when, local ID, attempt).
    restore_retries: Vec<(Instant, LocalId, u32)>,
    /// While closing: when to give up waiting for GOODBYE, and whom to tell.
    closing: Option<(Instant, Vec<Sender<()>>)>,
    ended: Option<Error>,
    /// When the sleeping I/O thread wakes by itself (`None`: only on I/O or a wake).
    sleeping_until: Option<Instant>,
    /// The wire size of the frame being handled, for the inbox's memory bound.
    frame_size: usize,
    /// The `wamp.connection` span, for the client's whole life ([`crate::trace`]).
    span: trace::Span,
    /// The `wamp.session` span of the current attempt and the session it joins.
    session_span: trace::Span,
}

/// An event loop made but not yet started: its lock, poller and command queue.
pub(crate) struct Prepared {
    core: Arc<Core>,
    poll: Poll,
    commands: handoff::CommandQueue,
    waker: Arc<LoopWaker>,
    lead: Option<Arc<lead::Lead>>,
}

/// Makes the command channel and the poller for a client of `url`; [`start`] then
/// starts the loop. Two steps, so the client handle exists (with its sender) before
/// the first join runs its hooks.
pub(crate) fn prepare(url: &str) -> Result<(CommandSender, Prepared)> {
    let core = Arc::new(Core::default());
    let (poll, commands, sender, waker, lead) = handoff::command_channel(Arc::clone(&core))
        .map_err(|e| {
            Error::connect(
                url,
                ConnectFailure::Local,
                format!("cannot create the poller: {e}"),
            )
        })?;
    let prepared = Prepared {
        core,
        poll,
        commands,
        waker,
        lead,
    };
    Ok((sender, prepared))
}

/// Starts the I/O thread and waits until the session has joined, or the first connect
/// failed for good, or `settings.connect_timeout` passed.
pub(crate) fn start(
    prepared: Prepared,
    settings: Settings,
    inbox: Arc<dyn Inbox>,
    status: Arc<Status>,
) -> Result<std::thread::JoinHandle<()>> {
    let url = settings.connect.url.clone();
    let connect_error = |detail: String| Error::connect(&url, ConnectFailure::Local, detail);
    // A bad URL scheme or unusable TLS files fail now, not after connect_timeout.
    for url in &settings.urls {
        let mut options = settings.connect.clone();
        options.url = url.clone();
        transport::prepare(&options)?;
    }
    let Prepared {
        core,
        poll,
        commands,
        waker,
        lead,
    } = prepared;
    let poll_registry = poll
        .registry()
        .try_clone()
        .map_err(|e| connect_error(format!("cannot share the poller: {e}")))?;
    let (joined_tx, joined_rx) = crossbeam_channel::bounded(1);
    let (connected_tx, connected) = crossbeam_channel::unbounded();
    let connect_timeout = settings.connect_timeout;
    let first_deadline = Instant::now() + connect_timeout;
    let span = trace::Span::connection(&url, &settings.session.realm);
    let io_span = span.clone();
    core.with(|slot| {
        *slot = Some(EventLoop {
            poll_registry,
            waker,
            lead,
            settings,
            link: Link::Waiting {
                until: Instant::now(),
                attempt: 0,
            },
            requests: Requests::default(),
            registry: Registry::default(),
            inbox,
            status,
            commands: Some(commands),
            connected,
            connected_tx,
            first_join: Some((first_deadline, joined_tx)),
            last_failure: None,
            failed_sessions: 0,
            restore_retries: Vec::new(),
            closing: None,
            ended: None,
            sleeping_until: None,
            frame_size: 0,
            span,
            session_span: trace::Span::default(),
        })
    });
    let io_core = Arc::clone(&core);
    let io_thread = std::thread::Builder::new()
        .name("izaber-wamp-io".into())
        .spawn(move || {
            // What the I/O thread logs belongs to the connection.
            let _entered = io_span.enter();
            run(&io_core, poll)
        })
        .map_err(|e| connect_error(format!("cannot start the I/O thread: {e}")))?;
    // The loop enforces the deadline itself; the margin only guards against a stuck loop.
    match joined_rx.recv_timeout(connect_timeout + Duration::from_secs(5)) {
        Ok(Ok(())) => Ok(io_thread),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Operation::new("connect to", &url).timed_out(connect_timeout)),
    }
}

thread_local! {
    /// The loop whose I/O thread this is (its address), if any.
    static IO_THREAD_OF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The identity of `core`'s loop, as [`IO_THREAD_OF`] records it.
fn loop_identity(core: &Core) -> usize {
    std::ptr::from_ref(core) as usize
}

/// Whether this thread is `core`'s I/O thread: a request made here cannot wait for
/// its answer, which only this thread would read.
pub(crate) fn is_io_thread_of(core: &Core) -> bool {
    IO_THREAD_OF.with(|of| of.get() == loop_identity(core))
}

/// Runs `work` on this thread as if it were `core`'s I/O thread: a leader running
/// inline handlers ([`lead`]), which follow the I/O thread's rules.
fn standing_in_for_io_thread(core: &Core, work: impl FnOnce()) {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            IO_THREAD_OF.with(|of| of.set(self.0));
        }
    }
    let _restore = Restore(IO_THREAD_OF.with(|of| of.replace(loop_identity(core))));
    work();
}

/// The I/O thread: waits for socket events and wakes without the lock, then handles
/// them, queued commands and timers with it, until the loop ends; inline handlers run
/// between holds of the lock.
fn run(core: &Core, mut poll: Poll) {
    IO_THREAD_OF.with(|of| of.set(loop_identity(core)));
    let mut events = Events::with_capacity(64);
    let (inbox, queue) = core
        .with(|slot| {
            slot.as_ref()
                .map(|event_loop| (Arc::clone(&event_loop.inbox), event_loop.commands.clone()))
        })
        .unzip();
    let queue = queue.flatten();
    // Commands queued while this thread held the lock were left to it.
    let commands_left = || queue.as_ref().is_some_and(|q| !q.is_empty());
    let mut polled_last_round = true;
    loop {
        let next = core.with(|slot| {
            let event_loop = slot.as_mut()?;
            event_loop.handle_events(&events);
            event_loop.check_timers();
            event_loop.pump();
            if event_loop.ended.is_some() {
                event_loop.finish();
                // Dropping the loop closes the socket and the command queue, so later
                // requests fail at once.
                return Some(Err(slot.take()));
            }
            event_loop.sleeping_until = event_loop.next_deadline();
            Some(Ok((event_loop.sleeping_until, event_loop.wants_to_read())))
        });
        if let Some(inbox) = &inbox {
            handoff::deferring_sends(|| inbox.run_inline());
        }
        let (sleep_until, more_to_read) = match next {
            Some(Ok(next)) => next,
            // The finished loop is dropped here, after the lock is released.
            Some(Err(finished)) => return drop(finished),
            None => return,
        };
        // What inline handlers just sent (their answers) goes out at once: a poll first
        // would only put a system call before it. Never twice running, so the socket
        // and the waker are still looked at between two such rounds.
        if polled_last_round && commands_left() {
            polled_last_round = false;
            events.clear();
            continue;
        }
        polled_last_round = true;
        let timeout = if more_to_read || work_left_after_release(commands_left) {
            Some(Duration::ZERO)
        } else {
            sleep_until.map(|d| d.saturating_duration_since(Instant::now()))
        };
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                core.with(|slot| {
                    if let Some(event_loop) = slot.as_mut() {
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
            self.note_readiness(Readiness::from(event));
        }
        self.waker.woken();
        while let Ok(result) = self.connected.try_recv() {
            self.connection_attempt_done(result);
        }
        self.handle_queued_commands();
        self.read_frames();
    }

    /// Notes what the poller reported for the socket (by this thread or a leader).
    fn note_readiness(&mut self, readiness: Readiness) {
        if readiness.token != SOCKET {
            return;
        }
        if let Link::Up(connection) = &mut self.link {
            if readiness.readable {
                connection.transport.readable();
                connection.unread = true;
            }
        }
        if readiness.writable {
            self.socket_drained();
        }
    }

    /// Whether the socket may hold frames the last batch left, and the inbox has room
    /// for them: then the I/O thread reads again without waiting.
    fn wants_to_read(&self) -> bool {
        matches!(&self.link, Link::Up(connection) if connection.unread) && self.inbox.has_room()
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
        [
            self.first_join.as_ref().map(|(d, _)| *d),
            self.closing.as_ref().map(|(d, _)| *d),
            self.requests.next_deadline(),
            self.restore_retries.iter().map(|(d, ..)| *d).min(),
            self.link_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn check_timers(&mut self) {
        if self.ended.is_some() {
            return;
        }
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
                    None => Operation::new("connect to", &self.settings.connect.url)
                        .timed_out(self.settings.connect_timeout),
                };
                self.end(error);
                return;
            }
        }
        self.expire_requests(now);
        self.retry_restores(now);
        self.check_link(now);
    }

    /// Reads up to [`READ_BATCH`] frames, while the inbox has room for their work.
    fn read_frames(&mut self) {
        // One clock reading for the batch: it takes microseconds, and liveness counts
        // in seconds.
        let now = Instant::now();
        for _ in 0..READ_BATCH {
            if !self.inbox.has_room() {
                return; // read again once the inbox wakes the loop
            }
            let Link::Up(connection) = &mut self.link else {
                return;
            };
            if !connection.unread {
                return;
            }
            match connection.transport.receive() {
                Ok(Some(received)) => {
                    connection.last_heard = now;
                    connection.probe_deadline = None;
                    if let Received::Frame(frame) = received {
                        Counters::bump(&self.status.counters.messages_received);
                        connection.session.handle_frame(&frame);
                        self.frame_size = frame.len();
                        self.handle_outputs();
                    }
                }
                Ok(None) => connection.unread = false,
                Err(e) => {
                    connection.unread = false;
                    connection.session.connection_lost(&e.to_string());
                    self.handle_outputs();
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

    fn handle_outputs(&mut self) {
        while let Some(output) = self.link.session().and_then(|s| s.pop_output()) {
            match output {
                Output::Completed { ctx, result } => {
                    self.finish_request(ctx, result.map_err(Error::from))
                }
                Output::Progress {
                    ctx,
                    details,
                    payload,
                } => self.progress(ctx, details, payload),
                Output::InvocationChunk {
                    request,
                    payload,
                    last,
                } => self.inbox.invocation_chunk(request, payload, last),
                Output::Interrupt { request, mode } => self.inbox.interrupt(request, mode),
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
                // Only a new session reports a join, on the connector thread.
                Output::Joined { .. } => {}
            }
        }
    }

    /// Hands an INVOCATION to the inbox, or answers it at once.
    fn invoke(
        &mut self,
        request: u64,
        registration: u64,
        details: crate::proto::Dict,
        payload: Payload,
    ) {
        Counters::bump(&self.status.counters.invocations);
        let admission = match self.registry.registration(registration) {
            Some(local) => self.inbox.invocation(InboundInvocation {
                registration: local,
                request,
                details,
                size: memory_size(self.frame_size, &payload),
                payload,
            }),
            None => Admission::Rejected(WampError::new("wamp.error.no_such_registration")),
        };
        if let Admission::Rejected(error) = admission {
            if let Some(session) = self.link.session() {
                session.yield_error(request, error);
            }
        }
    }

    /// Hands an EVENT to the inbox, once for every local subscription it is for.
    fn deliver(
        &mut self,
        subscription: u64,
        publication: u64,
        details: crate::proto::Dict,
        payload: Payload,
    ) {
        Counters::bump(&self.status.counters.events);
        let locals = self.registry.subscribers(subscription);
        let Some((&last, others)) = locals.split_last() else {
            return; // an event racing our UNSUBSCRIBE
        };
        let size = memory_size(self.frame_size, &payload);
        // Only several subscriptions to one topic need copies; the last takes the original.
        for &local in others {
            self.inbox.event(InboundEvent {
                subscription: local,
                publication,
                details: details.clone(),
                payload: payload.clone(),
                size,
            });
        }
        self.inbox.event(InboundEvent {
            subscription: last,
            publication,
            details,
            payload,
            size,
        });
    }

    /// A handler's answer to INVOCATION `request`.
    fn answer_invocation(
        &mut self,
        request: u64,
        result: std::result::Result<(Payload, Dict), WampError>,
        progress: bool,
    ) {
        let Some(session) = self.link.session() else {
            return;
        };
        match (result, progress) {
            (Ok((payload, options)), true) => {
                if let Err(e) = session.yield_progress(request, payload, options) {
                    log::warn!("a progressive result was not sent: {e}");
                }
            }
            (Ok((payload, options)), false) => session.yield_result(request, payload, options),
            (Err(error), _) => session.yield_error(request, error),
        }
    }
}

/// Frames up to this size count as this size in the inbox's memory bound; larger
/// ones are measured.
const SMALL_FRAME: usize = 1024;

/// The memory a received payload holds, for the inbox's bound. A decoded value can
/// take many times its wire size (each `0,` of a JSON list becomes a 32-byte
/// `Value`), so large payloads are measured; small ones count as [`SMALL_FRAME`].
fn memory_size(frame_size: usize, payload: &Payload) -> usize {
    if frame_size <= SMALL_FRAME {
        return SMALL_FRAME;
    }
    let values: usize = payload.args.iter().map(value_size).sum();
    let kwargs: usize = payload
        .kwargs
        .iter()
        .map(|(key, value)| key.len() + value_size(value))
        .sum();
    values + kwargs
}

/// The bytes `value` occupies: its own slot plus what it owns on the heap.
fn value_size(value: &crate::proto::Value) -> usize {
    use crate::proto::Value;
    let own = std::mem::size_of::<Value>();
    own + match value {
        Value::String(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(items) => items.iter().map(value_size).sum(),
        // A B-tree entry costs about a key and a value plus node overhead.
        Value::Dict(dict) => dict
            .iter()
            .map(|(key, value)| key.len() + 2 * own + value_size(value))
            .sum(),
        _ => 0,
    }
}

/// A number in 0..1 from the operating system's randomness, for back-off jitter.
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness at all: no jitter is better than no reconnecting.
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
