//! [`Secret`]: a password or private key that no output shows.

use std::fmt;

// A plain `String` rather than `secrecy::SecretString`: the secret is handed as `&str`
// to the authenticators, which keep their own copy for the session's lifetime, so
// zeroizing this one copy would promise more than it delivers. `secrecy` also leaves
// out `PartialEq`, which `Secret` has always had.

/// A secret string: `Debug` and `Display` print `<redacted>`.
///
/// ```
/// use izaber_wamp::config::Secret;
///
/// let secret = Secret::new("hunter2");
/// assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
