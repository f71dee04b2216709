//! Hostile and broken routers. Crossbar.io cannot be made to misbehave on demand, so
//! these tests use a small misbehaving router of our own (tests/common/fake_router.rs,
//! RawSocket with JSON unless a test says otherwise), one behaviour per test: the
//! client must not crash, hammer, hang, leak, or misreport what happened.

#![cfg(feature = "rawsocket")]

mod common;

use common::fake_router::{Conn, FakeRouter};
#[cfg(feature = "msgpack")]
use common::process::status_kb;
use common::process::threads_named;
use common::scenarios::wait_until;
use izaber_wamp::{Client, ClientConfig, ConnectionState, Error, ReconnectPolicy, Serializer};
use serde_json::json;
use std::io::Write;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// A test that counts the process's connector threads runs alone: the tests of this
/// file run in parallel threads of one process, and their clients' connector threads
/// would be counted too. Every other test holds the lock shared.
static CONNECTOR_COUNT: RwLock<()> = RwLock::new(());

fn alongside_others() -> RwLockReadGuard<'static, ()> {
    CONNECTOR_COUNT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    CONNECTOR_COUNT
        .write()
        .unwrap_or_else(PoisonError::into_inner)
}

fn config(router: &FakeRouter) -> ClientConfig {
    ClientConfig::new(router.url(), "izaber")
        .with_serializers(&[Serializer::Json])
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(5))
}

#[test]
fn a_router_that_ends_every_session_at_once_is_not_hammered() {
    let _serial = alongside_others();
    let router = FakeRouter::start(|conn| {
        conn.join(conn.number as u64);
        conn.send(&json!([6, {}, "wamp.close.system_shutdown"]));
        let _ = conn.recv_timeout(Duration::from_millis(500)); // the client's GOODBYE
        true
    });
    let client = Client::connect(config(&router)).expect("the first join");
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(12));
    // Default back-off from 1 s, doubling: attempts at about 0, 1, 3, 7 and 15 s.
    let connections = router.connections();
    assert!(
        connections <= 5,
        "{connections} connections in {:?} from one client",
        start.elapsed()
    );
    assert!(connections >= 3, "it stopped reconnecting: {connections}");
    drop(client);
}

#[test]
fn a_router_dribbling_its_handshake_cannot_stall_reconnection() {
    let _serial = alone();
    let router = FakeRouter::start(|conn| {
        if conn.number == 2 || conn.number >= 4 {
            // Accepts TCP, then answers the handshake a byte every 2 s, never all.
            conn.read_handshake();
            for byte in [0x7F, 0xF1] {
                std::thread::sleep(Duration::from_secs(2));
                if conn.socket().write_all(&[byte]).is_err() {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_secs(30));
            return true;
        }
        conn.join(conn.number as u64);
        // Then the connection drops, as after a router restart.
        std::thread::sleep(Duration::from_millis(300));
        true
    });
    let config = config(&router)
        .with_connect_timeout(Duration::from_secs(2))
        .with_reconnect(
            ReconnectPolicy::default()
                .with_initial_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(1)),
        );
    let client = Client::connect(config).expect("the first join");
    // Connection 2 dribbles: its attempt ends at the 2 s connect timeout, and the
    // next attempt (connection 3) joins.
    assert!(
        wait_until(Duration::from_secs(8), || client.session_id()
            == Some(3.into())),
        "not back after a dribbling attempt: {:?}",
        client.state()
    );
    // Connection 4 dribbles forever: close while its attempt is under way.
    assert!(wait_until(Duration::from_secs(5), || router.connections() >= 4));
    assert_eq!(threads_named("izaber-wamp-con"), 1, "an attempt is running");
    let closing = Instant::now();
    client.close().expect("close");
    assert!(closing.elapsed() < Duration::from_secs(2));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        threads_named("izaber-wamp-con"),
        0,
        "a connector thread outlived its client by a second"
    );
}

#[test]
fn a_goodbye_from_the_router_is_answered_with_goodbye() {
    let _serial = alongside_others();
    let (tx, rx) = std::sync::mpsc::channel();
    let router = FakeRouter::start(move |conn| {
        conn.join(1);
        std::thread::sleep(Duration::from_millis(200));
        conn.send(&json!([6, {"message": "maintenance"}, "wamp.close.system_shutdown"]));
        let _ = tx.send(conn.recv_timeout(Duration::from_secs(5)));
        false
    });
    let client =
        Client::connect(config(&router).with_reconnect(ReconnectPolicy::disabled())).expect("join");
    let answer = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the script ran");
    assert_eq!(answer, Some(json!([6, {}, "wamp.close.goodbye_and_out"])));
    assert!(wait_until(Duration::from_secs(2), || client.state()
        == ConnectionState::Closed));
    match client.call("x.y", ()) {
        Err(Error::ConnectionLost(why)) => assert!(why.contains("maintenance"), "{why}"),
        other => panic!("expected the router's reason, got {other:?}"),
    }
}

#[test]
fn a_protocol_violation_is_answered_with_abort_before_the_socket_closes() {
    let _serial = alongside_others();
    let (tx, rx) = std::sync::mpsc::channel();
    let router = FakeRouter::start(move |conn| {
        conn.join(1);
        std::thread::sleep(Duration::from_millis(200));
        conn.send(&json!([999, "not a WAMP message"]));
        let _ = tx.send(conn.recv_timeout(Duration::from_secs(5)));
        false
    });
    let _client =
        Client::connect(config(&router).with_reconnect(ReconnectPolicy::disabled())).expect("join");
    let abort = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the script ran")
        .expect("an ABORT before the socket closed");
    assert_eq!(abort[0], 3, "{abort}");
    assert_eq!(abort[2], "wamp.error.protocol_violation", "{abort}");
    assert!(
        abort[1]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{abort}"
    );
}

#[test]
fn close_never_opens_another_connection() {
    let _serial = alongside_others();
    for reconnect in [ReconnectPolicy::default(), ReconnectPolicy::disabled()] {
        let router = FakeRouter::start(|conn| {
            conn.join(1);
            let _ = conn.recv_timeout(Duration::from_secs(5));
            conn.send(&json!([6, {}, "wamp.close.goodbye_and_out"]));
            true
        });
        let client = Client::connect(config(&router).with_reconnect(reconnect)).expect("join");
        client.close().expect("close");
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(router.connections(), 1, "a connection after close()");
    }
}

#[test]
fn an_abort_at_join_is_final_and_opens_no_other_connection() {
    let _serial = alongside_others();
    for reconnect in [ReconnectPolicy::default(), ReconnectPolicy::disabled()] {
        let router = FakeRouter::start(|conn| {
            conn.handshake();
            let _hello = conn.recv();
            conn.send(&json!([3, {"message": "who are you?"}, "wamp.error.not_authorized"]));
            true
        });
        match Client::connect(config(&router).with_reconnect(reconnect)) {
            Err(Error::Abort { reason, message }) => {
                assert_eq!(reason, "wamp.error.not_authorized");
                assert_eq!(message.as_deref(), Some("who are you?"));
            }
            other => panic!("expected the router's abort, got {other:?}"),
        }
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(router.connections(), 1, "a connection after a final ABORT");
    }
}

#[test]
fn an_abort_the_client_makes_is_reported_as_the_clients() {
    let _serial = alongside_others();
    let (tx, rx) = std::sync::mpsc::channel();
    let router = FakeRouter::start(move |conn: &mut Conn| {
        conn.handshake();
        let _hello = conn.recv();
        // The client offered ticket; the router asks for WAMP-CRA.
        conn.send(&json!([4, "wampcra", {"challenge": "{}"}]));
        let _ = tx.send(conn.recv_timeout(Duration::from_secs(5)));
        false
    });
    let config = config(&router)
        .with_ticket("alice", "secret")
        .with_reconnect(ReconnectPolicy::disabled());
    match Client::connect(config) {
        Err(error @ Error::ClientAbort { .. }) => {
            let text = error.to_string();
            assert!(text.starts_with("session aborted by the client"), "{text}");
            assert!(text.contains("\"wampcra\""), "{text}");
        }
        other => panic!("expected the client's own abort, got {other:?}"),
    }
    let abort = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the script ran");
    assert_eq!(
        abort.map(|a| a[2].clone()),
        Some(json!("wamp.error.authentication_failed"))
    );
}

#[cfg(feature = "msgpack")]
#[test]
fn length_headers_that_lie_allocate_nothing_and_end_the_session_cleanly() {
    let _serial = alongside_others();
    let router = FakeRouter::start(|conn| {
        conn.handshake_as(2);
        let _hello = conn.recv_frame();
        // WELCOME [2, 1, {}] in MessagePack.
        conn.send_frame(&[0x93, 0x02, 0x01, 0x80]);
        std::thread::sleep(Duration::from_millis(200));
        // 14 MB of array headers, each claiming 2^32 - 1 elements.
        let lies: Vec<u8> = [0xdd, 0xff, 0xff, 0xff, 0xff].repeat(14 * 1024 * 1024 / 5);
        conn.send_frame(&lies);
        std::thread::sleep(Duration::from_secs(2));
        false
    });
    let before = status_kb("VmPeak");
    let config = ClientConfig::new(router.url(), "izaber")
        .with_serializers(&[Serializer::MsgPack])
        .with_reconnect(ReconnectPolicy::disabled());
    let client = Client::connect(config).expect("join");
    assert!(wait_until(Duration::from_secs(5), || client.state()
        == ConnectionState::Closed));
    match client.call("x.y", ()) {
        Err(Error::ProtocolViolation(why)) => assert!(why.contains("msgpack"), "{why}"),
        other => panic!("expected a protocol violation, got {other:?}"),
    }
    let grown_mb = status_kb("VmPeak").saturating_sub(before) / 1024;
    assert!(grown_mb < 512, "the address space grew by {grown_mb} MB");
}

#[test]
fn a_connection_cut_in_the_middle_of_a_frame_is_a_lost_connection() {
    let _serial = alongside_others();
    let router = FakeRouter::start(|conn| {
        conn.join(1);
        std::thread::sleep(Duration::from_millis(200));
        // A header announcing 1,000 bytes, then 10 of them, then the socket closes.
        let _ = conn.socket().write_all(&[0, 0, 0x03, 0xE8]);
        let _ = conn.socket().write_all(b"[36, 1, 2,");
        false
    });
    let client =
        Client::connect(config(&router).with_reconnect(ReconnectPolicy::disabled())).expect("join");
    assert!(wait_until(Duration::from_secs(5), || client.state()
        == ConnectionState::Closed));
    assert!(matches!(
        client.call("x.y", ()),
        Err(Error::ConnectionLost(_))
    ));
}

#[test]
fn invalid_utf8_in_json_is_a_protocol_violation() {
    let _serial = alongside_others();
    let router = FakeRouter::start(|conn| {
        conn.join(1);
        std::thread::sleep(Duration::from_millis(200));
        conn.send_frame(b"[36, 1, 2, {}, [\"\xff\xfe\"]]");
        std::thread::sleep(Duration::from_secs(1));
        false
    });
    let client =
        Client::connect(config(&router).with_reconnect(ReconnectPolicy::disabled())).expect("join");
    assert!(wait_until(Duration::from_secs(5), || client.state()
        == ConnectionState::Closed));
    match client.call("x.y", ()) {
        Err(Error::ProtocolViolation(why)) => assert!(why.contains("json"), "{why}"),
        other => panic!("expected a protocol violation, got {other:?}"),
    }
}

#[test]
fn malformed_event_details_are_left_out_never_replaced() {
    let _serial = alongside_others();
    let router = FakeRouter::start(|conn| {
        conn.join(1);
        conn.accept_subscribe(5);
        let details = json!({"publisher": "me", "topic": 7, "retained": "yes",
                             "publisher_authid": "alice"});
        conn.send(&json!([36, 5, 99, details, ["hi"]]));
        std::thread::sleep(Duration::from_secs(2));
        false
    });
    let client =
        Client::connect(config(&router).with_reconnect(ReconnectPolicy::disabled())).expect("join");
    let (tx, rx) = std::sync::mpsc::channel();
    client
        .subscribe("hostile.details", move |event| drop(tx.send(event.details)))
        .expect("subscribe");
    let details = rx.recv_timeout(Duration::from_secs(5)).expect("the event");
    assert_eq!(details.publication.get(), 99);
    assert_eq!(details.publisher, None, "not a session ID: left out");
    assert_eq!(
        details.topic, None,
        "not a string: left out, not the subscribed URI"
    );
    assert_eq!(details.retained, None);
    assert_eq!(details.publisher_authid.as_deref(), Some("alice"));
    assert_eq!(details.raw.get("topic"), Some(&izaber_wamp::Value::Int(7)));
}
