//! Message and request counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a client's counters since it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// WAMP messages sent.
    pub messages_sent: u64,
    /// WAMP messages received.
    pub messages_received: u64,
    /// Calls made.
    pub calls: u64,
    /// Invocations of our procedures received.
    pub invocations: u64,
    /// Events published.
    pub publications: u64,
    /// Events received.
    pub events: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Successful rejoins after a lost connection.
    pub reconnections: u64,
}

/// The live counters, updated by the event loop.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub messages_sent: AtomicU64,
    pub messages_received: AtomicU64,
    pub calls: AtomicU64,
    pub invocations: AtomicU64,
    pub publications: AtomicU64,
    pub events: AtomicU64,
    pub errors: AtomicU64,
    pub reconnections: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            messages_sent: get(&self.messages_sent),
            messages_received: get(&self.messages_received),
            calls: get(&self.calls),
            invocations: get(&self.invocations),
            publications: get(&self.publications),
            events: get(&self.events),
            errors: get(&self.errors),
            reconnections: get(&self.reconnections),
        }
    }
}
