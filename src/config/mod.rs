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
// over `default:`, the `Reader` below reads `wamp:` into the types below, and
// `client_config` turns the connection settings into a `ClientConfig`.
mod client_config;
mod merge;
mod secret;
mod sources;

pub use secret::Secret;

use crate::error::{Error, Result};
use crate::proto::codec::Serializer;
use crate::proto::value::{Dict, Value};
use serde_norway::{Mapping, Value as Yaml};
use std::collections::BTreeMap;
use std::fmt;
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
#[derive(Debug, Clone, Default)]
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
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Router URL (default `wss://nexus.izaber.com/ws`).
    pub url: String,
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
}

impl Default for ConnectionSettings {
    /// The defaults of every key, as documented on each field.
    fn default() -> Self {
        ConnectionSettings {
            url: "wss://nexus.izaber.com/ws".into(),
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
    let mut reader = Reader {
        source: &document.source,
        warnings: Vec::new(),
    };
    let wamp = reader.wamp(merged.get("wamp"))?;
    let warnings = reader.warnings;
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

/// The keys of `wamp:`.
const WAMP_KEYS: &[&str] = &["run", "connection"];

/// The keys of `wamp.connection:`, aliases included.
const CONNECTION_KEYS: &[&str] = &[
    "url",
    "realm",
    "username",
    "authid",
    "password",
    "secret",
    "authmethods",
    "authextra",
    "private_key",
    "private_key_file",
    "serializer",
    "serializers",
    "uri_base",
    "timeout",
    "connect_timeout",
    "auto_reconnect",
    "reconnect_initial_delay",
    "reconnect_max_delay",
    "reconnect_multiplier",
    "reconnect_max_attempts",
    "ping_interval",
    "pong_timeout",
    "heartbeat_timeout",
    "wait_while_reconnecting",
    "offline_publish_buffer",
    "max_payload_size",
    "agent",
    "ca_file",
    "client_cert",
    "client_key",
    "verify_tls",
];

/// Keys Python izaber/swampyer accepted that have no meaning here.
const IGNORED_CONNECTION_KEYS: &[&str] = &[
    "loop_timeout",
    "sslopt",
    "sockopt",
    "concurrency_max",
    "concurrency_queue_max",
    "concurrency_configs",
    "concurrency_class",
    "concurrency_strict_naming",
];

/// Reads the merged `wamp:` section, collecting warnings.
struct Reader<'a> {
    source: &'a str,
    warnings: Vec<String>,
}

/// One present, non-null key of a section: its full path and value.
struct Entry<'v> {
    path: String,
    value: &'v Yaml,
}

impl<'a> Reader<'a> {
    fn error(&self, path: &str, message: impl fmt::Display) -> Error {
        Error::Config(format!("{}: {path}: {message}", self.source))
    }

    /// The known, non-null keys of `map` (at `path`); warns about the others.
    fn entries<'v>(
        &mut self,
        path: &str,
        map: &'v Mapping,
        known: &[&str],
        ignored: &[&str],
    ) -> BTreeMap<&'v str, Entry<'v>> {
        let mut entries = BTreeMap::new();
        for (key, value) in map {
            let name = key.as_str();
            match name {
                Some(name) if known.contains(&name) => {
                    if !value.is_null() {
                        let path = format!("{path}.{name}");
                        entries.insert(name, Entry { path, value });
                    }
                }
                Some(name) if ignored.contains(&name) => {
                    let hint = if name == "sslopt" {
                        "; use verify_tls, ca_file, client_cert and client_key"
                    } else {
                        ""
                    };
                    self.warnings.push(format!(
                        "key {path}.{name} in {} is not used by izaber-wamp (ignored{hint})",
                        self.source
                    ));
                }
                _ => {
                    let rendered = render_key(key);
                    let hint = match name.and_then(|n| suggest(n, known)) {
                        Some(s) => format!("; did you mean {s}?"),
                        None => String::new(),
                    };
                    self.warnings.push(format!(
                        "unknown key {path}.{rendered} in {} (ignored{hint})",
                        self.source
                    ));
                }
            }
        }
        entries
    }

    fn wamp(&mut self, section: Option<&Yaml>) -> Result<WampSettings> {
        let map = match section {
            None | Some(Yaml::Null) => return Ok(WampSettings::default()),
            Some(Yaml::Mapping(map)) => map,
            Some(other) => {
                return Err(self.error("wamp", format!("expected a map, found {}", describe(other))))
            }
        };
        let entries = self.entries("wamp", map, WAMP_KEYS, &[]);
        let mut wamp = WampSettings::default();
        if let Some(e) = entries.get("run") {
            wamp.run = self.boolean(e, true)?;
        }
        if let Some(e) = entries.get("connection") {
            match e.value {
                Yaml::Mapping(map) => wamp.connection = self.connection(map)?,
                other => {
                    return Err(self.error(
                        &e.path,
                        format!("expected a map, found {}", describe(other)),
                    ))
                }
            }
        }
        Ok(wamp)
    }

    fn connection(&mut self, map: &Mapping) -> Result<ConnectionSettings> {
        let entries = self.entries(
            "wamp.connection",
            map,
            CONNECTION_KEYS,
            IGNORED_CONNECTION_KEYS,
        );
        let get = |name: &str| entries.get(name);
        let either = |name: &str, alias: &str| -> Result<Option<&Entry>> {
            match (entries.get(name), entries.get(alias)) {
                (Some(a), Some(b)) => Err(Error::Config(format!(
                    "{}: {} and {} are both set (they are the same setting); keep one",
                    self.source, a.path, b.path
                ))),
                (a, b) => Ok(a.or(b)),
            }
        };
        let mut c = ConnectionSettings::default();

        if let Some(e) = get("url") {
            c.url = self.string(e)?;
            if c.url.is_empty() {
                return Err(self.error(&e.path, "must not be empty"));
            }
        }
        if let Some(e) = get("realm") {
            c.realm = self.string(e)?;
            if c.realm.is_empty() {
                return Err(self.error(&e.path, "must not be empty"));
            }
        }
        if let Some(e) = get("username") {
            c.username = Some(self.string(e)?);
        }
        c.authid = match get("authid") {
            Some(e) => Some(self.string(e)?),
            None => c.username.clone(),
        };
        if let Some(e) = either("password", "secret")? {
            c.password = Some(self.secret(e)?);
        }
        if let Some(e) = get("authmethods") {
            c.authmethods = self.string_list(e)?;
        }
        if let Some(e) = get("authextra") {
            c.authextra = match self.value(&e.path, e.value)? {
                Value::Dict(d) => d,
                _ => {
                    return Err(self.error(
                        &e.path,
                        format!("expected a map, found {}", describe(e.value)),
                    ))
                }
            };
        }
        if let Some(e) = get("private_key") {
            c.private_key = Some(self.secret(e)?);
        }
        if let Some(e) = get("private_key_file") {
            c.private_key_file = Some(self.path(e)?);
        }
        if let Some(e) = either("serializers", "serializer")? {
            c.serializers = self.serializers(e)?;
        }
        if let Some(e) = get("uri_base") {
            c.uri_base = self.string(e)?;
        }
        if let Some(e) = get("timeout") {
            c.timeout = self.positive_seconds(e)?;
        }
        if let Some(e) = get("connect_timeout") {
            c.connect_timeout = self.positive_seconds(e)?;
        }
        if let Some(e) = get("auto_reconnect") {
            c.auto_reconnect = self.boolean(e, true)?;
        }
        if let Some(e) = get("reconnect_initial_delay") {
            c.reconnect_initial_delay = self.seconds(e)?;
        }
        if let Some(e) = get("reconnect_max_delay") {
            c.reconnect_max_delay = self.seconds(e)?;
            if c.reconnect_max_delay < c.reconnect_initial_delay {
                return Err(self.error(
                    &e.path,
                    format!(
                        "must not be shorter than reconnect_initial_delay ({:?})",
                        c.reconnect_initial_delay
                    ),
                ));
            }
        } else if c.reconnect_initial_delay > c.reconnect_max_delay {
            c.reconnect_max_delay = c.reconnect_initial_delay;
        }
        if let Some(e) = get("reconnect_multiplier") {
            let m = self.number(e, "a number")?;
            if !(1.0..=1000.0).contains(&m) {
                return Err(self.error(
                    &e.path,
                    format!("expected a number from 1 to 1000, found {m}"),
                ));
            }
            c.reconnect_multiplier = m;
        }
        if let Some(e) = get("reconnect_max_attempts") {
            let n = self.whole(e)?;
            c.reconnect_max_attempts = Some(u32::try_from(n).map_err(|_| {
                self.error(&e.path, format!("expected at most {}, found {n}", u32::MAX))
            })?);
        }
        if let Some(e) = get("ping_interval") {
            c.ping_interval = match e.value {
                Yaml::Bool(false) => None,
                _ => Some(self.seconds(e)?).filter(|d| !d.is_zero()),
            };
        }
        if let Some(e) = either("pong_timeout", "heartbeat_timeout")? {
            c.pong_timeout = self.positive_seconds(e)?;
        }
        if let Some(e) = get("wait_while_reconnecting") {
            c.wait_while_reconnecting = self.boolean(e, false)?;
        }
        if let Some(e) = get("offline_publish_buffer") {
            c.offline_publish_buffer = self.usize(e)?;
        }
        if let Some(e) = get("max_payload_size") {
            c.max_payload_size = self.usize(e)?;
            if c.max_payload_size == 0 {
                return Err(self.error(&e.path, "must be greater than 0"));
            }
        }
        if let Some(e) = get("agent") {
            c.agent = Some(self.string(e)?);
        }
        if let Some(e) = get("ca_file") {
            c.ca_file = Some(self.path(e)?);
        }
        if let Some(e) = get("client_cert") {
            c.client_cert = Some(self.path(e)?);
        }
        if let Some(e) = get("client_key") {
            c.client_key = Some(self.path(e)?);
        }
        if let Some(e) = get("verify_tls") {
            c.verify_tls = self.boolean(e, false)?;
        }
        Ok(c)
    }

    fn string(&self, e: &Entry) -> Result<String> {
        match e.value {
            Yaml::String(s) => Ok(s.clone()),
            Yaml::Number(_) | Yaml::Bool(_) => Err(self.error(
                &e.path,
                format!(
                    "expected a string, found {} (put it in quotes)",
                    describe(e.value)
                ),
            )),
            other => Err(self.error(
                &e.path,
                format!("expected a string, found {}", describe(other)),
            )),
        }
    }

    /// Like [`Reader::string`], but never shows the value.
    fn secret(&self, e: &Entry) -> Result<Secret> {
        match e.value {
            Yaml::String(s) => Ok(Secret::new(s.clone())),
            Yaml::Number(_) | Yaml::Bool(_) => Err(self.error(
                &e.path,
                format!(
                    "expected a string, found {} (put it in quotes)",
                    kind(e.value)
                ),
            )),
            other => Err(self.error(&e.path, format!("expected a string, found {}", kind(other)))),
        }
    }

    fn path(&self, e: &Entry) -> Result<PathBuf> {
        let s = self.string(e)?;
        if s.is_empty() {
            return Err(self.error(&e.path, "expected a file path, found an empty string"));
        }
        Ok(PathBuf::from(s))
    }

    /// A string or a list of strings.
    fn string_list(&self, e: &Entry) -> Result<Vec<String>> {
        match e.value {
            Yaml::String(s) => Ok(vec![s.clone()]),
            Yaml::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Yaml::String(s) => Ok(s.clone()),
                    other => Err(self.error(
                        &format!("{}[{i}]", e.path),
                        format!("expected a string, found {}", describe(other)),
                    )),
                })
                .collect(),
            other => Err(self.error(
                &e.path,
                format!("expected a list of strings, found {}", describe(other)),
            )),
        }
    }

    fn serializers(&self, e: &Entry) -> Result<Vec<Serializer>> {
        let names = self.string_list(e)?;
        if names.is_empty() {
            return Err(self.error(&e.path, "expected at least one serializer"));
        }
        names
            .iter()
            .map(|name| {
                name.trim()
                    .to_ascii_lowercase()
                    .parse::<Serializer>()
                    .map_err(|_| {
                        self.error(
                            &e.path,
                            format!("unknown serializer {name:?} (expected json, msgpack or cbor)"),
                        )
                    })
            })
            .collect()
    }

    /// A boolean; with `int`, also an integer (0 is false) as Python's truthiness.
    /// YAML 1.1 words (`yes`, `no`, `on`, `off`) are accepted as PyYAML does.
    fn boolean(&self, e: &Entry, int: bool) -> Result<bool> {
        match e.value {
            Yaml::Bool(b) => return Ok(*b),
            Yaml::Number(n) if int => {
                if let Some(i) = n.as_i64() {
                    return Ok(i != 0);
                }
                if n.as_u64().is_some() {
                    return Ok(true);
                }
            }
            Yaml::String(s) => match s.as_str() {
                "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On"
                | "ON" => return Ok(true),
                "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
                | "OFF" => return Ok(false),
                _ => {}
            },
            _ => {}
        }
        let expected = if int {
            "true, false or an integer"
        } else {
            "true or false"
        };
        Err(self.error(
            &e.path,
            format!("expected {expected}, found {}", describe(e.value)),
        ))
    }

    /// A finite number (integer or float).
    fn number(&self, e: &Entry, expected: &str) -> Result<f64> {
        match e.value {
            Yaml::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(f),
                _ => Err(self.error(&e.path, format!("expected {expected}, found {n}"))),
            },
            other => Err(self.error(
                &e.path,
                format!("expected {expected}, found {}", describe(other)),
            )),
        }
    }

    /// Seconds, integer or float, not negative.
    fn seconds(&self, e: &Entry) -> Result<Duration> {
        let secs = self.number(e, "a number of seconds")?;
        if secs < 0.0 {
            return Err(self.error(
                &e.path,
                format!("expected a number of seconds, found {secs} (negative)"),
            ));
        }
        Duration::try_from_secs_f64(secs).map_err(|_| {
            self.error(
                &e.path,
                format!("expected a number of seconds, found {secs} (too large)"),
            )
        })
    }

    /// Seconds, greater than zero.
    fn positive_seconds(&self, e: &Entry) -> Result<Duration> {
        let d = self.seconds(e)?;
        if d.is_zero() {
            return Err(self.error(&e.path, "must be greater than 0 seconds"));
        }
        Ok(d)
    }

    /// A whole number ≥ 0; digits with `_` separators are accepted (YAML 1.1).
    fn whole(&self, e: &Entry) -> Result<u64> {
        let found = match e.value {
            Yaml::Number(n) => {
                if let Some(u) = n.as_u64() {
                    return Ok(u);
                }
                n.to_string()
            }
            Yaml::String(s) => {
                let digits: String = s.chars().filter(|&c| c != '_').collect();
                let yaml11 = !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && s.starts_with(|c: char| c.is_ascii_digit());
                if yaml11 {
                    if let Ok(u) = digits.parse::<u64>() {
                        return Ok(u);
                    }
                }
                format!("{s:?}")
            }
            other => describe(other),
        };
        Err(self.error(
            &e.path,
            format!("expected a whole number (0 or more), found {found}"),
        ))
    }

    fn usize(&self, e: &Entry) -> Result<usize> {
        let n = self.whole(e)?;
        usize::try_from(n).map_err(|_| self.error(&e.path, format!("{n} is too large")))
    }

    /// Any YAML value as a WAMP value (maps need string keys).
    fn value(&self, path: &str, yaml: &Yaml) -> Result<Value> {
        Ok(match yaml {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Sequence(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.value(&format!("{path}[{i}]"), item))
                    .collect::<Result<_>>()?,
            ),
            Yaml::Mapping(map) => {
                let mut dict = Dict::new();
                for (key, item) in map {
                    let Some(name) = key.as_str() else {
                        return Err(self.error(
                            path,
                            format!("expected string keys, found the key {}", describe(key)),
                        ));
                    };
                    dict.insert(
                        name.to_string(),
                        self.value(&format!("{path}.{name}"), item)?,
                    );
                }
                Value::Dict(dict)
            }
            Yaml::Tagged(tagged) => {
                return Err(self.error(
                    path,
                    format!("YAML tags are not supported, found {}", tagged.tag),
                ))
            }
        })
    }
}

/// A short description of a value for error messages: strings quoted, numbers and
/// booleans as is, collections by kind.
pub(super) fn describe(value: &Yaml) -> String {
    match value {
        Yaml::Null => "nothing (null)".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => format!("{s:?}"),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a map".into(),
        Yaml::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

/// The kind of a value, without the value (for secrets).
fn kind(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "nothing (null)",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a map",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// A map key as written: strings bare, other scalars as is.
pub(super) fn render_key(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        other => describe(other),
    }
}

/// The known key closest to a misspelt one, if any is close.
fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
