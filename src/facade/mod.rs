//! The izaber facade: `initialize()` from `izaber.yaml`, then the shared [`wamp()`]
//! connection, as Python's `izaber_wamp` offers it.
//!
//! ```no_run
//! izaber_wamp::initialize()?;
//! let me = izaber_wamp::wamp()?.call("auth.whoami", ())?; // com.izaber.wamp.auth.whoami
//! println!("{:?}", me.args);
//! # Ok::<(), izaber_wamp::Error>(())
//! ```
//!
//! Unlike the Python library, `initialize` never waits forever (it gives up after
//! `connect_timeout`), re-initializing or [`change_user`] closes the old session
//! instead of leaking it, and join hooks are plain callbacks that can be added before
//! `initialize` while registrations and subscriptions are restored on every rejoin
//! whatever the hooks do.

mod nexus;
mod wamp;

pub use wamp::Wamp;

use crate::client::SessionInfo;
use crate::client::{Client, Hooks};
use crate::config::{load, ConnectionSettings, IzaberConfig, LoadOptions, Secret};
use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::sync::OnceLock;

/// What `initialize` set up.
struct Global {
    settings: ConnectionSettings,
    source: String,
    /// `None` when `wamp.run` is false and no user has been chosen since.
    wamp: Option<Wamp>,
}

static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

/// The `uri_base` of the global connection, set before connecting: join hooks of the
/// first join run before `initialize` returns.
static GLOBAL_URI_BASE: Mutex<String> = Mutex::new(String::new());

/// Hooks of the global connection; they outlive re-initialization and user changes.
fn global_hooks() -> &'static Hooks {
    static HOOKS: OnceLock<Hooks> = OnceLock::new();
    HOOKS.get_or_init(Hooks::default)
}

/// Loads `izaber.yaml` from the usual places and, unless `wamp.run` is false,
/// connects and waits until the session has joined (at most `connect_timeout`).
/// An earlier global connection is closed first.
///
/// ```no_run
/// izaber_wamp::initialize()?;
/// let me = izaber_wamp::wamp()?.whoami()?;
/// println!("logged in as {me}");
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Config`] when `izaber.yaml` cannot be found, read or parsed, has a wrong
/// value, or its connection settings cannot be used (see
/// [`ConnectionSettings::to_client_config`]); otherwise the errors of
/// [`Client::connect`], such as [`Error::Connect`], [`Error::Abort`] for a refused
/// login, [`Error::Timeout`] or [`Error::FeatureDisabled`]. Once the configuration
/// has loaded, the earlier connection is closed, so after a failed connect there is
/// none: [`wamp()`] fails until the next `initialize`.
pub fn initialize() -> Result<()> {
    initialize_with(&LoadOptions::default())
}

/// [`initialize`] with an explicit YAML text, file or environment.
///
/// ```no_run
/// use izaber_wamp::config::LoadOptions;
/// izaber_wamp::initialize_with(&LoadOptions::file("/etc/myapp/izaber.yaml").environment("dev"))?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
///
/// # Errors
///
/// As [`initialize`].
pub fn initialize_with(options: &LoadOptions) -> Result<()> {
    let config = load(options)?;
    let old = GLOBAL.lock().take();
    if let Some(wamp) = old.and_then(|g| g.wamp) {
        wamp.close()?;
    }
    let IzaberConfig {
        source,
        wamp: settings,
        ..
    } = config;
    let wamp = if settings.run {
        Some(connect_global(&settings.connection)?)
    } else {
        None
    };
    *GLOBAL.lock() = Some(Global {
        settings: settings.connection,
        source,
        wamp,
    });
    Ok(())
}

/// The global connection made by [`initialize`].
///
/// ```
/// use izaber_wamp::config::LoadOptions;
/// use izaber_wamp::Error;
///
/// assert!(matches!(izaber_wamp::wamp(), Err(Error::NotConnected(_)))); // not initialized
///
/// // With `wamp.run: false`, initialize loads the settings but does not connect.
/// let yaml = "default: {wamp: {run: false}}";
/// izaber_wamp::initialize_with(&LoadOptions::yaml(yaml).environment("default"))?;
/// assert!(matches!(izaber_wamp::wamp(), Err(Error::NotConnected(_))));
/// # Ok::<(), Error>(())
/// ```
///
/// # Errors
///
/// [`Error::NotConnected`] before `initialize`, and when `wamp.run` is false and
/// [`change_user`] has not connected it since.
pub fn wamp() -> Result<Wamp> {
    match &*GLOBAL.lock() {
        None => Err(Error::NotConnected("izaber_wamp::initialize() has not been called".into())),
        Some(Global { wamp: Some(wamp), .. }) => Ok(wamp.clone()),
        Some(Global { source, .. }) => Err(Error::NotConnected(format!(
            "wamp.run is false in {source}, so initialize() did not connect; call change_user() to connect"
        ))),
    }
}

/// Switches the global connection to another user: connects as `username`, and only
/// once that worked, closes the old session. On failure the old connection stays.
///
/// ```no_run
/// izaber_wamp::initialize()?;
/// let wamp = izaber_wamp::change_user("bob", "his password")?;
/// println!("now {}", wamp.whoami()?);
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::NotConnected`] before [`initialize`]; otherwise the errors of connecting
/// as in [`initialize`] ([`Error::Config`], [`Error::Connect`], [`Error::Abort`] for a
/// refused login, [`Error::Timeout`], ...).
pub fn change_user(username: &str, password: &str) -> Result<Wamp> {
    let settings = with_user(&settings()?, username, password);
    let wamp = connect_global(&settings)?;
    let old = {
        let mut global = GLOBAL.lock();
        let global = global.as_mut().ok_or_else(not_initialized)?;
        global.settings = settings;
        global.wamp.replace(wamp.clone())
    };
    if let Some(old) = old {
        old.close()?;
    }
    Ok(wamp)
}

/// A new, independent connection with the global configuration but another user. It
/// does not share the global hooks.
///
/// ```no_run
/// izaber_wamp::initialize()?;
/// let service = izaber_wamp::spawn_connection("service-account", "its password")?;
/// service.publish("service.started", ())?; // under uri_base, as the global one
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
///
/// # Errors
///
/// As [`change_user`].
pub fn spawn_connection(username: &str, password: &str) -> Result<Wamp> {
    Wamp::connect(&with_user(&settings()?, username, password))
}

/// Runs `hook` after every join and rejoin of the global connection, once its
/// registrations and subscriptions are restored. May be called before [`initialize`].
///
/// ```no_run
/// izaber_wamp::on_join(|wamp, session| {
///     println!("joined as {:?}", session.authid);
///     let _ = wamp.publish("service.started", ());
/// });
/// izaber_wamp::initialize()?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
pub fn on_join(hook: impl Fn(&Wamp, &SessionInfo) + Send + Sync + 'static) {
    global_hooks().on_join(move |client, session| hook(&as_global(client), session));
}

/// Runs `hook` when a session of the global connection ends, with the reason.
pub fn on_leave(hook: impl Fn(&Wamp, &Error) + Send + Sync + 'static) {
    global_hooks().on_leave(move |client, why| hook(&as_global(client), why));
}

/// Runs `hook` when the global connection to the router is lost.
pub fn on_disconnect(hook: impl Fn(&Wamp) + Send + Sync + 'static) {
    global_hooks().on_disconnect(move |client| hook(&as_global(client)));
}

fn not_initialized() -> Error {
    Error::NotConnected("izaber_wamp::initialize() has not been called".into())
}

fn settings() -> Result<ConnectionSettings> {
    GLOBAL
        .lock()
        .as_ref()
        .map(|g| g.settings.clone())
        .ok_or_else(not_initialized)
}

fn with_user(settings: &ConnectionSettings, username: &str, password: &str) -> ConnectionSettings {
    let mut settings = settings.clone();
    settings.username = Some(username.to_owned());
    settings.authid = None;
    settings.password = Some(Secret::new(password));
    settings
}

fn connect_global(settings: &ConnectionSettings) -> Result<Wamp> {
    *GLOBAL_URI_BASE.lock() = settings.uri_base.clone();
    Wamp::connect_with_hooks(settings, global_hooks().clone())
}

/// The global facade around a client handed to a hook.
fn as_global(client: &Client) -> Wamp {
    Wamp::new(client.clone(), &GLOBAL_URI_BASE.lock())
}
