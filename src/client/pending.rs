//! A request from the moment it is built until its answer is taken, shared by the
//! blocking request methods and their async forms.
//!
//! Each request method builds a [`Prepared`] request once (body, timeout, what its
//! reply becomes); [`Client::submit`] hands it to the loop and gives back a [`Pending`]
//! request, which a blocking caller waits on until the deadline
//! ([`Pending::wait`]) and an async caller polls ([`Pending::poll_reply`], through
//! [`ReplyFuture`](super::ReplyFuture)). Either way the outcome goes through
//! [`Pending::conclude`], and a caller that stops waiting early goes through
//! [`Pending::abandon`], so the two forms cannot drift apart.

use super::Client;
use crate::error::{Error, Result};
use crate::event_loop::{Body, Command, LocalId, Operation, Replier, Request, SendError, Token};
use crate::proto::session::{CancelMode, Reply};
use crate::sync::slot;
use crate::trace;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What a reply becomes: the method's result, or an error for a reply of the wrong
/// kind. A closure that captures nothing (a call's) costs no allocation.
pub(super) type Finish<T> = Box<dyn FnOnce(Reply) -> Result<T> + Send + Sync>;

/// A request built and checked, not yet handed to the loop.
pub(super) struct Prepared<T> {
    pub body: Body,
    pub timeout: Duration,
    pub operation: Operation,
    /// The handler lane a REGISTER or SUBSCRIBE added: removed again unless the
    /// request succeeds, so a failed registration leaves no handler behind.
    pub handler: Option<LocalId>,
    pub finish: Finish<T>,
}

impl<T: 'static> Prepared<T> {
    /// The same request, its result passed through `f`.
    pub fn map<U: 'static>(self, f: fn(T) -> U) -> Prepared<U> {
        let finish = self.finish;
        Prepared {
            body: self.body,
            timeout: self.timeout,
            operation: self.operation,
            handler: self.handler,
            finish: Box::new(move |reply| finish(reply).map(f)),
        }
    }

    /// Sends the request and waits for its outcome until its deadline. On the
    /// client's I/O thread (in an inline handler) only an unacknowledged publication
    /// is sent, without waiting: it is done once written (or queued to be), while
    /// waiting for any other answer there would never end.
    pub fn wait(self, client: &Client) -> Result<T> {
        if client.inner.commands.on_io_thread() {
            if !self.body.completes_when_sent() {
                let operation = self.operation.to_string();
                client.inner.may_wait(|| operation)?;
            }
            return client.submit(self, Room::UntilDeadline)?.take_now(client);
        }
        client.submit(self, Room::UntilDeadline)?.wait(client)
    }
}

/// How long handing a request over may wait for room in the loop's command queue.
/// The queue (4,096 commands) fills only while the socket takes nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Room {
    /// Until the request's deadline: a blocking caller sleeps anyway.
    UntilDeadline,
    /// Not at all: an async caller must not put its executor's thread to sleep, so
    /// a full queue fails the request at once.
    NoWait,
}

/// A request handed to the loop, whose outcome has not been taken yet.
pub(super) struct Pending<T> {
    key: Token,
    deadline: Instant,
    timeout: Duration,
    operation: Operation,
    outcome: slot::Receiver<Result<Reply>>,
    /// A call, which is canceled at the router when its caller gives up.
    is_call: bool,
    handler: Option<LocalId>,
    finish: Finish<T>,
    /// Its `wamp.request` span, ended with the outcome.
    span: trace::Span,
}

impl<T> Pending<T> {
    /// An unacknowledged publication sent from the I/O thread: its outcome if it is
    /// already there, else it is queued to go out, which counts as sent.
    fn take_now(self, client: &Client) -> Result<T> {
        let outcome = match self.outcome.recv_until(Instant::now()) {
            Ok(outcome) => outcome,
            Err(slot::RecvError::Timeout) => Ok(Reply::Published(0)),
            Err(slot::RecvError::Disconnected) => Err(client.inner.ended()),
        };
        self.conclude(client, outcome)
    }

    /// Waits for the outcome until the request's deadline.
    pub fn wait(self, client: &Client) -> Result<T> {
        let span = self.span.clone();
        let _entered = span.enter();
        let outcome = match client.inner.commands.wait_for(&self.outcome, self.deadline) {
            Ok(outcome) => outcome,
            // The loop's table expires the request at this same instant and cancels
            // a call at the router; the answer it then sends is refused.
            Err(slot::RecvError::Timeout) => Err(self.operation.timed_out(self.timeout)),
            Err(slot::RecvError::Disconnected) => Err(client.inner.ended()),
        };
        self.conclude(client, outcome)
    }

    /// Polls for the outcome; the loop wakes the task when it is there. Needs no
    /// timer: at the deadline the loop's table sends the timeout itself.
    pub fn poll_reply(&self, client: &Client, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        self.outcome.poll_recv(cx).map(|outcome| match outcome {
            Ok(outcome) => outcome,
            // Only a loop that stopped drops a request unanswered.
            Err(slot::RecvError::Disconnected | slot::RecvError::Timeout) => {
                Err(client.inner.ended())
            }
        })
    }

    /// The method's result from the request's outcome; a failed REGISTER or
    /// SUBSCRIBE takes its handler away again.
    pub fn conclude(self, client: &Client, outcome: Result<Reply>) -> Result<T> {
        let result = outcome.and_then(self.finish);
        self.span.finish(&result);
        if let (Err(_), Some(local)) = (&result, self.handler) {
            client.inner.dispatcher.remove(local);
        }
        result
    }

    /// The caller stopped waiting before it took the outcome (its future was
    /// dropped). An answer that arrived meanwhile is concluded as if taken: a
    /// registration made stays, as after dropping its [`Registration`] handle.
    /// Otherwise a call is canceled at the router (mode `killnowait`, as a dropped
    /// [`Call`] does) and a REGISTER's or SUBSCRIBE's handler is removed; the loop
    /// undoes a registration or subscription the router confirms later, since its
    /// answer is refused.
    ///
    /// [`Registration`]: crate::Registration
    /// [`Call`]: crate::Call
    pub fn abandon(self, client: &Client) {
        if let Some(outcome) = self.outcome.close() {
            drop(self.conclude(client, outcome));
            return;
        }
        self.span.record_outcome("canceled");
        if self.is_call {
            let cancel = Command::Cancel {
                key: self.key,
                mode: CancelMode::KillNoWait,
            };
            // No waiting for room (this may run on an executor's thread): if the
            // queue is full, the call still ends at its deadline, canceled then.
            let _ = client.inner.commands.send(cancel, Instant::now());
        }
        if let Some(local) = self.handler {
            client.inner.dispatcher.remove(local);
        }
    }
}

impl Client {
    /// Hands a prepared request to the loop, waiting for room in its command queue
    /// as `room` says.
    pub(super) fn submit<T>(&self, prepared: Prepared<T>, room: Room) -> Result<Pending<T>> {
        let (reply, outcome) = slot::channel();
        let is_call = matches!(prepared.body, Body::Call { .. });
        let span = trace::Span::request(prepared.operation.kind(), prepared.operation.uri());
        let request = self.new_request(
            prepared.body,
            prepared.operation.clone(),
            prepared.timeout,
            Replier::Slot(reply),
            span.clone(),
        );
        let deadline = request.deadline;
        let sent = {
            let _entered = span.enter();
            self.send_request(request, room)
        };
        if sent.is_err() {
            span.finish(&sent);
        }
        match sent {
            Ok(key) => Ok(Pending {
                key,
                deadline,
                timeout: prepared.timeout,
                operation: prepared.operation,
                outcome,
                is_call,
                handler: prepared.handler,
                finish: prepared.finish,
                span,
            }),
            Err(error) => {
                if let Some(local) = prepared.handler {
                    self.inner.dispatcher.remove(local);
                }
                Err(error)
            }
        }
    }

    /// A request to hand to the loop with [`send_request`](Self::send_request), under
    /// a new key.
    pub(super) fn new_request(
        &self,
        body: Body,
        operation: Operation,
        timeout: Duration,
        reply: Replier,
        span: trace::Span,
    ) -> Request {
        Request {
            key: self.inner.commands.next_key(),
            body,
            operation,
            timeout,
            deadline: deadline_after(timeout),
            reply,
            span,
        }
    }

    /// Hands a request to the loop; returns its key. Takes the loop's lock and
    /// writes the request on this thread (see `CommandSender::send`).
    pub(super) fn send_request(&self, request: Request, room: Room) -> Result<Token> {
        if self.inner.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let (room_until, waited) = match room {
            Room::UntilDeadline => (request.deadline, request.timeout),
            Room::NoWait => (Instant::now(), Duration::ZERO),
        };
        let key = request.key;
        let full = request.operation.clone();
        match self
            .inner
            .commands
            .send(Command::Request(request), room_until)
        {
            Ok(()) => Ok(key),
            Err(SendError::Stopped) => Err(self.inner.ended()),
            Err(SendError::Full) => Err(full.timed_out(waited)),
        }
    }
}

/// The instant `timeout` from now, or far in the future for an enormous timeout.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}
