//! Flow control and izaber's concurrency queues: how much inbound work a client
//! accepts, and how many handlers run at once.
//!
//! Every registration and subscription belongs to a named **concurrency queue**
//! (`default` unless its options say otherwise; `unlimited` is built in too). A
//! queue runs at most `concurrency_max` handlers at once (0: no limit); work beyond
//! that waits in the queue's waitlist, which holds at most `queue_max` items (`None`:
//! only the memory bounds below apply). When the waitlist is full, an invocation is
//! answered at once with the handler-failure error `["Call failed: Queue <q> waitlist
//! full", "Queue <q> waitlist full"]` (as Python izaber answers), and an event is
//! dropped and counted in [`Stats`](crate::Stats).
//!
//! Independently of the queues, inbound work is bounded in memory
//! ([`InboundLimits`]): each subscription keeps at most `max_pending_events` events
//! waiting for its handler, and the whole client at most `max_pending_bytes` of
//! waiting work. What happens when a subscription's events fill up is its
//! [`Overflow`] policy: by default the client stops reading the socket until the
//! handler catches up (back-pressure), or it drops the newest or oldest events.

use std::collections::BTreeMap;

/// The limits of one concurrency queue.
///
/// ```
/// use izaber_wamp::QueueLimits;
/// let limits = QueueLimits::new(4, Some(100)); // 4 at once, 100 waiting at most
/// assert_eq!(limits.concurrency_max, 4);
/// assert_eq!(QueueLimits::unlimited().concurrency_max, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueLimits {
    /// Most handlers of the queue running at once; 0 means no limit.
    pub concurrency_max: usize,
    /// Most items waiting for a turn; `None` means no limit beyond the memory bounds.
    pub queue_max: Option<usize>,
}

impl QueueLimits {
    /// At most `concurrency_max` at once (0: no limit), at most `queue_max` waiting.
    pub fn new(concurrency_max: usize, queue_max: Option<usize>) -> Self {
        QueueLimits {
            concurrency_max,
            queue_max,
        }
    }

    /// No limit at all (the `unlimited` queue, and the default without configuration).
    pub fn unlimited() -> Self {
        Self::new(0, None)
    }
}

/// One queue's entry in izaber.yaml's `concurrency_configs`: each key it sets
/// overrides the level below (see [`Concurrency`]).
///
/// ```
/// use izaber_wamp::{Concurrency, QueueConfig, QueueLimits};
///
/// let mut concurrency = Concurrency::default();
/// concurrency.defaults = QueueLimits::new(8, Some(100));
/// // Sets only concurrency_max; queue_max comes from the level below.
/// concurrency.queues.insert("db".into(), QueueConfig::new(Some(2), None));
/// assert_eq!(concurrency.limits("db"), Some(QueueLimits::new(2, Some(100))));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// `concurrency_max`, if set.
    pub concurrency_max: Option<usize>,
    /// `queue_max`, if set.
    pub queue_max: Option<usize>,
}

impl QueueConfig {
    /// An entry setting both keys.
    pub fn new(concurrency_max: Option<usize>, queue_max: Option<usize>) -> Self {
        QueueConfig {
            concurrency_max,
            queue_max,
        }
    }
}

/// The concurrency queues of a client, as izaber.yaml configures them.
///
/// A queue's limits come from the client-level `concurrency_max` and
/// `concurrency_queue_max` ([`Concurrency::defaults`]), then
/// `concurrency_configs.default`, then `concurrency_configs.<name>`; each level
/// overrides only the keys it sets. `unlimited` is always unlimited.
///
/// ```
/// use izaber_wamp::{Concurrency, QueueConfig, QueueLimits};
/// let mut concurrency = Concurrency::default();
/// concurrency.defaults = QueueLimits::new(8, None);
/// concurrency.queues.insert("db".into(), QueueConfig::new(Some(2), Some(50)));
/// assert_eq!(concurrency.limits("db"), Some(QueueLimits::new(2, Some(50))));
/// assert_eq!(concurrency.limits("default"), Some(QueueLimits::new(8, None)));
/// assert_eq!(concurrency.limits("nope"), None); // strict naming: not defined
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Concurrency {
    /// The client-level limits (`concurrency_max`, `concurrency_queue_max`; default:
    /// no limit, as in Python izaber).
    pub defaults: QueueLimits,
    /// `concurrency_configs`: per-queue overrides by name (`default` included).
    pub queues: BTreeMap<String, QueueConfig>,
    /// `concurrency_strict_naming` (default true): a registration or subscription
    /// naming a queue that is not configured is an error; when false such a queue
    /// gets the default limits.
    pub strict_naming: bool,
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency {
            defaults: QueueLimits::unlimited(),
            queues: BTreeMap::new(),
            strict_naming: true,
        }
    }
}

/// The queue a registration or subscription uses unless its options name another.
pub const DEFAULT_QUEUE: &str = "default";
/// The queue that never limits anything.
pub const UNLIMITED_QUEUE: &str = "unlimited";

impl Concurrency {
    /// The limits of queue `name`, or `None` when strict naming is on and `name` is
    /// neither configured nor built in.
    pub fn limits(&self, name: &str) -> Option<QueueLimits> {
        if name == UNLIMITED_QUEUE {
            return Some(QueueLimits::unlimited());
        }
        let known = name == DEFAULT_QUEUE || self.queues.contains_key(name);
        if !known && self.strict_naming {
            return None;
        }
        let mut limits = self.defaults;
        for level in [self.queues.get(DEFAULT_QUEUE), self.queues.get(name)]
            .into_iter()
            .flatten()
        {
            if let Some(max) = level.concurrency_max {
                limits.concurrency_max = max;
            }
            if let Some(max) = level.queue_max {
                limits.queue_max = Some(max);
            }
        }
        Some(limits)
    }
}

/// What a subscription does when its handler falls behind and
/// [`InboundLimits::max_pending_events`] events wait.
///
/// ```
/// use izaber_wamp::{Overflow, SubscribeOptions};
///
/// assert_eq!(SubscribeOptions::new().overflow, Overflow::Backpressure);
/// // A ticker whose latest value is all that matters:
/// let options = SubscribeOptions::new().overflow(Overflow::DropOldest);
/// assert_eq!(options.overflow, Overflow::DropOldest);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overflow {
    /// Stop reading the socket until the handler catches up (the default). Nothing is
    /// lost, and the router sees TCP back-pressure and applies its own policy; but
    /// everything behind the events waits too, call results included.
    #[default]
    Backpressure,
    /// Drop the event that does not fit; every drop is counted and logged.
    DropNewest,
    /// Drop the oldest waiting event to make room; every drop is counted and logged.
    DropOldest,
}

/// How much inbound work a client holds before it stops reading the socket.
///
/// ```
/// use izaber_wamp::{ClientConfig, InboundLimits};
/// let mut limits = InboundLimits::default();
/// limits.max_pending_events = 1_000;
/// let config = ClientConfig::new("ws://127.0.0.1:8080", "izaber").with_inbound_limits(limits);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundLimits {
    /// Most events one subscription keeps waiting for its handler (default 10,000);
    /// beyond it, the subscription's [`Overflow`] policy applies.
    pub max_pending_events: usize,
    /// Most bytes of invocations and events the whole client keeps waiting for
    /// handlers, as their decoded payloads occupy memory (payloads of frames up to
    /// 1 KiB count as 1 KiB; default 64 MiB); beyond it, the client stops reading the
    /// socket until handlers catch up.
    pub max_pending_bytes: usize,
}

impl Default for InboundLimits {
    fn default() -> Self {
        InboundLimits {
            max_pending_events: 10_000,
            max_pending_bytes: 64 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_client_then_default_then_the_queue() {
        let mut concurrency = Concurrency {
            defaults: QueueLimits::new(10, Some(100)),
            ..Concurrency::default()
        };
        concurrency
            .queues
            .insert("default".into(), QueueConfig::new(Some(5), None));
        concurrency
            .queues
            .insert("db".into(), QueueConfig::new(None, Some(7)));
        assert_eq!(
            concurrency.limits("default"),
            Some(QueueLimits::new(5, Some(100)))
        );
        assert_eq!(concurrency.limits("db"), Some(QueueLimits::new(5, Some(7))));
        assert_eq!(
            concurrency.limits("unlimited"),
            Some(QueueLimits::unlimited())
        );
        assert_eq!(concurrency.limits("other"), None);
        concurrency.strict_naming = false;
        assert_eq!(
            concurrency.limits("other"),
            Some(QueueLimits::new(5, Some(100)))
        );
    }
}
