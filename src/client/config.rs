//! Settings for one client connection.

use crate::protocol::auth::{Anonymous, Authenticator, Ticket};
use crate::protocol::codec::Serializer;
use std::sync::Arc;
use std::time::Duration;

/// How to reach the router and how the client behaves.
///
/// ```
/// use izaber_wamp::ClientConfig;
/// use std::time::Duration;
///
/// let config = ClientConfig::new("ws://127.0.0.1:8080/ws", "izaber")
///     .with_ticket("alice", "secret")
///     .with_timeout(Duration::from_secs(10));
/// assert_eq!(config.realm, "izaber");
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Router URL: `ws://host:port/path` or `wss://...`.
    pub url: String,
    /// The realm to join.
    pub realm: String,
    /// Authentication methods to offer, most preferred first. Empty means anonymous.
    pub auth: Vec<Arc<dyn Authenticator>>,
    /// Serializers to offer, most preferred first (default: CBOR, MessagePack, JSON).
    pub serializers: Vec<Serializer>,
    /// Default timeout of every request (default: 300 s, as the Python library).
    pub timeout: Duration,
    /// How long connecting and joining may take (default: 30 s).
    pub connect_timeout: Duration,
    /// Largest message sent or accepted, in bytes (default: 16 MiB).
    pub max_message_size: usize,
    /// The `agent` string sent in HELLO.
    pub agent: String,
    /// Error URI sent to the caller when a procedure handler fails with a plain error
    /// or panics (default: `wamp.error.runtime_error`).
    pub handler_failure_uri: String,
    /// Most handler threads running at once (default: 256).
    pub max_handler_threads: usize,
}

impl ClientConfig {
    /// A configuration for `url` and `realm` with anonymous login and defaults elsewhere.
    pub fn new(url: impl Into<String>, realm: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            realm: realm.into(),
            auth: Vec::new(),
            serializers: Serializer::ALL.to_vec(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            max_message_size: 16 * 1024 * 1024,
            agent: default_agent(),
            handler_failure_uri: "wamp.error.runtime_error".into(),
            max_handler_threads: 256,
        }
    }

    /// Logs in with a ticket (password) for `authid`.
    pub fn with_ticket(mut self, authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        self.auth.push(Arc::new(Ticket::new(authid, ticket)));
        self
    }

    /// Offers anonymous login (after any method added before).
    pub fn with_anonymous(mut self) -> Self {
        self.auth.push(Arc::new(Anonymous));
        self
    }

    /// Offers a custom authentication method (after any method added before).
    pub fn with_authenticator(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth.push(auth);
        self
    }

    /// Uses only these serializers, most preferred first.
    pub fn with_serializers(mut self, serializers: &[Serializer]) -> Self {
        self.serializers = serializers.to_vec();
        self
    }

    /// Sets the default request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long connecting and joining may take.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the largest message sent or accepted.
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
}

/// `izaber-wamp-rust/<version> (<os>; <program>)`.
fn default_agent() -> String {
    let program = std::env::args()
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    format!(
        "izaber-wamp-rust/{} ({}; {program})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}
