//! Passwords and private keys: from izaber.yaml, an environment variable or a prompt,
//! never from a flag (a flag's value shows in `ps` and in shell history).
//!
//! * Password (ticket, wampcra): `WAMP_PASSWORD`, else izaber.yaml's `password` (only
//!   for the file's own user, see `--authid`), else a prompt without echo when stdin
//!   is a terminal. Asked for only when a password method is actually used (not when
//!   the default `[ticket]` falls back to anonymous for lack of any user).
//! * Cryptosign key: `--private-key-file` (a path, not a secret), else
//!   `WAMP_PRIVATE_KEY` (the hex seed), else izaber.yaml's `private_key` or
//!   `private_key_file`.

use crate::args::ConnectionArgs;
use crate::failure::Failure;
use izaber_wamp::config::{ConnectionSettings, Secret};
use std::io::IsTerminal;

/// The environment variable holding the password.
pub const ENV_PASSWORD: &str = "WAMP_PASSWORD";
/// The environment variable holding the cryptosign private key (hex seed).
pub const ENV_PRIVATE_KEY: &str = "WAMP_PRIVATE_KEY";

/// Where secrets come from besides izaber.yaml: the process, or a test's stand-in.
pub trait SecretSource {
    /// An environment variable.
    fn var(&self, name: &str) -> Option<String>;
    /// Asks the user, without echo; `None` when nobody can be asked.
    fn prompt(&self, question: &str) -> Option<std::io::Result<String>>;
}

/// The real environment and terminal.
pub struct Process;

impl SecretSource for Process {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn prompt(&self, question: &str) -> Option<std::io::Result<String>> {
        // Scripts must never hang on a question: ask only a person at a terminal.
        std::io::stdin()
            .is_terminal()
            .then(|| rpassword::prompt_password(question))
    }
}

/// Fills in the secrets the settings' authentication methods need.
pub fn apply(
    settings: &mut ConnectionSettings,
    args: &ConnectionArgs,
    source: &impl SecretSource,
) -> Result<(), Failure> {
    let uses = |method: &str| settings.authmethods.iter().any(|m| m == method);
    if uses("cryptosign") && args.private_key_file.is_none() {
        if let Some(seed) = source.var(ENV_PRIVATE_KEY) {
            settings.private_key = Some(Secret::new(seed.trim()));
            settings.private_key_file = None;
        }
        if settings.private_key.is_none() && settings.private_key_file.is_none() {
            return Err(Failure::usage(format!(
                "authmethod cryptosign needs a private key: --private-key-file FILE, \
                 {ENV_PRIVATE_KEY} (the hex seed), or private_key or private_key_file in \
                 izaber.yaml"
            )));
        }
    }
    let Some(method) = password_method(settings) else {
        return Ok(());
    };
    if let Some(password) = source.var(ENV_PASSWORD) {
        settings.password = Some(Secret::new(password));
        return Ok(());
    }
    if settings.password.is_some() {
        return Ok(());
    }
    let Some(user) = settings.authid.as_ref().or(settings.username.as_ref()) else {
        // The library names what is missing (the user) when it builds the config.
        return Ok(());
    };
    let question = format!("Password for {user} at {}: ", settings.url);
    match source.prompt(&question) {
        Some(Ok(password)) => {
            settings.password = Some(Secret::new(password));
            Ok(())
        }
        Some(Err(e)) => Err(Failure::usage(format!("cannot read the password: {e}"))),
        None => Err(Failure::usage(format!(
            "authmethod {method} needs a password for {user}: set {ENV_PASSWORD}, or \
             wamp.connection.password in izaber.yaml (there is no flag for it, so it never \
             shows in ps)"
        ))),
    }
}

/// Whether the library logs in anonymously for these settings: the default `[ticket]`
/// with no user nor password at all (see `ConnectionSettings::to_client_config`).
pub fn falls_back_to_anonymous(settings: &ConnectionSettings) -> bool {
    settings.authmethods == ["ticket"]
        && settings.username.is_none()
        && settings.authid.is_none()
        && settings.password.is_none()
}

/// The first method that needs a password, unless the library will log in
/// anonymously instead (default `[ticket]` and no user nor password at all).
fn password_method(settings: &ConnectionSettings) -> Option<&str> {
    if falls_back_to_anonymous(settings) {
        return None;
    }
    settings
        .authmethods
        .iter()
        .map(String::as_str)
        .find(|m| matches!(*m, "ticket" | "wampcra"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// Environment variables and an answer to the prompt (or no terminal).
    #[derive(Default)]
    struct Fake {
        vars: HashMap<&'static str, &'static str>,
        answer: Option<&'static str>,
        asked: RefCell<Vec<String>>,
    }

    impl SecretSource for Fake {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).map(|v| v.to_string())
        }
        fn prompt(&self, question: &str) -> Option<std::io::Result<String>> {
            self.asked.borrow_mut().push(question.to_owned());
            self.answer.map(|a| Ok(a.to_owned()))
        }
    }

    fn user(name: &str) -> ConnectionSettings {
        let mut settings = ConnectionSettings::default();
        settings.url = "ws://127.0.0.1:1".into();
        settings.authid = Some(name.into());
        settings
    }

    fn exposed(settings: &ConnectionSettings) -> Option<&str> {
        settings.password.as_ref().map(Secret::expose)
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let mut settings = user("bob");
        settings.password = Some(Secret::new("from-file"));
        let env = Fake {
            vars: [(ENV_PASSWORD, "from-env")].into(),
            ..Fake::default()
        };
        apply(&mut settings, &ConnectionArgs::default(), &env).expect("ok");
        assert_eq!(exposed(&settings), Some("from-env"));
    }

    #[test]
    fn the_prompt_comes_last_and_names_user_and_router() {
        let mut settings = user("bob");
        let tty = Fake {
            answer: Some("typed"),
            ..Fake::default()
        };
        apply(&mut settings, &ConnectionArgs::default(), &tty).expect("ok");
        assert_eq!(exposed(&settings), Some("typed"));
        assert_eq!(
            *tty.asked.borrow(),
            ["Password for bob at ws://127.0.0.1:1: "]
        );
    }

    #[test]
    fn without_a_terminal_the_error_says_where_a_password_may_come_from() {
        let mut settings = user("bob");
        let failure = apply(&mut settings, &ConnectionArgs::default(), &Fake::default())
            .expect_err("no password");
        assert_eq!(failure.exit_code(), 2);
        assert!(
            failure.message().contains(ENV_PASSWORD),
            "{}",
            failure.message()
        );
    }

    #[test]
    fn no_password_is_asked_for_an_anonymous_login() {
        let mut settings = ConnectionSettings::default();
        let env = Fake {
            vars: [(ENV_PASSWORD, "unused")].into(),
            answer: Some("unused"),
            ..Fake::default()
        };
        apply(&mut settings, &ConnectionArgs::default(), &env).expect("ok");
        assert_eq!(settings.password, None);
        assert!(env.asked.borrow().is_empty());
    }

    #[test]
    fn a_private_key_comes_from_the_environment_unless_a_file_is_given() {
        let mut settings = user("carol");
        settings.authmethods = vec!["cryptosign".into()];
        settings.private_key_file = Some("/from/yaml".into());
        let env = Fake {
            vars: [(ENV_PRIVATE_KEY, "ab\n")].into(),
            ..Fake::default()
        };
        apply(&mut settings, &ConnectionArgs::default(), &env).expect("ok");
        assert_eq!(
            settings.private_key.as_ref().map(Secret::expose),
            Some("ab")
        );
        assert_eq!(settings.private_key_file, None);

        let mut flagged = user("carol");
        flagged.authmethods = vec!["cryptosign".into()];
        flagged.private_key_file = Some("/from/flag".into());
        let args = ConnectionArgs {
            private_key_file: Some("/from/flag".into()),
            ..ConnectionArgs::default()
        };
        apply(&mut flagged, &args, &env).expect("ok");
        assert_eq!(flagged.private_key, None);
        assert_eq!(flagged.private_key_file, Some("/from/flag".into()));
    }
}
