//! Progressive call invocations (a call whose input is sent in chunks), caller and
//! callee. Crossbar.io does not support them, so the router here is a small
//! stand-in of our own (`common::fake_router`) that announces the feature and plays
//! the dealer's part of the exchange, checking every message the client sends.
#![cfg(feature = "rawsocket")]

mod common;

use common::fake_router::FakeRouter;
use izaber_wamp::{CallOptions, CallResult, Client, ClientConfig, Serializer, Value};
use serde_json::json;
use std::sync::mpsc;
use std::time::Duration;

fn connect(router: &FakeRouter) -> Client {
    let config = ClientConfig::new(router.url(), "realm1")
        .with_serializers(&[Serializer::Json])
        .with_timeout(Duration::from_secs(10));
    Client::connect(config).expect("connect to the stand-in router")
}

fn announcing_router(
    script: impl Fn(&mut common::fake_router::Conn) + Send + Sync + 'static,
) -> FakeRouter {
    FakeRouter::start(move |conn| {
        let hello =
            conn.join_with_dealer_features(7, json!({"progressive_call_invocations": true}));
        for role in ["caller", "callee"] {
            assert_eq!(
                hello["roles"][role]["features"]["progressive_call_invocations"],
                json!(true),
                "HELLO announces progressive_call_invocations for the {role}"
            );
        }
        script(conn);
        false
    })
}

#[test]
fn a_caller_sends_its_input_in_chunks_under_one_request() {
    let (seen_tx, seen) = mpsc::channel();
    let router = announcing_router(move |conn| {
        let calls: Vec<_> = (0..3).map(|_| conn.recv()).collect();
        let request = calls[0][1].clone();
        conn.send(&json!([50, request, {}, [6]]));
        seen_tx.send(calls).expect("report");
        conn.recv_timeout(Duration::from_secs(5));
    });
    let client = connect(&router);
    let call = client
        .start_call(
            "com.example.sum",
            (1,),
            (),
            &CallOptions::new().progressive(true),
        )
        .expect("start");
    call.send_chunk((2,), (), false).expect("chunk 2");
    call.send_chunk((3,), (), true).expect("chunk 3");
    assert_eq!(call.wait().expect("result").args, vec![Value::from(6)]);

    let calls = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("three CALLs");
    for (i, call) in calls.iter().enumerate() {
        assert_eq!(call[0], json!(48), "CALL, got {call}");
        assert_eq!(call[1], calls[0][1], "one request ID for every chunk");
        assert_eq!(call[3], json!("com.example.sum"));
        assert_eq!(call[4], json!([i + 1]));
        let more = call[2].get("progress") == Some(&json!(true));
        assert_eq!(
            more,
            i < 2,
            "progress: true on all chunks but the last: {call}"
        );
    }
}

#[test]
fn a_callee_reads_the_chunks_of_an_invocation_and_answers_once() {
    let (yields_tx, yields) = mpsc::channel();
    let router = announcing_router(move |conn| {
        let register = conn.recv();
        assert_eq!(register[0], json!(64), "REGISTER, got {register}");
        conn.send(&json!([65, register[1], 300]));
        conn.send(&json!([68, 9, 300, {"progress": true}, [1]]));
        std::thread::sleep(Duration::from_millis(50));
        conn.send(&json!([68, 9, 300, {"progress": true}, [2]]));
        conn.send(&json!([68, 9, 300, {}, [3]]));
        yields_tx.send(conn.recv()).expect("report");
        conn.recv_timeout(Duration::from_secs(5));
    });
    let client = connect(&router);
    client
        .register("com.example.sum", |inv| {
            assert!(inv.is_progressive());
            let mut sum: i64 = inv.arg(0)?;
            while let Some((args, _kwargs)) = inv.next_chunk(Duration::from_secs(5))? {
                sum += args[0].as_i64().unwrap_or(0);
            }
            Ok(CallResult::value(sum)?)
        })
        .expect("register");
    let reply = yields.recv_timeout(Duration::from_secs(10)).expect("YIELD");
    assert_eq!(reply, json!([70, 9, {}, [6]]));
}

#[test]
fn chunks_are_refused_before_sending_when_the_router_does_not_announce_them() {
    let router = FakeRouter::start(|conn| {
        conn.join(7);
        conn.recv_timeout(Duration::from_secs(5));
        false
    });
    let client = connect(&router);
    let err = client
        .start_call(
            "com.example.sum",
            (1,),
            (),
            &CallOptions::new().progressive(true),
        )
        .and_then(|call| call.wait())
        .expect_err("not supported");
    assert_eq!(
        err.wamp_uri(),
        Some("wamp.error.feature_not_supported"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("progressive_call_invocations"),
        "the error names the missing feature: {err}"
    );
}
