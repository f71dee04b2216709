//! The client against a real Crossbar.io router, for each serializer.
#![cfg(feature = "websocket")]

#[macro_use]
mod common;

use common::scenarios::{self, echo, wait_until};
use common::shared_router;
use izaber_wamp::{
    CallOptions, CallResult, Client, ClientConfig, ConnectFailure, Dict, Error, HandlerError,
    MatchPolicy, PublishOptions, ReconnectPolicy, RegisterOptions, Serializer, SessionId,
    SubscribeOptions, Value, WampError,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// A unique URI per test and serializer, so tests sharing the router never collide.
fn uri(serializer: Serializer, name: &str) -> String {
    format!("test.{}.{name}", serializer.name())
}

fn config(serializer: Serializer) -> ClientConfig {
    ClientConfig::new(shared_router().ws_url(), "izaber")
        .with_serializers(&[serializer])
        .with_timeout(Duration::from_secs(20))
        .with_connect_timeout(Duration::from_secs(20))
}

fn connect(serializer: Serializer) -> Client {
    Client::connect(config(serializer).with_ticket("test-user", "test-pass")).expect("connect")
}

/// True while the router still knows the session.
fn router_has_session(observer: &Client, session: SessionId) -> bool {
    match observer.call("wamp.session.get", (session,)) {
        Ok(_) => true,
        Err(e) if e.wamp_uri() == Some("wamp.error.no_such_session") => false,
        Err(e) => panic!("wamp.session.get failed: {e}"),
    }
}

fn join_with_ticket(s: Serializer) {
    let client = connect(s);
    let info = client.session_info().expect("joined");
    assert_eq!(info.authid.as_deref(), Some("test-user"));
    assert_eq!(info.authrole.as_deref(), Some("user"));
    assert_eq!(info.authmethod.as_deref(), Some("ticket"));
    assert_eq!(info.realm, "izaber");
}

fn join_anonymously(s: Serializer) {
    let client = Client::connect(config(s)).expect("connect");
    let info = client.session_info().expect("joined");
    assert_eq!(info.authmethod.as_deref(), Some("anonymous"));
    assert_eq!(info.authrole.as_deref(), Some("anonymous"));
}

fn wrong_ticket_fails_fast_with_the_routers_reason(s: Serializer) {
    let start = Instant::now();
    let result = Client::connect(config(s).with_ticket("test-user", "wrong"));
    match result {
        Err(Error::Abort { reason, .. }) => assert_eq!(reason, "wamp.error.not_authorized"),
        other => panic!("expected an abort, got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Order {
    item: String,
    quantity: u32,
    tags: Vec<String>,
}

fn register_and_call_round_trips_args_and_kwargs(s: Serializer) {
    let client = connect(s);
    let procedure = uri(s, "roundtrip");
    client
        .register(&procedure, |inv| {
            let order: Order = inv.kwargs_as()?;
            let (a, b): (i64, String) = inv.args_as()?;
            let mut kwargs = BTreeMap::new();
            kwargs.insert("order", order);
            Ok(CallResult::new((b, a * 2, Value::Null), kwargs)?)
        })
        .expect("register");
    let order = Order {
        item: "widget".into(),
        quantity: 3,
        tags: vec!["a".into(), "ü€".into()],
    };
    let result = client
        .call_kw(&procedure, (21, "text"), &order)
        .expect("call");
    assert_eq!(
        result.args,
        vec![Value::from("text"), Value::Int(42), Value::Null]
    );
    let back: BTreeMap<String, Order> = result.kwargs_as().expect("kwargs");
    assert_eq!(back["order"], order);
}

fn calling_an_unknown_procedure_gives_no_such_procedure(s: Serializer) {
    let client = connect(s);
    let err = client
        .call(&uri(s, "nobody.home"), ())
        .expect_err("must fail");
    assert_eq!(
        err.wamp_uri(),
        Some("wamp.error.no_such_procedure"),
        "{err}"
    );
}

fn callee_error_arrives_with_uri_args_and_kwargs(s: Serializer) {
    let client = connect(s);
    let procedure = uri(s, "fails");
    client
        .register(&procedure, |_| {
            let kwargs = Dict::from([("code".to_string(), Value::Int(7))]);
            Err(WampError::new("com.example.error.custom")
                .with_args(vec!["bad thing".into(), Value::Int(1)])
                .with_kwargs(kwargs)
                .into())
        })
        .expect("register");
    match client.call(&procedure, ()) {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "com.example.error.custom");
            assert_eq!(e.args, vec![Value::from("bad thing"), Value::Int(1)]);
            assert_eq!(e.kwargs.get("code"), Some(&Value::Int(7)));
        }
        other => panic!("expected a WAMP error, got {other:?}"),
    }
}

fn failing_and_panicking_handlers_become_errors_and_the_client_keeps_working(s: Serializer) {
    let client = connect(s);
    let failing = uri(s, "plain_failure");
    let panicking = uri(s, "panics");
    client
        .register(&failing, |_| Err(HandlerError::failed("disk full")))
        .expect("register");
    client
        .register(&panicking, |_| panic!("boom"))
        .expect("register");
    let err = client.call(&failing, ()).expect_err("fails");
    assert_eq!(err.wamp_uri(), Some("wamp.error.runtime_error"));
    assert!(err.to_string().contains("Call failed: disk full"), "{err}");
    let err = client.call(&panicking, ()).expect_err("fails");
    assert_eq!(err.wamp_uri(), Some("wamp.error.runtime_error"));
    assert!(err.to_string().contains("boom"), "{err}");
    let echo_uri = uri(s, "after_panic");
    client
        .register(&echo_uri, echo)
        .expect("register after panic");
    assert_eq!(
        client.call(&echo_uri, (1,)).expect("call").args,
        vec![Value::Int(1)]
    );
}

fn subscribe_and_publish_acknowledged_and_not(s: Serializer) {
    let client = connect(s);
    let topic = uri(s, "news");
    let (tx, rx) = mpsc::channel();
    client
        .subscribe(&topic, move |event| {
            let _ = tx.send((
                event.args.clone(),
                event.kwargs.clone(),
                event.details.publication,
                event.details.topic,
            ));
        })
        .expect("subscribe");
    let kwargs = Dict::from([("k".to_string(), Value::from("v"))]);
    let options = PublishOptions::new().acknowledge(true).exclude_me(false);
    let publication = client
        .publish_with(&topic, ("acked", 1), &kwargs, &options)
        .expect("publish");
    let (args, got_kwargs, got_publication, got_topic) =
        rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::from("acked"), Value::Int(1)]);
    assert_eq!(got_kwargs, kwargs);
    assert_eq!(Some(got_publication), publication);
    assert_eq!(got_topic.as_deref(), Some(topic.as_str()));

    let unacked = PublishOptions::new().exclude_me(false);
    assert_eq!(
        client
            .publish_with(&topic, ("plain",), (), &unacked)
            .expect("publish"),
        None
    );
    let (args, ..) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::from("plain")]);

    // By default the publisher is excluded from its own events.
    client.publish(&topic, ("excluded",)).expect("publish");
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "own event delivered despite exclude_me default"
    );
}

fn unsubscribe_and_unregister_stop_delivery(s: Serializer) {
    let client = connect(s);
    let other = connect(s);
    let topic = uri(s, "unsub");
    let (tx, rx) = mpsc::channel();
    let subscription = client
        .subscribe(&topic, move |e| drop(tx.send(e.args.clone())))
        .expect("subscribe");
    let ack = PublishOptions::new().acknowledge(true);
    other.publish_with(&topic, (1,), (), &ack).expect("publish");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).expect("event"),
        vec![Value::Int(1)]
    );
    client.unsubscribe(&subscription).expect("unsubscribe");
    other.publish_with(&topic, (2,), (), &ack).expect("publish");
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "event after unsubscribe"
    );
    let err = client
        .unsubscribe(&subscription)
        .expect_err("second unsubscribe");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_subscription"));

    let procedure = uri(s, "unreg");
    let registration = client.register(&procedure, echo).expect("register");
    assert!(other.call(&procedure, ()).is_ok());
    client.unregister(&registration).expect("unregister");
    let err = other.call(&procedure, ()).expect_err("gone");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_procedure"));
}

fn binary_payloads_round_trip(s: Serializer) {
    scenarios::binary_payloads_round_trip(&connect(s), &uri(s, "binary"));
}

fn thirty_two_threads_call_at_once(s: Serializer) {
    scenarios::thirty_two_threads_call_at_once(&connect(s), &uri(s, "square"));
}

fn handlers_make_nested_calls_to_the_same_client(s: Serializer) {
    let client = connect(s);
    let inner = uri(s, "inner");
    let outer = uri(s, "outer");
    client
        .register(&inner, |inv| {
            let n: i64 = inv.arg(0)?;
            Ok(CallResult::value(n + 1)?)
        })
        .expect("register inner");
    let inner_uri = inner.clone();
    client
        .register(&outer, move |inv| {
            let n: i64 = inv.arg(0)?;
            // Both calls block this handler thread while the inner handler runs on another.
            let once: i64 = inv.client().call(&inner_uri, (n,))?.arg(0)?;
            let twice: i64 = inv.client().call(&inner_uri, (once,))?.arg(0)?;
            Ok(CallResult::value(twice)?)
        })
        .expect("register outer");
    let threads: Vec<_> = (0..32i64)
        .map(|n| {
            let client = client.clone();
            let outer = outer.clone();
            std::thread::spawn(move || {
                let got: i64 = client
                    .call(&outer, (n,))
                    .expect("outer call")
                    .arg(0)
                    .expect("i64");
                assert_eq!(got, n + 2);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}

fn call_timeout_is_enforced_and_the_late_result_discarded(s: Serializer) {
    let client = connect(s);
    let slow = uri(s, "slow");
    let finished = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&finished);
    client
        .register(&slow, move |_| {
            std::thread::sleep(Duration::from_millis(1500));
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(CallResult::value("late")?)
        })
        .expect("register");
    let start = Instant::now();
    let options = CallOptions::new().timeout(Duration::from_millis(300));
    match client.call_with(&slow, (), (), &options) {
        Err(Error::Timeout { after, .. }) => assert_eq!(after, Duration::from_millis(300)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1200),
        "took {took:?}"
    );
    // The client stays usable while and after the late result arrives.
    let echo_uri = uri(s, "after_timeout");
    client.register(&echo_uri, echo).expect("register");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        client.call(&echo_uri, ("ok",)).expect("call").args,
        vec![Value::from("ok")]
    );
}

fn router_goodbye_ends_the_session_cleanly(s: Serializer) {
    let client = Client::connect(
        config(s)
            .with_ticket("test-user", "test-pass")
            .with_reconnect(ReconnectPolicy::disabled()),
    )
    .expect("connect");
    let observer = connect(s);
    let session = client.session_id().expect("session id");
    let kwargs = Dict::from([
        ("reason".to_string(), Value::from("com.example.kicked")),
        ("message".to_string(), Value::from("bye")),
    ]);
    observer
        .call_kw("wamp.session.kill", (session,), &kwargs)
        .expect("kill");
    assert!(
        wait_until(Duration::from_secs(5), || !client.is_connected()),
        "client still joined"
    );
    let err = client
        .call("wamp.session.count", ())
        .expect_err("session is over");
    assert!(err.to_string().contains("com.example.kicked"), "{err}");
    assert!(!router_has_session(&observer, session));
}

fn close_and_drop_end_the_session_at_the_router(s: Serializer) {
    let observer = connect(s);
    let closed = connect(s);
    let closed_id = closed.session_id().expect("id");
    closed.close().expect("close");
    assert!(
        !router_has_session(&observer, closed_id),
        "session survived close()"
    );
    assert!(matches!(
        closed.call("wamp.session.count", ()),
        Err(Error::Closed)
    ));

    let dropped = connect(s);
    let dropped_id = dropped.session_id().expect("id");
    let clone = dropped.clone();
    drop(dropped);
    assert!(
        router_has_session(&observer, dropped_id),
        "closed while a clone was alive"
    );
    drop(clone);
    assert!(
        !router_has_session(&observer, dropped_id),
        "session survived the last drop"
    );
}

fn invalid_uris_are_refused_before_sending(s: Serializer) {
    let client = connect(s);
    for bad in ["bad uri", "com..empty", "com.#hash", ""] {
        match client.call(bad, ()) {
            Err(Error::InvalidUri(e)) => assert_eq!(e.uri, bad),
            other => panic!("{bad:?}: expected InvalidUri, got {other:?}"),
        }
    }
    assert!(matches!(
        client.register("wamp.mine", echo),
        Err(Error::InvalidUri(_))
    ));
    // The connection survived: the router never saw the bad URIs.
    client
        .call("wamp.session.count", ())
        .expect("still connected");
}

fn oversized_messages_fail_cleanly_in_both_directions(s: Serializer) {
    let limit = 64 * 1024;
    let small = Client::connect(config(s).with_max_message_size(limit)).expect("connect");
    let big = connect(s);
    let procedure = uri(s, "big_result");
    big.register(&procedure, |_| {
        Ok(CallResult::value(Value::bytes(vec![1u8; 200 * 1024]))?)
    })
    .expect("register");
    match small.call(&procedure, (Value::bytes(vec![0u8; 100 * 1024]),)) {
        Err(Error::PayloadTooLarge { size, limit: l }) => {
            assert!(size > 100 * 1024, "size {size}");
            assert_eq!(l, limit);
        }
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    }
    // Outgoing refusal leaves the connection up; an oversized incoming message ends it.
    small
        .call("wamp.session.count", ())
        .expect("still connected");
    match small.call(&procedure, ()) {
        Err(Error::ConnectionLost(why)) => assert!(why.contains("exceeds"), "{why}"),
        other => panic!("expected a connection error, got {other:?}"),
    }
}

fn handlers_see_caller_publisher_and_concrete_uris(s: Serializer) {
    let callee = connect(s);
    let caller = connect(s);
    let prefix = uri(s, "pattern");
    let options = RegisterOptions::new().match_policy(MatchPolicy::Prefix);
    callee
        .register_with(&prefix, &options, |inv| {
            let d = &inv.details;
            Ok(CallResult::new(
                (
                    d.procedure.clone(),
                    d.caller,
                    d.caller_authid.clone(),
                    d.caller_authrole.clone(),
                ),
                (),
            )?)
        })
        .expect("register prefix");
    let concrete = format!("{prefix}.deep.name");
    let result = caller.call(&concrete, ()).expect("call");
    let (procedure, caller_id, authid, authrole): (
        String,
        Option<SessionId>,
        Option<String>,
        Option<String>,
    ) = result.args_as().expect("details");
    assert_eq!(procedure, concrete);
    assert_eq!(caller_id, caller.session_id());
    assert_eq!(authid.as_deref(), Some("test-user"));
    assert_eq!(authrole.as_deref(), Some("user"));

    let wildcard = format!("{}..event", uri(s, "wild"));
    let (tx, rx) = mpsc::channel();
    let options = SubscribeOptions::new().match_policy(MatchPolicy::Wildcard);
    callee
        .subscribe_with(&wildcard, &options, move |event| {
            drop(tx.send(event.details))
        })
        .expect("subscribe wildcard");
    let topic = format!("{}.room1.event", uri(s, "wild"));
    let ack = PublishOptions::new().acknowledge(true);
    let publication = caller.publish_with(&topic, (), (), &ack).expect("publish");
    let details = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(details.topic.as_deref(), Some(topic.as_str()));
    assert_eq!(Some(details.publication), publication);
    assert_eq!(details.publisher, caller.session_id());
    assert_eq!(details.publisher_authid.as_deref(), Some("test-user"));
}

for_each_serializer!(
    join_with_ticket,
    join_anonymously,
    wrong_ticket_fails_fast_with_the_routers_reason,
    register_and_call_round_trips_args_and_kwargs,
    calling_an_unknown_procedure_gives_no_such_procedure,
    callee_error_arrives_with_uri_args_and_kwargs,
    failing_and_panicking_handlers_become_errors_and_the_client_keeps_working,
    subscribe_and_publish_acknowledged_and_not,
    unsubscribe_and_unregister_stop_delivery,
    binary_payloads_round_trip,
    thirty_two_threads_call_at_once,
    handlers_make_nested_calls_to_the_same_client,
    call_timeout_is_enforced_and_the_late_result_discarded,
    router_goodbye_ends_the_session_cleanly,
    close_and_drop_end_the_session_at_the_router,
    invalid_uris_are_refused_before_sending,
    oversized_messages_fail_cleanly_in_both_directions,
    handlers_see_caller_publisher_and_concrete_uris,
);

#[test]
fn the_negotiated_serializer_is_the_routers_choice_among_those_offered() {
    for s in Serializer::ALL.into_iter().filter(|s| s.is_compiled_in()) {
        let client = Client::connect(config(s)).expect("connect");
        client.call("wamp.session.count", ()).expect("call");
    }
    let none = Client::connect(config(Serializer::Json).with_serializers(&[]));
    assert!(matches!(none, Err(Error::Config(_))), "{none:?}");
}

#[test]
fn connecting_to_a_closed_port_retries_until_the_connect_deadline() {
    let port = common::closed_port();
    let config = ClientConfig::new(format!("ws://127.0.0.1:{port}"), "izaber")
        .with_connect_timeout(Duration::from_millis(2500));
    let start = Instant::now();
    match Client::connect(config) {
        Err(Error::Connect {
            url,
            detail,
            kind,
            io_kind,
        }) => {
            assert!(url.contains(&port.to_string()));
            assert!(detail.contains("refused"), "{detail}");
            // The cause stays inspectable, not only as text.
            assert_eq!(kind, ConnectFailure::Refused);
            assert_eq!(io_kind, Some(std::io::ErrorKind::ConnectionRefused));
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
    // Attempts at 0 s, ~1 s and ~3 s: the deadline ends the retries at 2.5 s.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2400) && took < Duration::from_secs(4),
        "took {took:?}"
    );
}

#[test]
fn without_reconnecting_a_refused_connection_fails_at_once() {
    let port = common::closed_port();
    let config = ClientConfig::new(format!("ws://127.0.0.1:{port}"), "izaber")
        .with_reconnect(ReconnectPolicy::disabled());
    let start = Instant::now();
    assert!(matches!(
        Client::connect(config),
        Err(Error::Connect {
            kind: ConnectFailure::Refused,
            ..
        })
    ));
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn an_unknown_realm_is_an_abort_naming_the_reason() {
    let config = ClientConfig::new(shared_router().ws_url(), "no.such.realm");
    match Client::connect(config) {
        Err(Error::Abort { reason, .. }) => assert_eq!(reason, "wamp.error.no_such_realm"),
        other => panic!("expected an abort, got {other:?}"),
    }
}

#[cfg(feature = "tls")]
#[test]
fn a_wss_handshake_that_gets_no_answer_stops_at_the_connect_deadline() {
    // The plain WebSocket port waits for an HTTP request and never answers a TLS hello.
    let url = shared_router().ws_url().replace("ws://", "wss://");
    let config = ClientConfig::new(url, "izaber").with_connect_timeout(Duration::from_secs(2));
    let start = Instant::now();
    match Client::connect(config) {
        Err(Error::Timeout { after, .. }) => assert_eq!(after, Duration::from_secs(2)),
        Err(Error::Connect { detail, kind, .. }) => {
            assert!(detail.contains("timed out"), "{detail}");
            assert_eq!(kind, ConnectFailure::TimedOut);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "took {took:?}"
    );
}

#[test]
fn a_flood_of_unacknowledged_publishes_is_paced_by_the_router_not_dropped() {
    // Frequent pings, each answered only after the backlog sent before it: the publisher
    // must keep that backlog small (it waits for the socket) or be declared dead.
    let liveness = |c: ClientConfig| {
        c.with_liveness(Some(Duration::from_millis(200)), Duration::from_secs(10))
    };
    let serializer = common::serializer_or_json(Serializer::MsgPack);
    let subscriber = Client::connect(liveness(config(serializer))).expect("subscriber");
    let publisher = Client::connect(liveness(config(serializer))).expect("publisher");
    let topic = "test.flood";
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    subscriber
        .subscribe(topic, move |e| {
            sink.lock()
                .expect("lock")
                .push(e.arg::<u64>(0).expect("u64"))
        })
        .expect("subscribe");
    let total = 30_000u64;
    for n in 0..total {
        publisher.publish(topic, (n,)).expect("publish");
    }
    let count = || received.lock().expect("lock").len() as u64;
    assert!(
        wait_until(Duration::from_secs(60), || count() == total),
        "{} of {total} events arrived; publisher {:?}; subscriber {:?}",
        count(),
        publisher.stats(),
        subscriber.stats()
    );
    assert!(
        received.lock().expect("lock").iter().copied().eq(0..total),
        "events out of order"
    );
    assert_eq!(publisher.stats().reconnections, 0);
}
