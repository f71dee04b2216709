//! Per-request options: every option the WAMP spec defines for CALL, REGISTER,
//! SUBSCRIBE and PUBLISH, typed, plus raw extra options for router extensions.
//!
//! Every type has the same builder style: one method per option, named as the option
//! is on the wire (`.acknowledge(true)`, `.exclude_authid(["bob"])`), `.timeout(..)`
//! for the client-side timeout, and `.option(key, value)` for anything else. A raw
//! option the spec defines is checked as strictly as the typed one: a wrong type or
//! value fails before anything is sent ([`Error::InvalidOption`]), since a router
//! would read it as something else or drop the connection.

use super::concurrency::{Overflow, DEFAULT_QUEUE};
use super::ppt::Ppt;
use crate::error::Error;
use crate::proto::id::SessionId;
use crate::proto::uri::MatchPolicy;
use crate::proto::value::{Dict, Value};
use std::time::Duration;

/// What a spec-defined option takes.
#[derive(Clone, Copy)]
enum Takes {
    Bool,
    /// A whole number of 0 or more.
    Count,
    /// A list of session IDs.
    Ids,
    /// A list of strings.
    Strings,
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

impl Takes {
    fn accepts(self, value: &Value) -> bool {
        match (self, value) {
            (Takes::Bool, Value::Bool(_)) => true,
            (Takes::Count, v) => v.as_u64().is_some(),
            (Takes::Ids, Value::List(items)) => items
                .iter()
                .all(|i| i.as_u64().is_some_and(crate::proto::id::is_valid_id)),
            (Takes::Strings, Value::List(items)) => items.iter().all(|i| i.as_str().is_some()),
            (Takes::OneOf(names), Value::String(s)) => names.contains(&s.as_str()),
            _ => false,
        }
    }

    fn expected(self) -> String {
        match self {
            Takes::Bool => "true or false".into(),
            Takes::Count => "a whole number of 0 or more".into(),
            Takes::Ids => "a list of session IDs (1 to 2^53)".into(),
            Takes::Strings => "a list of strings".into(),
            Takes::OneOf(names) => {
                let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
                format!("one of {}", quoted.join(", "))
            }
        }
    }
}

const MATCH: Takes = Takes::OneOf(&["exact", "prefix", "wildcard"]);
const INVOKE: Takes = Takes::OneOf(&["single", "roundrobin", "random", "first", "last"]);

const CALL_OPTIONS: &[(&str, Takes)] = &[
    ("timeout", Takes::Count),
    ("receive_progress", Takes::Bool),
    ("progress", Takes::Bool),
    ("disclose_me", Takes::Bool),
];
const REGISTER_OPTIONS: &[(&str, Takes)] = &[
    ("match", MATCH),
    ("invoke", INVOKE),
    ("force_reregister", Takes::Bool),
    ("disclose_caller", Takes::Bool),
];
const SUBSCRIBE_OPTIONS: &[(&str, Takes)] = &[("match", MATCH), ("get_retained", Takes::Bool)];
const PUBLISH_OPTIONS: &[(&str, Takes)] = &[
    ("acknowledge", Takes::Bool),
    ("exclude", Takes::Ids),
    ("exclude_authid", Takes::Strings),
    ("exclude_authrole", Takes::Strings),
    ("eligible", Takes::Ids),
    ("eligible_authid", Takes::Strings),
    ("eligible_authrole", Takes::Strings),
    ("exclude_me", Takes::Bool),
    ("disclose_me", Takes::Bool),
    ("retain", Takes::Bool),
];

/// Checks every option of `dict` the spec defines for the message (`known`).
fn check(known: &[(&str, Takes)], dict: &Dict) -> Result<(), Error> {
    // By the dict's entries, which are few (usually none), not by the known options.
    dict.iter()
        .try_for_each(|(name, value)| check_one(known, name, value))
}

/// Checks `value` when `name` is an option the spec defines for the message.
fn check_one(known: &[(&str, Takes)], name: &str, value: &Value) -> Result<(), Error> {
    match known.iter().find(|(known, _)| *known == name) {
        Some((_, takes)) if !takes.accepts(value) => Err(Error::InvalidOption {
            option: name.to_owned(),
            expected: takes.expected(),
            found: value.to_string(),
        }),
        _ => Ok(()),
    }
}

/// An options dict being built: the raw extras, checked against the options the spec
/// defines for the message, then the typed options set over them. Those are right by
/// construction, so they are not checked again on every request.
struct OptionsDict(Dict);

impl OptionsDict {
    fn over(known: &[(&str, Takes)], extra: &Dict) -> Result<Self, Error> {
        check(known, extra)?;
        Ok(OptionsDict(extra.clone()))
    }

    /// Sets `name` when the typed option is set.
    fn set(mut self, name: &str, value: Option<Value>) -> Self {
        if let Some(value) = value {
            self.0.insert(name.to_owned(), value);
        }
        self
    }

    /// As [`set`](Self::set), checked like a raw option: for typed options whose Rust
    /// type admits values the spec does not (a `SessionId` holds any `u64`).
    fn set_checked(
        self,
        known: &[(&str, Takes)],
        name: &str,
        value: Option<Value>,
    ) -> Result<Self, Error> {
        if let Some(value) = &value {
            check_one(known, name, value)?;
        }
        Ok(self.set(name, value))
    }

    fn set_all<'a>(self, typed: impl IntoIterator<Item = (&'a str, Option<Value>)>) -> Self {
        typed
            .into_iter()
            .fold(self, |options, (name, value)| options.set(name, value))
    }
}

fn ids(ids: &[SessionId]) -> Value {
    Value::List(ids.iter().map(|id| Value::from(id.get())).collect())
}

fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::from(s.as_str())).collect())
}

fn millis(duration: Duration) -> Value {
    Value::from(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// A flag sent only when set (false is every option's default).
fn flag(set: bool) -> Option<Value> {
    set.then_some(Value::Bool(true))
}

/// Options for [`Client::call_with`](crate::Client::call_with).
///
/// ```
/// use izaber_wamp::CallOptions;
/// use std::time::Duration;
/// let options = CallOptions::new()
///     .timeout(Duration::from_secs(2)) // the client gives up after 2 s
///     .router_timeout(Duration::from_secs(1)) // the router cancels after 1 s
///     .disclose_me(true);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Overrides the client's default timeout for this call.
    pub timeout: Option<Duration>,
    /// Asks the router to cancel the call after this long (CALL's `timeout`, sent in
    /// milliseconds); independent of the client's own timeout.
    pub router_timeout: Option<Duration>,
    /// Asks the router to tell the callee who calls (`disclose_me`).
    pub disclose_me: Option<bool>,
    /// Asks for progressive results (`receive_progress`); read them from the
    /// [`Call`](crate::Call) of [`Client::start_call`](crate::Client::start_call).
    pub receive_progress: bool,
    /// Sends the call's input in chunks (a progressive call invocation, `progress`):
    /// the arguments are the first chunk, [`Call::send_chunk`](crate::Call::send_chunk)
    /// sends the others. Only where the router announces
    /// `progressive_call_invocations` (Crossbar.io does not).
    pub progressive: bool,
    /// Sends the payload transparently (see [`Ppt`]): the arguments must be one
    /// binary value.
    pub ppt: Option<Ppt>,
    /// Further CALL options sent as given; those the spec defines are checked.
    pub extra: Dict,
}

impl CallOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets this call's timeout on the client.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Asks the router to cancel the call after `timeout` (the CALL option `timeout`).
    pub fn router_timeout(mut self, timeout: Duration) -> Self {
        self.router_timeout = Some(timeout);
        self
    }

    /// Asks the router to disclose (or not) this caller to the callee.
    pub fn disclose_me(mut self, disclose: bool) -> Self {
        self.disclose_me = Some(disclose);
        self
    }

    /// Asks for progressive results.
    pub fn receive_progress(mut self, receive: bool) -> Self {
        self.receive_progress = receive;
        self
    }

    /// Sends the call's input in chunks (see the field).
    pub fn progressive(mut self, progressive: bool) -> Self {
        self.progressive = progressive;
        self
    }

    /// Sends the payload transparently, described by `ppt`.
    pub fn ppt(mut self, ppt: Ppt) -> Self {
        self.ppt = Some(ppt);
        self
    }

    /// Adds a raw CALL option.
    pub fn option(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The CALL options dict.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] when a spec-defined option has a wrong type or value.
    pub(crate) fn to_dict(&self) -> Result<Dict, Error> {
        Ok(OptionsDict::over(CALL_OPTIONS, &self.extra)?
            .set("timeout", self.router_timeout.map(millis))
            .set("disclose_me", self.disclose_me.map(Value::Bool))
            .set("receive_progress", flag(self.receive_progress))
            .set("progress", flag(self.progressive))
            .set_all(ppt(&self.ppt))
            .0)
    }
}

/// The payload transparency options, when set.
fn ppt(ppt: &Option<Ppt>) -> impl Iterator<Item = (&'static str, Option<Value>)> + '_ {
    ppt.iter().flat_map(Ppt::options)
}

/// How the router picks a callee among several registrations of one procedure.
///
/// ```
/// use izaber_wamp::{InvokePolicy, RegisterOptions};
///
/// // Several workers register the same procedure; the router takes turns.
/// let options = RegisterOptions::new().invoke(InvokePolicy::RoundRobin);
/// assert_eq!(options.invoke, Some(InvokePolicy::RoundRobin));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

/// The `match` option, sent only when it is not the default.
fn match_option(policy: MatchPolicy) -> Option<Value> {
    (policy != MatchPolicy::Exact).then(|| Value::from(policy.as_str()))
}

/// Options for [`Client::register_with`](crate::Client::register_with).
///
/// ```
/// use izaber_wamp::{MatchPolicy, RegisterOptions};
/// let options = RegisterOptions::new().match_policy(MatchPolicy::Prefix).force_reregister(true);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
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
    /// Runs the handler on the connection's I/O thread, at once, instead of on the
    /// worker pool (see [`inline`](Self::inline)).
    pub inline: bool,
    /// Further REGISTER options sent as given; those the spec defines are checked.
    pub extra: Dict,
}

impl RegisterOptions {
    /// Default options: exact match, single callee.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the match policy (the option `match`).
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

    /// Sets the REGISTER request's timeout on the client.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Runs its invocations in concurrency queue `name` (see
    /// [`Concurrency`](crate::Concurrency)).
    pub fn queue(mut self, name: impl Into<String>) -> Self {
        self.queue = Some(name.into());
        self
    }

    /// Runs the handler on the connection's I/O thread, as soon as its invocation is
    /// read, instead of handing it to a worker: no thread wake-up on the way in, so a
    /// quick handler answers sooner and costs less CPU. (On Linux, a thread of this
    /// client blocked in a request may read the socket in the I/O thread's stead; it
    /// then runs the inline handlers of what it read, under the same rules.) Only for
    /// handlers that return at once: inline handlers run one at a time, and while one
    /// runs the connection's other inline work waits. Such a handler may send (answer,
    /// publish, `start_call`, the `_async` requests), but a request that waits for its
    /// answer fails at once with [`Error::WouldDeadlock`](crate::Error::WouldDeadlock),
    /// since the thread that would read the answer is the one waiting. Concurrency
    /// queues do not apply.
    ///
    /// ```
    /// use izaber_wamp::RegisterOptions;
    /// let options = RegisterOptions::new().inline(true);
    /// ```
    pub fn inline(mut self, inline: bool) -> Self {
        self.inline = inline;
        self
    }

    /// Adds a raw REGISTER option.
    pub fn option(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    pub(crate) fn queue_name(&self) -> &str {
        self.queue.as_deref().unwrap_or(DEFAULT_QUEUE)
    }

    pub(crate) fn to_dict(&self) -> Result<Dict, Error> {
        Ok(OptionsDict::over(REGISTER_OPTIONS, &self.extra)?
            .set("match", match_option(self.match_policy))
            .set("invoke", self.invoke.map(|i| Value::from(i.as_str())))
            .set("force_reregister", flag(self.force_reregister))
            .0)
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
#[non_exhaustive]
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
    /// Runs the handler on the connection's I/O thread, at once, instead of on the
    /// worker pool (see [`inline`](Self::inline)).
    pub inline: bool,
    /// Further SUBSCRIBE options sent as given; those the spec defines are checked.
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
            inline: false,
            extra: Dict::new(),
        }
    }
}

impl SubscribeOptions {
    /// Default options: exact match, events one at a time in order, back-pressure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the match policy (the option `match`).
    pub fn match_policy(mut self, policy: MatchPolicy) -> Self {
        self.match_policy = policy;
        self
    }

    /// Asks for the topic's retained event, delivered at once.
    pub fn get_retained(mut self, get: bool) -> Self {
        self.get_retained = get;
        self
    }

    /// Sets the SUBSCRIBE request's timeout on the client.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
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

    /// Runs the handler on the connection's I/O thread (or on a thread of this client
    /// that read the event in its stead, as with
    /// [`RegisterOptions::inline`](crate::RegisterOptions::inline)), as each event is
    /// read, instead of handing it to a worker: no thread wake-up per event. Only for
    /// handlers that return at once (count, store, forward to a channel): while one
    /// runs, the connection's other inline work waits. Events are then handled one at
    /// a time, in order; concurrency queues and the overflow policy do not apply. As
    /// with [`RegisterOptions::inline`](crate::RegisterOptions::inline), a request
    /// that waits for its answer fails with
    /// [`Error::WouldDeadlock`](crate::Error::WouldDeadlock).
    ///
    /// ```
    /// use izaber_wamp::SubscribeOptions;
    /// let options = SubscribeOptions::new().inline(true);
    /// ```
    pub fn inline(mut self, inline: bool) -> Self {
        self.inline = inline;
        self
    }

    /// Adds a raw SUBSCRIBE option.
    pub fn option(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    pub(crate) fn queue_name(&self) -> &str {
        self.queue.as_deref().unwrap_or(DEFAULT_QUEUE)
    }

    pub(crate) fn to_dict(&self) -> Result<Dict, Error> {
        Ok(OptionsDict::over(SUBSCRIBE_OPTIONS, &self.extra)?
            .set("match", match_option(self.match_policy))
            .set("get_retained", flag(self.get_retained))
            .0)
    }
}

/// Options for [`Client::publish_with`](crate::Client::publish_with).
///
/// ```
/// use izaber_wamp::PublishOptions;
/// let options = PublishOptions::new()
///     .acknowledge(true)
///     .exclude_me(false)
///     .eligible_authrole(["operator"])
///     .retain(true);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PublishOptions {
    /// Wait for the router to confirm the publication and return its ID.
    pub acknowledge: bool,
    /// Whether our own subscriptions receive the event (router default: excluded).
    pub exclude_me: Option<bool>,
    /// Sessions that must not receive the event.
    pub exclude: Vec<SessionId>,
    /// Authids that must not receive the event.
    pub exclude_authid: Vec<String>,
    /// Authroles that must not receive the event.
    pub exclude_authrole: Vec<String>,
    /// Only these sessions may receive the event (`None`: any).
    pub eligible: Option<Vec<SessionId>>,
    /// Only these authids may receive the event (`None`: any).
    pub eligible_authid: Option<Vec<String>>,
    /// Only these authroles may receive the event (`None`: any).
    pub eligible_authrole: Option<Vec<String>>,
    /// Asks the router to tell subscribers who published.
    pub disclose_me: Option<bool>,
    /// Ask the router to retain the event for late subscribers.
    pub retain: bool,
    /// Overrides the client's default timeout (only used when acknowledged).
    pub timeout: Option<Duration>,
    /// Sends the payload transparently (see [`Ppt`]): the arguments must be one
    /// binary value.
    pub ppt: Option<Ppt>,
    /// Further PUBLISH options sent as given; those the spec defines are checked.
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

    /// Sessions that must not receive the event.
    pub fn exclude<S: Into<SessionId>>(mut self, sessions: impl IntoIterator<Item = S>) -> Self {
        self.exclude = sessions.into_iter().map(Into::into).collect();
        self
    }

    /// Authids that must not receive the event.
    pub fn exclude_authid<S: Into<String>>(mut self, authids: impl IntoIterator<Item = S>) -> Self {
        self.exclude_authid = authids.into_iter().map(Into::into).collect();
        self
    }

    /// Authroles that must not receive the event.
    pub fn exclude_authrole<S: Into<String>>(
        mut self,
        authroles: impl IntoIterator<Item = S>,
    ) -> Self {
        self.exclude_authrole = authroles.into_iter().map(Into::into).collect();
        self
    }

    /// Only these sessions may receive the event.
    pub fn eligible<S: Into<SessionId>>(mut self, sessions: impl IntoIterator<Item = S>) -> Self {
        self.eligible = Some(sessions.into_iter().map(Into::into).collect());
        self
    }

    /// Only these authids may receive the event.
    pub fn eligible_authid<S: Into<String>>(
        mut self,
        authids: impl IntoIterator<Item = S>,
    ) -> Self {
        self.eligible_authid = Some(authids.into_iter().map(Into::into).collect());
        self
    }

    /// Only these authroles may receive the event.
    pub fn eligible_authrole<S: Into<String>>(
        mut self,
        authroles: impl IntoIterator<Item = S>,
    ) -> Self {
        self.eligible_authrole = Some(authroles.into_iter().map(Into::into).collect());
        self
    }

    /// Asks the router to disclose (or not) this publisher to subscribers.
    pub fn disclose_me(mut self, disclose: bool) -> Self {
        self.disclose_me = Some(disclose);
        self
    }

    /// Asks the router to keep the event for subscribers that ask for it later.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Sends the payload transparently, described by `ppt`.
    pub fn ppt(mut self, ppt: Ppt) -> Self {
        self.ppt = Some(ppt);
        self
    }

    /// Sets the timeout of an acknowledged publish on the client.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a raw PUBLISH option.
    pub fn option(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    pub(crate) fn to_dict(&self) -> Result<Dict, Error> {
        let non_empty = |list: &Vec<String>| (!list.is_empty()).then(|| strings(list));
        let exclude = (!self.exclude.is_empty()).then(|| ids(&self.exclude));
        Ok(OptionsDict::over(PUBLISH_OPTIONS, &self.extra)?
            .set("acknowledge", flag(self.acknowledge))
            .set("exclude_me", self.exclude_me.map(Value::Bool))
            .set_checked(PUBLISH_OPTIONS, "exclude", exclude)?
            .set("exclude_authid", non_empty(&self.exclude_authid))
            .set("exclude_authrole", non_empty(&self.exclude_authrole))
            .set_checked(
                PUBLISH_OPTIONS,
                "eligible",
                self.eligible.as_deref().map(ids),
            )?
            .set(
                "eligible_authid",
                self.eligible_authid.as_deref().map(strings),
            )
            .set(
                "eligible_authrole",
                self.eligible_authrole.as_deref().map(strings),
            )
            .set("disclose_me", self.disclose_me.map(Value::Bool))
            .set("retain", flag(self.retain))
            .set_all(ppt(&self.ppt))
            .0)
    }

    /// Whether the router answers this publish (typed or raw `acknowledge`).
    pub(crate) fn is_acknowledged(&self) -> bool {
        self.acknowledge || matches!(self.extra.get("acknowledge"), Some(Value::Bool(true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_options_become_the_spec_s_keys() {
        let publish = PublishOptions::new()
            .acknowledge(true)
            .exclude([7, 8])
            .eligible_authrole(["operator"])
            .exclude_me(false)
            .retain(true)
            .to_dict()
            .expect("valid");
        assert_eq!(publish.get("acknowledge"), Some(&Value::Bool(true)));
        assert_eq!(
            publish.get("exclude"),
            Some(&Value::List(vec![7u64.into(), 8u64.into()]))
        );
        assert_eq!(
            publish.get("eligible_authrole"),
            Some(&Value::List(vec!["operator".into()]))
        );
        assert_eq!(publish.get("exclude_me"), Some(&Value::Bool(false)));
        assert!(!publish.contains_key("eligible"), "unset: any session");
        let call = CallOptions::new()
            .router_timeout(Duration::from_millis(1500))
            .to_dict()
            .expect("valid");
        assert_eq!(call.get("timeout"), Some(&Value::from(1500u64)));
    }

    #[test]
    fn raw_options_the_spec_defines_are_checked_before_sending() {
        let wrong = |result: Result<Dict, Error>| match result {
            Err(Error::InvalidOption {
                option,
                expected,
                found,
            }) => format!("{option}: {expected}, not {found}"),
            other => panic!("expected InvalidOption, got {other:?}"),
        };
        assert_eq!(
            wrong(
                PublishOptions::new()
                    .option("acknowledge", "hello")
                    .to_dict()
            ),
            "acknowledge: true or false, not \"hello\""
        );
        assert_eq!(
            wrong(PublishOptions::new().option("acknowledge", 1).to_dict()),
            "acknowledge: true or false, not 1"
        );
        assert_eq!(
            wrong(
                PublishOptions::new()
                    .option("exclude", vec![Value::from("me")])
                    .to_dict()
            ),
            "exclude: a list of session IDs (1 to 2^53), not [\"me\"]"
        );
        assert_eq!(
            wrong(SubscribeOptions::new().option("match", "regex").to_dict()),
            "match: one of \"exact\", \"prefix\", \"wildcard\", not \"regex\""
        );
        assert_eq!(
            wrong(CallOptions::new().option("timeout", -5).to_dict()),
            "timeout: a whole number of 0 or more, not -5"
        );
        assert_eq!(
            wrong(RegisterOptions::new().option("invoke", "fastest").to_dict()),
            "invoke: one of \"single\", \"roundrobin\", \"random\", \"first\", \"last\", not \"fastest\""
        );
        // A typed option is checked too where its Rust type admits more than the spec.
        assert_eq!(
            wrong(PublishOptions::new().exclude([0u64]).to_dict()),
            "exclude: a list of session IDs (1 to 2^53), not [0]"
        );
        assert_eq!(
            wrong(PublishOptions::new().eligible([1u64 << 60]).to_dict()),
            "eligible: a list of session IDs (1 to 2^53), not [1152921504606846976]"
        );
        // Options the spec does not define pass as they are.
        let custom = CallOptions::new().option("x_custom", "anything").to_dict();
        assert!(custom.is_ok());
    }
}
