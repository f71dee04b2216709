//! The connection to the router: connecting (on a connector thread, join included),
//! reconnecting with back-off, and noticing a dead connection.
//!
//! Design: setting up a connection blocks (DNS, TCP, TLS, the WebSocket or RawSocket
//! handshake, then HELLO to WELCOME, which may run an authenticator's PBKDF2 or a
//! custom authenticator), so each attempt runs on a short-lived connector thread,
//! bounded by `connect_timeout` and abandoned when the client closes. The thread hands
//! back a joined session; the loop keeps answering commands and enforcing deadlines
//! meanwhile, and never runs authentication under its lock.

use super::lifecycle::Restoring;
use super::requests::Token;
use super::EventLoop;
use crate::error::{ConnectFailure, Error};
use crate::proto::session::{CloseReason, Output, Session, SessionConfig};
use crate::proto::value::Dict;
use crate::trace;
use crate::transport::{self, ConnectOptions, Received, SetupLimit, Transport, TransportError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The poller token of the connection's socket.
pub(super) const SOCKET: mio::Token = mio::Token(1);

/// The connection, from the loop's point of view.
pub(super) enum Link {
    /// Not connected; the next attempt, number `attempt`, starts at `until`.
    Waiting { until: Instant, attempt: u32 },
    /// A connector thread is setting up attempt `attempt`; setting `abandoned` stops it.
    Connecting {
        attempt: u32,
        abandoned: Arc<AtomicBool>,
    },
    /// Connected and joined.
    Up(Box<Connection>),
}

impl Link {
    /// The joined session, if there is one.
    pub fn session(&mut self) -> Option<&mut Session<Token>> {
        match self {
            Link::Up(connection) => Some(&mut connection.session),
            _ => None,
        }
    }
}

/// A joined connection.
pub(super) struct Connection {
    pub transport: Box<dyn Transport>,
    pub session: Session<Token>,
    pub joined_at: Instant,
    /// The restores of this join; join hooks wait for them.
    pub restoring: Restoring,
    pub last_heard: Instant,
    /// A ping is out; declare the connection dead if nothing arrives by then.
    pub probe_deadline: Option<Instant>,
    /// The socket did not take everything written: new commands wait until it drains,
    /// so a slow router slows down publishers instead of our buffer growing without end.
    pub write_blocked: bool,
    /// The socket may hold more than the last read batch took.
    pub unread: bool,
}

/// What a successful attempt hands back: a transport carrying a joined session.
pub(super) struct Joined {
    pub transport: Box<dyn Transport>,
    pub session: Session<Token>,
    pub session_id: u64,
    pub details: Dict,
}

/// Why an attempt failed, and whether trying again makes sense.
pub(super) struct AttemptFailed {
    pub error: Error,
    /// The router refused the session (ABORT): retrying the same credentials is
    /// pointless at the first connect.
    pub refused: bool,
}

impl From<Error> for AttemptFailed {
    fn from(error: Error) -> Self {
        AttemptFailed {
            error,
            refused: false,
        }
    }
}

pub(super) type AttemptResult = Result<Joined, AttemptFailed>;

/// Connects and joins within `options.limit`: runs on a connector thread.
fn connect_and_join(options: &ConnectOptions, config: &SessionConfig) -> AttemptResult {
    crate::sync::lock::assert_unlocked("joining (authenticators)");
    let url = &options.url;
    let lost = |why: String, kind: ConnectFailure| Error::connect(url, kind, why);
    let broken = TransportError::connect_failure;
    let mut transport = transport::connect(options)?;
    let mut config = config.clone();
    config.serializer = transport.serializer();
    config.max_message_size = transport.max_outgoing();
    let mut session = Session::new(config);
    loop {
        while let Some(frame) = session.pop_transmit() {
            transport
                .send(frame)
                .map_err(|e| lost(format!("while joining: {e}"), broken(&e)))?;
        }
        transport
            .flush()
            .map_err(|e| lost(format!("while joining: {e}"), broken(&e)))?;
        match session.pop_output() {
            Some(Output::Joined {
                session: session_id,
                details,
            }) => {
                transport
                    .finish_setup()
                    .map_err(|e| Error::connect_io(url, &e, format!("after joining: {e}")))?;
                return Ok(Joined {
                    transport,
                    session,
                    session_id,
                    details,
                });
            }
            Some(Output::Closed(reason)) => {
                let refused = matches!(
                    reason,
                    CloseReason::Abort { .. } | CloseReason::ClientAbort { .. }
                );
                return Err(AttemptFailed {
                    error: Error::from(reason),
                    refused,
                });
            }
            // Nothing else happens before the join.
            Some(_) => continue,
            None => {}
        }
        match transport.receive() {
            Ok(Some(Received::Frame(frame))) => session.handle_frame(&frame),
            Ok(Some(Received::Pong) | None) => {}
            Err(e) => {
                let kind = broken(&e);
                let why = if kind == ConnectFailure::TimedOut {
                    "timed out waiting for the router to accept the session".to_owned()
                } else {
                    format!("while joining: {e}")
                };
                return Err(lost(why, kind).into());
            }
        }
    }
}

impl EventLoop {
    /// The next attempt goes to the next router of the list (with one router, the same).
    pub(super) fn rotate_router(&mut self) {
        let urls = &self.settings.urls;
        if urls.len() > 1 {
            let at = urls
                .iter()
                .position(|u| *u == self.settings.connect.url)
                .unwrap_or(0);
            self.settings.connect.url = urls[(at + 1) % urls.len()].clone();
        }
    }

    /// Starts attempt `attempt` on a connector thread.
    pub(super) fn start_connecting(&mut self, attempt: u32) {
        self.set_state(if self.first_join.is_some() {
            super::ConnectionState::Connecting
        } else {
            super::ConnectionState::Reconnecting
        });
        let url = &self.settings.connect.url;
        self.session_span = self
            .span
            .session(attempt, url, &self.settings.session.realm);
        trace::connecting!(self.session_span, attempt, url);
        let abandoned = Arc::new(AtomicBool::new(false));
        let mut options = self.settings.connect.clone();
        options.limit = SetupLimit {
            deadline: Instant::now() + self.settings.connect_timeout,
            abandoned: Arc::clone(&abandoned),
        };
        let session = self.settings.session.clone();
        let results = self.connected_tx.clone();
        let waker = Arc::clone(&self.waker);
        let span = self.session_span.clone();
        let spawned = std::thread::Builder::new()
            .name("izaber-wamp-connect".into())
            .spawn(move || {
                // What connecting logs belongs to the attempt's session.
                let _entered = span.enter();
                // If the loop is gone the transport is dropped here, closing the socket.
                let _ = results.send(connect_and_join(&options, &session));
                waker.wake();
            });
        self.link = Link::Connecting { attempt, abandoned };
        if let Err(e) = spawned {
            let url = &self.settings.connect.url;
            let detail = format!("cannot start a connector thread: {e}");
            let error = Error::connect(url, ConnectFailure::Local, detail);
            self.connection_attempt_done(Err(AttemptFailed::from(error)));
        }
    }

    /// Registers a new connection's socket with the I/O thread's poller, and with the
    /// leaders' where there is one ([`super::lead`]).
    fn register_socket(&self, transport: &mut dyn Transport) -> std::io::Result<()> {
        #[cfg(unix)]
        if let Some(lead) = &self.lead {
            let fd = transport.raw_fd();
            if lead
                .register_socket(&self.poll_registry, fd, SOCKET)
                .is_ok()
            {
                return Ok(());
            }
        }
        transport.register(&self.poll_registry, SOCKET)
    }

    /// A connector thread finished.
    pub(super) fn connection_attempt_done(&mut self, result: AttemptResult) {
        let Link::Connecting { attempt, .. } = self.link else {
            return; // closed meanwhile; dropping the transport closes it
        };
        let mut joined = match result {
            Ok(joined) => joined,
            Err(failed) => return self.attempt_failed(attempt, failed),
        };
        if let Err(e) = self.register_socket(joined.transport.as_mut()) {
            let error = Error::connect(
                &self.settings.connect.url,
                ConnectFailure::Local,
                e.to_string(),
            );
            return self.attempt_failed(attempt, AttemptFailed::from(error));
        }
        let now = Instant::now();
        self.link = Link::Up(Box::new(Connection {
            transport: joined.transport,
            session: joined.session,
            joined_at: now,
            restoring: Restoring::default(),
            last_heard: now,
            probe_deadline: None,
            write_blocked: false,
            // Frames may have arrived with WELCOME; the poller reports only new data.
            unread: true,
        }));
        self.joined(attempt, joined.session_id, joined.details);
    }

    /// An attempt failed: retry after a back-off, or give up.
    pub(super) fn attempt_failed(&mut self, attempt: u32, failed: AttemptFailed) {
        let error = failed.error;
        trace::attempt_failed!(
            self.session_span,
            attempt,
            &self.settings.connect.url,
            &error
        );
        // The attempt's session span ends with it.
        self.session_span = trace::Span::default();
        let policy = &self.settings.reconnect;
        let gave_up = policy.max_attempts.is_some_and(|max| attempt >= max);
        let refused_at_first = failed.refused && self.first_join.is_some();
        if !policy.enabled || gave_up || refused_at_first || self.closing.is_some() {
            return self.end(error);
        }
        let delay = policy.delay(attempt, super::random_fraction());
        trace::backoff!(self.span, attempt, delay);
        self.last_failure = Some(error);
        self.rotate_router();
        self.link = Link::Waiting {
            until: Instant::now() + delay,
            attempt,
        };
    }

    /// The connection is unusable: let the session fail its requests and close.
    pub(super) fn fail_connection(&mut self, why: &str) {
        if let Link::Up(connection) = &mut self.link {
            connection.session.connection_lost(why);
        }
    }

    /// The ping interval, for a transport that answers pings.
    fn ping_interval(&self, connection: &Connection) -> Option<Duration> {
        self.settings
            .ping_interval
            .filter(|_| connection.transport.probes_liveness())
    }

    /// The earliest instant the link needs attention without I/O.
    pub(super) fn link_deadline(&self) -> Option<Instant> {
        match &self.link {
            Link::Waiting { until, .. } => Some(*until),
            Link::Connecting { .. } => None,
            Link::Up(connection) => {
                match (connection.probe_deadline, self.ping_interval(connection)) {
                    (Some(deadline), _) => Some(deadline),
                    (None, Some(interval)) => Some(connection.last_heard + interval),
                    (None, None) => None,
                }
            }
        }
    }

    /// Starts a due attempt, or probes a silent connection and gives up on a dead one.
    pub(super) fn check_link(&mut self, now: Instant) {
        let interval = match &self.link {
            Link::Up(connection) => self.ping_interval(connection),
            _ => None,
        };
        match &mut self.link {
            // A closing or ended loop starts no new connection.
            Link::Waiting { until, attempt }
                if *until <= now && self.closing.is_none() && self.ended.is_none() =>
            {
                let attempt = *attempt + 1;
                self.start_connecting(attempt);
            }
            Link::Up(connection) => {
                if !self.inbox.has_room() {
                    // Back-pressure holds reading, so no answer to a ping could be
                    // read: the router is not silent, we are not listening.
                    connection.last_heard = now;
                    connection.probe_deadline = None;
                } else if connection.probe_deadline.is_some_and(|d| d <= now) {
                    let silent = self.settings.pong_timeout;
                    self.fail_connection(&format!(
                        "no answer from the router for {silent:?} after a ping"
                    ));
                } else if let Some(interval) = interval {
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

    /// Stops a running attempt: its connector thread ends within a slice.
    pub(super) fn abandon_attempt(&mut self) {
        if let Link::Connecting { abandoned, .. } = &self.link {
            abandoned.store(true, Ordering::Release);
        }
    }
}
