//! The typed reading of the `wamp:` and `wamp.connection:` sections of the merged
//! environment.
//!
//! Each section is a derived struct whose fields are the YAML keys, each `None` until
//! set; the [`values`](super::values) helpers say what each key takes. serde_ignored
//! collects the keys no field reads (the warnings), and serde_path_to_error names the
//! key of a bad value (`wamp.connection.timeout`). The defaults, the aliases and the
//! checks across keys are applied after, by `resolve`.

use super::collections;
use super::unknown_keys::{self, field_names, CONNECTION};
use super::values::{self, describe, render_key};
use super::{ConnectionSettings, Secret, WampSettings};
use crate::client::{Concurrency, QueueConfig};
use crate::error::{Error, Result};
use crate::proto::codec::Serializer;
use crate::proto::value::Dict;
use serde::Deserialize;
use serde_norway::{Mapping, Value as Yaml};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

/// Reads the `wamp:` section of the merged environment `env` (from `source`): the
/// settings, and one warning per key no setting reads.
pub(super) fn read(source: &str, env: &Mapping) -> Result<(WampSettings, Vec<String>)> {
    let mut wamp = env.get("wamp").cloned().unwrap_or(Yaml::Null);
    prepare_sections(source, &mut wamp)?;
    // Only `wamp:`: the other keys of an environment belong to other tools (`logging:`).
    let root = Yaml::Mapping(Mapping::from_iter([("wamp".into(), wamp)]));
    let mut warnings = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| {
        if let Some((section, key)) = unknown_keys::split(&path) {
            let known = known_keys(&section);
            warnings.push(unknown_keys::warning(source, &section, &key, known));
        }
    };
    let raw: Root =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&root, &mut note))
            .map_err(|e| error(source, e.path(), e.inner()))?;
    let settings = raw.wamp.resolve(source)?;
    Ok((settings, warnings))
}

/// The configuration error for the key at `path`.
fn error(source: &str, path: impl Display, message: impl Display) -> Error {
    Error::Config(format!("{source}: {path}: {message}"))
}

/// The keys of a section read into a struct, for the "did you mean" of a warning.
fn known_keys(section: &str) -> &'static [&'static str] {
    match section {
        "wamp" => field_names::<RawWamp>(),
        CONNECTION => field_names::<RawConnection>(),
        _ => &[],
    }
}

/// Checks that `wamp:` and `wamp.connection:` are maps (null: empty) and turns their
/// non-string keys into strings, before serde sees them. A derived struct would refuse
/// a list in serde's words ("invalid type: sequence, expected struct"), read a tagged
/// map as if untagged, and fail on a non-string key (`7: seven`), which here is an
/// unknown key like any other.
fn prepare_sections(source: &str, wamp: &mut Yaml) -> Result<()> {
    let Some(map) = section_map(source, "wamp", wamp)? else {
        return Ok(());
    };
    string_keys(map);
    if let Some(connection) = map.get_mut("connection") {
        if let Some(map) = section_map(source, CONNECTION, connection)? {
            string_keys(map);
        }
    }
    Ok(())
}

/// The map of a section at `path`; `None` when empty (null).
fn section_map<'v>(
    source: &str,
    path: &str,
    value: &'v mut Yaml,
) -> Result<Option<&'v mut Mapping>> {
    match value {
        Yaml::Null => Ok(None),
        Yaml::Mapping(map) => Ok(Some(map)),
        other => Err(error(
            source,
            path,
            format!("expected a map, found {}", describe(other)),
        )),
    }
}

/// Replaces each key that is not a string by its text, as the warning shows it. A
/// tagged string (`!t url`) counts as a string: serde_norway reads it untagged.
fn string_keys(map: &mut Mapping) {
    if map.keys().all(Yaml::is_string) {
        return;
    }
    *map = std::mem::take(map)
        .into_iter()
        .map(|(key, value)| {
            let key = if key.is_string() {
                key
            } else {
                Yaml::String(render_key(&key))
            };
            (key, value)
        })
        .collect();
}

/// The merged environment, as far as it is ours.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Root {
    wamp: RawWamp,
}

/// `wamp:` as written.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawWamp {
    #[serde(deserialize_with = "values::flag_or_int")]
    run: Option<bool>,
    connection: RawConnection,
}

impl RawWamp {
    fn resolve(self, source: &str) -> Result<WampSettings> {
        let defaults = WampSettings::default();
        Ok(WampSettings {
            run: self.run.unwrap_or(defaults.run),
            connection: self.connection.resolve(source)?,
        })
    }
}

/// `wamp.connection:` as written, aliases apart (`secret`, `serializer`,
/// `heartbeat_timeout`) so that setting both names of one setting is an error.
/// The fields are documented on [`ConnectionSettings`].
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawConnection {
    #[serde(deserialize_with = "collections::urls")]
    url: Option<Vec<String>>,
    #[serde(deserialize_with = "values::non_empty_text")]
    realm: Option<String>,
    #[serde(deserialize_with = "values::text")]
    username: Option<String>,
    #[serde(deserialize_with = "values::text")]
    authid: Option<String>,
    #[serde(deserialize_with = "values::secret")]
    password: Option<Secret>,
    #[serde(deserialize_with = "values::secret")]
    secret: Option<Secret>,
    #[serde(deserialize_with = "collections::string_list")]
    authmethods: Option<Vec<String>>,
    #[serde(deserialize_with = "collections::dict")]
    authextra: Option<Dict>,
    #[serde(deserialize_with = "values::secret")]
    private_key: Option<Secret>,
    #[serde(deserialize_with = "values::path")]
    private_key_file: Option<PathBuf>,
    #[serde(deserialize_with = "collections::serializers")]
    serializers: Option<Vec<Serializer>>,
    #[serde(deserialize_with = "collections::serializers")]
    serializer: Option<Vec<Serializer>>,
    #[serde(deserialize_with = "values::text")]
    uri_base: Option<String>,
    #[serde(deserialize_with = "values::positive_seconds")]
    timeout: Option<Duration>,
    #[serde(deserialize_with = "values::positive_seconds")]
    connect_timeout: Option<Duration>,
    #[serde(deserialize_with = "values::flag_or_int")]
    auto_reconnect: Option<bool>,
    #[serde(deserialize_with = "values::seconds")]
    reconnect_initial_delay: Option<Duration>,
    #[serde(deserialize_with = "values::seconds")]
    reconnect_max_delay: Option<Duration>,
    #[serde(deserialize_with = "values::multiplier")]
    reconnect_multiplier: Option<f64>,
    #[serde(deserialize_with = "values::count_u32")]
    reconnect_max_attempts: Option<u32>,
    /// `Some(None)`: set to `0` or `false`, no pings.
    #[serde(deserialize_with = "values::interval")]
    ping_interval: Option<Option<Duration>>,
    #[serde(deserialize_with = "values::positive_seconds")]
    pong_timeout: Option<Duration>,
    #[serde(deserialize_with = "values::positive_seconds")]
    heartbeat_timeout: Option<Duration>,
    #[serde(deserialize_with = "values::flag")]
    wait_while_reconnecting: Option<bool>,
    #[serde(deserialize_with = "values::count")]
    offline_publish_buffer: Option<usize>,
    #[serde(deserialize_with = "values::positive_count")]
    max_payload_size: Option<usize>,
    #[serde(deserialize_with = "values::text")]
    agent: Option<String>,
    #[serde(deserialize_with = "values::path")]
    ca_file: Option<PathBuf>,
    #[serde(deserialize_with = "values::path")]
    client_cert: Option<PathBuf>,
    #[serde(deserialize_with = "values::path")]
    client_key: Option<PathBuf>,
    #[serde(deserialize_with = "values::flag")]
    verify_tls: Option<bool>,
    #[serde(deserialize_with = "values::count")]
    concurrency_max: Option<usize>,
    #[serde(deserialize_with = "values::count")]
    concurrency_queue_max: Option<usize>,
    concurrency_configs: Option<BTreeMap<String, Option<RawQueueConfig>>>,
    #[serde(deserialize_with = "values::flag")]
    concurrency_strict_naming: Option<bool>,
}

/// One queue of `wamp.connection.concurrency_configs:`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawQueueConfig {
    #[serde(deserialize_with = "values::count")]
    concurrency_max: Option<usize>,
    #[serde(deserialize_with = "values::count")]
    queue_max: Option<usize>,
}

impl RawConnection {
    /// The settings: what is set, else the default.
    fn resolve(self, source: &str) -> Result<ConnectionSettings> {
        let d = ConnectionSettings::default();
        let concurrency = self.concurrency();
        let password = one_of(source, ("password", self.password), ("secret", self.secret))?;
        let serializers = one_of(
            source,
            ("serializers", self.serializers),
            ("serializer", self.serializer),
        )?;
        let pong_timeout = one_of(
            source,
            ("pong_timeout", self.pong_timeout),
            ("heartbeat_timeout", self.heartbeat_timeout),
        )?;
        let (reconnect_initial_delay, reconnect_max_delay) = reconnect_delays(
            source,
            self.reconnect_initial_delay
                .unwrap_or(d.reconnect_initial_delay),
            self.reconnect_max_delay,
            d.reconnect_max_delay,
        )?;
        let mut urls = self.url.unwrap_or_else(|| vec![d.url.clone()]).into_iter();
        Ok(ConnectionSettings {
            url: urls.next().unwrap_or(d.url),
            failover_urls: urls.collect(),
            concurrency,
            realm: self.realm.unwrap_or(d.realm),
            // The authid is the user name unless set apart, as in Python izaber.
            authid: self.authid.or_else(|| self.username.clone()),
            username: self.username,
            password,
            authmethods: self.authmethods.unwrap_or(d.authmethods),
            authextra: self.authextra.unwrap_or(d.authextra),
            private_key: self.private_key,
            private_key_file: self.private_key_file,
            serializers: serializers.unwrap_or(d.serializers),
            uri_base: self.uri_base.unwrap_or(d.uri_base),
            timeout: self.timeout.unwrap_or(d.timeout),
            connect_timeout: self.connect_timeout.unwrap_or(d.connect_timeout),
            auto_reconnect: self.auto_reconnect.unwrap_or(d.auto_reconnect),
            reconnect_initial_delay,
            reconnect_max_delay,
            reconnect_multiplier: self.reconnect_multiplier.unwrap_or(d.reconnect_multiplier),
            reconnect_max_attempts: self.reconnect_max_attempts,
            ping_interval: self.ping_interval.unwrap_or(d.ping_interval),
            pong_timeout: pong_timeout.unwrap_or(d.pong_timeout),
            wait_while_reconnecting: self
                .wait_while_reconnecting
                .unwrap_or(d.wait_while_reconnecting),
            offline_publish_buffer: self
                .offline_publish_buffer
                .unwrap_or(d.offline_publish_buffer),
            max_payload_size: self.max_payload_size.unwrap_or(d.max_payload_size),
            agent: self.agent,
            ca_file: self.ca_file,
            client_cert: self.client_cert,
            client_key: self.client_key,
            verify_tls: self.verify_tls.unwrap_or(d.verify_tls),
        })
    }
}

impl RawConnection {
    /// The concurrency queues: the client-level keys, then `concurrency_configs`.
    fn concurrency(&self) -> Concurrency {
        let mut concurrency = Concurrency::default();
        if let Some(max) = self.concurrency_max {
            concurrency.defaults.concurrency_max = max;
        }
        concurrency.defaults.queue_max = self.concurrency_queue_max;
        if let Some(strict) = self.concurrency_strict_naming {
            concurrency.strict_naming = strict;
        }
        for (name, queue) in self.concurrency_configs.iter().flatten() {
            let queue = queue.as_ref();
            let entry = QueueConfig::new(
                queue.and_then(|q| q.concurrency_max),
                queue.and_then(|q| q.queue_max),
            );
            concurrency.queues.insert(name.clone(), entry);
        }
        concurrency
    }
}

/// The value of a setting with two names (`password` and its alias `secret`): either
/// may be set, not both, as it is unclear which one the user meant to win.
fn one_of<T>(
    source: &str,
    (name, value): (&str, Option<T>),
    (alias, alias_value): (&str, Option<T>),
) -> Result<Option<T>> {
    match (value, alias_value) {
        (Some(_), Some(_)) => Err(Error::Config(format!(
            "{source}: {CONNECTION}.{name} and {CONNECTION}.{alias} are both set (they are \
             the same setting); keep one"
        ))),
        (value, alias_value) => Ok(value.or(alias_value)),
    }
}

/// The reconnect back-off bounds. A maximum set below the initial delay is an error; an
/// unset one rises to a larger initial delay, so setting only that one just works.
fn reconnect_delays(
    source: &str,
    initial: Duration,
    max: Option<Duration>,
    default_max: Duration,
) -> Result<(Duration, Duration)> {
    match max {
        Some(max) if max < initial => Err(error(
            source,
            format_args!("{CONNECTION}.reconnect_max_delay"),
            format!("must not be shorter than reconnect_initial_delay ({initial:?})"),
        )),
        Some(max) => Ok((initial, max)),
        None => Ok((initial, default_max.max(initial))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_setting_has_a_key() {
        // The aliases are keys of their own, so both being set can be refused.
        let keys = field_names::<RawConnection>();
        assert_eq!(keys.len(), 35);
        for alias in ["secret", "serializer", "heartbeat_timeout"] {
            assert!(keys.contains(&alias), "{alias}");
        }
        assert_eq!(field_names::<RawWamp>(), ["run", "connection"]);
    }

    #[test]
    fn non_string_keys_become_their_text() {
        let mut map: Mapping =
            serde_norway::from_str("{7: a, true: b, url: c, !t realm: d}").expect("yaml");
        string_keys(&mut map);
        let keys: Vec<&str> = map.keys().filter_map(Yaml::as_str).collect();
        assert_eq!(keys, ["7", "true", "url", "realm"]);
        assert!(
            matches!(map.keys().last(), Some(Yaml::Tagged(_))),
            "kept as is"
        );
    }
}
