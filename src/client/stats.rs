//! Message and request counters.

use crate::event_loop::Counters;

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

impl Stats {
    /// A snapshot of the event loop's counters.
    pub(crate) fn from_counters(counters: &Counters) -> Self {
        let get = Counters::get;
        Stats {
            messages_sent: get(&counters.messages_sent),
            messages_received: get(&counters.messages_received),
            calls: get(&counters.calls),
            invocations: get(&counters.invocations),
            publications: get(&counters.publications),
            events: get(&counters.events),
            errors: get(&counters.errors),
            reconnections: get(&counters.reconnections),
        }
    }
}
