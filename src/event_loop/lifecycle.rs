//! The session's life: joined, restored, ready; ended, reconnecting or closed.
//!
//! After every join the loop re-creates each registration and subscription from its
//! registry, and only then reports the join (hooks run) and sends the requests that
//! waited. When a session ends it decides between reconnecting (with back-off) and
//! stopping, and when the loop stops it answers everyone still waiting.

use super::inbound::{LifeEvent, LocalId};
use super::link::Link;
use super::registry::{Kind, Restore};
use super::requests::{Entry, EntryState, Follow, Operation};
use super::status::{Counters, Joined};
use super::{ConnectionState, EventLoop};
use crate::error::Error;
use crate::proto::session::{CloseReason, Reply};
use crate::proto::value::Dict;
use crate::trace;
use crossbeam_channel::Sender;
use std::time::{Duration, Instant};

/// How long a closing client waits for the router's GOODBYE before closing the socket.
const GOODBYE_WAIT: Duration = Duration::from_secs(1);
/// `wamp.error.procedure_already_exists` on restore: our old session may still hold the
/// procedure until the router notices it is gone, so retry after this, doubling up to
/// [`RESTORE_RETRY_MAX`].
const RESTORE_RETRY: Duration = Duration::from_millis(500);
const RESTORE_RETRY_MAX: Duration = Duration::from_secs(5);

/// The restores of one join: how many are unanswered, and how the others went.
#[derive(Debug, Default)]
pub(super) struct Restoring {
    /// Restore requests not yet answered.
    pub pending: usize,
    registrations: usize,
    subscriptions: usize,
    /// Refused, or to be retried later.
    failed: usize,
}

impl Restoring {
    /// Counts one answered restore: re-created as `kind`, or not (`None`).
    fn answered(&mut self, restored: Option<Kind>) {
        self.pending = self.pending.saturating_sub(1);
        match restored {
            Some(Kind::Procedure) => self.registrations += 1,
            Some(Kind::Topic) => self.subscriptions += 1,
            None => self.failed += 1,
        }
    }
}

impl EventLoop {
    /// Attempt `attempt` joined session `session_id`: restore, then report.
    pub(super) fn joined(&mut self, attempt: u32, session_id: u64, details: Dict) {
        trace::joined!(
            self.session_span,
            session_id,
            details.get("authid").and_then(|v| v.as_str()),
            details.get("authrole").and_then(|v| v.as_str()),
            attempt
        );
        *self.status.session.lock() = Some(Joined {
            session_id,
            details,
        });
        if self.first_join.is_none() {
            Counters::bump(&self.status.counters.reconnections);
        }
        self.last_failure = None;
        let restores = self.registry.to_restore();
        if let Link::Up(connection) = &mut self.link {
            connection.restoring.pending = restores.len();
        }
        if restores.is_empty() {
            return self.ready();
        }
        for restore in restores {
            self.restore(restore, 0);
        }
    }

    /// Re-creates one registration or subscription (try `attempt`).
    fn restore(&mut self, restore: Restore, attempt: u32) {
        let kind = match restore.kind {
            Kind::Procedure => "register",
            Kind::Topic => "subscribe",
        };
        let token = self.requests.insert(Entry {
            operation: Operation::new(kind, &restore.uri),
            timeout: Duration::ZERO,
            deadline: None,
            reply: None,
            follow: Follow::Restore {
                local: restore.local,
                attempt,
            },
            state: EntryState::InFlight { request: 0 },
            killed: false,
            span: trace::Span::default(),
        });
        let Some(session) = self.link.session() else {
            return;
        };
        let sent = match restore.kind {
            Kind::Procedure => session.register(restore.uri, restore.options, token),
            Kind::Topic => session.subscribe(restore.uri, restore.options, token),
        };
        if let (Some(request), Some(entry)) = (sent, self.requests.get_mut(token)) {
            entry.sent(request);
        }
    }

    /// The router answered a restore.
    pub(super) fn restored(&mut self, local: LocalId, attempt: u32, result: Result<Reply, Error>) {
        let restored = match result {
            Ok(Reply::Registered(router_id)) => {
                self.registry.confirmed(local, router_id);
                Some(Kind::Procedure)
            }
            Ok(Reply::Subscribed(router_id)) => {
                self.registry.confirmed(local, router_id);
                Some(Kind::Topic)
            }
            Err(e) if e.wamp_uri() == Some("wamp.error.procedure_already_exists") => {
                let delay = RESTORE_RETRY
                    .saturating_mul(1 << attempt.min(8))
                    .min(RESTORE_RETRY_MAX);
                log::warn!("cannot restore a registration yet (another session, maybe our old one, holds it): {e}; retrying in {delay:?}");
                self.restore_retries
                    .push((Instant::now() + delay, local, attempt + 1));
                None
            }
            Err(e) => {
                log::error!(
                    "cannot restore a registration or subscription after reconnecting: {e}"
                );
                None
            }
            Ok(other) => {
                log::error!("unexpected reply while restoring: {other:?}");
                None
            }
        };
        if let Link::Up(connection) = &mut self.link {
            // Retries answered after the join's round are not counted again.
            let tally = &mut connection.restoring;
            if tally.pending > 0 {
                tally.answered(restored);
                if tally.pending == 0 {
                    trace::restored!(
                        self.session_span,
                        tally.registrations,
                        tally.subscriptions,
                        tally.failed
                    );
                    self.ready();
                }
            }
        }
    }

    /// Re-tries restores whose back-off passed.
    pub(super) fn retry_restores(&mut self, now: Instant) {
        if !self.restore_retries.iter().any(|(d, ..)| *d <= now) {
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.restore_retries)
            .into_iter()
            .partition(|(d, ..)| *d <= now);
        self.restore_retries = later;
        for (_, local, attempt) in due {
            if let Some(restore) = self.registry.restore_of(local) {
                self.restore(restore, attempt);
            }
        }
    }

    /// Joined and restored: report it and send what waited.
    fn ready(&mut self) {
        self.set_state(ConnectionState::Joined);
        if let Some(joined) = self.status.session.lock().clone() {
            self.inbox.life_event(LifeEvent::Join(joined));
        }
        // Only now may `Client::connect` return: a hook the caller adds next must not
        // be picked up by this join's hook run.
        if let Some((_, report)) = self.first_join.take() {
            let _ = report.send(Ok(()));
        }
        self.send_waiting();
    }

    /// The session ended: reconnect, or stop.
    pub(super) fn session_closed(&mut self, reason: CloseReason) {
        trace::session_closed!(self.session_span, &reason);
        // The session's span ends with it.
        self.session_span = trace::Span::default();
        let lived = match &self.link {
            Link::Up(connection) => connection.joined_at.elapsed(),
            _ => Duration::ZERO,
        };
        // What the session queued last (our GOODBYE answer, or the ABORT for a
        // protocol violation) goes out before the socket closes.
        self.close_transport();
        let error = Error::from(reason.clone());
        self.link = Link::Waiting {
            until: Instant::now(),
            attempt: 0,
        };
        self.registry.connection_lost();
        self.restore_retries.clear();
        *self.status.session.lock() = None;
        self.inbox.life_event(LifeEvent::Leave(error.clone()));
        self.inbox.life_event(LifeEvent::Disconnect);
        let ours = matches!(reason, CloseReason::ClientGoodbye);
        if self.closing.is_some() || ours || !self.settings.reconnect.enabled {
            return self.end(error);
        }
        // A session the router ends soon after the join counts as a failed attempt, so
        // a router that drops every session right away is not reconnected in a loop.
        let attempt = if lived < self.settings.reconnect.stable_after {
            self.failed_sessions += 1;
            self.failed_sessions
        } else {
            self.failed_sessions = 0;
            0
        };
        let delay = if attempt == 0 {
            Duration::ZERO
        } else {
            self.settings
                .reconnect
                .delay(attempt, super::random_fraction())
        };
        trace::reconnecting!(self.span, &self.settings.connect.url, &error, delay);
        self.last_failure = Some(error);
        // With several routers, the one that just failed is tried last.
        self.rotate_router();
        self.link = Link::Waiting {
            until: Instant::now() + delay,
            attempt,
        };
        self.set_state(ConnectionState::Reconnecting);
    }

    /// Writes what the session queued (best effort: the socket is not waited for) and
    /// closes the transport.
    fn close_transport(&mut self) {
        if let Link::Up(connection) = &mut self.link {
            while let Some(frame) = connection.session.pop_transmit() {
                if connection.transport.send(frame).is_err() {
                    break;
                }
            }
            let _ = connection.transport.flush();
            connection.transport.close();
        }
    }

    /// `close()`: GOODBYE, then stop once the router answers (or after a short wait).
    pub(super) fn close(&mut self, done: Sender<()>) {
        if let Some((_, waiting)) = &mut self.closing {
            waiting.push(done);
            return;
        }
        self.closing = Some((Instant::now() + GOODBYE_WAIT, vec![done]));
        // Invocations that will never run are answered before the session ends, so
        // their callers are not left waiting.
        let unanswered = self.inbox.closed();
        self.abandon_attempt();
        match self.link.session() {
            Some(session) => {
                for (request, error) in unanswered {
                    session.yield_error(request, error);
                }
                session.goodbye("wamp.close.close_realm")
            }
            None => self.end(Error::Closed),
        }
    }

    /// Whether the loop has a joined session.
    pub(super) fn is_joined(&mut self) -> bool {
        self.link.session().is_some()
    }

    pub(super) fn set_state(&mut self, state: ConnectionState) {
        let changed = {
            let mut current = self.status.state.lock();
            std::mem::replace(&mut *current, state) != state
        };
        if changed {
            self.inbox.life_event(LifeEvent::State(state));
        }
    }

    /// Stops the loop with `error` as the reason requests fail from now on.
    pub(super) fn end(&mut self, error: Error) {
        if self.ended.is_none() {
            self.ended = Some(error);
        }
    }

    /// Closes the transport and tells everyone still waiting.
    pub(super) fn finish(&mut self) {
        self.close_transport();
        self.abandon_attempt();
        let error = self.ended.take().unwrap_or(Error::Closed);
        trace::loop_ended!(self.span, &error);
        if let Some((_, report)) = self.first_join.take() {
            let _ = report.send(Err(error.clone()));
        }
        *self.status.session.lock() = None;
        *self.status.ended.lock() = Some(error.clone());
        self.set_state(ConnectionState::Closed);
        // The session is gone: invocations still queued cannot be answered any more.
        drop(self.inbox.closed());
        self.fail_requests(&error);
        // Commands that raced the end get the same answer as everyone else; later
        // sends fail on the dropped receiver.
        if let Some(commands) = self.commands.take() {
            for command in commands.take_all() {
                if let super::Command::Request(request) = command {
                    let _ = request.reply.send(Err(error.clone()));
                }
            }
        }
        // Dropping the `done` senders tells `close()` callers the loop has stopped.
        self.closing = None;
    }
}
