//! Spans and structured events, with the Cargo feature `tracing`; without it, the
//! `log` lines the crate always wrote and nothing else.
//!
//! Design: the API here is the same with the feature on or off, so call sites carry
//! no `#[cfg]`. [`Span`] wraps a `tracing::Span`, or is empty and every method an
//! inline no-op. The event macros at the end expand at their call site, either to a
//! `tracing` event or to the `log` line written there before the feature existed
//! (same text, same target: the call site's module), never to both. The other `log`
//! lines of the crate stay `log` lines in both builds; a tracing application picks
//! them up with `tracing-log`, as it does for any library that logs.
//!
//! Any layer may use this module: it names only the protocol crate and `error`.
//!
//! The spans (targets under `izaber_wamp`):
//!
//! * `wamp.connection` (INFO; `url`, `realm`): one per client, from `Client::connect`
//!   until the event loop stops; a root span that follows from the span current at
//!   connect. The I/O thread runs inside it. Its events: back-off after a failed
//!   attempt, reconnect after a lost session (both with the delay chosen), the end.
//! * `wamp.session` (INFO; `url`, `realm`, `attempt`, then `session`, `authid`,
//!   `authrole` once joined): a child of the connection span, one per connection
//!   attempt, so one per joined session; it ends when that session ends or the
//!   attempt fails. The connector thread runs inside it. Its events: connect, join,
//!   restore (registrations and subscriptions re-created after a rejoin), a failed
//!   attempt, leave.
//! * `wamp.request` (DEBUG; `kind`, `uri`, then `request`, `outcome`): one per call,
//!   publish, register, subscribe, unregister and unsubscribe, made and entered on
//!   the calling thread, so it is a child of the caller's current span. `request` is
//!   the WAMP request ID, recorded when the session sends the request (a request
//!   waiting for a rejoin gets it then); `outcome` is `ok`, `timeout`, the WAMP error
//!   URI, or the kind of local failure (`connection_lost`, `closed`, ...), recorded
//!   on the calling thread when the request ends, with a DEBUG event.
//! * `wamp.handler` (DEBUG; `kind` = `invocation` or `event`, `uri`, `request`, then
//!   `outcome`): one per handler run, entered on the worker running it; a root span.
//!   `uri` is the procedure or topic the router names (for a pattern registration or
//!   subscription, the concrete URI), `request` the INVOCATION's request ID or the
//!   EVENT's publication ID; `outcome` is `ok`, the error URI answered, or `panicked`.
//!
//! Per-request and per-handler spans are roots or children of the caller's span, not
//! of the long-lived session span, so a trace stays as long as the work it shows.
//!
//! No field holds a secret or payload contents: credentials never reach this module,
//! URLs lose any `user:password@` part, and errors are named by their URI or kind.

#[cfg(feature = "tracing")]
use crate::error::Error;
#[cfg(feature = "tracing")]
use crate::proto::session::CloseReason;
#[cfg(feature = "tracing")]
use std::borrow::Cow;
use std::marker::PhantomData;

/// A span of this crate, or nothing when the feature is off. Cloning is cheap (a
/// reference count with the feature, nothing without); the default is no span.
#[derive(Clone)]
pub(crate) struct Span {
    #[cfg(feature = "tracing")]
    pub(crate) inner: tracing::Span,
}

impl Default for Span {
    #[inline]
    fn default() -> Self {
        Span {
            #[cfg(feature = "tracing")]
            inner: tracing::Span::none(),
        }
    }
}

/// The guard of an entered [`Span`]: the span is current on this thread until it
/// is dropped.
#[must_use = "the span is exited when the guard is dropped"]
pub(crate) struct Entered<'a> {
    #[cfg(feature = "tracing")]
    _inner: tracing::span::Entered<'a>,
    _span: PhantomData<&'a Span>,
}

#[cfg(feature = "tracing")]
impl Span {
    /// The `wamp.connection` span of a client connecting to `url` (the primary router).
    pub fn connection(url: &str, realm: &str) -> Span {
        let inner = tracing::info_span!(
            parent: None,
            "wamp.connection",
            url = %without_userinfo(url),
            realm,
        );
        inner.follows_from(tracing::Span::current());
        Span { inner }
    }

    /// A `wamp.session` span under this connection span, for attempt `attempt` to
    /// join `realm` on `url`.
    pub fn session(&self, attempt: u32, url: &str, realm: &str) -> Span {
        let inner = tracing::info_span!(
            parent: &self.inner,
            "wamp.session",
            url = %without_userinfo(url),
            realm,
            attempt,
            session = tracing::field::Empty,
            authid = tracing::field::Empty,
            authrole = tracing::field::Empty,
        );
        Span { inner }
    }

    /// A `wamp.request` span for a request of `kind` (`call`, `publish`, ...) on `uri`.
    pub fn request(kind: &'static str, uri: &str) -> Span {
        let inner = tracing::debug_span!(
            "wamp.request",
            kind,
            uri,
            request = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        Span { inner }
    }

    /// A `wamp.handler` span for a handler run of `kind` (`invocation`, `event`) for
    /// the registration or subscription of `registered`; `id` is the INVOCATION's
    /// request ID or the EVENT's publication ID, `details` the message's details.
    pub fn handler(
        kind: &'static str,
        registered: &str,
        id: u64,
        details: &crate::proto::value::Dict,
    ) -> Span {
        // Pattern-based registrations and subscriptions learn the concrete URI here
        // (looked up only when the span is enabled: field values are lazy).
        let key = if kind == "event" {
            "topic"
        } else {
            "procedure"
        };
        let inner = tracing::debug_span!(
            parent: None,
            "wamp.handler",
            kind,
            uri = details
                .get(key)
                .and_then(crate::proto::Value::as_str)
                .unwrap_or(registered),
            request = id,
            outcome = tracing::field::Empty,
        );
        Span { inner }
    }

    /// Makes this span current on this thread until the guard is dropped.
    #[inline]
    pub fn enter(&self) -> Entered<'_> {
        Entered {
            _inner: self.inner.enter(),
            _span: PhantomData,
        }
    }

    /// Records the WAMP request ID the session gave the request.
    #[inline]
    pub fn record_request(&self, request: u64) {
        self.inner.record("request", request);
    }

    /// Records how the request or handler run ended.
    #[inline]
    pub fn record_outcome(&self, outcome: &str) {
        self.inner.record("outcome", outcome);
    }

    /// Records a request's outcome from its result, with a DEBUG event.
    pub fn finish<T>(&self, result: &Result<T, Error>) {
        if self.inner.is_disabled() {
            return;
        }
        let outcome = match result {
            Ok(_) => "ok",
            Err(error) => outcome_of(error),
        };
        self.inner.record("outcome", outcome);
        tracing::debug!(parent: &self.inner, outcome, "request done");
    }

    /// Records the joined session's ID and the router's `authid` and `authrole`.
    pub fn record_joined(&self, session: u64, authid: Option<&str>, authrole: Option<&str>) {
        self.inner.record("session", session);
        if let Some(authid) = authid {
            self.inner.record("authid", authid);
        }
        if let Some(authrole) = authrole {
            self.inner.record("authrole", authrole);
        }
    }
}

#[cfg(not(feature = "tracing"))]
impl Span {
    #[inline(always)]
    pub fn connection(_url: &str, _realm: &str) -> Span {
        Span {}
    }

    #[inline(always)]
    pub fn session(&self, _attempt: u32, _url: &str, _realm: &str) -> Span {
        Span {}
    }

    #[inline(always)]
    pub fn request(_kind: &'static str, _uri: &str) -> Span {
        Span {}
    }

    #[inline(always)]
    pub fn handler(
        _kind: &'static str,
        _registered: &str,
        _id: u64,
        _details: &crate::proto::value::Dict,
    ) -> Span {
        Span {}
    }

    #[inline(always)]
    pub fn enter(&self) -> Entered<'_> {
        Entered { _span: PhantomData }
    }

    #[inline(always)]
    pub fn record_request(&self, _request: u64) {}

    #[inline(always)]
    pub fn record_outcome(&self, _outcome: &str) {}

    #[inline(always)]
    pub fn finish<T>(&self, _result: &Result<T, crate::error::Error>) {}

    #[inline(always)]
    pub fn record_joined(&self, _session: u64, _authid: Option<&str>, _authrole: Option<&str>) {}
}

/// A request's `outcome` for `error`: the WAMP error URI, `timeout`, or the kind of
/// local failure. Never the error's text, which may quote payload.
#[cfg(feature = "tracing")]
fn outcome_of(error: &Error) -> &str {
    match error {
        Error::Wamp(e) => &e.uri,
        Error::Timeout { .. } => "timeout",
        Error::ConnectionLost(_) => "connection_lost",
        Error::Closed => "closed",
        Error::Abort { reason, .. } | Error::ClientAbort { reason, .. } => reason,
        Error::Connect { .. } | Error::NotConnected(_) => "not_connected",
        Error::InvalidOption { .. } => "invalid_option",
        Error::InvalidUri(_) => "invalid_uri",
        Error::PayloadTooLarge { .. } => "payload_too_large",
        Error::Serialization(_) => "serialization",
        Error::ProtocolViolation(_) => "protocol_violation",
        Error::Config(_) | Error::FeatureDisabled { .. } => "config",
        Error::WouldDeadlock { .. } => "would_deadlock",
    }
}

/// The `reason` of a leave event: the GOODBYE or ABORT reason URI, or what happened.
#[cfg(feature = "tracing")]
pub(crate) fn close_reason(reason: &CloseReason) -> &str {
    match reason {
        CloseReason::ClientGoodbye => "client_goodbye",
        CloseReason::RouterGoodbye { reason, .. }
        | CloseReason::Abort { reason, .. }
        | CloseReason::ClientAbort { reason, .. } => reason,
        CloseReason::ProtocolViolation(_) => "protocol_violation",
        CloseReason::ConnectionLost(_) => "connection_lost",
    }
}

/// `url` without a `user:password@` part, for fields.
#[cfg(feature = "tracing")]
pub(crate) fn without_userinfo(url: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{scheme}://{}", &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

/// Milliseconds of `delay`, for the `delay_ms` field.
#[cfg(feature = "tracing")]
pub(crate) fn millis(delay: std::time::Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

// --- events -----------------------------------------------------------------------
//
// Each macro is one event of the connection's life. With the feature it is a
// `tracing` event under the given span; without it, the `log` line of before, or
// nothing where there was none. They are macros so that both expand at the call
// site: the event's target is the caller's module, as the log line's was.

/// Connect: attempt `attempt` to `url` starts (under the attempt's session span).
macro_rules! connecting {
    ($session:expr, $attempt:expr, $url:expr) => {{
        let (session, attempt, url): (&$crate::trace::Span, u32, &str) =
            (&$session, $attempt, $url);
        #[cfg(feature = "tracing")]
        ::tracing::info!(
            parent: &session.inner,
            attempt,
            url = %$crate::trace::without_userinfo(url),
            "connecting",
        );
        #[cfg(not(feature = "tracing"))]
        {
            let _ = session;
            ::log::info!("connecting to {url} (attempt {attempt})");
        }
    }};
}
pub(crate) use connecting;

/// Attempt `attempt` to `url` failed with `error` (under the attempt's session span).
macro_rules! attempt_failed {
    ($session:expr, $attempt:expr, $url:expr, $error:expr) => {{
        let (session, attempt, url, error): (
            &$crate::trace::Span,
            u32,
            &str,
            &$crate::error::Error,
        ) = (&$session, $attempt, $url, $error);
        #[cfg(feature = "tracing")]
        ::tracing::warn!(
            parent: &session.inner,
            attempt,
            url = %$crate::trace::without_userinfo(url),
            "connection attempt failed: {error}",
        );
        #[cfg(not(feature = "tracing"))]
        {
            let _ = session;
            ::log::warn!("connection attempt {attempt} to {url} failed: {error}");
        }
    }};
}
pub(crate) use attempt_failed;

/// Back-off: the next attempt after failed attempt `attempt` starts in `delay`
/// (under the connection span).
macro_rules! backoff {
    ($connection:expr, $attempt:expr, $delay:expr) => {{
        let (connection, attempt, delay): (&$crate::trace::Span, u32, ::std::time::Duration) =
            (&$connection, $attempt, $delay);
        #[cfg(feature = "tracing")]
        ::tracing::info!(
            parent: &connection.inner,
            attempt,
            delay_ms = $crate::trace::millis(delay),
            "backing off before the next attempt",
        );
        #[cfg(not(feature = "tracing"))]
        {
            let _ = (connection, attempt);
            ::log::info!("reconnecting in {delay:?}");
        }
    }};
}
pub(crate) use backoff;

/// Join: session `id` joined as `authid` (`authrole`) after `attempt` attempts; the
/// session span records them.
macro_rules! joined {
    ($session:expr, $id:expr, $authid:expr, $authrole:expr, $attempt:expr) => {{
        let (session, id, authid, authrole, attempt): (
            &$crate::trace::Span,
            u64,
            Option<&str>,
            Option<&str>,
            u32,
        ) = (&$session, $id, $authid, $authrole, $attempt);
        session.record_joined(id, authid, authrole);
        #[cfg(feature = "tracing")]
        ::tracing::info!(
            parent: &session.inner,
            session = id,
            authid,
            authrole,
            attempt,
            "joined",
        );
        #[cfg(not(feature = "tracing"))]
        ::log::info!("joined session {id} as {authid:?} ({authrole:?}) after {attempt} attempt(s)");
    }};
}
pub(crate) use joined;

/// Restore: after a join, `registrations` and `subscriptions` were re-created and
/// `failed` were not (yet). Only with the feature: there was no log line for it.
macro_rules! restored {
    ($session:expr, $registrations:expr, $subscriptions:expr, $failed:expr) => {{
        let (session, registrations, subscriptions, failed): (
            &$crate::trace::Span,
            usize,
            usize,
            usize,
        ) = (&$session, $registrations, $subscriptions, $failed);
        #[cfg(feature = "tracing")]
        ::tracing::info!(
            parent: &session.inner,
            registrations,
            subscriptions,
            failed,
            "restored",
        );
        #[cfg(not(feature = "tracing"))]
        let _ = (session, registrations, subscriptions, failed);
    }};
}
pub(crate) use restored;

/// Leave: the session ended for `reason` (a `CloseReason`).
macro_rules! session_closed {
    ($session:expr, $reason:expr) => {{
        let (session, reason): (&$crate::trace::Span, &$crate::proto::session::CloseReason) =
            (&$session, $reason);
        #[cfg(feature = "tracing")]
        ::tracing::info!(
            parent: &session.inner,
            reason = $crate::trace::close_reason(reason),
            "session closed: {reason}",
        );
        #[cfg(not(feature = "tracing"))]
        {
            let _ = session;
            ::log::info!("session closed: {reason}");
        }
    }};
}
pub(crate) use session_closed;

/// Reconnect: the connection to `url` was lost (`error`); the next attempt starts in
/// `delay` (under the connection span).
macro_rules! reconnecting {
    ($connection:expr, $url:expr, $error:expr, $delay:expr) => {{
        let (connection, url, error, delay): (
            &$crate::trace::Span,
            &str,
            &$crate::error::Error,
            ::std::time::Duration,
        ) = (&$connection, $url, $error, $delay);
        #[cfg(feature = "tracing")]
        ::tracing::warn!(
            parent: &connection.inner,
            url = %$crate::trace::without_userinfo(url),
            delay_ms = $crate::trace::millis(delay),
            "connection lost ({error}); reconnecting",
        );
        #[cfg(not(feature = "tracing"))]
        {
            let _ = connection;
            ::log::warn!("connection to {url} lost ({error}); reconnecting in {delay:?}");
        }
    }};
}
pub(crate) use reconnecting;

/// The event loop stopped, for `error` (`Error::Closed` after `close()`). Only with
/// the feature: there was no log line for it.
macro_rules! loop_ended {
    ($connection:expr, $error:expr) => {{
        let (connection, error): (&$crate::trace::Span, &$crate::error::Error) =
            (&$connection, $error);
        #[cfg(feature = "tracing")]
        ::tracing::info!(parent: &connection.inner, "connection closed: {error}");
        #[cfg(not(feature = "tracing"))]
        let _ = (connection, error);
    }};
}
pub(crate) use loop_ended;

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(without_userinfo("ws://h:8080/ws"), "ws://h:8080/ws");
        assert_eq!(
            without_userinfo("wss://alice:secret@h:8080/ws"),
            "wss://h:8080/ws"
        );
        assert_eq!(without_userinfo("ws://a@b@h/x@y"), "ws://h/x@y");
        assert_eq!(without_userinfo("unix:///tmp/s"), "unix:///tmp/s");
        assert_eq!(without_userinfo("not a url"), "not a url");
    }

    #[test]
    fn outcomes_name_no_payload() {
        let error = Error::Wamp(crate::proto::WampError::new("app.error.bad"));
        assert_eq!(outcome_of(&error), "app.error.bad");
        let timeout = Error::Timeout {
            operation: "call x".into(),
            after: std::time::Duration::from_secs(1),
        };
        assert_eq!(outcome_of(&timeout), "timeout");
        assert_eq!(
            outcome_of(&Error::Serialization("secret".into())),
            "serialization"
        );
    }
}
