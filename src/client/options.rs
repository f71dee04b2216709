//! Per-request options.

use super::concurrency::{Overflow, DEFAULT_QUEUE};
use crate::proto::uri::MatchPolicy;
use crate::proto::value::{Dict, Value};
use std::time::Duration;

/// Options for [`Client::call_with`](crate::Client::call_with).
///
/// ```
/// use izaber_wamp::CallOptions;
/// use std::time::Duration;
/// let options = CallOptions::new().timeout(Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Overrides the client's default timeout for this call.
    pub timeout: Option<Duration>,
    /// Further CALL options sent as given (e.g. `disclose_me`).
    pub extra: Dict,
}

impl CallOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets this call's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a raw CALL option.
    pub fn option(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    pub(crate) fn to_dict(&self) -> Dict {
        self.extra.clone()
    }
}

/// How the router picks a callee among several registrations of one procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokePolicy {
    /// Only one registration allowed (the default).
    Single,
    /// Take turns.
    RoundRobin,
    /// Pick at random.
    Random,
    /// The first registration.
    First,
    /// The last registration.
    Last,
}

impl InvokePolicy {
    fn as_str(self) -> &'static str {
        match self {
            InvokePolicy::Single => "single",
            InvokePolicy::RoundRobin => "roundrobin",
            InvokePolicy::Random => "random",
            InvokePolicy::First => "first",
            InvokePolicy::Last => "last",
        }
    }
}

/// Options for [`Client::register_with`](crate::Client::register_with).
///
/// ```
/// use izaber_wamp::{MatchPolicy, RegisterOptions};
/// let options = RegisterOptions::new().match_policy(MatchPolicy::Prefix).force_reregister(true);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RegisterOptions {
    /// How the procedure URI is matched.
    pub match_policy: MatchPolicy,
    /// Shared registration policy; `None` leaves the router's default (single).
    pub invoke: Option<InvokePolicy>,
    /// Take over the procedure from another session that holds it (Crossbar extension).
    pub force_reregister: bool,
    /// Overrides the client's default timeout for the REGISTER request.
    pub timeout: Option<Duration>,
    /// The concurrency queue its invocations wait in (`None`: `default`; see
    /// [`Concurrency`](crate::Concurrency)).
    pub queue: Option<String>,
    /// Further REGISTER options sent as given.
    pub extra: Dict,
}

impl RegisterOptions {
    /// Default options: exact match, single callee.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the match policy.
    pub fn match_policy(mut self, policy: MatchPolicy) -> Self {
        self.match_policy = policy;
        self
    }

    /// Sets the shared-registration policy.
    pub fn invoke(mut self, policy: InvokePolicy) -> Self {
        self.invoke = Some(policy);
        self
    }

    /// Asks the router to move an existing registration of this procedure to us.
    pub fn force_reregister(mut self, force: bool) -> Self {
        self.force_reregister = force;
        self
    }

    /// Runs its invocations in concurrency queue `name` (see
    /// [`Concurrency`](crate::Concurrency)).
    pub fn queue(mut self, name: impl Into<String>) -> Self {
        self.queue = Some(name.into());
        self
    }

    pub(crate) fn queue_name(&self) -> &str {
        self.queue.as_deref().unwrap_or(DEFAULT_QUEUE)
    }

    pub(crate) fn to_dict(&self) -> Dict {
        let mut options = self.extra.clone();
        if self.match_policy != MatchPolicy::Exact {
            options.insert("match".into(), self.match_policy.as_str().into());
        }
        if let Some(invoke) = self.invoke {
            options.insert("invoke".into(), invoke.as_str().into());
        }
        if self.force_reregister {
            options.insert("force_reregister".into(), true.into());
        }
        options
    }
}

/// Options for [`Client::subscribe_with`](crate::Client::subscribe_with).
///
/// ```
/// use izaber_wamp::{Overflow, SubscribeOptions};
/// // Up to 4 events at once (as the `workers` queue allows), dropping the oldest
/// // when the handlers fall behind.
/// let options = SubscribeOptions::new()
///     .queue("workers")
///     .ordered(false)
///     .overflow(Overflow::DropOldest);
/// ```
#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    /// How the topic URI is matched.
    pub match_policy: MatchPolicy,
    /// Ask for the topic's retained event, if any.
    pub get_retained: bool,
    /// Overrides the client's default timeout for the SUBSCRIBE request.
    pub timeout: Option<Duration>,
    /// The concurrency queue its events wait in (`None`: `default`).
    pub queue: Option<String>,
    /// Events handled one at a time, in the order they arrived (true, the default);
    /// false runs them concurrently, as many as the queue allows, so they may finish
    /// in any order (as Python izaber does).
    pub ordered: bool,
    /// What happens when the handler falls behind (default: back-pressure).
    pub overflow: Overflow,
    /// Further SUBSCRIBE options sent as given.
    pub extra: Dict,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions {
            match_policy: MatchPolicy::default(),
            get_retained: false,
            timeout: None,
            queue: None,
            ordered: true,
            overflow: Overflow::default(),
            extra: Dict::new(),
        }
    }
}

impl SubscribeOptions {
    /// Default options: exact match, events one at a time in order, back-pressure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the match policy.
    pub fn match_policy(mut self, policy: MatchPolicy) -> Self {
        self.match_policy = policy;
        self
    }

    /// Handles its events in concurrency queue `name`.
    pub fn queue(mut self, name: impl Into<String>) -> Self {
        self.queue = Some(name.into());
        self
    }

    /// One event at a time in order (true), or concurrently (false).
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// What happens when the handler falls behind.
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    pub(crate) fn queue_name(&self) -> &str {
        self.queue.as_deref().unwrap_or(DEFAULT_QUEUE)
    }

    pub(crate) fn to_dict(&self) -> Dict {
        let mut options = self.extra.clone();
        if self.match_policy != MatchPolicy::Exact {
            options.insert("match".into(), self.match_policy.as_str().into());
        }
        if self.get_retained {
            options.insert("get_retained".into(), true.into());
        }
        options
    }
}

/// Options for [`Client::publish_with`](crate::Client::publish_with).
///
/// ```
/// use izaber_wamp::PublishOptions;
/// let options = PublishOptions::new().acknowledge(true).exclude_me(false);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Wait for the router to confirm the publication and return its ID.
    pub acknowledge: bool,
    /// Whether our own subscriptions receive the event (router default: excluded).
    pub exclude_me: Option<bool>,
    /// Ask the router to retain the event for late subscribers.
    pub retain: bool,
    /// Overrides the client's default timeout (only used when acknowledged).
    pub timeout: Option<Duration>,
    /// Further PUBLISH options sent as given (e.g. `eligible`, `exclude`).
    pub extra: Dict,
}

impl PublishOptions {
    /// Default options: not acknowledged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets whether the router acknowledges the publication.
    pub fn acknowledge(mut self, acknowledge: bool) -> Self {
        self.acknowledge = acknowledge;
        self
    }

    /// Sets whether our own subscriptions receive the event.
    pub fn exclude_me(mut self, exclude: bool) -> Self {
        self.exclude_me = Some(exclude);
        self
    }

    pub(crate) fn to_dict(&self) -> Dict {
        let mut options = self.extra.clone();
        if self.acknowledge {
            options.insert("acknowledge".into(), true.into());
        }
        if let Some(exclude) = self.exclude_me {
            options.insert("exclude_me".into(), exclude.into());
        }
        if self.retain {
            options.insert("retain".into(), true.into());
        }
        options
    }
}
