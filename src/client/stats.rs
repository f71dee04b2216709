//! Message, request and queue counters.

use super::concurrency::QueueLimits;
use super::dispatch::Dispatcher;
use crate::event_loop::Counters;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A snapshot of a client's counters since it was created.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// let stats = client.stats();
/// println!("{} calls, {} events dropped", stats.calls, stats.events_dropped);
/// for queue in &stats.queues {
///     println!("queue {}: {} running, {} waiting", queue.name, queue.active, queue.waiting);
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// WAMP messages sent.
    pub messages_sent: u64,
    /// WAMP messages received.
    pub messages_received: u64,
    /// Of those, the messages read by a thread blocked in a request of this client
    /// (a `call`, say) rather than by the connection's I/O thread: on Linux, such a
    /// thread reads the socket itself while it waits, so that its answer wakes it
    /// directly. Always 0 elsewhere.
    pub messages_read_by_callers: u64,
    /// Calls made.
    pub calls: u64,
    /// Invocations of our procedures received.
    pub invocations: u64,
    /// Events published.
    pub publications: u64,
    /// Events received.
    pub events: u64,
    /// Events received but never handed to a handler: dropped by a subscription's
    /// overflow policy or a full waitlist, or still queued when the client closed.
    pub events_dropped: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Successful rejoins after a lost connection.
    pub reconnections: u64,
    /// Every concurrency queue in use, by name.
    pub queues: Vec<QueueStats>,
}

/// One concurrency queue's counters.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// for queue in client.stats().queues {
///     if queue.rejected > 0 {
///         eprintln!(
///             "queue {} refused {} items (limits {:?}, at most {} waited)",
///             queue.name, queue.rejected, queue.limits, queue.waitlist_max
///         );
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// The queue's name.
    pub name: String,
    /// Its limits now.
    pub limits: QueueLimits,
    /// Handlers started.
    pub run: u64,
    /// Items that had to wait for a turn.
    pub waited: u64,
    /// Items refused because the waitlist was full.
    pub rejected: u64,
    /// Handlers that failed or panicked.
    pub errors: u64,
    /// Handlers running now.
    pub active: usize,
    /// Items waiting now.
    pub waiting: usize,
    /// The most items that ever waited at once.
    pub waitlist_max: usize,
    /// Time spent in handlers, in all.
    pub handler_time: Duration,
    /// The longest handler run.
    pub handler_time_max: Duration,
}

impl Stats {
    /// A snapshot of the event loop's counters and the dispatcher's queues.
    pub(crate) fn collect(counters: &Counters, dispatcher: &Dispatcher) -> Self {
        let get = Counters::get;
        let queues = dispatcher
            .queues()
            .iter()
            .map(|queue| {
                let (limits, active, waiting) = queue.snapshot();
                let c = &queue.counters;
                QueueStats {
                    name: queue.name.to_string(),
                    limits,
                    run: c.run.load(Ordering::Relaxed),
                    waited: c.waited.load(Ordering::Relaxed),
                    rejected: c.rejected.load(Ordering::Relaxed),
                    errors: c.errors.load(Ordering::Relaxed),
                    active,
                    waiting,
                    waitlist_max: c.waitlist_max.load(Ordering::Relaxed),
                    handler_time: Duration::from_nanos(c.handler_nanos.load(Ordering::Relaxed)),
                    handler_time_max: Duration::from_nanos(
                        c.handler_max_nanos.load(Ordering::Relaxed),
                    ),
                }
            })
            .collect();
        Stats {
            messages_sent: get(&counters.messages_sent),
            messages_received: get(&counters.messages_received),
            messages_read_by_callers: get(&counters.read_by_callers),
            calls: get(&counters.calls),
            invocations: get(&counters.invocations),
            publications: get(&counters.publications),
            events: get(&counters.events),
            events_dropped: dispatcher.dropped_events(),
            errors: get(&counters.errors),
            reconnections: get(&counters.reconnections),
            queues,
        }
    }
}
