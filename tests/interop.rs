//! Interoperability with autobahn-python as the peer on the other side of the router.
#![cfg(feature = "websocket")]

#[macro_use]
mod common;

use common::{shared_router, Peer};
use izaber_wamp::{
    CallResult, Client, ClientConfig, Dict, Error, PublishOptions, Serializer, Value,
};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Our client plus an autobahn peer, both speaking `serializer`, with URIs unique to
/// this test so tests can share the router.
struct Pair {
    client: Client,
    _peer: Peer,
    prefix: String,
    s: Serializer,
}

impl Pair {
    fn new(s: Serializer, test: &str) -> Pair {
        let prefix = format!("interop.{}.{test}", s.name());
        let peer = Peer::start_with_prefix(&shared_router().ws_url(), s.name(), &prefix);
        let config = ClientConfig::new(shared_router().ws_url(), "izaber")
            .with_serializers(&[s])
            .with_timeout(Duration::from_secs(20));
        let client = Client::connect(config).expect("connect");
        Pair {
            client,
            _peer: peer,
            prefix,
            s,
        }
    }

    fn peer(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    fn ours(&self, name: &str) -> String {
        format!("rust.{}.{}.{name}", self.s.name(), self.prefix)
    }
}

fn sample_kwargs() -> Dict {
    Dict::from([
        ("text".to_string(), Value::from("ünïcode ✓")),
        (
            "bytes".to_string(),
            Value::bytes(vec![0xEF, 0xBB, 0xBF, 0x00, 0xFF]),
        ),
        (
            "nested".to_string(),
            Value::List(vec![
                Value::Int(-1),
                Value::Float(2.5),
                Value::Bool(true),
                Value::Null,
            ]),
        ),
        ("big".to_string(), Value::UInt(u64::MAX)),
    ])
}

fn we_call_an_autobahn_procedure(s: Serializer) {
    let pair = Pair::new(s, "call_peer");
    let args = vec![
        Value::Int(1),
        Value::from("two"),
        Value::bytes(vec![0, 1, 2, 255]),
    ];
    let result = pair
        .client
        .call_kw(&pair.peer("echo"), &args, sample_kwargs())
        .expect("call");
    assert_eq!(result.args, args);
    assert_eq!(result.kwargs, sample_kwargs());
}

fn autobahn_errors_keep_uri_args_and_kwargs(s: Serializer) {
    let pair = Pair::new(s, "peer_error");
    match pair.client.call(&pair.peer("fail"), ()) {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "interop.error.custom");
            assert_eq!(e.args, vec![Value::from("bad thing"), Value::Int(42)]);
            assert_eq!(e.kwargs.get("detail"), Some(&Value::from("x")));
        }
        other => panic!("expected a WAMP error, got {other:?}"),
    }
}

fn autobahn_calls_our_procedure(s: Serializer) {
    let pair = Pair::new(s, "peer_calls_us");
    let procedure = pair.ours("echo");
    pair.client
        .register(&procedure, |inv| {
            let mut kwargs = inv.kwargs;
            kwargs.insert(
                "caller_seen".into(),
                Value::Bool(inv.details.caller.is_some()),
            );
            Ok(CallResult::from_values(inv.args, kwargs))
        })
        .expect("register");
    let args = (procedure.as_str(), 7, Value::bytes(vec![9, 8, 7]));
    let result = pair
        .client
        .call_kw(&pair.peer("call"), args, sample_kwargs())
        .expect("call via peer");
    let reply = result
        .args
        .first()
        .and_then(Value::as_dict)
        .expect("dict result");
    assert_eq!(
        reply.get("args"),
        Some(&Value::List(vec![
            Value::Int(7),
            Value::bytes(vec![9, 8, 7])
        ]))
    );
    let mut expected = sample_kwargs();
    expected.insert("caller_seen".into(), Value::Bool(true));
    assert_eq!(reply.get("kwargs"), Some(&Value::Dict(expected)));
}

fn autobahn_receives_our_errors(s: Serializer) {
    let pair = Pair::new(s, "peer_gets_error");
    let procedure = pair.ours("fails");
    pair.client
        .register(&procedure, |_| {
            Err(izaber_wamp::WampError::new("rust.error.custom")
                .with_args(vec!["nope".into()])
                .into())
        })
        .expect("register");
    match pair.client.call(&pair.peer("call"), (procedure.as_str(),)) {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "rust.error.custom");
            assert_eq!(e.args, vec![Value::from("nope")]);
        }
        other => panic!("expected the error passed through the peer, got {other:?}"),
    }
}

fn autobahn_publishes_to_us(s: Serializer) {
    let pair = Pair::new(s, "peer_publishes");
    let topic = pair.ours("events");
    let (tx, rx) = mpsc::channel();
    pair.client
        .subscribe(&topic, move |event| {
            drop(tx.send((event.args.clone(), event.kwargs.clone())))
        })
        .expect("subscribe");
    let publication: u64 = pair
        .client
        .call_kw(
            &pair.peer("publish"),
            (topic.as_str(), "hello", Value::bytes(vec![1, 2])),
            sample_kwargs(),
        )
        .expect("publish via peer")
        .arg(0)
        .expect("publication id");
    assert!(publication > 0);
    let (args, kwargs) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::from("hello"), Value::bytes(vec![1, 2])]);
    assert_eq!(kwargs, sample_kwargs());
}

fn we_publish_to_autobahn(s: Serializer) {
    let pair = Pair::new(s, "we_publish");
    let topic = pair.ours("events");
    pair.client
        .call(&pair.peer("subscribe"), (topic.as_str(),))
        .expect("peer subscribes");
    let ack = PublishOptions::new().acknowledge(true);
    for n in 0..3 {
        pair.client
            .publish_with(
                &topic,
                (n, Value::bytes(vec![n as u8])),
                sample_kwargs(),
                &ack,
            )
            .expect("publish");
    }
    let start = Instant::now();
    let received = loop {
        let received = pair
            .client
            .call(&pair.peer("received"), (topic.as_str(),))
            .expect("received");
        let events = received
            .args
            .first()
            .and_then(Value::as_list)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        if events.len() >= 3 || start.elapsed() > Duration::from_secs(5) {
            break events;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(received.len(), 3, "{received:?}");
    for (n, event) in received.iter().enumerate() {
        let event = event.as_dict().expect("dict");
        let expected_args = Value::List(vec![Value::Int(n as i64), Value::bytes(vec![n as u8])]);
        assert_eq!(event.get("args"), Some(&expected_args));
        assert_eq!(event.get("kwargs"), Some(&Value::Dict(sample_kwargs())));
    }
}

for_each_serializer!(
    we_call_an_autobahn_procedure,
    autobahn_errors_keep_uri_args_and_kwargs,
    autobahn_calls_our_procedure,
    autobahn_receives_our_errors,
    autobahn_publishes_to_us,
    we_publish_to_autobahn,
);
