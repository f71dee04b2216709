//! What the event loop hands up to the client handle: invocations, events and
//! life-cycle changes, as protocol-level data.
//!
//! The loop knows nothing of handlers. It maps the router's registration and
//! subscription IDs to the local IDs the handle chose ([`LocalId`]) and passes each
//! item to the handle's [`Inbox`], under the loop's lock. An inbox follows the lock
//! rule ([`crate::sync::lock`]): it only queues work and returns; handlers run later,
//! on the worker pool, or, for inline handlers, on the I/O thread right after it
//! releases the lock ([`Inbox::run_inline`]).

use super::status::Joined;
use crate::error::Error;
use crate::proto::message::Payload;
use crate::proto::session::CancelMode;
use crate::proto::value::Dict;
use crate::proto::WampError;

/// The client handle's ID of one registration or subscription; it stays the same
/// across reconnects, while the router's IDs change.
pub(crate) type LocalId = u64;

/// A call to one of our procedures.
#[derive(Debug)]
pub(crate) struct InboundInvocation {
    /// The registration it is for.
    pub registration: LocalId,
    /// The INVOCATION request ID, to answer with.
    pub request: u64,
    /// INVOCATION.Details.
    pub details: Dict,
    pub payload: Payload,
    /// The size of its frame on the wire, to bound the memory waiting work holds.
    pub size: usize,
}

/// An event for one of our subscriptions.
#[derive(Debug)]
pub(crate) struct InboundEvent {
    /// The subscription it is for.
    pub subscription: LocalId,
    pub publication: u64,
    /// EVENT.Details.
    pub details: Dict,
    pub payload: Payload,
    /// The size of its frame on the wire, to bound the memory waiting work holds.
    pub size: usize,
}

/// A change in the connection's life, for hooks.
#[derive(Debug, Clone)]
pub(crate) enum LifeEvent {
    /// Joined (or rejoined) and restored.
    Join(Joined),
    /// A joined session ended, for this reason.
    Leave(Error),
    /// The connection is gone.
    Disconnect,
    /// The connection state changed.
    State(super::ConnectionState),
}

/// Whether the inbox took an invocation.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Queued; the handler answers later.
    Accepted,
    /// Refused; answer the caller with this error now.
    Rejected(WampError),
}

/// Where the loop hands inbound work. Implemented by the client handle; every method
/// is called under the loop's lock, so it must only queue work and return.
pub(crate) trait Inbox: Send + Sync {
    /// A call to the registration `invocation.registration`.
    fn invocation(&self, invocation: InboundInvocation) -> Admission;

    /// An event for the subscription `event.subscription`.
    fn event(&self, event: InboundEvent);

    /// The next chunk of the progressive invocation `request`; `last` ends it.
    fn invocation_chunk(&self, request: u64, payload: Payload, last: bool);

    /// The caller canceled invocation `request` (INTERRUPT with `mode`).
    fn interrupt(&self, request: u64, mode: CancelMode);

    /// A life-cycle change, in the order they happen.
    fn life_event(&self, event: LifeEvent);

    /// Whether there is room for more inbound work. While there is not, the loop stops
    /// reading the socket (the router then sees TCP back-pressure); the inbox wakes
    /// the loop ([`Wakeup`]) once there is room again.
    fn has_room(&self) -> bool;

    /// Runs the inline work the items handed up under the last hold of the lock
    /// queued. Called after the lock is released (so user code may run) by the I/O
    /// thread, or by a caller that read the frames in its stead and stands in for it
    /// meanwhile; the work is bounded by what one batch of frames brought. Batches
    /// run one at a time, in the order they were read.
    fn run_inline(&self);

    /// Whether inline work is queued for [`run_inline`](Inbox::run_inline).
    fn inline_pending(&self) -> bool;

    /// The client is closing: start no more handlers and drop queued work. Returns the
    /// queued invocations, each with the error to answer its caller with before the
    /// session ends. Called again when the loop stops; then it returns nothing new.
    fn closed(&self) -> Vec<(u64, WampError)>;
}

/// Wakes the event loop's I/O thread, e.g. when the inbox has room again.
#[derive(Clone)]
pub(crate) struct Wakeup(pub(super) std::sync::Arc<super::handoff::LoopWaker>);

impl Wakeup {
    /// Wakes the I/O thread (a no-op while a wake is pending).
    pub fn wake(&self) {
        self.0.wake();
    }
}
