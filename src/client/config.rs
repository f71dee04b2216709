//! Settings for one client connection.

use super::concurrency::{Concurrency, InboundLimits};
use super::hooks::Hooks;
use crate::error::Error;
use crate::event_loop::{Backoff, Settings};
use crate::proto::auth::{Anonymous, Authenticator, Cryptosign, Ticket, WampCra};
use crate::proto::codec::Serializer;
use crate::proto::session::{CancelMode, SessionConfig};
use crate::proto::value::Dict;
use crate::transport::TlsOptions;
use crate::transport::{ConnectOptions, SetupLimit};
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
#[non_exhaustive]
pub struct ClientConfig {
    /// Router URL: `ws://host:port/path` or `wss://...` (WebSocket), `tcpip://host:port`
    /// or `tcpips://...` (RawSocket, aliases `rs://` and `rss://`), or
    /// `unix:///path/to/socket` (RawSocket over a Unix socket).
    ///
    /// Each needs its transport's Cargo feature, `websocket` or `rawsocket`, and the
    /// TLS ones also `tls` ([Cargo features](crate#cargo-features)).
    pub url: String,
    /// More routers of the same realm (a cluster), tried in turn after `url` when
    /// connecting and reconnecting; registrations and subscriptions are restored on
    /// whichever router the client lands on (default: none).
    pub failover_urls: Vec<String>,
    /// The realm to join.
    pub realm: String,
    /// Authentication methods to offer, most preferred first. Empty means anonymous.
    pub auth: Vec<Arc<dyn Authenticator>>,
    /// Serializers to offer, most preferred first (default: CBOR, MessagePack, JSON).
    ///
    /// Those this build leaves out (see [`Serializer::is_compiled_in`]) are skipped;
    /// when none is left, connecting fails with
    /// [`Error::FeatureDisabled`](crate::Error::FeatureDisabled).
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
    /// Whether and how to reconnect after the connection is lost. The first connect
    /// also retries with this policy until `connect_timeout` passes.
    pub reconnect: ReconnectPolicy,
    /// How often to probe an idle connection with a WebSocket ping (default: 3 s;
    /// `None` turns probing off). RawSocket connections are not probed (Crossbar.io
    /// drops a RawSocket connection on a ping): there only EOF and socket errors tell
    /// that the connection is lost.
    pub ping_interval: Option<Duration>,
    /// How long a probed connection may stay silent before it is declared dead and
    /// reconnected (default: 10 s). A frozen router is noticed within
    /// `ping_interval + pong_timeout`. The router answers a ping only after what was
    /// sent before it, so keep this above the time the router may need to work through
    /// a burst (the socket's buffers' worth; beyond that, senders wait for the socket).
    pub pong_timeout: Duration,
    /// While reconnecting, new requests wait for the rejoin up to their timeout (true,
    /// the default) or fail at once with [`Error::ConnectionLost`](crate::Error::ConnectionLost) (false).
    pub wait_while_reconnecting: bool,
    /// How many unacknowledged publishes to keep while disconnected, to send in order
    /// after the rejoin (default: 0, off). When the buffer is full, publishing fails.
    pub offline_publish_buffer: usize,
    /// Life-cycle callbacks; add to them before connecting to see the first join.
    pub hooks: Hooks,
    /// Entries for `HELLO.Details.authextra` (default: empty). The authentication
    /// methods add their own entries over these (e.g. cryptosign's `pubkey`).
    pub authextra: Dict,
    /// TLS settings for `wss://` and `tcpips://` URLs: extra trusted CAs, a client
    /// certificate, or no verification (default: verify against the system roots).
    pub tls: TlsOptions,
    /// izaber's concurrency queues: how many handlers of each queue run at once
    /// (default: no limit, strict naming).
    pub concurrency: Concurrency,
    /// How much inbound work waits for handlers before the client stops reading
    /// (default: 10,000 events per subscription, 64 MiB in all).
    pub inbound: InboundLimits,
    /// How a call is canceled at the router when its timeout passes (default:
    /// `killnowait`, which interrupts the callee and ends the call at once).
    pub timeout_cancel_mode: CancelMode,
}

/// Reconnection with exponential back-off and jitter.
///
/// The delay before attempt *n* is `initial_delay * multiplier^(n-1)`, capped at
/// `max_delay`, then varied by up to ±`jitter` (a fraction) so that many clients do
/// not reconnect in lock step.
///
/// ```
/// use izaber_wamp::{ClientConfig, ReconnectPolicy};
///
/// let policy = ReconnectPolicy::default().with_max_attempts(Some(5));
/// let config = ClientConfig::new("ws://127.0.0.1:8080", "izaber").with_reconnect(policy);
/// assert_eq!(config.reconnect.max_attempts, Some(5));
/// assert!(!ReconnectPolicy::disabled().enabled);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// Reconnect at all (default: true).
    pub enabled: bool,
    /// Delay before the first retry (default: 1 s).
    pub initial_delay: Duration,
    /// Longest delay between attempts (default: 30 s).
    pub max_delay: Duration,
    /// Growth of the delay per attempt (default: 2).
    pub multiplier: f64,
    /// Give up after this many failed attempts in a row (default: never).
    pub max_attempts: Option<u32>,
    /// Random variation of each delay, as a fraction (default: 0.2).
    pub jitter: f64,
    /// A session the router ends sooner than this after the join counts as a failed
    /// attempt, so its reconnect waits for the back-off (default: 10 s): a router that
    /// drops every session at once is not hammered with reconnects.
    pub stable_after: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            max_attempts: None,
            jitter: 0.2,
            stable_after: Duration::from_secs(10),
        }
    }
}

impl ReconnectPolicy {
    /// No reconnecting: a lost connection closes the client.
    pub fn disabled() -> Self {
        ReconnectPolicy {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets the delay before the first retry.
    ///
    /// ```
    /// use izaber_wamp::ReconnectPolicy;
    /// use std::time::Duration;
    /// let policy = ReconnectPolicy::default()
    ///     .with_initial_delay(Duration::from_millis(200))
    ///     .with_max_delay(Duration::from_secs(5))
    ///     .with_max_attempts(Some(10));
    /// assert_eq!(policy.max_attempts, Some(10));
    /// ```
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the longest delay between attempts.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets how much the delay grows per attempt.
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets after how many failed attempts in a row to give up (`None`: never).
    pub fn with_max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the random variation of each delay, as a fraction.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets how long a session must last to count as stable.
    pub fn with_stable_after(mut self, after: Duration) -> Self {
        self.stable_after = after;
        self
    }

    /// The policy in the event loop's terms.
    fn backoff(&self) -> Backoff {
        Backoff {
            enabled: self.enabled,
            initial_delay: self.initial_delay,
            max_delay: self.max_delay,
            multiplier: self.multiplier,
            max_attempts: self.max_attempts,
            jitter: self.jitter,
            stable_after: self.stable_after,
        }
    }
}

impl ClientConfig {
    /// A configuration for `url` and `realm` with anonymous login and defaults elsewhere.
    pub fn new(url: impl Into<String>, realm: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            failover_urls: Vec::new(),
            realm: realm.into(),
            auth: Vec::new(),
            serializers: Serializer::ALL.to_vec(),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(30),
            max_message_size: 16 * 1024 * 1024,
            agent: default_agent(),
            handler_failure_uri: "wamp.error.runtime_error".into(),
            max_handler_threads: 256,
            reconnect: ReconnectPolicy::default(),
            ping_interval: Some(Duration::from_secs(3)),
            pong_timeout: Duration::from_secs(10),
            wait_while_reconnecting: true,
            offline_publish_buffer: 0,
            hooks: Hooks::default(),
            authextra: Dict::new(),
            tls: TlsOptions::default(),
            concurrency: Concurrency::default(),
            inbound: InboundLimits::default(),
            timeout_cancel_mode: CancelMode::KillNoWait,
        }
    }

    /// Logs in with a ticket (password) for `authid`.
    pub fn with_ticket(mut self, authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        self.auth.push(Arc::new(Ticket::new(authid, ticket)));
        self
    }

    /// Offers WAMP-CRA login (after any method added before): `secret` is never sent,
    /// only an HMAC of the router's challenge. Plain and salted secrets both work; the
    /// router says which in its challenge.
    pub fn with_wampcra(mut self, authid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.auth.push(Arc::new(WampCra::new(authid, secret)));
        self
    }

    /// Offers WAMP-Cryptosign login with an Ed25519 key (after any method added
    /// before). Its public key goes into `HELLO.Details.authextra.pubkey`.
    ///
    /// ```
    /// use izaber_wamp::auth::Cryptosign;
    /// use izaber_wamp::ClientConfig;
    ///
    /// let key = Cryptosign::from_seed_hex(
    ///     "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
    /// )?;
    /// let config = ClientConfig::new("ws://127.0.0.1:8080/ws", "izaber")
    ///     .with_cryptosign(key.with_authid("alice"));
    /// assert_eq!(config.auth[0].method(), "cryptosign");
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    pub fn with_cryptosign(mut self, key: Cryptosign) -> Self {
        self.auth.push(Arc::new(key));
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

    /// Sets the reconnection policy.
    pub fn with_reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// Sets the liveness probe: ping after `interval` of silence, give up after `timeout`.
    pub fn with_liveness(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.pong_timeout = timeout;
        self
    }

    /// Sets the largest message sent or accepted.
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Adds routers to fail over to: attempts rotate through `url` and these.
    ///
    /// ```
    /// use izaber_wamp::ClientConfig;
    /// let config = ClientConfig::new("ws://router-a:8080/ws", "izaber")
    ///     .with_failover_urls(["ws://router-b:8080/ws", "ws://router-c:8080/ws"]);
    /// assert_eq!(config.failover_urls.len(), 2);
    /// ```
    pub fn with_failover_urls<U: Into<String>>(
        mut self,
        urls: impl IntoIterator<Item = U>,
    ) -> Self {
        self.failover_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the TLS settings for `wss://` and `tcpips://` URLs.
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the concurrency queues.
    pub fn with_concurrency(mut self, concurrency: Concurrency) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Sets how much inbound work may wait for handlers.
    pub fn with_inbound_limits(mut self, limits: InboundLimits) -> Self {
        self.inbound = limits;
        self
    }

    /// Sets how a call is canceled at the router when its timeout passes.
    ///
    /// ```
    /// use izaber_wamp::{CancelMode, ClientConfig};
    /// let config = ClientConfig::new("ws://127.0.0.1:8080/ws", "izaber")
    ///     .with_timeout_cancel_mode(CancelMode::Kill);
    /// assert_eq!(config.timeout_cancel_mode, CancelMode::Kill);
    /// ```
    pub fn with_timeout_cancel_mode(mut self, mode: CancelMode) -> Self {
        self.timeout_cancel_mode = mode;
        self
    }
}

impl ClientConfig {
    /// What the protocol session needs to join with `serializer`.
    fn session_config(&self, serializer: Serializer) -> SessionConfig {
        let mut session = SessionConfig::new(self.realm.clone());
        session.auth = self.auth.clone();
        session.agent = self.agent.clone();
        session.serializer = serializer;
        session.max_message_size = self.max_message_size;
        session.authextra = self.authextra.clone();
        session
    }

    /// What the event loop needs of this configuration.
    pub(crate) fn loop_settings(&self) -> Result<Settings, Error> {
        let serializers = self.compiled_in_serializers()?;
        Ok(Settings {
            connect: ConnectOptions {
                url: self.url.clone(),
                serializers: serializers.clone(),
                max_message_size: self.max_message_size,
                // Each attempt sets its own.
                limit: SetupLimit {
                    deadline: std::time::Instant::now(),
                    abandoned: Default::default(),
                },
                tls: self.tls.clone(),
            },
            urls: std::iter::once(&self.url)
                .chain(&self.failover_urls)
                .cloned()
                .collect(),
            connect_timeout: self.connect_timeout,
            session: self.session_config(serializers[0]),
            reconnect: self.reconnect.backoff(),
            ping_interval: self.ping_interval,
            pong_timeout: self.pong_timeout,
            wait_while_reconnecting: self.wait_while_reconnecting,
            offline_publish_buffer: self.offline_publish_buffer,
            timeout_cancel_mode: self.timeout_cancel_mode,
        })
    }

    /// The configured serializers this build can use, in order of preference.
    ///
    /// Serializers whose Cargo feature is off are skipped, so the default list (and a
    /// shared `izaber.yaml`) works in every build; only when that leaves none is it an
    /// error, naming the feature of the most preferred one.
    pub(crate) fn compiled_in_serializers(&self) -> Result<Vec<Serializer>, Error> {
        let Some(&preferred) = self.serializers.first() else {
            return Err(Error::Config("no serializer configured".into()));
        };
        let usable: Vec<Serializer> = self
            .serializers
            .iter()
            .copied()
            .filter(|s| s.is_compiled_in())
            .collect();
        if usable.is_empty() {
            let names: Vec<&str> = self.serializers.iter().map(|s| s.name()).collect();
            return Err(Error::FeatureDisabled {
                // Only JSON has no feature, and JSON is always compiled in.
                feature: preferred.cargo_feature().unwrap_or_default(),
                what: if names.len() == 1 {
                    format!("serializer {preferred}")
                } else {
                    format!(
                        "none of the configured serializers ({}) is compiled in; serializer \
                         {preferred}",
                        names.join(", ")
                    )
                },
            });
        }
        if usable.len() < self.serializers.len() {
            log::debug!(
                "offering serializers {usable:?} of the configured {:?}: the others are not \
                 compiled in",
                self.serializers
            );
        }
        Ok(usable)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_agent_names_library_version_os_and_program() {
        let agent = default_agent();
        let program = std::env::args().next().unwrap_or_default();
        let program = std::path::Path::new(&program)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            agent,
            format!(
                "izaber-wamp-rust/{} ({}; {program})",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS
            )
        );
    }

    #[test]
    fn serializers_left_out_of_the_build_are_skipped() {
        let config = ClientConfig::new("ws://127.0.0.1:1", "izaber");
        let usable = config
            .compiled_in_serializers()
            .expect("JSON is always there");
        let expected: Vec<Serializer> = Serializer::ALL
            .into_iter()
            .filter(|s| s.is_compiled_in())
            .collect();
        assert_eq!(usable, expected);
        assert_eq!(usable.last(), Some(&Serializer::Json));
    }

    #[test]
    fn no_serializer_at_all_is_a_configuration_error() {
        let config = ClientConfig::new("ws://127.0.0.1:1", "izaber").with_serializers(&[]);
        assert!(matches!(
            config.compiled_in_serializers(),
            Err(Error::Config(_))
        ));
    }

    #[cfg(not(feature = "cbor"))]
    #[test]
    fn only_serializers_left_out_of_the_build_name_the_feature() {
        let config =
            ClientConfig::new("ws://127.0.0.1:1", "izaber").with_serializers(&[Serializer::Cbor]);
        let err = config
            .compiled_in_serializers()
            .expect_err("cbor is left out");
        assert_eq!(
            err.to_string(),
            "serializer cbor needs the `cbor` feature of izaber-wamp"
        );
    }

    #[cfg(not(any(feature = "msgpack", feature = "cbor")))]
    #[test]
    fn several_serializers_left_out_of_the_build_are_all_named() {
        let config = ClientConfig::new("ws://127.0.0.1:1", "izaber")
            .with_serializers(&[Serializer::Cbor, Serializer::MsgPack]);
        let err = config
            .compiled_in_serializers()
            .expect_err("both are left out");
        assert!(
            matches!(
                err,
                Error::FeatureDisabled {
                    feature: "cbor",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "none of the configured serializers (cbor, msgpack) is compiled in; \
             serializer cbor needs the `cbor` feature of izaber-wamp"
        );
    }

    #[test]
    fn back_off_grows_to_the_cap() {
        let policy = ReconnectPolicy {
            jitter: 0.0,
            ..ReconnectPolicy::default()
        };
        let delays: Vec<u64> = (1..=7)
            .map(|n| policy.backoff().delay(n, 0.5).as_secs())
            .collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let policy = ReconnectPolicy::default();
        let low = policy.backoff().delay(3, 0.0).as_secs_f64();
        let high = policy.backoff().delay(3, 1.0).as_secs_f64();
        assert!(
            (low - 3.2).abs() < 1e-9 && (high - 4.8).abs() < 1e-9,
            "{low} {high}"
        );
    }
}
