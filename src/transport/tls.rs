//! TLS client setup with rustls: system roots, falling back to the bundled webpki roots.

use rustls::pki_types::ServerName;
use std::sync::{Arc, OnceLock};

/// The shared client configuration; loading the system roots is slow, so do it once.
fn config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                log::debug!("no usable system root certificates; using the bundled webpki roots");
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS setup failed: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}

/// A TLS client connection to `host`, verifying its certificate.
pub(crate) fn client_connection(host: &str) -> Result<rustls::ClientConnection, String> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("invalid TLS server name {host:?}: {e}"))?;
    rustls::ClientConnection::new(config()?, name).map_err(|e| format!("TLS setup failed: {e}"))
}
