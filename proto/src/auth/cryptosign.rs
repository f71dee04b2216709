//! WAMP-Cryptosign: public-key login with Ed25519.
//!
//! HELLO carries the public key as `authextra.pubkey` (64 lowercase hex characters).
//! The router answers with a CHALLENGE holding 32 random bytes as hex; the client
//! signs them and sends `hex(signature) + hex(challenge)`, 192 lowercase hex
//! characters. Channel binding (`tls-unique`) is not supported: this client never
//! asks for it and refuses a challenge that uses it.

use super::{hex_decode, hex_encode, openssh, Authenticator, KeyError};
use crate::value::{Dict, Value};
use ed25519_dalek::{Signer, SigningKey};
use std::fmt;
use std::path::Path;

/// The length of an Ed25519 seed (private key) and of a challenge, in bytes.
const SEED_LEN: usize = 32;

/// WAMP-Cryptosign login with an Ed25519 key.
///
/// Keys come from a hex seed ([`Cryptosign::from_seed_hex`]), a key file
/// ([`Cryptosign::from_key_file`]: a hex seed or an OpenSSH ed25519 private key) or
/// are made new ([`Cryptosign::generate`]). The router knows the principal by its
/// public key ([`Cryptosign::public_key_hex`]); the authid is optional, as Crossbar
/// finds the principal by the key when none is sent.
///
/// `Debug` shows the authid and the public key, and `<redacted>` for the private key.
///
/// ```
/// use izaber_wamp_proto::auth::Cryptosign;
///
/// let key = Cryptosign::from_seed_hex(
///     "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
/// )?
/// .with_authid("alice");
/// assert_eq!(
///     key.public_key_hex(),
///     "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d"
/// );
/// assert!(format!("{key:?}").contains("<redacted>"));
/// # Ok::<(), izaber_wamp_proto::auth::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Cryptosign {
    authid: Option<String>,
    key: SigningKey,
}

impl Cryptosign {
    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; SEED_LEN]) -> Self {
        Cryptosign {
            authid: None,
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// A key from its seed as 64 hex characters (surrounding whitespace is ignored).
    ///
    /// # Errors
    ///
    /// A [`KeyError`] when the text is not 64 characters long or holds a character
    /// that is not a hex digit; it says what is wrong but never shows the text.
    pub fn from_seed_hex(seed: &str) -> Result<Self, KeyError> {
        parse_seed_hex(seed)
            .map(Self::from_seed)
            .map_err(|why| KeyError(format!("cryptosign private key {why}")))
    }

    /// A key from a file holding either the seed as 64 hex characters, or an
    /// unencrypted OpenSSH ed25519 private key (`-----BEGIN OPENSSH PRIVATE
    /// KEY-----`, as made by `ssh-keygen -t ed25519 -N ""`).
    ///
    /// # Errors
    ///
    /// A [`KeyError`] naming the file and the problem, never the file's contents: the
    /// file cannot be read, or its contents are refused as by
    /// [`Cryptosign::from_key_data`] (encrypted, not ed25519, not a key).
    ///
    /// ```
    /// use izaber_wamp_proto::auth::Cryptosign;
    ///
    /// let path = std::env::temp_dir().join("izaber-wamp-proto-doctest.key");
    /// let key = Cryptosign::from_seed([7; 32]);
    /// std::fs::write(&path, key.seed_hex())?;
    /// let loaded = Cryptosign::from_key_file(&path)?;
    /// assert_eq!(loaded.public_key_hex(), key.public_key_hex());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_key_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|e| {
            KeyError(format!(
                "cannot read cryptosign key file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_key_data(&data).map_err(|KeyError(why)| {
            KeyError(format!("cryptosign key file {}: {why}", path.display()))
        })
    }

    /// Like [`Cryptosign::from_key_file`], from the file's contents.
    ///
    /// # Errors
    ///
    /// A [`KeyError`] when the data is not UTF-8 text, is an OpenSSH key that is
    /// encrypted, not ed25519 or damaged, is a PEM key of another kind (e.g.
    /// `-----BEGIN PRIVATE KEY-----`), or is not a 64-character hex seed.
    ///
    /// ```
    /// use izaber_wamp_proto::auth::Cryptosign;
    ///
    /// let seed = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510\n";
    /// assert!(Cryptosign::from_key_data(seed.as_bytes()).is_ok());
    /// let pem = b"-----BEGIN PRIVATE KEY-----\nMC4C...\n-----END PRIVATE KEY-----\n";
    /// assert!(Cryptosign::from_key_data(pem).is_err());
    /// ```
    pub fn from_key_data(data: &[u8]) -> Result<Self, KeyError> {
        let text = std::str::from_utf8(data).map_err(|_| {
            KeyError(
                "not a text file: expected an OpenSSH ed25519 private key or a hex seed".into(),
            )
        })?;
        let seed = if text.contains(openssh::BEGIN) {
            openssh::ed25519_seed(text)
        } else if let Some(label) = pem_label(text) {
            Err(format!(
                "a PEM {label:?} key is not supported: expected an OpenSSH ed25519 private key \
                 ({}) or a hex seed",
                openssh::BEGIN
            ))
        } else {
            parse_seed_hex(text).map_err(|why| format!("hex seed {why}"))
        };
        seed.map(Self::from_seed).map_err(KeyError)
    }

    /// A new random key, from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// When the operating system cannot provide random numbers.
    pub fn generate() -> Self {
        let mut seed = [0u8; SEED_LEN];
        getrandom::fill(&mut seed).expect("the operating system's random number generator failed");
        let key = Self::from_seed(seed);
        seed.fill(0);
        key
    }

    /// Sets the authid to announce in HELLO (default: none; the router then finds
    /// the principal by the public key).
    pub fn with_authid(mut self, authid: impl Into<String>) -> Self {
        self.authid = Some(authid.into());
        self
    }

    /// The public key as 64 lowercase hex characters, as a router's
    /// `authorized_keys` lists it.
    pub fn public_key_hex(&self) -> String {
        hex_encode(self.key.verifying_key().as_bytes())
    }

    /// The private seed as 64 lowercase hex characters: the secret to store, e.g. in
    /// a key file for [`Cryptosign::from_key_file`]. Keep it out of logs.
    pub fn seed_hex(&self) -> String {
        hex_encode(self.key.as_bytes())
    }

    /// Signs a 32-byte challenge: `hex(signature) + hex(challenge)`, 192 characters.
    fn sign(&self, challenge: &[u8]) -> String {
        let signature = self.key.sign(challenge);
        let mut out = hex_encode(&signature.to_bytes());
        out.push_str(&hex_encode(challenge));
        out
    }
}

impl fmt::Debug for Cryptosign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cryptosign")
            .field("authid", &self.authid)
            .field("public_key", &self.public_key_hex())
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl Authenticator for Cryptosign {
    fn method(&self) -> &str {
        "cryptosign"
    }

    fn authid(&self) -> Option<&str> {
        self.authid.as_deref()
    }

    fn authextra(&self) -> Dict {
        Dict::from([("pubkey".to_string(), Value::String(self.public_key_hex()))])
    }

    fn authenticate(&self, challenge: &Dict) -> Result<(String, Dict), String> {
        match challenge.get("channel_binding") {
            None | Some(Value::Null) => {}
            Some(binding) => {
                return Err(format!(
                    "cryptosign CHALLENGE: the router asks for channel binding {binding}, \
                     which this client did not request and does not support"
                ))
            }
        }
        let text = match challenge.get("challenge") {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(format!(
                    "cryptosign CHALLENGE: challenge must be a hex string, found {}",
                    other.type_name()
                ))
            }
            None => return Err("cryptosign CHALLENGE: no challenge".into()),
        };
        let bytes =
            hex_decode(text).map_err(|why| format!("cryptosign CHALLENGE: the challenge {why}"))?;
        if bytes.len() != SEED_LEN {
            return Err(format!(
                "cryptosign CHALLENGE: the challenge has {} bytes, expected {SEED_LEN}",
                bytes.len()
            ));
        }
        Ok((self.sign(&bytes), Dict::new()))
    }
}

/// The label of the first PEM block in `text` (`PRIVATE KEY` for
/// `-----BEGIN PRIVATE KEY-----`), at most 40 characters, without anything after it.
fn pem_label(text: &str) -> Option<String> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &text[start..];
    let end = rest.find("-----").unwrap_or(rest.len());
    Some(rest[..end].chars().take(40).collect())
}

/// 32 bytes from 64 hex characters; the error completes "… private key ".
fn parse_seed_hex(text: &str) -> Result<[u8; SEED_LEN], String> {
    let text = text.trim();
    if text.len() != 2 * SEED_LEN {
        return Err(format!(
            "must be {} hex characters (a {SEED_LEN}-byte Ed25519 seed), found {} characters",
            2 * SEED_LEN,
            text.chars().count()
        ));
    }
    let bytes = hex_decode(text)?;
    <[u8; SEED_LEN]>::try_from(bytes.as_slice()).map_err(|_| "is not 32 bytes long".to_string())
}

#[cfg(test)]
mod tests {
    use super::super::openssh::tests::{KEY, KEY_PUBLIC, KEY_SEED};
    use super::*;

    /// The WAMP spec's test vectors without channel binding: (seed, challenge,
    /// expected AUTHENTICATE signature), re-checked with PyNaCl.
    const VECTORS: [(&str, &str, &str); 3] = [
        (
            "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0c\
             ae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03\
             ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ),
        (
            "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
            "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
            "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372\
             190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660f\
             b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        ),
        (
            "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
            "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
            "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1e\
             c184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30b\
             b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        ),
    ];
    /// The public keys of the three vector seeds (PyNaCl).
    const PUBLIC_KEYS: [&str; 3] = [
        "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d",
        "6ed32739ff04a6074044ff0b0e3bfc7c856bc9d5f1d25efc57363bda0af3a8b0",
        "28e11f427b82b9a625ee7ac89a7d29326b505f2dc11dd88c1245f83b6da79a85",
    ];

    fn challenge(entries: &[(&str, Value)]) -> Dict {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn signatures_match_the_spec_vectors() {
        for ((seed, chal, expected), public) in VECTORS.iter().zip(PUBLIC_KEYS) {
            let key = Cryptosign::from_seed_hex(seed).unwrap();
            assert_eq!(key.public_key_hex(), public);
            let (signature, extra) = key
                .authenticate(&challenge(&[
                    ("challenge", Value::from(*chal)),
                    ("channel_binding", Value::Null),
                ]))
                .unwrap();
            assert_eq!(signature, *expected);
            assert_eq!(signature.len(), 192);
            assert!(extra.is_empty());
        }
    }

    #[test]
    fn hello_carries_the_public_key_and_the_optional_authid() {
        let key = Cryptosign::from_seed_hex(VECTORS[0].0).unwrap();
        assert_eq!(key.method(), "cryptosign");
        assert_eq!(key.authid(), None);
        assert_eq!(
            key.authextra(),
            Dict::from([("pubkey".to_string(), Value::from(PUBLIC_KEYS[0]))])
        );
        assert_eq!(key.with_authid("cs-user").authid(), Some("cs-user"));
    }

    #[test]
    fn seeds_in_hex_are_checked_without_echoing_them() {
        // Upper case and surrounding whitespace are fine.
        let key =
            Cryptosign::from_seed_hex(&format!(" {}\n", VECTORS[0].0.to_uppercase())).unwrap();
        assert_eq!(key.seed_hex(), VECTORS[0].0);
        let err = |text: &str| Cryptosign::from_seed_hex(text).unwrap_err().to_string();
        assert_eq!(
            err("abcd"),
            "cryptosign private key must be 64 hex characters \
             (a 32-byte Ed25519 seed), found 4 characters"
        );
        let bad = format!("{}zz", &VECTORS[0].0[..62]);
        let message = err(&bad);
        assert_eq!(
            message,
            "cryptosign private key has a character that is not a hex \
             digit at position 63"
        );
        assert!(!message.contains(&VECTORS[0].0[..16]));
    }

    #[test]
    fn key_data_accepts_a_hex_seed_or_an_openssh_key() {
        let key = Cryptosign::from_key_data(format!("{}\n", VECTORS[1].0).as_bytes()).unwrap();
        assert_eq!(key.public_key_hex(), PUBLIC_KEYS[1]);
        let key = Cryptosign::from_key_data(KEY.as_bytes()).unwrap();
        assert_eq!(key.seed_hex(), KEY_SEED);
        assert_eq!(key.public_key_hex(), KEY_PUBLIC);
        // Python `cryptography` writes 64-column lines, an empty comment and more
        // padding than ssh-keygen; this is the first vector's key.
        let python = "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz
c2gtZWQyNTUxOQAAACAa38i/4dNWFuZN/72QAJbyOwZvkUyML/u2b2B1uW4RbQAA
AIiZ3v3Vmd791QAAAAtzc2gtZWQyNTUxOQAAACAa38i/4dNWFuZN/72QAJbyOwZv
kUyML/u2b2B1uW4RbQAAAEBNV9l6aPVVaWYgpthJwM5YJWhRjXKet1PcfHMt4oBF
EBrfyL/h01YW5k3/vZAAlvI7Bm+RTIwv+7ZvYHW5bhFtAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
";
        let key = Cryptosign::from_key_data(python.as_bytes()).unwrap();
        assert_eq!(key.seed_hex(), VECTORS[0].0);
        assert_eq!(key.public_key_hex(), PUBLIC_KEYS[0]);

        let err = |data: &[u8]| Cryptosign::from_key_data(data).unwrap_err().to_string();
        assert_eq!(
            err(b"\xff\xfe\x00"),
            "not a text file: expected an OpenSSH ed25519 private key or \
             a hex seed"
        );
        assert_eq!(
            err(b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"),
            "a PEM \"PRIVATE KEY\" key is not supported: expected an \
             OpenSSH ed25519 private key (-----BEGIN OPENSSH PRIVATE KEY-----) or a hex seed"
        );
        // Nothing after the label is shown, even on one line.
        let message = err(b"-----BEGIN EC PRIVATE KEY-----MHcCAQEEIIrYSSNQFaA2Hwf1");
        assert!(message.contains("\"EC PRIVATE KEY\""), "{message}");
        assert!(!message.contains("MHcCAQ"), "{message}");
        assert_eq!(
            err(b"secret-words"),
            "hex seed must be 64 hex characters (a 32-byte Ed25519 seed), \
             found 12 characters"
        );
    }

    #[test]
    fn key_files_are_read_and_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("izaber-cs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ssh = dir.join("id_ed25519");
        std::fs::write(&ssh, KEY).unwrap();
        assert_eq!(
            Cryptosign::from_key_file(&ssh).unwrap().public_key_hex(),
            KEY_PUBLIC
        );
        let bad = dir.join("bad.key");
        std::fs::write(&bad, "not-a-key-at-all").unwrap();
        let message = Cryptosign::from_key_file(&bad).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "cryptosign key file {}: hex seed must be",
                bad.display()
            )),
            "{message}"
        );
        assert!(!message.contains("not-a-key-at-all"));
        let missing = dir.join("missing.key");
        let message = Cryptosign::from_key_file(&missing).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "cannot read cryptosign key file {}: ",
                missing.display()
            )),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn challenges_with_channel_binding_or_bad_fields_are_refused() {
        let key = Cryptosign::from_seed_hex(VECTORS[0].0).unwrap();
        let ff = ("challenge", Value::from(VECTORS[0].1));
        let err = |entries: &[(&str, Value)]| key.authenticate(&challenge(entries)).unwrap_err();
        assert_eq!(
            err(&[ff.clone(), ("channel_binding", Value::from("tls-unique"))]),
            "cryptosign CHALLENGE: the router asks for channel binding \"tls-unique\", which \
             this client did not request and does not support"
        );
        assert_eq!(err(&[]), "cryptosign CHALLENGE: no challenge");
        assert_eq!(
            err(&[("challenge", Value::bytes(vec![0xff; 32]))]),
            "cryptosign CHALLENGE: challenge must be a hex string, found bytes"
        );
        assert_eq!(
            err(&[("challenge", Value::from("ffff"))]),
            "cryptosign CHALLENGE: the challenge has 2 bytes, expected 32"
        );
        assert_eq!(
            err(&[("challenge", Value::from("fg"))]),
            "cryptosign CHALLENGE: the challenge has a character that is not a hex digit at \
             position 2"
        );
        // No channel binding (absent) is fine.
        assert!(key.authenticate(&challenge(&[ff])).is_ok());
    }

    #[test]
    fn debug_shows_the_public_key_only() {
        let key = Cryptosign::from_seed_hex(VECTORS[0].0)
            .unwrap()
            .with_authid("cs-user");
        let debug = format!("{key:?} {key:#?}");
        assert!(!debug.contains(VECTORS[0].0), "{debug}");
        assert!(!debug.contains(&VECTORS[0].0[..16]), "{debug}");
        assert!(debug.contains(PUBLIC_KEYS[0]), "{debug}");
        assert!(
            debug.contains("cs-user") && debug.contains("<redacted>"),
            "{debug}"
        );
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_their_seed() {
        let a = Cryptosign::generate();
        let b = Cryptosign::generate();
        assert_ne!(a.public_key_hex(), b.public_key_hex());
        let again = Cryptosign::from_seed_hex(&a.seed_hex()).unwrap();
        assert_eq!(again.public_key_hex(), a.public_key_hex());
        assert_eq!(a.public_key_hex().len(), 64);
        assert!(a
            .public_key_hex()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    }
}
