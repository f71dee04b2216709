//! Resilience against a misbehaving router: killed, frozen, or ending our session.
//! Each test runs its own Crossbar.io router so it can do that without disturbing others.
#![cfg(feature = "websocket")]

mod common;

use common::scenarios::{echo, wait_until};
use common::{Peer, Router};
use izaber_wamp::{
    CallOptions, CallResult, Client, ClientConfig, ConnectionState, Dict, Error, MatchPolicy,
    PublishOptions, ReconnectPolicy, RegisterOptions, Serializer, Value,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Quick reconnects, so tests do not wait on long back-off.
fn fast_reconnect() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .with_initial_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(1))
}

fn config(router: &Router) -> ClientConfig {
    ClientConfig::new(router.ws_url(), "izaber")
        .with_serializers(&[common::serializer_or_json(Serializer::MsgPack)])
        .with_timeout(Duration::from_secs(10))
        .with_connect_timeout(Duration::from_secs(10))
        .with_reconnect(fast_reconnect())
}

#[test]
fn a_killed_and_restarted_router_gets_every_registration_and_subscription_back() {
    let router = Router::start();
    let service = Client::connect(config(&router)).expect("connect");
    let joins = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&joins);
    service.hooks().on_join(move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let echo_registration = service.register("svc.echo", echo).expect("register echo");
    let prefix = RegisterOptions::new().match_policy(MatchPolicy::Prefix);
    service
        .register_with("svc.prefix", &prefix, |inv| {
            Ok(CallResult::value(inv.details.procedure)?)
        })
        .expect("register prefix");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    service
        .subscribe("svc.events", move |e| {
            sink.lock().expect("lock").push(e.args.clone())
        })
        .expect("subscribe");
    assert_eq!(service.stats().reconnections, 0);

    router.kill();
    assert!(wait_until(Duration::from_secs(5), || service.state()
        == ConnectionState::Reconnecting));
    router.restart();
    let back = Instant::now();
    let driver = Client::connect(config(&router)).expect("driver connects");
    assert!(
        wait_until(Duration::from_secs(5), || driver
            .call("svc.echo", (1,))
            .is_ok()
            && driver.call("svc.prefix.x", ()).is_ok()),
        "procedures not back within 5 s"
    );
    assert!(back.elapsed() < Duration::from_secs(5));
    assert!(
        wait_until(Duration::from_secs(2), || joins.load(Ordering::SeqCst) == 1),
        "the join hook ran {} times after one rejoin",
        joins.load(Ordering::SeqCst)
    );
    assert_eq!(service.stats().reconnections, 1);
    assert_eq!(service.state(), ConnectionState::Joined);

    // An autobahn-python peer sees every procedure and our subscription, each once.
    let peer = Peer::start_with_prefix(&router.ws_url(), "msgpack", "faults.peer");
    let via_peer = driver
        .call("faults.peer.call", ("svc.echo", "hi"))
        .expect("peer calls echo");
    let reply = via_peer.args[0]
        .as_dict()
        .expect("dict")
        .get("args")
        .cloned();
    assert_eq!(reply, Some(Value::List(vec![Value::from("hi")])));
    let via_peer = driver
        .call("faults.peer.call", ("svc.prefix.deep",))
        .expect("peer calls prefix");
    let reply = via_peer.args[0]
        .as_dict()
        .expect("dict")
        .get("args")
        .cloned();
    assert_eq!(
        reply,
        Some(Value::List(vec![Value::from("svc.prefix.deep")]))
    );
    for n in 0..5 {
        driver
            .call("faults.peer.publish", ("svc.events", n))
            .expect("peer publishes");
    }
    assert!(wait_until(Duration::from_secs(5), || events
        .lock()
        .expect("lock")
        .len()
        >= 5));
    std::thread::sleep(Duration::from_millis(300));
    let expected: Vec<Vec<Value>> = (0..5).map(|n| vec![Value::Int(n)]).collect();
    assert_eq!(
        *events.lock().expect("lock"),
        expected,
        "events lost or received twice"
    );
    drop(peer);

    // The handle made before the outage still names the restored registration.
    service
        .unregister(&echo_registration)
        .expect("unregister with the old handle");
    let err = driver.call("svc.echo", (1,)).expect_err("unregistered");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_procedure"));
}

#[test]
fn a_frozen_router_is_noticed_within_the_liveness_deadline_and_the_client_recovers() {
    let router = Router::start();
    let interval = Duration::from_millis(500);
    let pong_timeout = Duration::from_secs(1);
    let client = Client::connect(
        config(&router)
            .with_liveness(Some(interval), pong_timeout)
            .with_connect_timeout(Duration::from_secs(2)),
    )
    .expect("connect");
    client.register("frozen.echo", echo).expect("register");
    let (lost_tx, lost) = mpsc::channel();
    client.hooks().on_disconnect(move |_| {
        let _ = lost_tx.send(Instant::now());
    });

    router.freeze();
    let frozen_at = Instant::now();
    let noticed = lost
        .recv_timeout(Duration::from_secs(5))
        .expect("the freeze was never noticed");
    let detection = noticed - frozen_at;
    assert!(
        detection <= interval + pong_timeout + Duration::from_millis(300),
        "noticed after {detection:?}"
    );
    assert_ne!(client.state(), ConnectionState::Joined);

    std::thread::sleep(Duration::from_secs(1));
    router.thaw();
    assert!(
        wait_until(Duration::from_secs(20), || client
            .call("frozen.echo", (1,))
            .is_ok()),
        "no recovery after the router thawed"
    );
}

#[test]
fn a_router_goodbye_is_answered_and_the_client_rejoins_and_restores() {
    let router = Router::start();
    let service = Client::connect(config(&router)).expect("connect");
    service.register("kicked.echo", echo).expect("register");
    let (left_tx, left) = mpsc::channel();
    service
        .hooks()
        .on_leave(move |_, why| drop(left_tx.send(why.to_string())));
    let observer = Client::connect(config(&router)).expect("observer");
    let first = service.session_id().expect("joined");

    let kwargs = Dict::from([
        ("reason".to_string(), Value::from("com.example.kicked")),
        ("message".to_string(), Value::from("bye")),
    ]);
    observer
        .call_kw("wamp.session.kill", (first,), &kwargs)
        .expect("kill");
    let why = left
        .recv_timeout(Duration::from_secs(5))
        .expect("leave hook");
    assert!(
        why.contains("com.example.kicked") && why.contains("bye"),
        "{why}"
    );
    assert!(wait_until(Duration::from_secs(5), || service
        .session_id()
        .is_some_and(|s| s != first)));
    assert!(wait_until(Duration::from_secs(5), || observer
        .call("kicked.echo", (1,))
        .is_ok()));
    // The old session is gone from the router: no zombie.
    let err = observer
        .call("wamp.session.get", (first,))
        .expect_err("old session");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_session"));
}

#[test]
fn sixteen_threads_calling_through_a_router_restart_never_hang() {
    let router = Router::start();
    let callee = Client::connect(config(&router)).expect("callee");
    callee
        .register("busy.square", |inv| {
            let n: i64 = inv.arg(0)?;
            Ok(CallResult::value(n * n)?)
        })
        .expect("register");
    let caller = Client::connect(config(&router)).expect("caller");
    let timeout = Duration::from_secs(2);
    let stop_at = Instant::now() + Duration::from_secs(8);
    let threads: Vec<_> = (0..16i64)
        .map(|t| {
            let caller = caller.clone();
            std::thread::spawn(move || {
                let options = CallOptions::new().timeout(timeout);
                let (mut ok, mut failed) = (0, 0);
                let mut n = t * 1_000_000;
                while Instant::now() < stop_at {
                    n += 1;
                    let start = Instant::now();
                    match caller.call_with("busy.square", (n,), (), &options) {
                        Ok(result) => {
                            assert_eq!(result.arg::<i64>(0).expect("i64"), n * n);
                            ok += 1;
                        }
                        Err(Error::ConnectionLost(_) | Error::Timeout { .. }) => failed += 1,
                        Err(Error::Wamp(e)) if e.uri == "wamp.error.no_such_procedure" => {
                            failed += 1
                        }
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                    let took = start.elapsed();
                    assert!(
                        took < timeout + Duration::from_millis(500),
                        "a call took {took:?}"
                    );
                }
                (ok, failed)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    router.kill();
    std::thread::sleep(Duration::from_millis(500));
    router.restart();
    let (mut ok, mut failed) = (0, 0);
    for t in threads {
        let (o, f) = t.join().expect("no thread panicked");
        ok += o;
        failed += f;
    }
    assert!(
        ok > 0 && failed > 0,
        "ok {ok}, failed {failed}: the outage did not show"
    );
    assert!(wait_until(Duration::from_secs(5), || caller
        .call("busy.square", (3,))
        .is_ok()));
}

#[test]
fn pending_requests_fail_at_once_when_the_connection_drops_and_new_ones_wait_for_the_rejoin() {
    let router = Router::start();
    // One client both offers and calls the procedures: requests that wait for the rejoin
    // are sent only after its registrations are restored, so the call cannot race them.
    let client =
        Client::connect(config(&router).with_timeout(Duration::from_secs(20))).expect("client");
    client
        .register("slow.op", |_| {
            std::thread::sleep(Duration::from_secs(3));
            Ok(CallResult::empty())
        })
        .expect("register");
    client.register("quick.op", echo).expect("register");
    let mut fail_fast_config = config(&router);
    fail_fast_config.wait_while_reconnecting = false;
    let fail_fast = Client::connect(fail_fast_config).expect("fail-fast client");

    let pending = {
        let client = client.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            (client.call("slow.op", ()), start.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    router.kill();
    let (result, took) = pending.join().expect("thread");
    assert!(
        matches!(result, Err(Error::ConnectionLost(_))),
        "{result:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "the pending call waited {took:?}"
    );

    // While reconnecting: the default waits, the fail-fast client fails at once.
    let start = Instant::now();
    assert!(matches!(
        fail_fast.call("quick.op", ()),
        Err(Error::ConnectionLost(_))
    ));
    assert!(start.elapsed() < Duration::from_millis(500));
    let waiter = {
        let client = client.clone();
        std::thread::spawn(move || client.call("quick.op", ("after",)))
    };
    std::thread::sleep(Duration::from_millis(500));
    router.restart();
    let result = waiter
        .join()
        .expect("thread")
        .expect("the waiting call succeeds after the rejoin");
    assert_eq!(result.args, vec![Value::from("after")]);
}

#[test]
fn publishes_made_during_an_outage_arrive_in_order_after_recovery_and_overflow_fails() {
    let router = Router::start();
    let mut publisher_config = config(&router);
    publisher_config.offline_publish_buffer = 5;
    let client = Client::connect(publisher_config).expect("connect");
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    client
        .subscribe("buffered.topic", move |e| {
            sink.lock()
                .expect("lock")
                .push(e.arg::<i64>(0).expect("i64"))
        })
        .expect("subscribe");
    let options = PublishOptions::new().exclude_me(false);

    router.kill();
    assert!(wait_until(Duration::from_secs(5), || client.state()
        == ConnectionState::Reconnecting));
    for n in 0..5 {
        client
            .publish_with("buffered.topic", (n,), (), &options)
            .expect("buffered");
    }
    for n in 5..7 {
        match client.publish_with("buffered.topic", (n,), (), &options) {
            Err(Error::ConnectionLost(why)) => assert!(why.contains("buffer is full"), "{why}"),
            other => panic!("expected a full buffer, got {other:?}"),
        }
    }
    router.restart();
    assert!(wait_until(Duration::from_secs(10), || received
        .lock()
        .expect("lock")
        .len()
        >= 5));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(*received.lock().expect("lock"), vec![0, 1, 2, 3, 4]);
}

#[test]
fn a_registration_held_by_another_session_is_retried_until_it_is_free() {
    let router = Router::start();
    // The squatter must join the restarted router before the service comes back. A
    // restart under the load of the whole suite has taken over 5 s, and the service
    // rejoins as soon as its next attempt finds the router up, so it waits 15 s
    // (12 to 18 with the jitter).
    let mut slow_policy = fast_reconnect();
    slow_policy.initial_delay = Duration::from_secs(15);
    slow_policy.max_delay = Duration::from_secs(15);
    let service = Client::connect(config(&router).with_reconnect(slow_policy)).expect("service");
    service
        .register("held.proc", |_| Ok(CallResult::value("service")?))
        .expect("register");
    let joins = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&joins);
    service.hooks().on_join(move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
    });

    router.kill();
    router.restart();
    // Take the procedure before the service is back, as a stale session would.
    let squatter = Client::connect(config(&router)).expect("squatter");
    squatter
        .register("held.proc", |_| Ok(CallResult::value("squatter")?))
        .expect("squat");
    assert!(
        wait_until(Duration::from_secs(30), || joins.load(Ordering::SeqCst)
            == 1),
        "the service did not rejoin"
    );
    let observer = Client::connect(config(&router)).expect("observer");
    let holder = || {
        observer
            .call("held.proc", ())
            .ok()
            .and_then(|r| r.arg::<String>(0).ok())
    };
    assert_eq!(holder().as_deref(), Some("squatter"));
    squatter.close().expect("close");
    // Retries back off, up to 5 s apart.
    assert!(
        wait_until(Duration::from_secs(8), || holder().as_deref()
            == Some("service")),
        "the service never took its registration back"
    );
}

#[test]
fn the_connection_state_is_reported_to_hooks_and_queryable() {
    let router = Router::start();
    let mut no_reconnect = config(&router);
    no_reconnect.reconnect = ReconnectPolicy::disabled();
    let states = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&states);
    no_reconnect
        .hooks
        .on_state_change(move |_, s| sink.lock().expect("lock").push(s));
    let client = Client::connect(no_reconnect).expect("connect");
    assert_eq!(client.state(), ConnectionState::Joined);
    router.kill();
    assert!(wait_until(Duration::from_secs(5), || client.state()
        == ConnectionState::Closed));
    assert!(matches!(
        client.call("x.y", ()),
        Err(Error::ConnectionLost(_))
    ));
    assert!(wait_until(Duration::from_secs(2), || states
        .lock()
        .expect("lock")
        .len()
        >= 2));
    assert_eq!(
        *states.lock().expect("lock"),
        vec![ConnectionState::Joined, ConnectionState::Closed]
    );
}

/// A service with two routers of a cluster: when the one it is on dies, it joins
/// the other and serves its procedure there; and back again.
#[test]
fn a_service_fails_over_between_two_routers_and_back() {
    let (a, b) = (Router::start(), Router::start());
    let service = Client::connect(config(&a).with_failover_urls([b.ws_url()])).expect("connect");
    service
        .register("cluster.where", |_inv| Ok(CallResult::value("here")?))
        .expect("register");
    let answers = |router: &Router| {
        let caller = ClientConfig::new(router.ws_url(), "izaber")
            .with_connect_timeout(Duration::from_secs(2))
            .with_reconnect(ReconnectPolicy::disabled());
        Client::connect(caller)
            .and_then(|c| c.call("cluster.where", ()))
            .is_ok_and(|r| r.arg::<String>(0).ok().as_deref() == Some("here"))
    };
    assert!(answers(&a));
    a.kill();
    let killed = Instant::now();
    assert!(
        wait_until(Duration::from_secs(5), || answers(&b)),
        "the service did not fail over to the second router within 5 s"
    );
    eprintln!("failed over to b in {:?}", killed.elapsed());
    a.restart();
    b.kill();
    let killed = Instant::now();
    assert!(
        wait_until(Duration::from_secs(5), || answers(&a)),
        "the service did not come back to the first router within 5 s"
    );
    eprintln!("failed over to a in {:?}", killed.elapsed());
    assert_eq!(service.stats().reconnections, 2);
}
