//! Authentication: what goes into HELLO and how a CHALLENGE is answered.
//!
//! Each method is an [`Authenticator`]; a session offers the methods of all the
//! authenticators it was given, in order, and answers a CHALLENGE with the one whose
//! method the router picked. New methods plug in by implementing the trait.
//!
//! Built in: [`Anonymous`], [`Ticket`], [`WampCra`] (plain and salted) and
//! [`Cryptosign`] (Ed25519). Every one keeps its secret out of `Debug` output and out
//! of its error messages.

mod cra;
mod cryptosign;
mod openssh;

pub use cra::WampCra;
pub use cryptosign::Cryptosign;

use crate::value::{Dict, Value};
use std::fmt;

/// Why a key could not be loaded: names the file and the problem, never the key.
///
/// ```
/// use izaber_wamp_proto::auth::Cryptosign;
///
/// let err = Cryptosign::from_seed_hex("not a key").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "cryptosign private key must be 64 hex characters (a 32-byte Ed25519 seed), \
///      found 9 characters"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// One authentication method.
///
/// Implementations must keep secrets out of their `Debug` output.
///
/// ```
/// use izaber_wamp_proto::auth::Authenticator;
/// use izaber_wamp_proto::{Dict, Value};
///
/// /// Answers the router's `nonce` with a shared token appended to it.
/// #[derive(Debug)]
/// struct Token;
///
/// impl Authenticator for Token {
///     fn method(&self) -> &str {
///         "x-token"
///     }
///
///     fn authenticate(&self, challenge: &Dict) -> Result<(String, Dict), String> {
///         let nonce = challenge
///             .get("nonce")
///             .and_then(Value::as_str)
///             .ok_or("the challenge has no nonce")?;
///         Ok((format!("{nonce}:token"), Dict::new()))
///     }
/// }
///
/// let challenge = Dict::from([("nonce".to_string(), Value::from("abc"))]);
/// assert_eq!(Token.authenticate(&challenge)?.0, "abc:token");
/// assert!(Token.authenticate(&Dict::new()).is_err());
/// # Ok::<(), String>(())
/// ```
pub trait Authenticator: fmt::Debug + Send + Sync {
    /// The method name sent in `HELLO.Details.authmethods`, e.g. `"ticket"`.
    fn method(&self) -> &str;

    /// The `authid` to announce, if this method has one.
    fn authid(&self) -> Option<&str> {
        None
    }

    /// Entries this method adds to `HELLO.Details.authextra`.
    fn authextra(&self) -> Dict {
        Dict::new()
    }

    /// Answers `CHALLENGE.Extra` with the AUTHENTICATE signature and extra dict.
    ///
    /// # Errors
    ///
    /// Why the challenge cannot be answered; the session then sends ABORT
    /// (`wamp.error.authentication_failed`) and closes with
    /// [`CloseReason::ClientAbort`](crate::session::CloseReason::ClientAbort) carrying
    /// this text, so it must not contain the secret.
    fn authenticate(&self, challenge: &Dict) -> Result<(String, Dict), String>;
}

/// Anonymous login: no credentials; the router assigns an authid.
///
/// ```
/// use izaber_wamp_proto::auth::{Anonymous, Authenticator};
///
/// assert_eq!(Anonymous.method(), "anonymous");
/// assert_eq!(Anonymous.authid(), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Anonymous;

impl Authenticator for Anonymous {
    fn method(&self) -> &str {
        "anonymous"
    }

    fn authenticate(&self, _challenge: &Dict) -> Result<(String, Dict), String> {
        Err("the router sent a challenge for anonymous login".into())
    }
}

/// Ticket login: sends the ticket (password) in clear text, so use it over TLS.
///
/// ```
/// use izaber_wamp_proto::auth::{Authenticator, Ticket};
/// use izaber_wamp_proto::Dict;
///
/// let ticket = Ticket::new("alice", "s3cret");
/// assert_eq!((ticket.method(), ticket.authid()), ("ticket", Some("alice")));
/// assert_eq!(ticket.authenticate(&Dict::new())?.0, "s3cret");
/// assert!(!format!("{ticket:?}").contains("s3cret"));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone)]
pub struct Ticket {
    authid: String,
    ticket: String,
}

impl Ticket {
    /// Ticket credentials for `authid`.
    pub fn new(authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        Ticket {
            authid: authid.into(),
            ticket: ticket.into(),
        }
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("authid", &self.authid)
            .field("ticket", &"<redacted>")
            .finish()
    }
}

impl Authenticator for Ticket {
    fn method(&self) -> &str {
        "ticket"
    }

    fn authid(&self) -> Option<&str> {
        Some(&self.authid)
    }

    fn authenticate(&self, _challenge: &Dict) -> Result<(String, Dict), String> {
        Ok((self.ticket.clone(), Dict::new()))
    }
}

/// Adds `authmethods`, `authid` and `authextra` for the given authenticators to HELLO
/// details.
///
/// `authextra` starts from `user_extra` (the user's own entries); the entries of the
/// authenticators are merged over it, so a method's own entry (e.g. cryptosign's
/// `pubkey`) wins over a user entry of the same name. The `authid` is the first one
/// any authenticator has.
pub(crate) fn add_hello_details(
    details: &mut Dict,
    auth: &[std::sync::Arc<dyn Authenticator>],
    user_extra: &Dict,
) {
    let mut extra = user_extra.clone();
    if !auth.is_empty() {
        let methods = auth.iter().map(|a| Value::from(a.method())).collect();
        details.insert("authmethods".into(), Value::List(methods));
        if let Some(authid) = auth.iter().find_map(|a| a.authid()) {
            details.insert("authid".into(), Value::from(authid));
        }
        for a in auth {
            extra.extend(a.authextra());
        }
    }
    if !extra.is_empty() {
        details.insert("authextra".into(), Value::Dict(extra));
    }
}

/// Lowercase hex of `bytes`.
fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The bytes of a hex string (either case). The error names the problem but never
/// repeats the input, which may be a secret.
fn hex_decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err(format!(
            "has an odd number of hex digits ({})",
            text.chars().count()
        ));
    }
    let digit = |(i, c): (usize, u8)| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!(
            "has a character that is not a hex digit at position {}",
            i + 1
        )),
    };
    text.as_bytes()
        .chunks(2)
        .enumerate()
        .map(|(n, pair)| Ok(digit((2 * n, pair[0]))? << 4 | digit((2 * n + 1, pair[1]))?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn ticket_answers_with_the_ticket_and_hides_it_in_debug() {
        let t = Ticket::new("joe", "s3cret");
        assert_eq!(t.authenticate(&Dict::new()).unwrap().0, "s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn hello_lists_methods_in_order_with_the_authid() {
        let auth: Vec<Arc<dyn Authenticator>> =
            vec![Arc::new(Ticket::new("joe", "x")), Arc::new(Anonymous)];
        let mut details = Dict::new();
        add_hello_details(&mut details, &auth, &Dict::new());
        assert_eq!(
            details.get("authmethods"),
            Some(&Value::List(vec!["ticket".into(), "anonymous".into()]))
        );
        assert_eq!(details.get("authid"), Some(&Value::from("joe")));
        assert!(!details.contains_key("authextra"));
    }

    #[test]
    fn user_authextra_is_sent_and_method_entries_win() {
        let auth: Vec<Arc<dyn Authenticator>> =
            vec![Arc::new(Cryptosign::from_seed([7; 32]).with_authid("joe"))];
        let user = Dict::from([
            ("pubkey".to_string(), Value::from("not-mine")),
            ("client".to_string(), Value::from("tests")),
        ]);
        let mut details = Dict::new();
        add_hello_details(&mut details, &auth, &user);
        let extra = details.get("authextra").and_then(Value::as_dict).unwrap();
        assert_eq!(extra.get("client"), Some(&Value::from("tests")));
        let cs = Cryptosign::from_seed([7; 32]);
        assert_eq!(
            extra.get("pubkey"),
            Some(&Value::from(cs.public_key_hex().as_str()))
        );

        // Without authenticators (anonymous) the user entries still go out.
        let mut details = Dict::new();
        add_hello_details(&mut details, &[], &user);
        assert!(!details.contains_key("authmethods"));
        assert_eq!(
            details.get("authextra").and_then(Value::as_dict),
            Some(&user)
        );
    }

    #[test]
    fn hex_round_trips_and_errors_do_not_repeat_the_input() {
        assert_eq!(hex_encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode("00ABff").unwrap(), vec![0x00, 0xab, 0xff]);
        assert_eq!(hex_decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(
            hex_decode("abc").unwrap_err(),
            "has an odd number of hex digits (3)"
        );
        let err = hex_decode("00zz").unwrap_err();
        assert_eq!(err, "has a character that is not a hex digit at position 3");
        // Multi-byte characters are not hex digits either, and do not panic.
        assert!(hex_decode("é0").is_err());
    }
}
