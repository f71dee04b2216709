//! The connection settings: izaber.yaml exactly as the library reads it, the flags
//! over it, then the secrets (see [`crate::secrets`]).

use crate::args::ConnectionArgs;
use crate::failure::Failure;
use crate::secrets::{self, SecretSource};
use izaber_wamp::config::{self, ConnectionSettings, LoadOptions};
use izaber_wamp::{Client, ClientConfig, Error};

/// Settings resolved from izaber.yaml, flags and secrets, ready to connect with.
pub struct Connection {
    settings: ConnectionSettings,
    /// Where the settings came from, for `-v`.
    source: String,
    /// Whether URIs get `uri_base` in front (`--prefix`).
    prefix: bool,
}

impl Connection {
    /// Reads izaber.yaml (unless there is none and `--url` says where to go), applies
    /// the flags, then finds the secrets the authentication methods need.
    pub fn resolve(args: &ConnectionArgs, secrets: &impl SecretSource) -> Result<Self, Failure> {
        let (mut settings, source) = load(args)?;
        apply_flags(&mut settings, args);
        secrets::apply(&mut settings, args, secrets)?;
        Ok(Connection {
            settings,
            source,
            prefix: args.prefix,
        })
    }

    /// The client configuration; a configuration the library refuses is a usage error.
    pub fn client_config(&self) -> Result<ClientConfig, Failure> {
        self.settings.to_client_config().map_err(Failure::usage)
    }

    /// `client` as the commands use it: URIs under `uri_base` with `--prefix`, else
    /// as given.
    pub fn for_commands(&self, client: Client) -> Client {
        if self.prefix {
            client.with_uri_base(&self.settings.uri_base)
        } else {
            client
        }
    }

    /// One line for `-v`: where the settings came from and what they say. No secrets:
    /// only whether one is set.
    pub fn describe(&self) -> String {
        let s = &self.settings;
        let user = s.authid.as_ref().or(s.username.as_ref());
        let serializers: Vec<&str> = s.serializers.iter().map(|s| s.name()).collect();
        let login = if secrets::falls_back_to_anonymous(s) {
            "anonymously".to_owned()
        } else {
            format!(
                "as {} ({}{})",
                user.map_or("(no authid)", String::as_str),
                s.authmethods.join(", "),
                if s.password.is_some() {
                    "; password set"
                } else {
                    ""
                }
            )
        };
        format!(
            "{}: {} realm {} {login}, serializers {}{}",
            self.source,
            s.url,
            s.realm,
            serializers.join(", "),
            if self.prefix {
                format!(", URIs under {}", s.uri_base)
            } else {
                String::new()
            }
        )
    }
}

/// izaber.yaml's `wamp.connection`, and where it came from.
fn load(args: &ConnectionArgs) -> Result<(ConnectionSettings, String), Failure> {
    let options = match &args.config {
        Some(file) => LoadOptions::file(file),
        None => LoadOptions::default(),
    };
    let options = match &args.environment {
        Some(name) => options.environment(name),
        None => options,
    };
    match config::load(&options) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("wamp: warning: {warning}");
            }
            let source = format!("{} (environment {})", loaded.source, loaded.environment);
            Ok((loaded.wamp.connection, source))
        }
        // With a URL on the command line, no izaber.yaml is needed at all.
        Err(e) if no_file_found(&e) && args.url.is_some() && args.environment.is_none() => Ok((
            ConnectionSettings::default(),
            "flags (no izaber.yaml found)".into(),
        )),
        Err(e) if no_file_found(&e) => Err(Failure::usage(format!(
            "{e}; give --url, --config FILE or IZABER_YAML"
        ))),
        Err(e) => Err(Failure::usage(e)),
    }
}

/// Whether loading failed only because there is no izaber.yaml anywhere. The library
/// tells this case apart only by its message.
fn no_file_found(error: &Error) -> bool {
    matches!(error, Error::Config(message) if message.starts_with("no izaber.yaml found"))
}

/// The flags over izaber.yaml.
fn apply_flags(settings: &mut ConnectionSettings, args: &ConnectionArgs) {
    let set = |field: &mut String, flag: &Option<String>| {
        if let Some(value) = flag {
            field.clone_from(value);
        }
    };
    set(&mut settings.url, &args.url);
    set(&mut settings.realm, &args.realm);
    if let Some(authid) = &args.authid {
        let current = settings.authid.as_ref().or(settings.username.as_ref());
        if current != Some(authid) {
            // The file's password belongs to the file's user.
            settings.password = None;
        }
        settings.authid = Some(authid.clone());
        settings.username = Some(authid.clone());
    }
    if !args.authmethod.is_empty() {
        settings.authmethods = args.authmethod.iter().map(|m| m.name().into()).collect();
    } else if args.private_key_file.is_some() {
        settings.authmethods = vec!["cryptosign".into()];
    }
    if let Some(serializer) = args.serializer {
        settings.serializers = vec![serializer.serializer()];
    }
    if let Some(file) = &args.private_key_file {
        settings.private_key_file = Some(file.clone());
        settings.private_key = None;
    }
    if let Some(file) = &args.ca_file {
        settings.ca_file = Some(file.clone());
    }
    if let Some(timeout) = args.timeout {
        settings.timeout = timeout;
    }
    if let Some(timeout) = args.connect_timeout {
        settings.connect_timeout = timeout;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{AuthMethod, SerializerName};
    use izaber_wamp::config::Secret;
    use std::time::Duration;

    fn file_settings() -> ConnectionSettings {
        let mut settings = ConnectionSettings::default();
        settings.username = Some("alice".into());
        settings.authid = Some("alice".into());
        settings.password = Some(Secret::new("alice-secret"));
        settings
    }

    #[test]
    fn flags_replace_what_the_file_says() {
        let mut settings = file_settings();
        let args = ConnectionArgs {
            url: Some("ws://127.0.0.1:1".into()),
            realm: Some("other".into()),
            authmethod: vec![AuthMethod::Wampcra, AuthMethod::Ticket],
            serializer: Some(SerializerName::Json),
            timeout: Some(Duration::from_secs(2)),
            connect_timeout: Some(Duration::from_secs(3)),
            ..ConnectionArgs::default()
        };
        apply_flags(&mut settings, &args);
        assert_eq!(settings.url, "ws://127.0.0.1:1");
        assert_eq!(settings.realm, "other");
        assert_eq!(settings.authmethods, ["wampcra", "ticket"]);
        assert_eq!(settings.serializers, [izaber_wamp::Serializer::Json]);
        assert_eq!(settings.timeout, Duration::from_secs(2));
        assert_eq!(settings.connect_timeout, Duration::from_secs(3));
        assert_eq!(settings.password, Some(Secret::new("alice-secret")));
    }

    #[test]
    fn another_user_does_not_get_the_files_password() {
        let mut same = file_settings();
        let alice = ConnectionArgs {
            authid: Some("alice".into()),
            ..ConnectionArgs::default()
        };
        apply_flags(&mut same, &alice);
        assert!(same.password.is_some());
        let mut other = file_settings();
        let bob = ConnectionArgs {
            authid: Some("bob".into()),
            ..ConnectionArgs::default()
        };
        apply_flags(&mut other, &bob);
        assert_eq!(other.password, None);
        assert_eq!(other.authid.as_deref(), Some("bob"));
        assert_eq!(other.username.as_deref(), Some("bob"));
    }

    #[test]
    fn a_key_file_flag_means_cryptosign_unless_methods_are_given() {
        let mut settings = file_settings();
        settings.private_key = Some(Secret::new("00".repeat(32)));
        let args = ConnectionArgs {
            private_key_file: Some("/keys/k".into()),
            ..ConnectionArgs::default()
        };
        apply_flags(&mut settings, &args);
        assert_eq!(settings.authmethods, ["cryptosign"]);
        assert_eq!(settings.private_key, None);
        assert_eq!(settings.private_key_file, Some("/keys/k".into()));
    }

    #[test]
    fn the_description_never_shows_a_secret() {
        let connection = Connection {
            settings: file_settings(),
            source: "izaber.yaml (environment default)".into(),
            prefix: true,
        };
        let line = connection.describe();
        assert!(!line.contains("alice-secret"), "{line}");
        assert!(line.contains("as alice (ticket; password set)"), "{line}");
        assert!(line.ends_with("URIs under com.izaber.wamp"), "{line}");
    }
}
