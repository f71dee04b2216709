//! [`Wamp`]: a client whose URIs are relative to the configured `uri_base`.

use crate::client::{
    CallOptions, CallResult, Client, ConnectionState, Event, HandlerResult, Hooks, Invocation,
    PublishOptions, RegisterOptions, Registration, Stats, SubscribeOptions, Subscription,
};
use crate::config::ConnectionSettings;
use crate::error::Result;
use crate::event_loop::SessionInfo;
use serde::Serialize;

/// A connection as Python's `izaber_wamp.wamp` offers it: every URI given to
/// [`call`](Wamp::call), [`register`](Wamp::register), [`subscribe`](Wamp::subscribe)
/// and [`publish`](Wamp::publish) gets `uri_base + "."` in front (when `uri_base` is
/// not empty), so `wamp.call("auth.whoami", ())` calls `com.izaber.wamp.auth.whoami`.
///
/// For an absolute URI, such as the router's `wamp.session.count`, use the underlying
/// client: `wamp.absolute().call("wamp.session.count", ())`. Nothing is ever prefixed
/// twice by guessing: a relative URI is always prefixed, an absolute one never.
///
/// Cloning is cheap and every clone shares the connection.
#[derive(Clone, Debug)]
pub struct Wamp {
    client: Client,
    uri_base: String,
}

impl Wamp {
    /// Connects with settings from `izaber.yaml` (see [`crate::config`]).
    ///
    /// ```no_run
    /// use izaber_wamp::config::{load, LoadOptions};
    /// let config = load(&LoadOptions::default())?;
    /// let wamp = izaber_wamp::Wamp::connect(&config.wamp.connection)?;
    /// println!("{}", wamp.whoami()?);
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    pub fn connect(settings: &ConnectionSettings) -> Result<Wamp> {
        Wamp::connect_with_hooks(settings, Hooks::default())
    }

    /// Connects with `hooks` in place from the start, so they see the first join.
    pub(crate) fn connect_with_hooks(settings: &ConnectionSettings, hooks: Hooks) -> Result<Wamp> {
        let mut config = settings.to_client_config()?;
        config.handler_failure_uri = prefixed(&settings.uri_base, "error.invoke.failure");
        config.hooks = hooks;
        Ok(Wamp::new(Client::connect(config)?, &settings.uri_base))
    }

    /// Wraps a connected client; URIs are prefixed with `uri_base` (none if empty).
    pub fn new(client: Client, uri_base: &str) -> Wamp {
        Wamp {
            client,
            uri_base: uri_base.trim_end_matches('.').to_owned(),
        }
    }

    /// The underlying client, whose URIs are absolute (nothing is prefixed).
    pub fn absolute(&self) -> &Client {
        &self.client
    }

    /// The prefix in use (empty when URIs are not prefixed).
    pub fn uri_base(&self) -> &str {
        &self.uri_base
    }

    /// The absolute form of a relative URI: `uri_base + "." + uri`.
    ///
    /// ```no_run
    /// # let wamp: izaber_wamp::Wamp = unimplemented!();
    /// assert_eq!(wamp.full_uri("auth.whoami"), "com.izaber.wamp.auth.whoami");
    /// ```
    pub fn full_uri(&self, uri: &str) -> String {
        prefixed(&self.uri_base, uri)
    }

    /// Calls `uri_base.procedure` with positional `args` (a tuple, array or `Vec`; `()` for none).
    pub fn call(&self, procedure: &str, args: impl Serialize) -> Result<CallResult> {
        self.client.call(&self.full_uri(procedure), args)
    }

    /// Calls with positional and keyword arguments.
    pub fn call_kw(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<CallResult> {
        self.client.call_kw(&self.full_uri(procedure), args, kwargs)
    }

    /// Calls with arguments and options (e.g. a per-call timeout).
    pub fn call_with(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &CallOptions,
    ) -> Result<CallResult> {
        self.client
            .call_with(&self.full_uri(procedure), args, kwargs, options)
    }

    /// Registers `handler` for `uri_base.procedure`. A plain error from the handler
    /// reaches the caller as `uri_base.error.invoke.failure` with `["Call failed: <message>"]`;
    /// a [`WampError`](crate::WampError) keeps its own URI.
    pub fn register<F>(&self, procedure: &str, handler: F) -> Result<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        self.client.register(&self.full_uri(procedure), handler)
    }

    /// Registers with options such as `force_reregister` or a match policy.
    pub fn register_with<F>(
        &self,
        procedure: &str,
        options: &RegisterOptions,
        handler: F,
    ) -> Result<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        self.client
            .register_with(&self.full_uri(procedure), options, handler)
    }

    /// Removes a registration.
    pub fn unregister(&self, registration: &Registration) -> Result<()> {
        self.client.unregister(registration)
    }

    /// Subscribes `handler` to `uri_base.topic`.
    pub fn subscribe<F>(&self, topic: &str, handler: F) -> Result<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        self.client.subscribe(&self.full_uri(topic), handler)
    }

    /// Subscribes with options such as a match policy.
    pub fn subscribe_with<F>(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        handler: F,
    ) -> Result<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        self.client
            .subscribe_with(&self.full_uri(topic), options, handler)
    }

    /// Removes a subscription.
    pub fn unsubscribe(&self, subscription: &Subscription) -> Result<()> {
        self.client.unsubscribe(subscription)
    }

    /// Publishes to `uri_base.topic` without acknowledgement.
    pub fn publish(&self, topic: &str, args: impl Serialize) -> Result<()> {
        self.client.publish(&self.full_uri(topic), args)
    }

    /// Publishes with positional and keyword arguments, without acknowledgement.
    pub fn publish_kw(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<()> {
        self.client.publish_kw(&self.full_uri(topic), args, kwargs)
    }

    /// Publishes with options; with `acknowledge`, returns the publication ID.
    pub fn publish_with(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &PublishOptions,
    ) -> Result<Option<u64>> {
        self.client
            .publish_with(&self.full_uri(topic), args, kwargs, options)
    }

    /// The joined session, or `None` while disconnected.
    pub fn session_info(&self) -> Option<SessionInfo> {
        self.client.session_info()
    }

    /// Where the connection is: connecting, joined, reconnecting or closed.
    pub fn state(&self) -> ConnectionState {
        self.client.state()
    }

    /// Message and request counters.
    pub fn stats(&self) -> Stats {
        self.client.stats()
    }

    /// The connection's life-cycle callbacks.
    pub fn hooks(&self) -> &Hooks {
        self.client.hooks()
    }

    /// Leaves the session with GOODBYE and closes the connection.
    pub fn close(&self) -> Result<()> {
        self.client.close()
    }
}

/// `base + "." + uri`, or `uri` when `base` is empty.
pub(crate) fn prefixed(base: &str, uri: &str) -> String {
    let base = base.trim_end_matches('.');
    if base.is_empty() {
        uri.to_owned()
    } else {
        format!("{base}.{uri}")
    }
}

#[cfg(test)]
mod tests {
    use super::prefixed;

    #[test]
    fn prefixing_joins_with_one_dot_and_skips_an_empty_base() {
        assert_eq!(
            prefixed("com.izaber.wamp", "auth.whoami"),
            "com.izaber.wamp.auth.whoami"
        );
        assert_eq!(prefixed("com.izaber.wamp.", "x"), "com.izaber.wamp.x");
        assert_eq!(prefixed("", "auth.whoami"), "auth.whoami");
    }
}
