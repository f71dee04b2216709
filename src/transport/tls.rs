//! TLS for `wss://` and `tcpips://` with rustls: trust roots (the system's, plus an
//! optional private CA), an optional client certificate, and the `verify_tls: false`
//! escape hatch.
//!
//! Building a rustls client configuration loads the system roots, which is slow, so
//! configurations are cached: the system roots once per process, and one configuration
//! per distinct [`TlsOptions`] (rebuilt when one of its files changes on disk, so a
//! renewed client certificate is picked up at the next reconnect).

use super::socket::{is_timeout, Socket};
use super::TlsOptions;
use crate::error::ConnectFailure;
use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// The crypto provider used for every TLS connection.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system roots, or the bundled webpki roots when the system has none; loaded once.
fn system_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                log::debug!("no usable system root certificates; using the bundled webpki roots");
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(roots)
        })
        .clone()
}

/// When each file of the options was last modified (`None`: unreadable or unset).
type Stamps = [Option<SystemTime>; 3];

fn stamps(options: &TlsOptions) -> Stamps {
    let modified = |path: &Option<PathBuf>| {
        path.as_ref()
            .and_then(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    };
    [
        modified(&options.ca_file),
        modified(&options.client_cert),
        modified(&options.client_key),
    ]
}

/// The client configuration for `options`, from the cache or built now. Errors name
/// the file and what is wrong with it.
pub(crate) fn client_config(options: &TlsOptions) -> Result<Arc<rustls::ClientConfig>, String> {
    type Cache = Mutex<HashMap<TlsOptions, (Stamps, Arc<rustls::ClientConfig>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let stamps = stamps(options);
    if let Some((cached_stamps, config)) = cache.lock().get(options) {
        if *cached_stamps == stamps {
            return Ok(config.clone());
        }
    }
    // Built outside the lock: loading the system roots the first time is slow.
    let config = Arc::new(build(options)?);
    cache
        .lock()
        .insert(options.clone(), (stamps, config.clone()));
    Ok(config)
}

fn build(options: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let builder = if options.verify_tls {
        let mut roots = (*system_roots()).clone();
        if let Some(path) = &options.ca_file {
            for (i, cert) in read_certificates("ca_file", path)?.into_iter().enumerate() {
                roots.add(cert).map_err(|e| {
                    format!(
                        "ca_file {}: certificate {} is not a usable CA certificate: {e}",
                        path.display(),
                        i + 1
                    )
                })?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    };
    match (&options.client_cert, &options.client_key) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert_path), Some(key_path)) => {
            let certs = read_certificates("client_cert", cert_path)?;
            let key = read_private_key(key_path)?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                format!(
                    "client_cert {} and client_key {} cannot be used together: {e}",
                    cert_path.display(),
                    key_path.display()
                )
            })
        }
        (Some(_), None) => Err("client_cert is set but client_key is not; set both".into()),
        (None, Some(_)) => Err("client_key is set but client_cert is not; set both".into()),
    }
}

fn read_file(what: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

/// Every certificate of a PEM file; at least one.
fn read_certificates(what: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read_file(what, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what} {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} {} holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)",
            path.display()
        ));
    }
    Ok(certs)
}

/// The first private key of a PEM file.
fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read_file("client_key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => format!(
            "client_key {} holds no private key (expected a PEM \"BEGIN PRIVATE KEY\" block)",
            path.display()
        ),
        // The message of other errors may quote a line of the file: leave it out, the
        // file holds a secret.
        _ => format!(
            "client_key {} is not a valid PEM private key",
            path.display()
        ),
    })
}

/// A TLS client connection to `host` with `options`. With verification off, logs a
/// warning (at every connect, on purpose).
fn client_connection(host: &str, options: &TlsOptions) -> Result<rustls::ClientConnection, String> {
    let config = client_config(options)?;
    if !options.verify_tls {
        log::warn!(
            "TLS certificate verification is OFF for {host} (verify_tls: false): \
             the router's identity is not checked"
        );
    }
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("invalid TLS server name {host:?}: {e}"))?;
    rustls::ClientConnection::new(config, name).map_err(|e| format!("TLS setup failed: {e}"))
}

/// TLS over a TCP socket.
///
/// Unlike `rustls::StreamOwned`, reading never waits for queued writes: a read only
/// reads, so a backed-up outgoing message cannot hide incoming data from the event
/// loop (whose poller reports readiness only on changes).
pub(crate) struct TlsStream {
    conn: rustls::ClientConnection,
    sock: Socket,
}

impl TlsStream {
    /// Connects TLS to `host` over the socket (still in setup mode): runs the whole
    /// handshake.
    pub fn handshake(
        host: &str,
        sock: Socket,
        options: &TlsOptions,
    ) -> Result<TlsStream, (ConnectFailure, String)> {
        let conn = client_connection(host, options).map_err(|e| (ConnectFailure::Tls, e))?;
        let mut stream = TlsStream { conn, sock };
        stream.complete_handshake()?;
        Ok(stream)
    }

    fn complete_handshake(&mut self) -> Result<(), (ConnectFailure, String)> {
        while self.conn.is_handshaking() {
            if let Err(e) = self.conn.complete_io(&mut self.sock) {
                return Err(match rustls_error(&e) {
                    Some(tls_error) => (
                        ConnectFailure::Tls,
                        format!("TLS handshake failed: {}", describe(tls_error)),
                    ),
                    None if is_timeout(&e) => (
                        ConnectFailure::TimedOut,
                        "timed out during the TLS handshake".into(),
                    ),
                    None if e.kind() == io::ErrorKind::UnexpectedEof => (
                        ConnectFailure::Closed,
                        "the router closed the connection during the TLS handshake".into(),
                    ),
                    None => (ConnectFailure::of(&e), format!("TLS handshake failed: {e}")),
                });
            }
        }
        Ok(())
    }

    /// The socket under the TLS layer.
    pub fn socket_mut(&mut self) -> &mut Socket {
        &mut self.sock
    }

    /// Starts a clean TLS close (close_notify), best effort.
    #[cfg(feature = "rawsocket")]
    pub fn close_notify(&mut self) {
        self.conn.send_close_notify();
        let _ = self.write_records();
    }

    /// Writes queued TLS records until none are left or the socket is full.
    fn write_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Ok(0) after the router's close_notify; UnexpectedEof after a plain EOF.
            match self.conn.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return done,
            }
            // At EOF rustls remembers it, and the read above ends the loop next time.
            self.conn.read_tls(&mut self.sock)?;
            let processed = self.conn.process_new_packets();
            // Alerts and post-handshake messages go out best effort; a write that
            // cannot happen now happens at the next flush.
            let _ = self.write_records();
            if let Err(e) = processed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Keep at most one batch of records queued: push the last one out first.
        self.write_records()?;
        let written = self.conn.writer().write(buf)?;
        // Errors other than a full socket show up at the next call.
        let _ = self.write_records();
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.writer().flush()?;
        self.write_records()
    }
}

/// Describes a TLS failure for an error message, with a hint for the common ones.
fn describe(error: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError};
    let hint = match error {
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => " (the router's certificate is not signed by a trusted CA; set ca_file to trust a private CA)",
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => " (the router's certificate is not valid for the host name in the URL)",
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
            " (the router requires a client certificate: set client_cert and client_key)"
        }
        rustls::Error::AlertReceived(
            AlertDescription::UnknownCA | AlertDescription::BadCertificate,
        ) => " (the router did not accept the client certificate)",
        _ => "",
    };
    format!("{error}{hint}")
}

/// The rustls error inside an I/O error from a TLS stream, if there is one.
fn rustls_error(error: &std::io::Error) -> Option<&rustls::Error> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// If `error` carries a rustls error, `TLS error: ` and its description.
pub(crate) fn describe_io(error: &std::io::Error) -> Option<String> {
    rustls_error(error).map(|e| format!("TLS error: {}", describe(e)))
}

/// The `verify_tls: false` verifier: any certificate is accepted, but the handshake
/// signatures are still checked (so the peer holds the key of the certificate it sent).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("izaber-wamp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let options = TlsOptions::default().with_ca_file("/no/such/ca.pem");
        let err = client_config(&options).expect_err("must fail");
        assert!(err.contains("cannot read ca_file /no/such/ca.pem"), "{err}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_named() {
        let path = temp_file("empty-ca.pem", b"not a certificate\n");
        let options = TlsOptions::default().with_ca_file(&path);
        let err = client_config(&options).expect_err("must fail");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("holds no certificate"), "{err}");
    }

    #[test]
    fn a_client_cert_needs_its_key() {
        let options = TlsOptions {
            client_cert: Some("/x/client.pem".into()),
            ..TlsOptions::default()
        };
        let err = client_config(&options).expect_err("must fail");
        assert!(err.contains("client_key is not"), "{err}");
    }

    #[test]
    fn a_bad_key_file_is_named_without_its_contents() {
        let cert = temp_file(
            "one-cert.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let key = temp_file(
            "bad.key",
            b"-----BEGIN PRIVATE KEY-----\nsecret!!\n-----END PRIVATE KEY-----\n",
        );
        let options = TlsOptions::default().with_client_cert(&cert, &key);
        let err = client_config(&options).expect_err("must fail");
        assert!(err.contains(&key.display().to_string()), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn configurations_are_cached_per_options() {
        let off = TlsOptions::default().with_verify_tls(false);
        let a = client_config(&off).expect("config");
        let b = client_config(&off.clone()).expect("config");
        assert!(Arc::ptr_eq(&a, &b));
        let on = client_config(&TlsOptions::default()).expect("config");
        assert!(!Arc::ptr_eq(&a, &on));
    }

    #[test]
    fn errors_get_hints() {
        use rustls::{AlertDescription, CertificateError};
        let unknown = describe(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert!(
            unknown.contains("invalid peer certificate: UnknownIssuer"),
            "{unknown}"
        );
        assert!(unknown.contains("ca_file"), "{unknown}");
        let required = describe(&rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        assert!(required.contains("client_cert"), "{required}");
    }
}
