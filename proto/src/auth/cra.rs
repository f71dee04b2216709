//! WAMP-CRA: challenge-response with a shared secret, plain or salted.
//!
//! The router's CHALLENGE carries `challenge`, a string (Crossbar sends a JSON text),
//! and, when the router stores the secret salted, `salt`, `iterations` and `keylen`.
//! The answer is `base64(HMAC-SHA256(key, challenge))` where `key` is the secret's
//! UTF-8 bytes, or for a salted secret the ASCII of the standard base64 text of
//! `PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)` (as autobahn and Crossbar
//! compute it). The challenge is signed exactly as received, never re-serialized.

use super::Authenticator;
use crate::value::{Dict, Value};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// The most PBKDF2 iterations a router may ask for. Real routers ask for about 1,000
/// (Crossbar's default) up to a few hundred thousand; the cap bounds the time a
/// hostile router can make the connector thread spend (about a second here).
const MAX_ITERATIONS: u32 = 1_000_000;
/// The longest derived key a router may ask for: 32 is the norm, SHA-512 sizes fit.
const MAX_KEYLEN: u32 = 64;

/// WAMP-CRA login: proves knowledge of `secret` without sending it.
///
/// Works with plain and salted secrets; which one is the router's choice, told in the
/// CHALLENGE. `Debug` shows the authid and `<redacted>` for the secret.
///
/// ```
/// use izaber_wamp_proto::auth::WampCra;
///
/// let cra = WampCra::new("peter", "secret1");
/// assert_eq!(format!("{cra:?}"), r#"WampCra { authid: "peter", secret: "<redacted>" }"#);
/// ```
#[derive(Clone)]
pub struct WampCra {
    authid: String,
    secret: String,
}

impl WampCra {
    /// WAMP-CRA credentials for `authid`.
    pub fn new(authid: impl Into<String>, secret: impl Into<String>) -> Self {
        WampCra {
            authid: authid.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for WampCra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WampCra")
            .field("authid", &self.authid)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Authenticator for WampCra {
    fn method(&self) -> &str {
        "wampcra"
    }

    fn authid(&self) -> Option<&str> {
        Some(&self.authid)
    }

    fn authenticate(&self, challenge: &Dict) -> Result<(String, Dict), String> {
        let text = match challenge.get("challenge") {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(format!(
                    "wampcra CHALLENGE: challenge must be a string, found {}",
                    describe(other)
                ))
            }
            None => return Err("wampcra CHALLENGE: no challenge string".into()),
        };
        let signature = match salt_parameters(challenge)? {
            Some((salt, iterations, keylen)) => {
                let key = derive_key(&self.secret, salt, iterations, keylen);
                sign(key.as_bytes(), text)
            }
            None => sign(self.secret.as_bytes(), text),
        };
        Ok((signature, Dict::new()))
    }
}

/// `salt`, `iterations` and `keylen` of a salted challenge; `None` when unsalted.
fn salt_parameters(challenge: &Dict) -> Result<Option<(&str, u32, usize)>, String> {
    let salt = match challenge.get("salt") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(format!(
                "wampcra CHALLENGE: salt must be a string, found {}",
                describe(other)
            ))
        }
    };
    let number = |name: &str, max: u32| -> Result<u32, String> {
        match challenge.get(name) {
            None | Some(Value::Null) => {
                Err(format!("wampcra CHALLENGE: salt given without {name}"))
            }
            Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "wampcra CHALLENGE: {name} must be an integer from 1 to {max}, found {}",
                    describe(v)
                )),
            },
        }
    };
    let iterations = number("iterations", MAX_ITERATIONS)?;
    let keylen = number("keylen", MAX_KEYLEN)?;
    // MAX_KEYLEN is small, so this conversion cannot fail.
    let keylen = usize::try_from(keylen).map_err(|e| e.to_string())?;
    Ok(Some((salt, iterations, keylen)))
}

/// A value from the router for an error message: numbers as they are, else the type.
fn describe(value: &Value) -> String {
    match value {
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => value.to_string(),
        other => other.type_name().to_string(),
    }
}

/// The HMAC key of a salted secret: the standard base64 text (with padding) of
/// PBKDF2-HMAC-SHA256 over the secret and the salt's UTF-8 bytes.
fn derive_key(secret: &str, salt: &str, iterations: u32, keylen: usize) -> String {
    let mut key = vec![0u8; keylen];
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt.as_bytes(), iterations, &mut key);
    STANDARD.encode(key)
}

/// `base64(HMAC-SHA256(key, challenge))`, standard alphabet with padding.
fn sign(key: &[u8], challenge: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(challenge.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(entries: &[(&str, Value)]) -> Dict {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    // Vectors from wamp-protocol.md section 4.3 (autobahn's test_wamp_auth.py and
    // Python hashlib).
    #[test]
    fn derive_key_matches_the_published_vectors() {
        assert_eq!(
            derive_key("L3L1YUE8Txlw", "salt123", 1000, 32),
            "qzcdsr9uu/L5hnss3kjNTRe490ETgA70ZBaB5rvnJ5Y="
        );
        assert_eq!(
            derive_key("secret2", "salt123", 100, 16),
            "LG5/FwnS5WvgmlEyLPk/pQ=="
        );
    }

    #[test]
    fn signature_matches_the_published_vectors() {
        assert_eq!(
            sign(b"L3L1YUE8Txlw", "[1, 2, 3]"),
            "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0="
        );
        assert_eq!(
            sign(b"LG5/FwnS5WvgmlEyLPk/pQ==", "[1, 2, 3]"),
            "UEgtQaFXH2nrRHEZSicAZKkzaB1I1c69U8tQUJ2923A="
        );
    }

    // RFC 7914 section 11: PBKDF2-HMAC-SHA256 test vectors.
    #[test]
    fn pbkdf2_sha256_matches_rfc_7914() {
        let derive = |password: &str, salt: &str, iterations: u32, len: usize| {
            let mut out = vec![0u8; len];
            pbkdf2::pbkdf2_hmac::<Sha256>(
                password.as_bytes(),
                salt.as_bytes(),
                iterations,
                &mut out,
            );
            super::super::hex_encode(&out)
        };
        assert_eq!(
            derive("passwd", "salt", 1, 64),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        assert_eq!(
            derive("Password", "NaCl", 80000, 64),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    #[test]
    fn plain_challenge_is_signed_with_the_secret() {
        let cra = WampCra::new("peter", "L3L1YUE8Txlw");
        let (signature, extra) = cra
            .authenticate(&challenge(&[("challenge", Value::from("[1, 2, 3]"))]))
            .unwrap();
        assert_eq!(signature, "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0=");
        assert!(extra.is_empty());
        // A null salt means unsalted.
        let (signature, _) = cra
            .authenticate(&challenge(&[
                ("challenge", Value::from("[1, 2, 3]")),
                ("salt", Value::Null),
            ]))
            .unwrap();
        assert_eq!(signature, "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0=");
    }

    #[test]
    fn salted_challenge_signs_with_the_base64_text_of_the_derived_key() {
        let cra = WampCra::new("peter", "secret2");
        let (signature, _) = cra
            .authenticate(&challenge(&[
                ("challenge", Value::from("[1, 2, 3]")),
                ("salt", Value::from("salt123")),
                ("iterations", Value::Int(100)),
                ("keylen", Value::Int(16)),
            ]))
            .unwrap();
        assert_eq!(signature, "UEgtQaFXH2nrRHEZSicAZKkzaB1I1c69U8tQUJ2923A=");
    }

    #[test]
    fn the_challenge_is_signed_byte_for_byte() {
        // Crossbar's challenge is JSON with spaces and may hold non-ASCII text; a
        // re-serialized or normalized text would sign differently.
        let cra = WampCra::new("peter", "k");
        let a = cra
            .authenticate(&challenge(&[("challenge", Value::from("{\"a\": \"é\"}"))]))
            .unwrap()
            .0;
        let b = cra
            .authenticate(&challenge(&[("challenge", Value::from("{\"a\":\"é\"}"))]))
            .unwrap()
            .0;
        assert_ne!(a, b);
        assert_eq!(a, sign(b"k", "{\"a\": \"\u{e9}\"}"));
    }

    #[test]
    fn bad_challenges_give_clear_errors() {
        let cra = WampCra::new("peter", "top-secret-value");
        let err = |entries: &[(&str, Value)]| cra.authenticate(&challenge(entries)).unwrap_err();
        let c = ("challenge", Value::from("x"));
        let cases: Vec<(Vec<(&str, Value)>, &str)> =
            vec![
            (vec![], "wampcra CHALLENGE: no challenge string"),
            (
                vec![("challenge", Value::Int(5))],
                "wampcra CHALLENGE: challenge must be a string, found 5",
            ),
            (
                vec![c.clone(), ("salt", Value::bytes(vec![1]))],
                "wampcra CHALLENGE: salt must be a string, found bytes",
            ),
            (
                vec![c.clone(), ("salt", Value::from("s")), ("keylen", Value::Int(32))],
                "wampcra CHALLENGE: salt given without iterations",
            ),
            (
                vec![c.clone(), ("salt", Value::from("s")), ("iterations", Value::Int(10))],
                "wampcra CHALLENGE: salt given without keylen",
            ),
            (
                vec![
                    c.clone(),
                    ("salt", Value::from("s")),
                    ("iterations", Value::from("1000")),
                    ("keylen", Value::Int(32)),
                ],
                "wampcra CHALLENGE: iterations must be an integer from 1 to 1000000, found string",
            ),
            (
                vec![
                    c.clone(),
                    ("salt", Value::from("s")),
                    ("iterations", Value::Int(0)),
                    ("keylen", Value::Int(32)),
                ],
                "wampcra CHALLENGE: iterations must be an integer from 1 to 1000000, found 0",
            ),
            (
                vec![
                    c.clone(),
                    ("salt", Value::from("s")),
                    ("iterations", Value::Int(10)),
                    ("keylen", Value::Int(-1)),
                ],
                "wampcra CHALLENGE: keylen must be an integer from 1 to 64, found -1",
            ),
            (
                vec![
                    c.clone(),
                    ("salt", Value::from("s")),
                    ("iterations", Value::Int(10)),
                    ("keylen", Value::Int(4096)),
                ],
                "wampcra CHALLENGE: keylen must be an integer from 1 to 64, found 4096",
            ),
        ];
        for (entries, expected) in cases {
            let message = err(&entries);
            assert_eq!(message, expected);
            assert!(!message.contains("top-secret-value"));
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let cra = WampCra::new("peter", "top-secret-value");
        let debug = format!("{cra:?} {cra:#?}");
        assert!(!debug.contains("top-secret-value"), "{debug}");
        assert!(
            debug.contains("peter") && debug.contains("<redacted>"),
            "{debug}"
        );
        assert_eq!(cra.method(), "wampcra");
        assert_eq!(cra.authid(), Some("peter"));
        assert!(cra.authextra().is_empty());
    }
}
