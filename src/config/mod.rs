//! Loading `izaber.yaml`, the configuration file of Zaber's Python `izaber` tools.
//!
//! [`load`] finds the file the way Python izaber does, picks an environment, merges it
//! over `default:` and reads the `wamp:` section into [`WampSettings`]:
//!
//! ```yaml
//! default:
//!   wamp:
//!     connection:
//!       url: wss://nexus.izaber.com/ws
//!       username: alice
//!       password: secret
//! dev:
//!   wamp:
//!     connection:
//!       url: ws://127.0.0.1:18080
//! ```
//!
//! `izaber.yaml.example` at the root of the repository lists every key with its
//! default.
//!
//! Differences from Python izaber, all deliberate:
//!
//! * Nothing is created on disk (Python creates the first search directory when no
//!   file is found).
//! * `username` has no default (Python's is `anonymous`, with password `changeme`):
//!   with the default `authmethods: [ticket]` and neither `username`, `authid` nor
//!   `password` set, [`ConnectionSettings::to_client_config`] logs in anonymously.
//! * Unknown keys under `wamp:` and `wamp.connection:` are reported as
//!   [`IzaberConfig::warnings`] instead of being silently dropped; wrong types are
//!   errors that name the file and the key.
//! * Secrets ([`Secret`]) never appear in `Debug` output, errors or warnings.
//! * The YAML is parsed as YAML 1.2; for compatibility with PyYAML's YAML 1.1, the
//!   boolean settings also accept `yes`/`no`/`on`/`off` and the whole-number
//!   settings also accept digits with `_` separators (`50_000_000`).
//! * A `null` (empty) value means "not set": the default applies.

// A load goes: `sources` finds the text, `merge` selects the environment and merges it
// over `default:`, `settings` reads `wamp:` into the types below (with `values` and
// `collections` for the values, `unknown_keys` for the warnings), and `client_config`
// turns the connection settings into a `ClientConfig`.
mod client_config;
mod collections;
mod merge;
mod secret;
mod settings;
mod sources;
mod unknown_keys;
mod values;

pub use secret::Secret;

use crate::client::Concurrency;
use crate::error::Result;
use crate::proto::codec::Serializer;
use crate::proto::value::Dict;
use std::path::PathBuf;
use std::time::Duration;

/// Where to load from. Default: search the usual places.
///
/// * [`LoadOptions::yaml`]: YAML text, nothing is searched.
/// * [`LoadOptions::file`]: this file, which must exist.
/// * neither: `./izaber.yaml`, `~/izaber.yaml`, `<user data dir>/ZaberConfig/izaber.yaml`
///   (on Linux `~/.local/share/ZaberConfig/izaber.yaml`), then the `IZABER_YAML`
///   environment variable holding the whole YAML text. The first found wins.
///
/// The environment is [`LoadOptions::environment`], else the `IZABER_ENVIRONMENT`
/// environment variable, else `default`.
///
/// ```
/// use izaber_wamp::config::{load, LoadOptions};
///
/// let path = std::env::temp_dir().join(format!("izaber-doc-{}.yaml", std::process::id()));
/// std::fs::write(
///     &path,
///     "default: {wamp: {connection: {realm: test}}}\nprod: {wamp: {connection: {realm: live}}}\n",
/// )?;
/// let config = load(&LoadOptions::file(&path).environment("prod"))?;
/// assert_eq!(config.wamp.connection.realm, "live");
/// assert_eq!(config.source, path.display().to_string());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// YAML text to use instead of any file. Wins over `file`.
    pub yaml: Option<String>,
    /// The file to load instead of searching. It must exist.
    pub file: Option<PathBuf>,
    /// The environment to select (overrides `IZABER_ENVIRONMENT`).
    pub environment: Option<String>,
}

impl LoadOptions {
    /// Loads from this YAML text instead of any file.
    pub fn yaml(text: impl Into<String>) -> Self {
        LoadOptions {
            yaml: Some(text.into()),
            ..LoadOptions::default()
        }
    }

    /// Loads this file instead of searching; it must exist.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        LoadOptions {
            file: Some(path.into()),
            ..LoadOptions::default()
        }
    }

    /// Selects this environment (overrides `IZABER_ENVIRONMENT`).
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self
    }
}

/// A loaded `izaber.yaml`: the `wamp:` settings of the selected environment.
///
/// ```
/// use izaber_wamp::config::{load, LoadOptions};
///
/// let yaml = "default: {wamp: {connection: {realm: test, colour: blue}}}";
/// let config = load(&LoadOptions::yaml(yaml).environment("default"))?;
/// assert_eq!((config.source.as_str(), config.environment.as_str()), ("YAML text", "default"));
/// assert_eq!(config.wamp.connection.realm, "test");
/// assert_eq!(config.warnings.len(), 1); // colour is not a setting
/// assert!(config.warnings[0].contains("wamp.connection.colour"));
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IzaberConfig {
    /// Where it came from: the file path, `IZABER_YAML` or `YAML text`.
    pub source: String,
    /// The selected environment (`default` unless another was asked for).
    pub environment: String,
    /// The `wamp:` section, merged and with defaults filled in.
    pub wamp: WampSettings,
    /// One line per unknown or ignored key under `wamp:` or `wamp.connection:`,
    /// naming the full key path and the source. Each is also logged with `log::warn!`.
    pub warnings: Vec<String>,
}

/// The `wamp:` section.
///
/// ```
/// use izaber_wamp::config::{load, LoadOptions, WampSettings};
///
/// assert!(WampSettings::default().run);
/// let config = load(&LoadOptions::yaml("default: {wamp: {run: false}}").environment("default"))?;
/// assert!(!config.wamp.run);
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WampSettings {
    /// `wamp.run`: start the connection at once (default `true`).
    pub run: bool,
    /// `wamp.connection`: how to reach and log in to the router.
    pub connection: ConnectionSettings,
}

impl Default for WampSettings {
    fn default() -> Self {
        WampSettings {
            run: true,
            connection: ConnectionSettings::default(),
        }
    }
}

/// The `wamp.connection:` section. Each field is the YAML key of the same name.
///
/// `Debug` shows secrets as `<redacted>`.
///
/// ```
/// use izaber_wamp::config::{ConnectionSettings, Secret};
///
/// let mut settings = ConnectionSettings::default();
/// assert_eq!(settings.url, "wss://nexus.izaber.com/ws");
/// settings.url = "ws://127.0.0.1:8080/ws".into();
/// settings.username = Some("alice".into());
/// settings.password = Some(Secret::new("hunter2"));
/// assert!(!format!("{settings:?}").contains("hunter2"));
///
/// let config = settings.to_client_config()?; // ticket login as alice
/// assert_eq!(config.url, "ws://127.0.0.1:8080/ws");
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionSettings {
    /// Router URL (default `wss://nexus.izaber.com/ws`). In YAML `url:` may also be a
    /// list of the routers of a cluster: the first is this one, the others go to
    /// `failover_urls`.
    pub url: String,
    /// More routers to fail over to, tried in turn after `url` (default none).
    pub failover_urls: Vec<String>,
    /// Realm to join (default `izaber`).
    pub realm: String,
    /// User name to log in as (default none; Python's `anonymous` is not copied).
    pub username: Option<String>,
    /// The WAMP authid (default: `username`).
    pub authid: Option<String>,
    /// The ticket or WAMP-CRA secret; the key `secret` is an alias.
    pub password: Option<Secret>,
    /// Authentication methods to offer, in order: `ticket`, `wampcra`, `cryptosign`,
    /// `anonymous` (default `[ticket]`).
    pub authmethods: Vec<String>,
    /// Extra details sent with HELLO (default empty).
    pub authextra: Dict,
    /// Cryptosign private key: the 32-byte Ed25519 seed as 64 hex characters.
    pub private_key: Option<Secret>,
    /// A file holding the cryptosign private key: the hex seed, or an unencrypted
    /// OpenSSH ed25519 private key. A leading `~/` means the home directory.
    pub private_key_file: Option<PathBuf>,
    /// Serializers to offer, most preferred first (default `[cbor, msgpack, json]`).
    /// YAML: `serializers: [..]`, or `serializer: cbor` for a single one. Every name
    /// is accepted in every build; those not compiled in are skipped when connecting
    /// (see [`ClientConfig::serializers`](crate::ClientConfig::serializers)).
    pub serializers: Vec<Serializer>,
    /// Prefix of the Nexus convenience URIs (default `com.izaber.wamp`; `""`: none).
    pub uri_base: String,
    /// Default timeout of every request (default 300 s).
    pub timeout: Duration,
    /// How long connecting and joining may take (default 30 s).
    pub connect_timeout: Duration,
    /// Reconnect after the connection is lost (default `true`; `0`/`1` accepted).
    pub auto_reconnect: bool,
    /// Wait before the first reconnect attempt (default 1 s).
    pub reconnect_initial_delay: Duration,
    /// Longest wait between reconnect attempts (default 30 s).
    pub reconnect_max_delay: Duration,
    /// Factor by which the wait grows after each failed attempt (default 2.0).
    pub reconnect_multiplier: f64,
    /// Give up after this many failed attempts (default: never).
    pub reconnect_max_attempts: Option<u32>,
    /// Interval of WebSocket pings (default 3 s; `0` or `false`: no pings).
    pub ping_interval: Option<Duration>,
    /// The connection is considered dead when a pong is this late (default 10 s);
    /// the key `heartbeat_timeout` is an alias.
    pub pong_timeout: Duration,
    /// Requests made during an outage wait for the rejoin, up to their timeout
    /// (default `true`); `false`: they fail at once.
    pub wait_while_reconnecting: bool,
    /// Most publishes kept during an outage and sent after the rejoin (default 0: none).
    pub offline_publish_buffer: usize,
    /// Largest message sent or accepted, in bytes (default 16 MiB).
    pub max_payload_size: usize,
    /// The `agent` string sent in HELLO (default: the library's own).
    pub agent: Option<String>,
    /// Extra CA certificates (PEM) to trust for `wss://` and `tcpips://`.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for TLS client authentication.
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Verify the router's TLS certificate (default `true`).
    pub verify_tls: bool,
    /// izaber's concurrency queues: `concurrency_max`, `concurrency_queue_max`,
    /// `concurrency_configs` (per queue: `concurrency_max`, `queue_max`) and
    /// `concurrency_strict_naming` (default: no limits, strict naming).
    pub concurrency: Concurrency,
}

impl Default for ConnectionSettings {
    /// The defaults of every key, as documented on each field.
    fn default() -> Self {
        ConnectionSettings {
            url: "wss://nexus.izaber.com/ws".into(),
            failover_urls: Vec::new(),
            concurrency: Concurrency::default(),
            realm: "izaber".into(),
            username: None,
            authid: None,
            password: None,
            authmethods: vec!["ticket".into()],
            authextra: Dict::new(),
            private_key: None,
            private_key_file: None,
            serializers: Serializer::ALL.to_vec(),
            uri_base: "com.izaber.wamp".into(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            auto_reconnect: true,
            reconnect_initial_delay: Duration::from_secs(1),
            reconnect_max_delay: Duration::from_secs(30),
            reconnect_multiplier: 2.0,
            reconnect_max_attempts: None,
            ping_interval: Some(Duration::from_secs(3)),
            pong_timeout: Duration::from_secs(10),
            wait_while_reconnecting: true,
            offline_publish_buffer: 0,
            max_payload_size: 16 * 1024 * 1024,
            agent: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            verify_tls: true,
        }
    }
}

/// Loads `izaber.yaml` as described on [`LoadOptions`], selects the environment,
/// merges it over `default:` and reads the `wamp:` section.
///
/// Environments merge deeply: maps merge key by key, while scalars and lists
/// replace; an empty (null) section changes nothing. `default:` may be missing if the
/// selected environment exists.
///
/// Errors name the source (the file path, `IZABER_YAML` or `YAML text`), the line of a
/// YAML syntax error and the key path of a bad value, e.g.
/// `configuration error: /x/izaber.yaml: wamp.connection.timeout: expected a number of
/// seconds, found "soon"`.
///
/// ```
/// use izaber_wamp::config::{load, LoadOptions};
/// use std::time::Duration;
///
/// let yaml = r#"
/// default:
///   wamp:
///     connection:
///       url: wss://nexus.example.com/ws
///       username: alice
///       password: secret
///       timeout: 60
/// dev:
///   wamp:
///     connection:
///       url: ws://127.0.0.1:18080
/// "#;
/// let config = load(&LoadOptions::yaml(yaml).environment("dev"))?;
/// let connection = &config.wamp.connection;
/// assert_eq!(config.source, "YAML text");
/// assert_eq!(connection.url, "ws://127.0.0.1:18080"); // from dev:
/// assert_eq!(connection.username.as_deref(), Some("alice")); // from default:
/// assert_eq!(connection.timeout, Duration::from_secs(60));
/// assert_eq!(connection.realm, "izaber"); // the default
/// assert!(!format!("{connection:?}").contains("secret"));
///
/// let client_config = connection.to_client_config()?;
/// assert_eq!(client_config.url, "ws://127.0.0.1:18080");
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Config`](crate::Error::Config) when no source is found, a file cannot be
/// read, the YAML is invalid, the environment is missing or a value is wrong.
pub fn load(options: &LoadOptions) -> Result<IzaberConfig> {
    load_from(options, &ProcessEnv::current())
}

/// What [`load`] reads from the process: the search directories and the environment
/// variables. Tests pass their own to [`load_from`].
///
/// ```
/// use izaber_wamp::config::{load_from, LoadOptions, ProcessEnv};
///
/// let env = ProcessEnv {
///     izaber_yaml: Some("default: {wamp: {connection: {realm: test}}}".into()),
///     ..ProcessEnv::default()
/// };
/// let config = load_from(&LoadOptions::default(), &env)?;
/// assert_eq!(config.source, "IZABER_YAML");
/// assert_eq!(config.wamp.connection.realm, "test");
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct ProcessEnv {
    /// The working directory (`./izaber.yaml`); relative `LoadOptions::file` paths
    /// are resolved against it.
    pub cwd: Option<PathBuf>,
    /// The home directory (`~/izaber.yaml`).
    pub home: Option<PathBuf>,
    /// The directory holding the user-data `izaber.yaml`, `ZaberConfig` included
    /// (on Linux `~/.local/share/ZaberConfig`).
    pub data_dir: Option<PathBuf>,
    /// The value of `IZABER_YAML`.
    pub izaber_yaml: Option<String>,
    /// The value of `IZABER_ENVIRONMENT`.
    pub izaber_environment: Option<String>,
}

impl ProcessEnv {
    /// The real values of this process.
    pub fn current() -> Self {
        ProcessEnv {
            cwd: std::env::current_dir().ok(),
            home: dirs::home_dir(),
            data_dir: sources::zaber_data_dir(),
            izaber_yaml: std::env::var(sources::ENV_YAML).ok(),
            izaber_environment: std::env::var(merge::ENV_ENVIRONMENT).ok(),
        }
    }
}

/// [`load`] with explicit search directories and environment variables.
///
/// # Errors
///
/// As [`load`].
#[doc(hidden)]
pub fn load_from(options: &LoadOptions, env: &ProcessEnv) -> Result<IzaberConfig> {
    let document = sources::find(options, env)?;
    let selected = merge::Selected::choose(options, env);
    let merged = merge::environment(&document, &selected)?;
    let (wamp, warnings) = settings::read(&document.source, &merged)?;
    for warning in &warnings {
        log::warn!("{warning}");
    }
    Ok(IzaberConfig {
        source: document.source,
        environment: selected.name,
        wamp,
        warnings,
    })
}
