//! [`TlsOptions`]: what `wss://` and `tcpips://` connections trust and present. The
//! type exists in every build, so configurations stay the same; the TLS itself
//! (`tls.rs`) needs the `tls` feature.

use std::path::PathBuf;

/// TLS settings for `wss://` and `tcpips://` (`rss://`) connections.
///
/// Using them needs the `tls` feature (without it, TLS URLs fail with
/// [`Error::FeatureDisabled`](crate::Error::FeatureDisabled)); the settings exist in
/// every build.
///
/// The default verifies the router's certificate against the system's root
/// certificates (the bundled Mozilla roots when the system has none) and sends no
/// client certificate.
///
/// ```
/// use izaber_wamp::{ClientConfig, TlsOptions};
///
/// let tls = TlsOptions::default()
///     .with_ca_file("/etc/izaber/ca.pem")
///     .with_client_cert("/etc/izaber/client.pem", "/etc/izaber/client.key");
/// let config = ClientConfig::new("wss://router.example.com/ws", "izaber").with_tls(tls);
/// assert!(config.tls.verify_tls);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TlsOptions {
    /// A PEM file of CA certificates to trust in addition to the system roots, e.g.
    /// the CA of a private router. It must hold at least one certificate.
    pub ca_file: Option<PathBuf>,
    /// A PEM file with the client certificate (and any intermediates after it), for
    /// routers that require TLS client authentication. Needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// A PEM file with the private key of `client_cert` (PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<PathBuf>,
    /// Verify the router's certificate and host name (default `true`). `false`
    /// accepts any certificate, which gives up all protection against impersonation;
    /// a warning is logged at every connect.
    pub verify_tls: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            ca_file: None,
            client_cert: None,
            client_key: None,
            verify_tls: true,
        }
    }
}

impl TlsOptions {
    /// Trusts the CA certificates in this PEM file as well as the system roots.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Authenticates with this client certificate and private key (both PEM files).
    pub fn with_client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some(cert.into());
        self.client_key = Some(key.into());
        self
    }

    /// Turns certificate verification on (the default) or off. Off accepts any
    /// certificate and logs a warning at every connect: only for tests.
    pub fn with_verify_tls(mut self, verify: bool) -> Self {
        self.verify_tls = verify;
        self
    }
}
