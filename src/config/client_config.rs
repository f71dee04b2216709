//! [`ConnectionSettings::to_client_config`]: the settings as the core client's
//! [`ClientConfig`], and the cryptosign key they point to.

use super::ConnectionSettings;
use crate::client::{ClientConfig, ReconnectPolicy};
use crate::error::{Error, Result};
use crate::proto::auth::Cryptosign;
use crate::transport::TlsOptions;
use std::path::{Path, PathBuf};

impl ConnectionSettings {
    /// The core client configuration for these settings, logging in as
    /// `username`/`password` with the configured authmethods.
    ///
    /// Maps `url`, `realm`, `serializers`, `timeout`, `connect_timeout`,
    /// `max_payload_size` (as the maximum message size), `agent`, and `ca_file`,
    /// `client_cert`, `client_key` and `verify_tls` (as [`ClientConfig::tls`]), and
    /// `authextra` (as [`ClientConfig::authextra`], sent in HELLO). Each method of
    /// `authmethods` is offered in order, the router picks one:
    ///
    /// * `ticket` and `wampcra` need `authid` (or `username`) and `password`;
    /// * `cryptosign` needs `private_key` (the 32-byte seed as 64 hex characters) or
    ///   `private_key_file` (a file holding such a hex seed, or an unencrypted OpenSSH
    ///   ed25519 private key; a leading `~/` means the home directory); `authid` (or
    ///   `username`) is optional, without it the router finds the principal by the
    ///   public key;
    /// * `anonymous` needs nothing.
    ///
    /// Other methods give an error, as do unreadable or malformed keys. No error
    /// shows a password or a private key.
    ///
    /// When `authmethods` is the default `[ticket]` and none of `username`, `authid`
    /// and `password` is set, the client logs in anonymously instead, so a minimal
    /// file works against a local router that allows anonymous access.
    ///
    /// ```
    /// use izaber_wamp::config::{load, LoadOptions};
    ///
    /// let yaml = "default: {wamp: {connection: {url: 'ws://127.0.0.1:8080/ws', realm: test}}}";
    /// let config = load(&LoadOptions::yaml(yaml).environment("default"))?;
    /// let client_config = config.wamp.connection.to_client_config()?;
    /// assert_eq!(client_config.realm, "test");
    /// assert_eq!(client_config.auth.len(), 1); // anonymous
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when a method is not supported or lacks what it needs, or
    /// when the cryptosign key cannot be read or is malformed.
    pub fn to_client_config(&self) -> Result<ClientConfig> {
        let config = self.session_config();
        let no_credentials =
            self.username.is_none() && self.authid.is_none() && self.password.is_none();
        if self.authmethods == ["ticket"] && no_credentials {
            return Ok(config.with_anonymous());
        }
        self.authmethods
            .iter()
            .try_fold(config, |config, method| self.offer(config, method))
    }

    /// Everything but the authentication.
    fn session_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(self.url.clone(), self.realm.clone())
            .with_failover_urls(self.failover_urls.iter().cloned())
            .with_concurrency(self.concurrency.clone())
            .with_serializers(&self.serializers)
            .with_timeout(self.timeout)
            .with_connect_timeout(self.connect_timeout)
            .with_max_message_size(self.max_payload_size);
        if let Some(agent) = &self.agent {
            config.agent = agent.clone();
        }
        config.reconnect = ReconnectPolicy {
            enabled: self.auto_reconnect,
            ..ReconnectPolicy::default()
        }
        .with_initial_delay(self.reconnect_initial_delay)
        .with_max_delay(self.reconnect_max_delay)
        .with_multiplier(self.reconnect_multiplier)
        .with_max_attempts(self.reconnect_max_attempts);
        config.ping_interval = self.ping_interval;
        config.pong_timeout = self.pong_timeout;
        config.wait_while_reconnecting = self.wait_while_reconnecting;
        config.offline_publish_buffer = self.offline_publish_buffer;
        config.tls = TlsOptions {
            ca_file: self.ca_file.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
            verify_tls: self.verify_tls,
        };
        config.authextra = self.authextra.clone();
        config
    }

    /// `config` offering one more authentication method.
    fn offer(&self, config: ClientConfig, method: &str) -> Result<ClientConfig> {
        match method {
            "ticket" => {
                let (authid, password) = self.credentials(method)?;
                Ok(config.with_ticket(authid, password))
            }
            "wampcra" => {
                let (authid, password) = self.credentials(method)?;
                Ok(config.with_wampcra(authid, password))
            }
            "cryptosign" => {
                // Without an authid the router finds the principal by the public key.
                let key = self.cryptosign_key()?;
                Ok(config.with_cryptosign(match self.authid_or_username() {
                    Some(authid) => key.with_authid(authid.clone()),
                    None => key,
                }))
            }
            "anonymous" => Ok(config.with_anonymous()),
            other => Err(Error::Config(format!(
                "authmethod {other} is not supported (use ticket, wampcra, cryptosign or \
                 anonymous)"
            ))),
        }
    }

    /// The authid (else the user name) and password that `method` needs.
    fn credentials(&self, method: &str) -> Result<(String, &str)> {
        let Some(authid) = self.authid_or_username() else {
            return Err(Error::Config(format!(
                "authmethod {method} needs wamp.connection.username (or authid)"
            )));
        };
        let Some(password) = &self.password else {
            return Err(Error::Config(format!(
                "authmethod {method} needs wamp.connection.password"
            )));
        };
        Ok((authid.clone(), password.expose()))
    }

    fn authid_or_username(&self) -> Option<&String> {
        self.authid.as_ref().or(self.username.as_ref())
    }

    /// The cryptosign key from `private_key` or `private_key_file`.
    fn cryptosign_key(&self) -> Result<Cryptosign> {
        match (&self.private_key, &self.private_key_file) {
            (Some(_), Some(_)) => Err(Error::Config(
                "set only one of wamp.connection.private_key and private_key_file".into(),
            )),
            // The key error names what is wrong without showing the key.
            (Some(seed), None) => Cryptosign::from_seed_hex(seed.expose())
                .map_err(|e| Error::Config(format!("wamp.connection.private_key: {e}"))),
            (None, Some(path)) => Ok(Cryptosign::from_key_file(expand_home(path))?),
            (None, None) => Err(Error::Config(
                "authmethod cryptosign needs wamp.connection.private_key or private_key_file"
                    .into(),
            )),
        }
    }
}

/// `path` with a leading `~/` replaced by the home directory, when there is one: the
/// YAML is not read by a shell, yet `~/.ssh/id_ed25519` is how people write key paths.
fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), dirs::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}
