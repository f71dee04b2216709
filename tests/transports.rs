//! RawSocket (TCP, TLS, Unix socket) and TLS (WebSocket and RawSocket) against a real
//! Crossbar.io router serving certificates made for the test by a test CA.
//!
//! Needs the `rawsocket` feature; the TLS tests also `tls`, and those over `wss://`
//! also `websocket`.
#![cfg(feature = "rawsocket")]

mod common;

use common::scenarios::{self, echo, wait_until};
use common::{shared_tls_router, Router};
use izaber_wamp::config::{load, LoadOptions};
use izaber_wamp::{
    CallResult, Client, ClientConfig, ConnectionState, Dict, Error, PublishOptions,
    ReconnectPolicy, Serializer, SessionId, TlsOptions, Value,
};
use std::sync::{mpsc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// How the client reaches the router.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Via {
    /// `tcpip://`
    Tcp,
    /// `tcpips://` (only used in builds with `tls`)
    Tls,
    /// `unix://`
    Unix,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Tcp => "tcp",
            Via::Tls => "tls",
            Via::Unix => "unix",
        }
    }

    fn url(self, router: &Router) -> String {
        match self {
            Via::Tcp => router.tcpip_url(),
            Via::Tls => router.rss_url(),
            Via::Unix => router.unix_url(),
        }
    }
}

/// Tests that measure the process's CPU time run alone; all others share.
fn lock() -> &'static RwLock<()> {
    static LOCK: OnceLock<RwLock<()>> = OnceLock::new();
    LOCK.get_or_init(|| RwLock::new(()))
}

fn shared() -> RwLockReadGuard<'static, ()> {
    lock().read().unwrap_or_else(|e| e.into_inner())
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    lock().write().unwrap_or_else(|e| e.into_inner())
}

/// Records every log message of this test binary, for the tests about logging.
struct Recorder(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Recorder {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        if !record.target().starts_with("izaber_wamp") {
            return;
        }
        let line = record.args().to_string();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((record.level(), line));
    }

    fn flush(&self) {}
}

fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<&'static Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static Recorder = Box::leak(Box::new(Recorder(Mutex::new(Vec::new()))));
        log::set_logger(recorder).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
        recorder
    })
}

fn logged(level: log::Level, contains: &str) -> usize {
    recorder()
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(l, line)| *l == level && line.contains(contains))
        .count()
}

/// A unique URI per test, transport and serializer.
fn uri(via: Via, s: Serializer, name: &str) -> String {
    format!("transports.{}.{}.{name}", via.name(), s.name())
}

/// The test CA, trusted for TLS.
fn trusting(router: &Router) -> TlsOptions {
    TlsOptions::default().with_ca_file(router.ca_file())
}

fn config_for(router: &Router, via: Via, s: Serializer) -> ClientConfig {
    ClientConfig::new(via.url(router), "izaber")
        .with_serializers(&[s])
        .with_timeout(Duration::from_secs(20))
        .with_connect_timeout(Duration::from_secs(20))
        .with_tls(trusting(router))
}

fn config(via: Via, s: Serializer) -> ClientConfig {
    config_for(shared_tls_router(), via, s)
}

fn connect(via: Via, s: Serializer) -> Client {
    Client::connect(config(via, s).with_ticket("test-user", "test-pass")).expect("connect")
}

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // pid (comm) state ... utime stime are fields 14 and 15; comm may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').expect(")") + 2..]
        .split_whitespace()
        .collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

/// The CPU time this process uses while sleeping for `wall`.
fn cpu_while_sleeping(wall: Duration) -> Duration {
    let before = cpu_time();
    std::thread::sleep(wall);
    cpu_time().saturating_sub(before)
}

// --- The WebSocket scenarios, over each RawSocket transport and serializer ----------

fn join_and_negotiate(via: Via, s: Serializer) {
    let client = connect(via, s);
    let info = client.session_info().expect("joined");
    assert_eq!(info.authid.as_deref(), Some("test-user"));
    assert_eq!(info.authmethod.as_deref(), Some("ticket"));
    let anonymous = Client::connect(config(via, s)).expect("connect anonymously");
    assert_eq!(
        anonymous
            .session_info()
            .expect("joined")
            .authrole
            .as_deref(),
        Some("anonymous")
    );
}

fn register_and_call_round_trips_args_and_kwargs(via: Via, s: Serializer) {
    let client = connect(via, s);
    let procedure = uri(via, s, "roundtrip");
    client
        .register(&procedure, |inv| {
            let (a, b): (i64, String) = inv.args_as()?;
            let kwargs = Dict::from([("doubled".to_string(), Value::Int(a * 2))]);
            let mut back = inv.kwargs.clone();
            back.extend(kwargs);
            Ok(CallResult::new((b, Value::Null), back)?)
        })
        .expect("register");
    let kwargs = Dict::from([
        ("name".to_string(), Value::from("ü€ widget")),
        (
            "list".to_string(),
            Value::List(vec![Value::Int(-1), Value::Float(2.5)]),
        ),
    ]);
    let result = client
        .call_kw(&procedure, (21, "text"), &kwargs)
        .expect("call");
    assert_eq!(result.args, vec![Value::from("text"), Value::Null]);
    assert_eq!(result.kwargs.get("doubled"), Some(&Value::Int(42)));
    assert_eq!(result.kwargs.get("name"), kwargs.get("name"));
    assert_eq!(result.kwargs.get("list"), kwargs.get("list"));
    let err = client
        .call(&uri(via, s, "nobody.home"), ())
        .expect_err("no such procedure");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_procedure"));
}

fn subscribe_and_publish(via: Via, s: Serializer) {
    let subscriber = connect(via, s);
    let publisher = connect(via, s);
    let topic = uri(via, s, "news");
    let (tx, rx) = mpsc::channel();
    subscriber
        .subscribe(&topic, move |event| {
            let _ = tx.send((event.args.clone(), event.kwargs.clone()));
        })
        .expect("subscribe");
    let kwargs = Dict::from([("k".to_string(), Value::from("v"))]);
    let acked = PublishOptions::new().acknowledge(true);
    let publication = publisher
        .publish_with(&topic, ("acked", 1), &kwargs, &acked)
        .expect("publish");
    assert!(publication.is_some());
    let (args, got_kwargs) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::from("acked"), Value::Int(1)]);
    assert_eq!(got_kwargs, kwargs);
    publisher.publish(&topic, ("plain",)).expect("publish");
    let (args, _) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::from("plain")]);
}

fn binary_payloads_round_trip(via: Via, s: Serializer) {
    scenarios::binary_payloads_round_trip(&connect(via, s), &uri(via, s, "binary"));
}

fn thirty_two_threads_call_at_once(via: Via, s: Serializer) {
    scenarios::thirty_two_threads_call_at_once(&connect(via, s), &uri(via, s, "square"));
}

/// The client may send only what the router accepts: Crossbar announces 16 MiB, and a
/// client configured for more still gets 16 MiB as its limit.
fn a_message_over_the_routers_limit_fails_alone(via: Via, s: Serializer) {
    let client =
        Client::connect(config(via, s).with_max_message_size(64 * 1024 * 1024)).expect("connect");
    let limit = 16 * 1024 * 1024;
    let procedure = uri(via, s, "too_big");
    client.register(&procedure, echo).expect("register");
    match client.call(&procedure, (Value::bytes(vec![7u8; limit]),)) {
        Err(Error::PayloadTooLarge { size, limit: l }) => {
            assert!(size > limit, "size {size}");
            assert_eq!(l, limit);
            let text = Error::PayloadTooLarge { size, limit: l }.to_string();
            assert!(text.contains(&size.to_string()) && text.contains(&limit.to_string()));
        }
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    }
    // Only that request failed.
    assert_eq!(
        client.call(&procedure, (1,)).expect("still connected").args,
        vec![Value::Int(1)]
    );
    assert_eq!(client.state(), ConnectionState::Joined);
}

macro_rules! for_each_transport_and_serializer {
    ($($test:ident),* $(,)?) => {
        for_each_transport_and_serializer!(@via tcp, Via::Tcp; $($test),*);
        #[cfg(feature = "tls")]
        for_each_transport_and_serializer!(@via tls, Via::Tls; $($test),*);
        for_each_transport_and_serializer!(@via unix, Via::Unix; $($test),*);
    };
    (@via $name:ident, $via:expr; $($test:ident),*) => {
        mod $name {
            use super::*;
            mod json {
                use super::*;
                $(#[test] fn $test() { let _g = shared(); super::super::$test($via, Serializer::Json) })*
            }
            #[cfg(feature = "msgpack")]
            mod msgpack {
                use super::*;
                $(#[test] fn $test() { let _g = shared(); super::super::$test($via, Serializer::MsgPack) })*
            }
            #[cfg(feature = "cbor")]
            mod cbor {
                use super::*;
                $(#[test] fn $test() { let _g = shared(); super::super::$test($via, Serializer::Cbor) })*
            }
        }
    };
}

for_each_transport_and_serializer!(
    join_and_negotiate,
    register_and_call_round_trips_args_and_kwargs,
    subscribe_and_publish,
    binary_payloads_round_trip,
    thirty_two_threads_call_at_once,
    a_message_over_the_routers_limit_fails_alone,
);

// --- RawSocket specifics ---------------------------------------------------------

#[test]
fn the_limit_the_router_announces_is_enforced_per_request() {
    let _g = shared();
    let router = shared_tls_router();
    for s in Serializer::ALL.into_iter().filter(|s| s.is_compiled_in()) {
        // This transport's router-side limit is 64 KiB; the client's own is 16 MiB.
        let config = ClientConfig::new(router.rawsocket_small_url(), "izaber")
            .with_serializers(&[s])
            .with_timeout(Duration::from_secs(20));
        let client = Client::connect(config).expect("connect");
        let procedure = format!("transports.small.{}.echo", s.name());
        client.register(&procedure, echo).expect("register");
        match client.call(&procedure, (Value::bytes(vec![1u8; 70 * 1024]),)) {
            Err(Error::PayloadTooLarge { size, limit }) => {
                assert!(size > 70 * 1024, "size {size}");
                assert_eq!(limit, 64 * 1024);
            }
            other => panic!("{s:?}: expected PayloadTooLarge, got {other:?}"),
        }
        let small = Value::bytes(vec![2u8; 32 * 1024]);
        let result = client.call(&procedure, (small.clone(),)).expect("still up");
        assert_eq!(result.args, vec![small]);
    }
}

#[test]
fn an_incoming_message_over_our_limit_fails_cleanly() {
    let _g = shared();
    let router = shared_tls_router();
    // We announce 2^16 bytes; the result is 200 KiB. Crossbar should not send it
    // (the spec forbids exceeding the peer's limit): either way the call must fail
    // with an error, not hang, and nothing is allocated for an oversized frame.
    let serializer = common::serializer_or_json(Serializer::Cbor);
    let big = Client::connect(config(Via::Tcp, serializer)).expect("connect");
    let procedure = "transports.incoming.too_big";
    big.register(procedure, |_| {
        Ok(CallResult::value(Value::bytes(vec![1u8; 200 * 1024]))?)
    })
    .expect("register");
    let small = Client::connect(
        ClientConfig::new(router.tcpip_url(), "izaber")
            .with_serializers(&[serializer])
            .with_max_message_size(64 * 1024)
            .with_timeout(Duration::from_secs(5))
            .with_reconnect(ReconnectPolicy::disabled()),
    )
    .expect("connect");
    let start = Instant::now();
    let err = small.call(procedure, ()).expect_err("must fail");
    assert!(start.elapsed() < Duration::from_secs(6), "{err}");
    // Crossbar refuses to send it, naming the limit we announced, and keeps the
    // connection.
    assert_eq!(err.wamp_uri(), Some("wamp.error.invalid_argument"), "{err}");
    assert!(err.to_string().contains("65536"), "{err}");
    assert_eq!(small.state(), ConnectionState::Joined);
    // Whatever the router did, the big client is unaffected.
    assert!(big.call("wamp.session.count", ()).is_ok());
}

#[test]
fn rawsocket_clients_notice_a_dead_router_and_reconnect_without_busy_loops() {
    let _g = exclusive();
    let router = Router::start_tls();
    let policy = ReconnectPolicy::default()
        .with_initial_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_millis(500));
    let mut cases = vec![
        (Via::Tcp, common::serializer_or_json(Serializer::Cbor)),
        (Via::Unix, common::serializer_or_json(Serializer::MsgPack)),
    ];
    if cfg!(feature = "tls") {
        cases.push((Via::Tls, Serializer::Json));
    }
    let clients: Vec<Client> = cases
        .iter()
        .map(|&(via, s)| {
            let config = config_for(&router, via, s)
                .with_reconnect(policy.clone())
                // Pings are not sent over RawSocket: this must not turn into a
                // timer that fires all the time, nor into a false "dead" verdict.
                .with_liveness(Some(Duration::from_millis(100)), Duration::from_millis(500));
            let client = Client::connect(config).expect("connect");
            client
                .register(&uri(via, s, "restored"), echo)
                .expect("register");
            client
        })
        .collect();
    let sessions: Vec<Option<SessionId>> = clients.iter().map(Client::session_id).collect();

    let idle = cpu_while_sleeping(Duration::from_millis(1500));
    assert!(
        idle < Duration::from_millis(300),
        "idle clients used {idle:?} of CPU in 1.5 s"
    );
    let now: Vec<Option<SessionId>> = clients.iter().map(Client::session_id).collect();
    assert_eq!(now, sessions, "an idle RawSocket connection was dropped");

    router.kill();
    let killed = Instant::now();
    assert!(
        wait_until(Duration::from_secs(2), || clients
            .iter()
            .all(|c| c.state() != ConnectionState::Joined)),
        "EOF not noticed within 2 s: {:?}",
        clients.iter().map(Client::state).collect::<Vec<_>>()
    );
    let noticed = killed.elapsed();
    let outage = cpu_while_sleeping(Duration::from_millis(1500));
    assert!(
        outage < Duration::from_millis(300),
        "reconnecting clients used {outage:?} of CPU in 1.5 s"
    );

    router.restart();
    assert!(
        wait_until(Duration::from_secs(30), || clients
            .iter()
            .all(|c| c.state() == ConnectionState::Joined)),
        "not rejoined: {:?}",
        clients.iter().map(Client::state).collect::<Vec<_>>()
    );
    for &(via, s) in &cases {
        let caller = Client::connect(config_for(&router, via, s)).expect("connect");
        let procedure = uri(via, s, "restored");
        assert!(
            wait_until(Duration::from_secs(5), || caller
                .call(&procedure, (1,))
                .is_ok()),
            "{procedure} not restored"
        );
    }
    for client in &clients {
        assert_eq!(client.stats().reconnections, 1);
    }
    eprintln!("EOF noticed after {noticed:?}; CPU idle {idle:?}, during the outage {outage:?}");
}

/// A fake RawSocket router on a loopback port: runs `script` on the first connection
/// (after reading the client's handshake, which it returns through the channel).
fn fake_router(
    script: impl FnOnce(&mut std::net::TcpStream) + Send + 'static,
) -> (String, mpsc::Receiver<[u8; 4]>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("tcpip://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut handshake = [0u8; 4];
        socket.read_exact(&mut handshake).expect("handshake");
        let _ = tx.send(handshake);
        script(&mut socket);
    });
    (url, rx)
}

#[cfg(feature = "cbor")]
fn read_frame(socket: &mut std::net::TcpStream) -> (u8, Vec<u8>) {
    use std::io::Read;
    let mut header = [0u8; 4];
    socket.read_exact(&mut header).expect("frame header");
    let len = usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
    let mut payload = vec![0u8; len];
    socket.read_exact(&mut payload).expect("frame payload");
    (header[0], payload)
}

#[cfg(feature = "cbor")]
fn write_frame(socket: &mut std::net::TcpStream, kind: u8, payload: &[u8]) {
    use std::io::Write;
    let len = payload.len();
    socket
        .write_all(&[kind, (len >> 16) as u8, (len >> 8) as u8, len as u8])
        .and_then(|()| socket.write_all(payload))
        .expect("write frame");
}

#[test]
fn handshake_refusals_are_readable_errors() {
    let cases = [
        (
            0x10,
            "the router does not support serializer json over RawSocket",
        ),
        (0x20, "max length unacceptable"),
        (0x30, "reserved bits used"),
        (0x40, "connection limit reached"),
    ];
    for (reply, expected) in cases {
        let (url, handshake) = fake_router(move |socket| {
            use std::io::Write;
            let _ = socket.write_all(&[0x7F, reply, 0, 0]);
        });
        let config = ClientConfig::new(&url, "izaber")
            .with_serializers(&[Serializer::Json])
            .with_reconnect(ReconnectPolicy::disabled());
        match Client::connect(config) {
            Err(Error::Connect { detail, .. }) => assert!(detail.contains(expected), "{detail}"),
            other => panic!("expected a connect error, got {other:?}"),
        }
        // JSON, and 16 MiB (the default maximum message size): 7F F1 00 00.
        assert_eq!(handshake.recv().expect("handshake"), [0x7F, 0xF1, 0, 0]);
    }
}

/// The fake router speaks CBOR.
#[cfg(feature = "cbor")]
#[test]
fn router_pings_are_answered_and_an_oversized_frame_ends_the_connection() {
    let (pong_tx, pong_rx) = mpsc::channel();
    let (url, handshake) = fake_router(move |socket| {
        use std::io::Write;
        // The router accepts 2^20 bytes (LENGTH 11), with CBOR (3).
        socket.write_all(&[0x7F, 0xB3, 0, 0]).expect("reply");
        let (kind, hello) = read_frame(socket);
        assert_eq!(kind, 0);
        assert_eq!(hello.first(), Some(&b'\x83'), "a CBOR array of 3: HELLO");
        write_frame(socket, 1, b"are you there?");
        let _ = pong_tx.send(read_frame(socket));
        // WELCOME: [2, 1234, {"roles": {"broker": {}, "dealer": {}}}] in CBOR.
        let mut welcome = vec![0x83, 0x02, 0x19, 0x04, 0xD2, 0xA1, 0x65];
        welcome.extend_from_slice(b"roles");
        welcome.extend_from_slice(&[0xA2, 0x66]);
        welcome.extend_from_slice(b"broker");
        welcome.push(0xA0);
        welcome.push(0x66);
        welcome.extend_from_slice(b"dealer");
        welcome.push(0xA0);
        write_frame(socket, 0, &welcome);
        std::thread::sleep(Duration::from_millis(300));
        // A header announcing 2^20 + 1 bytes: over the client's limit.
        let _ = socket.write_all(&[0x00, 0x10, 0x00, 0x01]);
        std::thread::sleep(Duration::from_secs(2));
    });
    let config = ClientConfig::new(&url, "izaber")
        .with_serializers(&[Serializer::Cbor])
        .with_max_message_size(1024 * 1024)
        .with_connect_timeout(Duration::from_secs(10))
        .with_reconnect(ReconnectPolicy::disabled());
    let client = Client::connect(config).expect("joined the fake router");
    assert_eq!(handshake.recv().expect("handshake"), [0x7F, 0xB3, 0, 0]);
    let (kind, payload) = pong_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("a PONG");
    assert_eq!((kind, payload.as_slice()), (2, &b"are you there?"[..]));
    assert_eq!(client.session_id(), Some(SessionId::new(1234)));
    assert!(
        wait_until(Duration::from_secs(2), || client.state()
            == ConnectionState::Closed),
        "the oversized frame did not end the connection: {:?}",
        client.state()
    );
    match client.call("x.y", ()) {
        Err(Error::ConnectionLost(why)) => assert!(why.contains("exceeds"), "{why}"),
        Err(Error::Closed) => {}
        other => panic!("expected the connection to be gone, got {other:?}"),
    }
}

#[test]
fn a_rawsocket_url_without_a_listener_is_a_connect_error() {
    let _g = shared();
    let port = common::closed_port();
    for url in [
        format!("tcpip://127.0.0.1:{port}"),
        format!("rs://127.0.0.1:{port}"),
        "unix:///nonexistent/izaber.sock".to_string(),
    ] {
        let config = ClientConfig::new(&url, "izaber").with_reconnect(ReconnectPolicy::disabled());
        match Client::connect(config) {
            Err(Error::Connect { url: u, .. }) => assert_eq!(u, url),
            other => panic!("{url}: expected a connect error, got {other:?}"),
        }
    }
}

#[test]
fn an_unknown_scheme_is_a_configuration_error_at_once() {
    let start = Instant::now();
    let config = ClientConfig::new("http://127.0.0.1:1", "izaber");
    match Client::connect(config) {
        Err(Error::Config(why)) => assert!(why.contains("\"http\""), "{why}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn the_rawsocket_aliases_connect() {
    let _g = shared();
    let router = shared_tls_router();
    let mut urls = vec![router.tcpip_url().replace("tcpip://", "rs://")];
    if cfg!(feature = "tls") {
        urls.push(router.rss_url().replace("tcpips://", "rss://"));
    }
    for url in urls {
        let config = ClientConfig::new(&url, "izaber").with_tls(trusting(router));
        let client = Client::connect(config).unwrap_or_else(|e| panic!("{url}: {e}"));
        client.call("wamp.session.count", ()).expect("call");
    }
}

// --- TLS ------------------------------------------------------------------------

/// The TLS URLs of `router` this build can use: `wss://` also needs `websocket`.
#[cfg(feature = "tls")]
fn tls_urls(router: &Router) -> Vec<String> {
    let mut urls = vec![router.rss_url()];
    if cfg!(feature = "websocket") {
        urls.insert(0, router.wss_url());
    }
    urls
}

/// Connects once, without retrying, so certificate errors come back at once.
#[cfg(feature = "tls")]
fn connect_once(url: &str, tls: TlsOptions) -> Result<Client, Error> {
    Client::connect(
        ClientConfig::new(url, "izaber")
            .with_tls(tls)
            .with_connect_timeout(Duration::from_secs(10))
            .with_reconnect(ReconnectPolicy::disabled()),
    )
}

#[cfg(feature = "tls")]
#[test]
fn tls_with_the_right_ca_file_works_for_websocket_and_rawsocket() {
    let _g = shared();
    let router = shared_tls_router();
    let callee = connect(Via::Tls, common::serializer_or_json(Serializer::MsgPack));
    let procedure = "transports.tls.echo";
    callee.register(procedure, echo).expect("register");
    let blob = Value::bytes(
        (0..4 * 1024 * 1024)
            .map(|i| (i % 253) as u8)
            .collect::<Vec<u8>>(),
    );
    for url in tls_urls(router) {
        let client = connect_once(&url, trusting(router)).unwrap_or_else(|e| panic!("{url}: {e}"));
        // Large messages cross TLS in many records, both ways.
        let result = client.call(procedure, (blob.clone(),)).expect("call");
        assert_eq!(result.args, vec![blob.clone()], "{url}");
        client.close().expect("close");
    }
}

#[cfg(feature = "tls")]
#[test]
fn tls_without_the_ca_file_fails_fast_with_a_certificate_error() {
    let _g = shared();
    let router = shared_tls_router();
    let other_ca = TlsOptions::default().with_ca_file(router.other_ca_file());
    for url in tls_urls(router) {
        for tls in [TlsOptions::default(), other_ca.clone()] {
            let start = Instant::now();
            match connect_once(&url, tls.clone()) {
                Err(Error::Connect { detail, kind, .. }) => {
                    assert_eq!(kind, izaber_wamp::ConnectFailure::Tls, "{detail}");
                    assert!(
                        detail.contains("invalid peer certificate: UnknownIssuer"),
                        "{url} {tls:?}: {detail}"
                    );
                    assert!(detail.contains("ca_file"), "{detail}");
                }
                other => panic!("{url} {tls:?}: expected a certificate error, got {other:?}"),
            }
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "{:?}",
                start.elapsed()
            );
        }
    }
}

#[cfg(feature = "tls")]
#[test]
fn tls_works_with_a_host_name_as_well_as_an_address() {
    let _g = shared();
    let router = shared_tls_router();
    // The certificate names 127.0.0.1, ::1 and localhost.
    for url in tls_urls(router) {
        let url = url.replace("127.0.0.1", "localhost");
        let client = connect_once(&url, trusting(router)).unwrap_or_else(|e| panic!("{url}: {e}"));
        client.call("wamp.session.count", ()).expect("call");
    }
}

#[cfg(feature = "tls")]
#[test]
fn tls_without_verification_connects_and_warns_at_every_connect() {
    let _g = shared();
    let router = shared_tls_router();
    let off = TlsOptions::default().with_verify_tls(false);
    for url in tls_urls(router) {
        let before = logged(log::Level::Warn, "verification is OFF");
        for _ in 0..2 {
            let client = connect_once(&url, off.clone()).unwrap_or_else(|e| panic!("{url}: {e}"));
            client.call("wamp.session.count", ()).expect("call");
            client.close().expect("close");
        }
        let warnings = logged(log::Level::Warn, "verification is OFF") - before;
        assert!(warnings >= 2, "{url}: {warnings} warnings for 2 connects");
    }
}

/// Only the router's WebSocket transport asks for client certificates.
#[cfg(all(feature = "tls", feature = "websocket"))]
#[test]
fn mutual_tls_needs_the_client_certificate() {
    let _g = shared();
    let router = shared_tls_router();
    let url = router.wss_mutual_url();
    let with_cert = trusting(router).with_client_cert(router.client_cert(), router.client_key());
    let client = connect_once(&url, with_cert).expect("mutual TLS with a client certificate");
    client.call("wamp.session.count", ()).expect("call");
    client.close().expect("close");

    let start = Instant::now();
    match connect_once(&url, trusting(router)) {
        Err(Error::Connect { detail, kind, .. }) => {
            assert_eq!(kind, izaber_wamp::ConnectFailure::Tls, "{detail}");
            assert!(detail.contains("CertificateRequired"), "{detail}");
            assert!(detail.contains("client_cert"), "{detail}");
        }
        Ok(_) => panic!("connected without a client certificate"),
        Err(other) => panic!("expected a connect error, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[cfg(feature = "tls")]
#[test]
fn unusable_tls_files_are_configuration_errors_naming_the_file() {
    let _g = shared();
    let router = shared_tls_router();
    let start = Instant::now();
    let missing = TlsOptions::default().with_ca_file("/nonexistent/ca.pem");
    for url in tls_urls(router) {
        let config = ClientConfig::new(&url, "izaber").with_tls(missing.clone());
        match Client::connect(config) {
            Err(Error::Config(why)) => assert!(why.contains("/nonexistent/ca.pem"), "{why}"),
            other => panic!("{url}: expected a configuration error, got {other:?}"),
        }
    }
    // A key that is not a key: named, contents not shown.
    let wrong_key = TlsOptions::default().with_client_cert(router.client_cert(), router.ca_file());
    match Client::connect(ClientConfig::new(router.rss_url(), "izaber").with_tls(wrong_key)) {
        Err(Error::Config(why)) => {
            assert!(
                why.contains(&router.ca_file().display().to_string()),
                "{why}"
            );
            assert!(why.contains("no private key"), "{why}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn izaber_yaml_tls_keys_reach_the_client_config() {
    let yaml = "default:\n  wamp:\n    connection:\n      url: tcpips://127.0.0.1:1\n      \
                ca_file: /etc/ca.pem\n      client_cert: /etc/c.pem\n      \
                client_key: /etc/c.key\n      verify_tls: false\n";
    let config = load(&LoadOptions::yaml(yaml)).expect("load");
    let client_config = config.wamp.connection.to_client_config().expect("config");
    assert_eq!(
        client_config.tls,
        TlsOptions::default()
            .with_ca_file("/etc/ca.pem")
            .with_client_cert("/etc/c.pem", "/etc/c.key")
            .with_verify_tls(false)
    );
    let default = load(&LoadOptions::yaml(
        "default: {wamp: {connection: {url: 'ws://x:1'}}}",
    ))
    .expect("load")
    .wamp
    .connection
    .to_client_config()
    .expect("config");
    assert_eq!(default.tls, TlsOptions::default());
}

// --- Secrets in logs ------------------------------------------------------------

#[test]
fn trace_logs_name_messages_but_never_show_secrets() {
    let _g = shared();
    recorder();
    let secret = "test-pass";
    let mut vias = vec![Via::Tcp];
    if cfg!(feature = "tls") {
        vias.push(Via::Tls);
    }
    for &via in &vias {
        let client =
            Client::connect(config(via, Serializer::Json).with_ticket("test-user", secret))
                .expect("connect");
        client.call("wamp.session.count", ()).expect("call");
        client.close().expect("close");
    }
    assert!(logged(log::Level::Trace, "sending AUTHENTICATE") >= vias.len());
    assert!(logged(log::Level::Trace, "received WELCOME") >= vias.len());
    assert!(logged(log::Level::Trace, "sending CALL") >= vias.len());
    let leaked = recorder()
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(_, line)| line.contains(secret))
        .count();
    assert_eq!(leaked, 0, "the ticket appeared in the log");
}
