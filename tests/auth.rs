//! Logging in to a real Crossbar.io router with WAMP-CRA (plain and salted) and
//! WAMP-Cryptosign (hex seed and OpenSSH key file), for each serializer; wrong
//! credentials; several methods in order of preference. The principals are in
//! `tests/router/config.json`.
#![cfg(feature = "websocket")]

#[macro_use]
mod common;

use common::keys::{CS_OPENSSH, CS_PUBKEY, CS_SEED};

use common::shared_router;
use izaber_wamp::auth::Cryptosign;
use izaber_wamp::{Client, ClientConfig, Error, Serializer};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn config_for(url: String, serializer: Serializer) -> ClientConfig {
    ClientConfig::new(url, "izaber")
        .with_serializers(&[serializer])
        .with_timeout(Duration::from_secs(20))
        .with_connect_timeout(Duration::from_secs(20))
}

fn config(serializer: Serializer) -> ClientConfig {
    config_for(shared_router().ws_url(), serializer)
}

fn cs_key() -> Cryptosign {
    Cryptosign::from_seed_hex(CS_SEED).expect("the cs-user seed")
}

/// Connects and checks who the router says we are.
fn join(config: ClientConfig, authid: &str, authmethod: &str) -> Client {
    let client = Client::connect(config).expect("connect");
    let info = client.session_info().expect("joined");
    assert_eq!(info.authid.as_deref(), Some(authid));
    assert_eq!(info.authmethod.as_deref(), Some(authmethod));
    assert_eq!(info.authrole.as_deref(), Some("user"));
    client
}

/// Connects, expecting the router to refuse quickly with `wamp.error.not_authorized`;
/// returns the error.
fn refused(config: ClientConfig) -> Error {
    let start = Instant::now();
    let result = Client::connect(config);
    let took = start.elapsed();
    let error = match result {
        Err(e @ Error::Abort { .. }) => e,
        Err(other) => panic!("expected an abort, got {other:?}"),
        Ok(client) => panic!("expected an abort, joined as {:?}", client.session_info()),
    };
    match &error {
        Error::Abort { reason, .. } => assert_eq!(reason, "wamp.error.not_authorized"),
        _ => unreachable!(),
    }
    assert!(took < Duration::from_secs(5), "took {took:?}");
    error
}

/// A key file in a fresh temporary directory, removed on drop.
struct KeyFile(PathBuf);

impl KeyFile {
    fn new(name: &str, contents: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "izaber-wamp-auth-test-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let path = dir.join("key");
        std::fs::write(&path, contents).expect("write key file");
        KeyFile(path)
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn wampcra_plain(s: Serializer) {
    join(
        config(s).with_wampcra("cra-user", "cra-secret"),
        "cra-user",
        "wampcra",
    );
}

fn wampcra_salted(s: Serializer) {
    join(
        config(s).with_wampcra("cra-salt-user", "cra-salt-secret"),
        "cra-salt-user",
        "wampcra",
    );
}

fn cryptosign_from_a_seed(s: Serializer) {
    join(
        config(s).with_cryptosign(cs_key().with_authid("cs-user")),
        "cs-user",
        "cryptosign",
    );
    // Without an authid Crossbar finds the principal by the public key.
    join(config(s).with_cryptosign(cs_key()), "cs-user", "cryptosign");
}

fn cryptosign_from_an_openssh_key_file(s: Serializer) {
    let file = KeyFile::new(&format!("openssh-{}", s.name()), CS_OPENSSH);
    let key = Cryptosign::from_key_file(&file.0).expect("read the OpenSSH key");
    assert_eq!(key.public_key_hex(), CS_PUBKEY);
    join(config(s).with_cryptosign(key), "cs-user", "cryptosign");

    let file = KeyFile::new(&format!("hex-{}", s.name()), &format!("{CS_SEED}\n"));
    let key = Cryptosign::from_key_file(&file.0).expect("read the hex seed file");
    join(config(s).with_cryptosign(key), "cs-user", "cryptosign");
}

fn a_wrong_cra_secret_is_refused_fast_without_showing_it(s: Serializer) {
    for authid in ["cra-user", "cra-salt-user"] {
        let config = config(s).with_wampcra(authid, "wrong-secret-1234");
        assert!(!format!("{config:?}").contains("wrong-secret-1234"));
        let error = refused(config);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("wrong-secret-1234"), "{shown}");
    }
    // An unknown principal is refused the same way.
    refused(config(s).with_wampcra("nobody", "cra-secret"));
}

fn a_wrong_cryptosign_key_is_refused_fast_without_showing_it(s: Serializer) {
    let other = Cryptosign::generate();
    let seed = other.seed_hex();
    for key in [other.clone().with_authid("cs-user"), other] {
        let config = config(s).with_cryptosign(key);
        assert!(!format!("{config:?}").contains(&seed));
        let error = refused(config);
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(&seed), "{shown}");
    }
}

/// Crossbar (26.10.1, `RouterSession.onHello`) takes the first method of
/// `authmethods` that the transport has configured, whatever the authid, and does
/// not fall back to the next method when that one fails. One authid goes in HELLO:
/// the first any method has.
fn several_methods_are_offered_in_order(s: Serializer) {
    // The first method wins when it fits the principal.
    join(
        config(s)
            .with_ticket("test-user", "test-pass")
            .with_cryptosign(cs_key()),
        "test-user",
        "ticket",
    );
    join(
        config(s)
            .with_cryptosign(cs_key().with_authid("cs-user"))
            .with_ticket("test-user", "test-pass"),
        "cs-user",
        "cryptosign",
    );
    join(
        config(s)
            .with_wampcra("cra-user", "cra-secret")
            .with_anonymous(),
        "cra-user",
        "wampcra",
    );
    // Cryptosign first for the ticket-only principal test-user: Crossbar picks
    // cryptosign (configured on the transport), finds no cryptosign principal
    // test-user and refuses; the ticket is never asked for.
    let error = refused(
        config(s)
            .with_cryptosign(cs_key())
            .with_ticket("test-user", "test-pass"),
    );
    match error {
        Error::Abort { message, .. } => assert_eq!(
            message.as_deref(),
            Some("no principal with authid \"test-user\" exists")
        ),
        other => panic!("{other:?}"),
    }
}

for_each_serializer!(
    wampcra_plain,
    wampcra_salted,
    cryptosign_from_a_seed,
    cryptosign_from_an_openssh_key_file,
    a_wrong_cra_secret_is_refused_fast_without_showing_it,
    a_wrong_cryptosign_key_is_refused_fast_without_showing_it,
    several_methods_are_offered_in_order,
);

/// The TCP connections of this process to `port` on the loopback, from
/// `/proc/net/tcp` and this process's file descriptors.
#[cfg(target_os = "linux")]
fn connections_to(port: u16) -> usize {
    let ours: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            link.strip_prefix("socket:[")
                .and_then(|rest| rest.strip_suffix(']'))
                .map(str::to_owned)
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|remote| remote.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            remote_port == Some(port) && fields.get(9).is_some_and(|inode| ours.contains(*inode))
        })
        .count()
}

/// Waits up to 2 s for the connections of this process to `port` to close.
#[cfg(target_os = "linux")]
fn no_connections_left(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while connections_to(port) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    connections_to(port) == 0
}

#[cfg(target_os = "linux")]
#[test]
fn a_refused_login_leaves_no_connection_open() {
    // A router of its own, so no other test's connections are counted.
    let router = common::Router::start();
    let port = router.ws_port();
    let config = || config_for(router.ws_url(), Serializer::Json);
    let client = join(
        config().with_wampcra("cra-user", "cra-secret"),
        "cra-user",
        "wampcra",
    );
    assert_eq!(connections_to(port), 1, "the counting works");
    client.close().expect("close");
    assert!(no_connections_left(port));
    for bad in [
        config().with_wampcra("cra-user", "wrong"),
        config().with_cryptosign(Cryptosign::generate().with_authid("cs-user")),
    ] {
        refused(bad);
        assert!(no_connections_left(port), "a connection stayed open");
    }
}
