//! [`Wamp`]: a client whose URIs are relative to the configured `uri_base`.

use crate::client::{Client, Hooks};
use crate::config::ConnectionSettings;
use crate::error::Result;
use std::ops::Deref;

/// A connection as Python's `izaber_wamp.wamp` offers it: every [`Client`] method
/// (through `Deref`), with every URI given to it relative to `uri_base`, so
/// `wamp.call("auth.whoami", ())` calls `com.izaber.wamp.auth.whoami`; plus the Nexus
/// helpers. The prefix rule itself is [`Client::with_uri_base`]'s.
///
/// For an absolute URI, such as the router's `wamp.session.count`, use the client
/// that takes URIs as given: `wamp.absolute().call("wamp.session.count", ())`.
/// Nothing is ever prefixed twice by guessing: a relative URI is always prefixed, an
/// absolute one never.
///
/// Cloning is cheap and every clone shares the connection.
///
/// ```no_run
/// izaber_wamp::initialize()?; // uri_base: com.izaber.wamp (the default)
/// let wamp = izaber_wamp::wamp()?;
/// let me = wamp.call("auth.whoami", ())?; // calls com.izaber.wamp.auth.whoami
/// let count = wamp.absolute().call("wamp.session.count", ())?; // as given
/// println!("{:?}, {} sessions", me.args, count.arg::<u64>(0)?);
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Wamp {
    /// URIs relative to `uri_base`.
    relative: Client,
    /// URIs as given.
    absolute: Client,
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
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) when the settings cannot be used (see
    /// [`ConnectionSettings::to_client_config`]), and the errors of
    /// [`Client::connect`].
    pub fn connect(settings: &ConnectionSettings) -> Result<Wamp> {
        Wamp::connect_with_hooks(settings, Hooks::default())
    }

    /// Connects with `hooks` in place from the start, so they see the first join.
    pub(crate) fn connect_with_hooks(settings: &ConnectionSettings, hooks: Hooks) -> Result<Wamp> {
        let mut config = settings.to_client_config()?;
        config.handler_failure_uri =
            crate::client::prefixed(&settings.uri_base, "error.invoke.failure").into_owned();
        config.hooks = hooks;
        Ok(Wamp::new(Client::connect(config)?, &settings.uri_base))
    }

    /// Wraps a connected client; URIs are prefixed with `uri_base` (none if empty).
    pub fn new(client: Client, uri_base: &str) -> Wamp {
        Wamp {
            relative: client.with_uri_base(uri_base),
            absolute: client.absolute(),
        }
    }

    /// The client whose URIs are absolute (nothing is prefixed).
    pub fn absolute(&self) -> &Client {
        &self.absolute
    }
}

impl Deref for Wamp {
    type Target = Client;

    /// Every [`Client`] method, with URIs relative to `uri_base`.
    fn deref(&self) -> &Client {
        &self.relative
    }
}
