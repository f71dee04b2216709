//! The WAMP advanced profile against a real Crossbar.io router, with autobahn-python
//! as the other side where the feature needs a peer: progressive results,
//! cancellation that reaches the callee, the router-side call timeout, payload
//! transparency, typed publish options, and handler errors as Python sees them.
#![cfg(feature = "websocket")]

mod common;

use common::scenarios::{register_waiter, wait_until};
use common::{shared_router, Peer};
use izaber_wamp::{
    CallOptions, CallResult, CancelMode, Client, ClientConfig, Error, HandlerError, Ppt,
    PublishOptions, Value,
};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn connect() -> Client {
    let config = ClientConfig::new(shared_router().ws_url(), "izaber")
        .with_ticket("test-user", "test-pass")
        .with_timeout(Duration::from_secs(20));
    Client::connect(config).expect("connect")
}

fn peer(prefix: &str) -> Peer {
    Peer::start_with_prefix(&shared_router().ws_url(), "json", prefix)
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|&v| Value::Int(v)).collect()
}

#[test]
fn progressive_results_from_an_autobahn_callee_reach_our_caller() {
    let _peer = peer("adv.p1");
    let client = connect();
    let steps: Vec<CallResult> = client
        .call_progress("adv.p1.countdown", (3,))
        .expect("started")
        .collect::<Result<_, _>>()
        .expect("every step");
    let shape: Vec<(bool, Vec<Value>)> = steps
        .iter()
        .map(|s| (s.is_progress(), s.args.clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (true, ints(&[1])),
            (true, ints(&[2])),
            (true, ints(&[3])),
            (false, vec![Value::from("done")]),
        ]
    );
    // A plain call of the same procedure gets only the final result.
    let plain = client.call("adv.p1.countdown", (3,)).expect("call");
    assert_eq!(plain.args, vec![Value::from("done")]);
}

#[test]
fn our_callee_sends_progressive_results_to_an_autobahn_caller() {
    let _peer = peer("adv.p2");
    let client = connect();
    client
        .register("adv.p2.ours", |inv| {
            let n: i64 = inv.arg(0)?;
            for i in 1..=n {
                inv.progress(CallResult::value(i * 10)?)?;
            }
            Ok(CallResult::value("finished")?)
        })
        .expect("register");
    let seen = client
        .call("adv.p2.call_progress", ("adv.p2.ours", 3))
        .expect("call");
    let seen: serde_json::Value = seen.arg(0).expect("a dict");
    assert_eq!(
        seen,
        serde_json::json!({"progress": [10, 20, 30], "result": ["finished"]})
    );
    // Without receive_progress the handler cannot send progress; it learns why.
    let (tx, rx) = mpsc::channel();
    client
        .register("adv.p2.quiet", move |inv| {
            let _ = tx.send(inv.progress(CallResult::empty()));
            Ok(CallResult::value("quiet")?)
        })
        .expect("register");
    assert_eq!(
        client.call("adv.p2.quiet", ()).expect("call").args,
        vec![Value::from("quiet")]
    );
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(5)).expect("ran"),
        Err(Error::InvalidOption { .. })
    ));
}

#[test]
fn every_cancel_mode_ends_the_call_with_canceled_in_bounded_time() {
    let callee = connect();
    let interrupts = register_waiter(&callee, "adv.cancel.wait");
    let caller = connect();
    for mode in [CancelMode::KillNoWait, CancelMode::Kill, CancelMode::Skip] {
        let call = caller
            .start_call("adv.cancel.wait", (), (), &CallOptions::new())
            .expect("started");
        std::thread::sleep(Duration::from_millis(300));
        let canceled = Instant::now();
        call.cancel(mode);
        let outcome = call.wait();
        assert_eq!(
            outcome.as_ref().err().and_then(Error::wamp_uri),
            Some("wamp.error.canceled"),
            "{mode:?}: {outcome:?}"
        );
        assert!(canceled.elapsed() < Duration::from_secs(6), "{mode:?}");
        match mode {
            // The callee is interrupted, with the caller's mode.
            CancelMode::Kill | CancelMode::KillNoWait => assert_eq!(
                interrupts
                    .recv_timeout(Duration::from_secs(5))
                    .expect("handler ended"),
                Some(mode)
            ),
            // skip leaves the callee running: it ends at its own pace, uninterrupted.
            _ => assert_eq!(
                interrupts
                    .recv_timeout(Duration::from_secs(15))
                    .expect("handler ended"),
                None
            ),
        }
    }
}

#[test]
fn a_timeout_cancels_the_call_at_the_callee_too() {
    let callee = connect();
    let interrupts = register_waiter(&callee, "adv.timeout.wait");
    let caller = connect();
    let options = CallOptions::new().timeout(Duration::from_millis(500));
    let started = Instant::now();
    match caller.call_with("adv.timeout.wait", (), (), &options) {
        Err(Error::Timeout { after, .. }) => assert_eq!(after, Duration::from_millis(500)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(
        interrupts
            .recv_timeout(Duration::from_secs(5))
            .expect("handler ended"),
        Some(CancelMode::KillNoWait)
    );
    // The mode used on timeout is the client's setting.
    let config = ClientConfig::new(shared_router().ws_url(), "izaber")
        .with_ticket("test-user", "test-pass")
        .with_timeout_cancel_mode(CancelMode::Kill);
    let killing = Client::connect(config).expect("connect");
    assert!(matches!(
        killing.call_with("adv.timeout.wait", (), (), &options),
        Err(Error::Timeout { .. })
    ));
    assert_eq!(
        interrupts
            .recv_timeout(Duration::from_secs(5))
            .expect("handler ended"),
        Some(CancelMode::Kill)
    );
}

#[test]
fn an_autobahn_caller_s_cancel_interrupts_our_handler() {
    let _peer = peer("adv.c2");
    let callee = connect();
    let interrupts = register_waiter(&callee, "adv.c2.ours");
    let caller = connect();
    let ended = caller
        .call("adv.c2.call_and_cancel", ("adv.c2.ours", 0.3))
        .expect("call");
    let ended: String = ended.arg(0).expect("how it ended");
    assert!(
        ended == "wamp.error.canceled" || ended == "cancelled",
        "{ended}"
    );
    assert!(interrupts
        .recv_timeout(Duration::from_secs(5))
        .expect("handler ended")
        .is_some());
}

#[test]
fn the_router_timeout_option_reaches_the_callee_in_milliseconds() {
    let callee = connect();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    callee
        .register("adv.router_timeout", move |inv| {
            let _ = tx
                .lock()
                .expect("lock")
                .send(inv.details.raw.get("timeout").cloned());
            Ok(CallResult::empty())
        })
        .expect("register");
    let options = CallOptions::new().router_timeout(Duration::from_millis(1500));
    connect()
        .call_with("adv.router_timeout", (), (), &options)
        .expect("call");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).expect("ran"),
        Some(Value::Int(1500))
    );
}

#[test]
fn a_transparent_payload_from_autobahn_reaches_our_subscriber_decoded() {
    let _peer = peer("adv.t1");
    let client = connect();
    let (tx, rx) = mpsc::channel();
    client
        .subscribe("adv.t1.events", move |event| {
            let _ = tx.send((event.args, event.kwargs, event.transparent));
        })
        .expect("subscribe");
    let observer = connect();
    observer
        .call_kw(
            "adv.t1.publish_transparent",
            ("adv.t1.events", 1, "two"),
            serde_json::json!({"k": true}),
        )
        .expect("published");
    let (args, kwargs, transparent) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::Int(1), Value::from("two")]);
    assert_eq!(kwargs.get("k"), Some(&Value::Bool(true)));
    let transparent = transparent.expect("marked transparent");
    assert_eq!(transparent.ppt, Ppt::new("x_test").with_serializer("json"));
    assert!(transparent.decoded);
    assert!(client.is_connected(), "the session survived");
}

#[test]
fn our_transparent_publish_reaches_an_autobahn_subscriber_as_bytes() {
    let _peer = peer("adv.t2");
    let client = connect();
    client
        .call("adv.t2.subscribe", ("adv.t2.events",))
        .expect("peer subscribed");
    let payload = vec![0u8, 1, 2, 254, 255];
    let options = PublishOptions::new()
        .ppt(Ppt::new("x_custom"))
        .acknowledge(true)
        .exclude_me(false);
    client
        .publish_with(
            "adv.t2.events",
            (Value::Bytes(payload.clone()),),
            (),
            &options,
        )
        .expect("published");
    assert!(wait_until(Duration::from_secs(5), || {
        client
            .call("adv.t2.received", ("adv.t2.events",))
            .ok()
            .and_then(|r| r.args.first().cloned())
            == Some(Value::List(vec![Value::Dict(
                [
                    (
                        "args".to_string(),
                        Value::List(vec![Value::Bytes(payload.clone())]),
                    ),
                    ("kwargs".to_string(), Value::Dict(Default::default())),
                ]
                .into(),
            )]))
    }));
    // A transparent payload must be one binary value.
    let wrong = client.publish_with("adv.t2.events", ("text",), (), &options);
    assert!(
        matches!(wrong, Err(Error::InvalidOption { .. })),
        "{wrong:?}"
    );
}

#[test]
fn publish_eligibility_and_exclusion_choose_the_receivers() {
    let (a, b) = (connect(), connect());
    let received = Arc::new(Mutex::new(Vec::new()));
    for (name, client) in [("a", &a), ("b", &b)] {
        let sink = Arc::clone(&received);
        client
            .subscribe("adv.who", move |event| {
                let tag: String = event.arg(0).unwrap_or_default();
                sink.lock().expect("lock").push((name, tag));
            })
            .expect("subscribe");
    }
    let publisher = connect();
    let a_session = a.session_id().expect("joined");
    let ack = PublishOptions::new().acknowledge(true);
    publisher
        .publish_with(
            "adv.who",
            ("only-a",),
            (),
            &ack.clone().eligible([a_session]),
        )
        .expect("publish");
    publisher
        .publish_with("adv.who", ("not-a",), (), &ack.clone().exclude([a_session]))
        .expect("publish");
    assert!(wait_until(Duration::from_secs(5), || received
        .lock()
        .expect("lock")
        .len()
        >= 2));
    std::thread::sleep(Duration::from_millis(300)); // nothing else arrives
    let mut got = received.lock().expect("lock").clone();
    got.sort();
    assert_eq!(
        got,
        vec![("a", "only-a".to_string()), ("b", "not-a".to_string())]
    );
}

#[test]
fn python_callers_see_our_handler_errors_as_they_see_python_ones() {
    let _peer = peer("adv.e1");
    let client = connect();
    client
        .register("adv.e1.fails", |_| Err(HandlerError::failed("bad thing")))
        .expect("register");
    // The peer calls our procedure and re-raises what autobahn gave it.
    match client.call("adv.e1.call", ("adv.e1.fails",)) {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "wamp.error.runtime_error");
            assert_eq!(
                e.args,
                vec![
                    Value::from("Call failed: bad thing"),
                    Value::from("bad thing")
                ]
            );
        }
        other => panic!("expected the handler's error, got {other:?}"),
    }
}
