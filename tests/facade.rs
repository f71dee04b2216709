//! The izaber facade against a real router: initialize(), wamp(), prefixing, hooks,
//! change_user, spawn_connection and the Nexus helpers.
#![cfg(feature = "websocket")]

mod common;

use common::{shared_router, Peer};
use izaber_wamp::config::{load, LoadOptions};
use izaber_wamp::{
    CallResult, Client, ClientConfig, ConnectionState, Error, HandlerError, Serializer, Value,
    Wamp, WampError,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The global connection is one per process: tests that use it take turns.
fn global_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn yaml(extra: &str) -> String {
    format!(
        "default:\n  wamp:\n    connection:\n      url: {}\n      realm: izaber\n      username: test-user\n      password: test-pass\n      serializer: {}\n      timeout: 10\n{extra}",
        shared_router().ws_url(),
        common::serializer_or_json(Serializer::MsgPack)
    )
}

fn connect(extra: &str) -> Wamp {
    let config = load(&LoadOptions::yaml(yaml(extra))).expect("config");
    Wamp::connect(&config.wamp.connection).expect("connect")
}

/// A plain client with absolute URIs, to see what actually went over the wire.
fn observer() -> Client {
    Client::connect(ClientConfig::new(shared_router().ws_url(), "izaber")).expect("observer")
}

fn session_alive(observer: &Client, session: u64) -> bool {
    match observer.call("wamp.session.get", (session,)) {
        Ok(_) => true,
        Err(e) if e.wamp_uri() == Some("wamp.error.no_such_session") => false,
        Err(e) => panic!("wamp.session.get: {e}"),
    }
}

#[test]
fn uris_are_prefixed_with_uri_base_and_absolute_ones_are_not() {
    let wamp = connect("");
    assert_eq!(wamp.uri_base(), "com.izaber.wamp");
    wamp.register("facade.echo", |inv| {
        Ok(CallResult::value(inv.arg::<String>(0)?)?)
    })
    .expect("register");
    let plain = observer();
    let result = plain
        .call("com.izaber.wamp.facade.echo", ("hi",))
        .expect("absolute call");
    assert_eq!(result.args, vec![Value::from("hi")]);
    assert_eq!(
        wamp.call("facade.echo", ("x",))
            .expect("relative call")
            .args,
        vec![Value::from("x")]
    );
    // The escape for router procedures: no prefix at all.
    let count: u64 = wamp
        .absolute()
        .call("wamp.session.count", ())
        .expect("meta")
        .arg(0)
        .expect("count");
    assert!(count >= 2);
    // A relative call is always prefixed, never guessed: this goes to com.izaber.wamp.wamp.session.count.
    let err = wamp.call("wamp.session.count", ()).expect_err("prefixed");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_procedure"));
}

#[test]
fn an_empty_uri_base_turns_prefixing_off() {
    let wamp = connect("      uri_base: ''\n");
    assert_eq!(wamp.full_uri("auth.whoami"), "auth.whoami");
    let count: u64 = wamp
        .call("wamp.session.count", ())
        .expect("unprefixed")
        .arg(0)
        .expect("count");
    assert!(count >= 1);
}

#[test]
fn publish_and_subscribe_are_prefixed() {
    let wamp = connect("");
    let (tx, rx) = std::sync::mpsc::channel();
    wamp.subscribe("facade.news", move |e| {
        drop(tx.send((e.details.topic.clone(), e.args.clone())))
    })
    .expect("subscribe");
    observer()
        .publish("com.izaber.wamp.facade.news", ("flash",))
        .expect("publish");
    let (topic, args) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(topic.as_deref(), Some("com.izaber.wamp.facade.news"));
    assert_eq!(args, vec![Value::from("flash")]);
}

#[test]
fn handler_errors_map_to_the_invoke_failure_uri_or_keep_their_own() {
    let wamp = connect("");
    wamp.register("facade.fails", |_| Err(HandlerError::failed("bad thing")))
        .expect("register");
    wamp.register("facade.custom", |_| {
        Err(WampError::new("com.example.error.mine")
            .with_args(vec![Value::Int(1)])
            .into())
    })
    .expect("register");
    match observer().call("com.izaber.wamp.facade.fails", ()) {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "com.izaber.wamp.error.invoke.failure");
            // The shape a Python izaber callee sends.
            assert_eq!(
                e.args,
                vec![
                    Value::from("Call failed: bad thing"),
                    Value::from("bad thing")
                ]
            );
        }
        other => panic!("expected a WAMP error, got {other:?}"),
    }
    match wamp.call("facade.custom", ()) {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "com.example.error.mine");
            assert_eq!(e.args, vec![Value::Int(1)]);
        }
        other => panic!("expected a WAMP error, got {other:?}"),
    }
}

#[test]
fn every_nexus_helper_calls_its_procedure_under_the_prefix() {
    let base = "com.izaber.nexustest";
    let _stub = Peer::start_nexus_stub(&shared_router().ws_url(), base);
    let wamp = connect(&format!("      uri_base: {base}\n"));
    let check = |result: izaber_wamp::Result<Value>, procedure: &str, args: Vec<Value>| {
        let result = result.unwrap_or_else(|e| panic!("{procedure}: {e}"));
        let reply = result
            .as_dict()
            .unwrap_or_else(|| panic!("{procedure}: {result}"));
        assert_eq!(reply.get("procedure"), Some(&Value::from(procedure)));
        assert_eq!(reply.get("args"), Some(&Value::List(args)), "{procedure}");
    };
    check(wamp.whoami(), "auth.whoami", vec![]);
    check(wamp.ad_users(), "ad.users", vec![]);
    check(wamp.ad_groups(), "ad.groups", vec![]);
    check(
        wamp.roster_register("key1", ("data",), Some("public")),
        "system.roster.register",
        vec![
            "key1".into(),
            Value::List(vec!["data".into()]),
            "public".into(),
        ],
    );
    check(
        wamp.roster_register("key2", 5, None),
        "system.roster.register",
        vec!["key2".into(), Value::Int(5), Value::Null],
    );
    check(
        wamp.roster_query("key1"),
        "system.roster.query",
        vec!["key1".into()],
    );
    check(
        wamp.roster_unregister("key1"),
        "system.roster.unregister",
        vec!["key1".into()],
    );
    check(
        wamp.metadata_set("m", "v", true),
        "my.metadata.set",
        vec!["m".into(), "v".into(), Value::Bool(true)],
    );
    check(wamp.metadata_get("m"), "my.metadata.get", vec!["m".into()]);
    check(wamp.metadata_list(), "my.metadata.list", vec![]);
    check(
        wamp.metadata_delete("m"),
        "my.metadata.delete",
        vec!["m".into()],
    );
    check(
        wamp.apikeys_create(None),
        "my.apikeys.create",
        vec![Value::Null],
    );
    check(wamp.apikeys_list(), "my.apikeys.list", vec![]);
    check(
        wamp.apikeys_delete("k"),
        "my.apikeys.delete",
        vec!["k".into()],
    );
    check(wamp.otp_create(), "my.otps.create", vec![]);
    check(wamp.otp_list(), "my.otps.list", vec![]);
    check(wamp.otp_delete("o"), "my.otps.delete", vec!["o".into()]);
    // The stub sees who called: the configured user.
    let me = wamp.whoami().expect("whoami");
    assert_eq!(
        me.as_dict().and_then(|d| d.get("caller_authid")),
        Some(&Value::from("test-user"))
    );
}

#[test]
fn an_autobahn_peer_and_the_facade_call_each_other_under_the_prefix() {
    let wamp = connect("");
    let peer = Peer::start_with_prefix(
        &shared_router().ws_url(),
        "json",
        "com.izaber.wamp.facadepeer",
    );
    wamp.register("facade.for_peer", |inv| {
        Ok(CallResult::value(format!("got {}", inv.arg::<i64>(0)?))?)
    })
    .expect("register");
    let result = wamp
        .call("facadepeer.echo", (1, "two"))
        .expect("facade calls the peer");
    assert_eq!(result.args, vec![Value::Int(1), Value::from("two")]);
    let via_peer = wamp
        .call("facadepeer.call", ("com.izaber.wamp.facade.for_peer", 7))
        .expect("peer calls us");
    let reply = via_peer.args[0]
        .as_dict()
        .and_then(|d| d.get("args"))
        .cloned();
    assert_eq!(reply, Some(Value::List(vec![Value::from("got 7")])));
    drop(peer);
}

#[test]
fn stats_count_calls_invocations_publications_events_and_errors() {
    let wamp = connect("");
    wamp.register("facade.stats", |_| Ok(CallResult::empty()))
        .expect("register");
    wamp.subscribe("facade.stats.topic", |_| {})
        .expect("subscribe");
    let before = wamp.stats();
    wamp.call("facade.stats", ()).expect("call");
    let _ = wamp.call("facade.nobody", ());
    let options = izaber_wamp::PublishOptions::new()
        .acknowledge(true)
        .exclude_me(false);
    wamp.publish_with("facade.stats.topic", (), (), &options)
        .expect("publish");
    let after_ok = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(20));
        let s = wamp.stats();
        (s.events > before.events).then_some(s)
    });
    let after = after_ok.expect("the event arrived");
    assert_eq!(after.calls - before.calls, 2);
    assert_eq!(after.invocations - before.invocations, 1);
    assert_eq!(after.publications - before.publications, 1);
    assert_eq!(after.events - before.events, 1);
    assert_eq!(after.errors - before.errors, 1);
    assert!(
        after.messages_sent > before.messages_sent
            && after.messages_received > before.messages_received
    );
    assert_eq!(after.reconnections, 0);
}

#[test]
fn before_initialize_wamp_is_a_clear_error() {
    let _guard = global_lock();
    // Other tests may have initialized the global first; only check a fresh process.
    if let Err(e) = izaber_wamp::wamp() {
        assert!(matches!(e, Error::NotConnected(_)));
        assert!(e.to_string().contains("initialize()"), "{e}");
    }
}

#[test]
fn initialize_connects_runs_hooks_once_per_join_and_change_user_closes_the_old_session() {
    let _guard = global_lock();
    let joins = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&joins);
    izaber_wamp::on_join(move |wamp, session| {
        counter.fetch_add(1, Ordering::SeqCst);
        assert_eq!(wamp.uri_base(), "com.izaber.wamp");
        assert!(session.session_id.get() > 0);
    });
    izaber_wamp::initialize_with(&LoadOptions::yaml(yaml(""))).expect("initialize");
    let first = izaber_wamp::wamp().expect("wamp");
    assert_eq!(first.state(), ConnectionState::Joined);
    assert!(
        wait(|| joins.load(Ordering::SeqCst) == 1),
        "join hook ran {} times",
        joins.load(Ordering::SeqCst)
    );
    let first_id = first.session_info().expect("joined").session_id;
    let who = first.session_info().and_then(|s| s.authid);
    assert_eq!(who.as_deref(), Some("test-user"));

    let second = izaber_wamp::change_user("other-user", "other-pass").expect("change_user");
    assert_eq!(
        second.session_info().and_then(|s| s.authid).as_deref(),
        Some("other-user")
    );
    assert_eq!(
        izaber_wamp::wamp().expect("wamp").session_info(),
        second.session_info()
    );
    let plain = observer();
    assert!(
        !session_alive(&plain, first_id.get()),
        "change_user left the old session open"
    );
    assert!(wait(|| joins.load(Ordering::SeqCst) == 2));

    // A wrong password keeps the current connection.
    let err = izaber_wamp::change_user("other-user", "wrong").expect_err("bad password");
    assert!(matches!(err, Error::Abort { .. }), "{err}");
    assert_eq!(
        izaber_wamp::wamp().expect("wamp").session_info(),
        second.session_info()
    );

    // spawn_connection: an independent session as another user, without the global hooks.
    let spawned = izaber_wamp::spawn_connection("test-user", "test-pass").expect("spawn");
    assert_eq!(
        spawned.session_info().and_then(|s| s.authid).as_deref(),
        Some("test-user")
    );
    assert_ne!(spawned.session_info(), second.session_info());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        joins.load(Ordering::SeqCst),
        2,
        "the spawned connection ran the global join hook"
    );
    spawned.close().expect("close");
    second.close().expect("close");
}

#[test]
fn with_run_false_initialize_does_not_connect() {
    let _guard = global_lock();
    let text = yaml("").replace("  wamp:\n", "  wamp:\n    run: false\n");
    izaber_wamp::initialize_with(&LoadOptions::yaml(text)).expect("initialize");
    match izaber_wamp::wamp() {
        Err(Error::NotConnected(why)) => assert!(why.contains("wamp.run is false"), "{why}"),
        other => panic!("expected NotConnected, got {other:?}"),
    }
    let wamp = izaber_wamp::change_user("test-user", "test-pass").expect("change_user connects");
    assert!(wamp.session_info().is_some());
    wamp.close().expect("close");
}

#[test]
fn initialize_gives_up_at_the_connect_deadline() {
    let _guard = global_lock();
    let port = common::closed_port();
    let text = format!(
        "default:\n  wamp:\n    connection:\n      url: ws://127.0.0.1:{port}\n      connect_timeout: 1.5\n"
    );
    let start = Instant::now();
    let err = izaber_wamp::initialize_with(&LoadOptions::yaml(text)).expect_err("nothing listens");
    assert!(
        matches!(err, Error::Connect { .. } | Error::Timeout { .. }),
        "{err}"
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "took {took:?}"
    );
}

fn wait(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}
