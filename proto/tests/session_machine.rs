//! Drives the sans-I/O session state machine (`Session<u32>`, the context being a u32
//! tag) with messages and frames, without sockets: every frame the session wants to send
//! is read back with the JSON serializer and every output is checked.

use izaber_wamp_proto::auth::{Authenticator, Cryptosign, Ticket, WampCra};
use izaber_wamp_proto::codec::Serializer;
use izaber_wamp_proto::message::{code, Message, Payload};
use izaber_wamp_proto::session::{
    CancelMode, CloseReason, Output, Reply, Session, SessionConfig, State,
};
use izaber_wamp_proto::{CodecError, Dict, Error, Value, WampError};
use std::sync::Arc;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const AGENT: &str = "izaber-wamp-test/0.1";
const SESSION_ID: u64 = 4_711_000_123;

fn config(auth: Vec<Arc<dyn Authenticator>>, max_message_size: usize) -> SessionConfig {
    let mut config = SessionConfig::new("realm1");
    config.auth = auth;
    config.agent = AGENT.into();
    config.serializer = Serializer::Json;
    config.max_message_size = max_message_size;
    config
}

fn new_session(auth: Vec<Arc<dyn Authenticator>>) -> Session<u32> {
    Session::new(config(auth, 1 << 20))
}

fn dict<const N: usize>(entries: [(&str, Value); N]) -> Dict {
    entries
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn args(items: Vec<Value>) -> Payload {
    Payload::new(items, Dict::new())
}

/// Every frame the session queued, decoded with the JSON serializer.
fn sent(session: &mut Session<u32>) -> Vec<Message> {
    let mut messages = Vec::new();
    while let Some(frame) = session.pop_transmit() {
        let message = Serializer::Json
            .decode(&frame)
            .unwrap_or_else(|e| panic!("the session sent an undecodable frame: {e}"));
        messages.push(message);
    }
    messages
}

/// Every output the session queued.
fn outputs(session: &mut Session<u32>) -> Vec<Output<u32>> {
    std::iter::from_fn(|| session.pop_output()).collect()
}

/// The single output, which must be a completion.
fn one_completion(session: &mut Session<u32>) -> (u32, Result<Reply, Error>) {
    let mut outs = outputs(session);
    assert_eq!(outs.len(), 1, "expected exactly one output: {outs:?}");
    match outs.remove(0) {
        Output::Completed { ctx, result } => (ctx, result),
        other => panic!("expected Completed, got {other:?}"),
    }
}

/// All outputs, which must all be completions, in order.
fn completions(session: &mut Session<u32>) -> Vec<(u32, Result<Reply, Error>)> {
    outputs(session)
        .into_iter()
        .map(|out| match out {
            Output::Completed { ctx, result } => (ctx, result),
            other => panic!("expected Completed, got {other:?}"),
        })
        .collect()
}

fn roles(dealer_features: &[&str]) -> Dict {
    let flags: Dict = dealer_features
        .iter()
        .map(|f| (f.to_string(), Value::Bool(true)))
        .collect();
    dict([
        (
            "dealer",
            Value::Dict(dict([("features", Value::Dict(flags))])),
        ),
        (
            "broker",
            Value::Dict(dict([("features", Value::Dict(Dict::new()))])),
        ),
    ])
}

fn welcome(dealer_features: &[&str]) -> Message {
    Message::Welcome {
        session: SESSION_ID,
        details: dict([
            ("authid", s("joe")),
            ("authrole", s("user")),
            ("roles", Value::Dict(roles(dealer_features))),
        ]),
    }
}

/// A session that has sent HELLO and received WELCOME, with nothing left queued.
fn joined_with(dealer_features: &[&str], max_message_size: usize) -> Session<u32> {
    let mut session = Session::new(config(vec![], max_message_size));
    assert!(matches!(sent(&mut session)[..], [Message::Hello { .. }]));
    session.handle_message(welcome(dealer_features));
    let outs = outputs(&mut session);
    assert!(
        matches!(
            outs[..],
            [Output::Joined {
                session: SESSION_ID,
                ..
            }]
        ),
        "{outs:?}"
    );
    assert_eq!(session.state(), State::Established);
    session
}

fn joined() -> Session<u32> {
    joined_with(&["call_canceling"], 1 << 20)
}

/// Calls `procedure` with one argument; returns what `Session::call` returns.
fn call(session: &mut Session<u32>, procedure: &str, ctx: u32) -> Option<u64> {
    session.call(
        procedure.into(),
        Dict::new(),
        args(vec![Value::Int(1)]),
        ctx,
    )
}

fn request_id(message: &Message) -> u64 {
    match message {
        Message::Call { request, .. }
        | Message::Register { request, .. }
        | Message::Unregister { request, .. }
        | Message::Subscribe { request, .. }
        | Message::Unsubscribe { request, .. }
        | Message::Publish { request, .. } => *request,
        other => panic!("not a request: {other:?}"),
    }
}

/// Asserts the session sent exactly one ABORT `wamp.error.protocol_violation` and closed
/// with `ProtocolViolation`, returning the violation text.
fn assert_protocol_violation(session: &mut Session<u32>) -> String {
    let frames = sent(session);
    assert!(
        matches!(&frames[..], [Message::Abort { reason, details, payload }]
            if reason == "wamp.error.protocol_violation"
                && details.get("message").and_then(Value::as_str).is_some()
                && payload.is_empty()),
        "{frames:?}"
    );
    let outs = outputs(session);
    let why = match outs.last() {
        Some(Output::Closed(CloseReason::ProtocolViolation(why))) => why.clone(),
        other => panic!("expected Closed(ProtocolViolation), got {other:?} in {outs:?}"),
    };
    let Message::Abort { details, .. } = &frames[0] else {
        unreachable!()
    };
    assert_eq!(details.get("message"), Some(&s(&why)));
    assert_eq!(session.state(), State::Closed);
    why
}

// ---------------------------------------------------------------------------
// Joining
// ---------------------------------------------------------------------------

#[test]
fn hello_is_the_first_frame_and_carries_roles_and_agent() {
    let mut session = new_session(vec![]);
    assert_eq!(session.state(), State::Joining);
    let frames = sent(&mut session);
    assert_eq!(frames.len(), 1, "{frames:?}");
    let Message::Hello { realm, details } = &frames[0] else {
        panic!("first frame is not HELLO: {frames:?}");
    };
    assert_eq!(realm, "realm1");
    assert_eq!(details.get("agent"), Some(&s(AGENT)));
    let roles = details
        .get("roles")
        .and_then(Value::as_dict)
        .expect("roles");
    for role in ["caller", "callee", "publisher", "subscriber"] {
        let features = roles
            .get(role)
            .and_then(Value::as_dict)
            .and_then(|r| r.get("features"))
            .and_then(Value::as_dict)
            .unwrap_or_else(|| panic!("role {role} without features: {roles:?}"));
        assert!(
            features.values().all(|v| *v == Value::Bool(true)),
            "{role}: {features:?}"
        );
    }
    let feature = |role: &str, name: &str| {
        roles[role].as_dict().unwrap()["features"]
            .as_dict()
            .unwrap()
            .contains_key(name)
    };
    assert!(feature("caller", "call_canceling"));
    assert!(feature("callee", "call_canceling"));
    assert!(feature("callee", "registration_revocation"));
    assert!(feature("subscriber", "subscription_revocation"));
    // Anonymous: no authmethods, so the router falls back to anonymous.
    assert!(!details.contains_key("authmethods"), "{details:?}");
    assert!(!details.contains_key("authid"), "{details:?}");
    assert!(outputs(&mut session).is_empty());
}

#[test]
fn hello_for_ticket_auth_offers_ticket_and_the_authid() {
    let mut session = new_session(vec![Arc::new(Ticket::new("joe", "s3cret"))]);
    let frames = sent(&mut session);
    let [Message::Hello { details, .. }] = &frames[..] else {
        panic!("{frames:?}");
    };
    assert_eq!(
        details.get("authmethods"),
        Some(&Value::List(vec![s("ticket")]))
    );
    assert_eq!(details.get("authid"), Some(&s("joe")));
    assert!(
        !format!("{details:?}").contains("s3cret"),
        "the ticket must not be in HELLO"
    );
}

/// The seed of the WAMP spec's first cryptosign test vector, and its public key.
const CS_SEED: &str = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";
const CS_PUBKEY: &str = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d";

#[test]
fn hello_merges_the_user_authextra_with_the_methods_own() {
    let key = Cryptosign::from_seed_hex(CS_SEED).unwrap();
    let mut config = config(
        vec![Arc::new(key), Arc::new(WampCra::new("peter", "secret1"))],
        1 << 20,
    );
    config.authextra = dict([("client", s("tests")), ("pubkey", s("overridden"))]);
    let mut session: Session<u32> = Session::new(config);
    let frames = sent(&mut session);
    let [Message::Hello { details, .. }] = &frames[..] else {
        panic!("{frames:?}");
    };
    assert_eq!(
        details.get("authmethods"),
        Some(&Value::List(vec![s("cryptosign"), s("wampcra")]))
    );
    // The cryptosign key has no authid; the next method's is sent.
    assert_eq!(details.get("authid"), Some(&s("peter")));
    assert_eq!(
        details.get("authextra"),
        Some(&Value::Dict(dict([
            ("client", s("tests")),
            ("pubkey", s(CS_PUBKEY))
        ])))
    );
    let shown = format!("{details:?} {frames:?}");
    assert!(
        !shown.contains(CS_SEED) && !shown.contains("secret1"),
        "{shown}"
    );

    // Anonymous login sends the user's authextra too.
    let mut config = self::config(vec![], 1 << 20);
    config.authextra = dict([("client", s("tests"))]);
    let mut session: Session<u32> = Session::new(config);
    let frames = sent(&mut session);
    let [Message::Hello { details, .. }] = &frames[..] else {
        panic!("{frames:?}");
    };
    assert_eq!(
        details.get("authextra"),
        Some(&Value::Dict(dict([("client", s("tests"))])))
    );
}

#[test]
fn wampcra_and_cryptosign_challenges_are_answered_with_their_signatures() {
    let key = Cryptosign::from_seed_hex(CS_SEED).unwrap();
    let mut session = new_session(vec![
        Arc::new(WampCra::new("peter", "L3L1YUE8Txlw")),
        Arc::new(key),
    ]);
    sent(&mut session);
    session.handle_message(Message::Challenge {
        method: "wampcra".into(),
        extra: dict([("challenge", s("[1, 2, 3]"))]),
    });
    assert_eq!(
        sent(&mut session),
        vec![Message::Authenticate {
            signature: "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0=".into(),
            extra: Dict::new(),
        }]
    );
    session.handle_message(Message::Challenge {
        method: "cryptosign".into(),
        extra: dict([
            ("challenge", s(&"ff".repeat(32))),
            ("channel_binding", Value::Null),
        ]),
    });
    let frames = sent(&mut session);
    let [Message::Authenticate { signature, .. }] = &frames[..] else {
        panic!("{frames:?}");
    };
    assert_eq!(signature.len(), 192);
    assert!(
        signature.starts_with("b32675b221f08593213737bef8240e7c"),
        "{signature}"
    );
    assert!(signature.ends_with(&"ff".repeat(32)), "{signature}");
    assert_eq!(session.state(), State::Joining);
}

#[test]
fn a_cryptosign_challenge_with_channel_binding_aborts_the_join() {
    let key = Cryptosign::from_seed_hex(CS_SEED).unwrap();
    let mut session = new_session(vec![Arc::new(key)]);
    sent(&mut session);
    session.handle_message(Message::Challenge {
        method: "cryptosign".into(),
        extra: dict([
            ("challenge", s(&"ff".repeat(32))),
            ("channel_binding", s("tls-unique")),
        ]),
    });
    let frames = sent(&mut session);
    let [Message::Abort { reason, .. }] = &frames[..] else {
        panic!("expected a client ABORT: {frames:?}");
    };
    assert_eq!(reason, "wamp.error.authentication_failed");
    match &outputs(&mut session)[..] {
        [Output::Closed(CloseReason::ClientAbort { reason, message })] => {
            assert_eq!(reason, "wamp.error.authentication_failed");
            assert!(
                message.contains("channel binding \"tls-unique\""),
                "{message}"
            );
            assert!(!message.contains(CS_SEED));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn challenge_for_ticket_is_answered_with_the_ticket_then_welcome_joins() {
    let mut session = new_session(vec![Arc::new(Ticket::new("joe", "s3cret"))]);
    sent(&mut session);
    session.handle_message(Message::Challenge {
        method: "ticket".into(),
        extra: Dict::new(),
    });
    assert_eq!(
        sent(&mut session),
        vec![Message::Authenticate {
            signature: "s3cret".into(),
            extra: Dict::new(),
        }]
    );
    assert!(outputs(&mut session).is_empty());
    assert_eq!(session.state(), State::Joining);

    session.handle_message(welcome(&[]));
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Joined {
            session: id,
            details,
        }] => {
            assert_eq!(*id, SESSION_ID);
            assert_eq!(details.get("authid"), Some(&s("joe")));
            assert_eq!(details.get("authrole"), Some(&s("user")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.session_id(), Some(SESSION_ID));
    assert_eq!(session.state(), State::Established);
    assert!(sent(&mut session).is_empty());
}

#[test]
fn every_challenge_round_is_answered_while_joining() {
    let mut session = new_session(vec![Arc::new(Ticket::new("joe", "s3cret"))]);
    sent(&mut session);
    for _ in 0..2 {
        session.handle_message(Message::Challenge {
            method: "ticket".into(),
            extra: Dict::new(),
        });
        assert!(matches!(
            &sent(&mut session)[..],
            [Message::Authenticate { signature, .. }] if signature == "s3cret"
        ));
    }
    assert_eq!(session.state(), State::Joining);
    assert!(outputs(&mut session).is_empty());
}

#[test]
fn challenge_for_a_method_not_offered_aborts_the_join() {
    let mut session = new_session(vec![Arc::new(Ticket::new("joe", "s3cret"))]);
    sent(&mut session);
    session.handle_message(Message::Challenge {
        method: "wampcra".into(),
        extra: dict([("challenge", s("{}"))]),
    });
    let frames = sent(&mut session);
    let [Message::Abort {
        details, reason, ..
    }] = &frames[..]
    else {
        panic!("expected a client ABORT: {frames:?}");
    };
    assert_eq!(reason, "wamp.error.authentication_failed");
    let text = details.get("message").and_then(Value::as_str).unwrap();
    assert!(text.contains("wampcra"), "{text}");
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Closed(CloseReason::ClientAbort { reason, message })] => {
            assert_eq!(reason, "wamp.error.authentication_failed");
            assert!(message.contains("\"wampcra\""), "{message:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn challenge_to_an_anonymous_session_aborts_the_join() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    session.handle_message(Message::Challenge {
        method: "ticket".into(),
        extra: Dict::new(),
    });
    assert!(matches!(
        &sent(&mut session)[..],
        [Message::Abort { reason, .. }] if reason == "wamp.error.authentication_failed"
    ));
    let outs = outputs(&mut session);
    assert!(
        matches!(
            &outs[..],
            [Output::Closed(CloseReason::ClientAbort { reason, .. })]
                if reason == "wamp.error.authentication_failed"
        ),
        "{outs:?}"
    );
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn router_abort_during_join_closes_with_its_reason_and_message_and_is_not_answered() {
    let mut session = new_session(vec![Arc::new(Ticket::new("joe", "bad"))]);
    sent(&mut session);
    session.handle_message(Message::Abort {
        details: dict([("message", s("wrong ticket"))]),
        reason: "wamp.error.not_authorized".into(),
        payload: Payload::default(),
    });
    assert!(sent(&mut session).is_empty(), "ABORT is never answered");
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Closed(CloseReason::Abort { reason, message })] => {
            assert_eq!(reason, "wamp.error.not_authorized");
            assert_eq!(message.as_deref(), Some("wrong ticket"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn router_abort_without_message_closes_with_no_message() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    session.handle_message(Message::Abort {
        details: Dict::new(),
        reason: "wamp.error.no_such_realm".into(),
        payload: Payload::default(),
    });
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Closed(CloseReason::Abort { reason, message: None })]
            if reason == "wamp.error.no_such_realm"
    ));
}

#[test]
fn welcome_records_the_routers_features() {
    let session = joined_with(&["call_canceling", "progressive_call_results"], 1 << 20);
    assert!(session.router_supports("dealer", "call_canceling"));
    assert!(session.router_supports("dealer", "progressive_call_results"));
    assert!(!session.router_supports("dealer", "call_timeout"));
    assert!(!session.router_supports("broker", "call_canceling"));
    assert_eq!(session.session_id(), Some(SESSION_ID));
}

#[test]
fn welcome_can_be_fed_as_an_encoded_frame() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    let frame = br#"[2,4711000123,{"roles":{"dealer":{"features":{"call_canceling":true}}}}]"#;
    session.handle_frame(frame);
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Joined {
            session: SESSION_ID,
            ..
        }]
    ));
    assert!(session.router_supports("dealer", "call_canceling"));
}

#[test]
fn requests_before_welcome_fail_at_once_and_send_nothing() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    assert_eq!(call(&mut session, "com.example.add", 1), None);
    assert_eq!(
        session.subscribe("com.example.t".into(), Dict::new(), 2),
        None
    );
    assert_eq!(
        completions(&mut session),
        vec![(1, Err(Error::NotJoined)), (2, Err(Error::NotJoined))]
    );
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
    assert_eq!(session.state(), State::Joining);
}

#[test]
fn hello_larger_than_the_message_limit_closes_the_session_at_once() {
    let mut session: Session<u32> = Session::new(config(vec![], 16));
    assert!(sent(&mut session).is_empty(), "nothing may be sent");
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Closed(CloseReason::ClientAbort { reason, message })] => {
            assert_eq!(reason, "wamp.error.invalid_argument");
            assert!(message.contains("HELLO"), "{message:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(session.state(), State::Closed);
}

// ---------------------------------------------------------------------------
// Request IDs
// ---------------------------------------------------------------------------

#[test]
fn request_ids_are_sequential_from_one_across_request_kinds() {
    let mut session = joined();
    let returned = vec![
        call(&mut session, "com.example.add", 1),
        session.register("com.example.add".into(), Dict::new(), 2),
        session.subscribe("com.example.topic".into(), Dict::new(), 3),
        session.publish(
            "com.example.topic".into(),
            Dict::new(),
            Payload::default(),
            4,
        ),
        session.publish(
            "com.example.topic".into(),
            dict([("acknowledge", Value::Bool(true))]),
            Payload::default(),
            5,
        ),
        session.unsubscribe(77, 6),
        session.unregister(88, 7),
        call(&mut session, "com.example.other", 8),
    ];
    // Each request that waits for an answer returns its ID; the unacknowledged
    // publish (ID 4) is finished at once and returns None.
    assert_eq!(
        returned,
        vec![
            Some(1),
            Some(2),
            Some(3),
            None,
            Some(5),
            Some(6),
            Some(7),
            Some(8)
        ]
    );
    let frames = sent(&mut session);
    let ids: Vec<u64> = frames.iter().map(request_id).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<u64>>(), "{frames:?}");
    let codes: Vec<u64> = frames.iter().map(Message::code).collect();
    assert_eq!(
        codes,
        vec![
            code::CALL,
            code::REGISTER,
            code::SUBSCRIBE,
            code::PUBLISH,
            code::PUBLISH,
            code::UNSUBSCRIBE,
            code::UNREGISTER,
            code::CALL
        ]
    );
    // Only the unacknowledged publish completed; the other seven wait.
    assert!(matches!(
        &completions(&mut session)[..],
        [(4, Ok(Reply::Published(0)))]
    ));
    assert_eq!(session.pending_requests(), 7);
}

#[test]
fn call_sends_procedure_options_and_payload() {
    let mut session = joined();
    let payload = Payload::new(
        vec![Value::Int(2), Value::bytes([1, 2, 3])],
        dict([("x", s("y"))]),
    );
    let request = session.call(
        "com.example.add".into(),
        dict([("disclose_me", Value::Bool(true))]),
        payload.clone(),
        1,
    );
    assert_eq!(request, Some(1));
    assert_eq!(
        sent(&mut session),
        vec![Message::Call {
            request: 1,
            options: dict([("disclose_me", Value::Bool(true))]),
            procedure: "com.example.add".into(),
            payload,
        }]
    );
}

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

#[test]
fn result_completes_the_call_with_args_kwargs_and_details() {
    let mut session = joined();
    call(&mut session, "com.example.add", 7);
    sent(&mut session);
    let payload = Payload::new(vec![Value::Int(3), s("x")], dict([("sum", Value::Int(3))]));
    let details = dict([("callee", Value::Int(99))]);
    session.handle_message(Message::Result {
        request: 1,
        details: details.clone(),
        payload: payload.clone(),
    });
    let (ctx, result) = one_completion(&mut session);
    assert_eq!(ctx, 7);
    assert_eq!(result, Ok(Reply::Result { details, payload }));
    assert_eq!(session.pending_requests(), 0);
    assert!(sent(&mut session).is_empty());
}

#[test]
fn error_completes_the_call_with_a_wamp_error_keeping_uri_args_and_kwargs() {
    let mut session = joined();
    call(&mut session, "com.example.div", 3);
    sent(&mut session);
    session.handle_message(Message::Error {
        request_type: code::CALL,
        request: 1,
        details: Dict::new(),
        error: "com.example.error.div_by_zero".into(),
        payload: Payload::new(
            vec![s("cannot divide by zero")],
            dict([("code", Value::Int(7))]),
        ),
    });
    let (ctx, result) = one_completion(&mut session);
    assert_eq!(ctx, 3);
    assert_eq!(
        result,
        Err(Error::Wamp(
            WampError::new("com.example.error.div_by_zero")
                .with_args(vec![s("cannot divide by zero")])
                .with_kwargs(dict([("code", Value::Int(7))]))
        ))
    );
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn progressive_result_does_not_complete_the_call_but_the_final_result_does() {
    let mut session = joined();
    call(&mut session, "com.example.count", 1);
    sent(&mut session);
    session.handle_message(Message::Result {
        request: 1,
        details: dict([("progress", Value::Bool(true))]),
        payload: args(vec![Value::Int(1)]),
    });
    assert!(outputs(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 1);
    assert_eq!(session.state(), State::Established);
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: args(vec![Value::Int(2)]),
    });
    let (_, result) = one_completion(&mut session);
    assert_eq!(
        result,
        Ok(Reply::Result {
            details: Dict::new(),
            payload: args(vec![Value::Int(2)])
        })
    );
}

#[test]
fn result_with_progress_false_completes_the_call() {
    let mut session = joined();
    call(&mut session, "com.example.count", 1);
    session.handle_message(Message::Result {
        request: 1,
        details: dict([("progress", Value::Bool(false))]),
        payload: Payload::default(),
    });
    assert!(matches!(
        one_completion(&mut session),
        (1, Ok(Reply::Result { .. }))
    ));
}

#[test]
fn result_for_an_unknown_request_is_ignored() {
    let mut session = joined();
    session.handle_message(Message::Result {
        request: 42,
        details: Dict::new(),
        payload: Payload::default(),
    });
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.state(), State::Established);
}

// ---------------------------------------------------------------------------
// Abandoning requests (the layer above owns the deadlines)
// ---------------------------------------------------------------------------

#[test]
fn abandoned_call_returns_its_ctx_and_cancels_when_the_dealer_supports_it() {
    let mut session = joined_with(&["call_canceling"], 1 << 20);
    let request = call(&mut session, "com.example.slow", 9);
    assert_eq!(request, Some(1));
    sent(&mut session);
    assert!(outputs(&mut session).is_empty());

    assert_eq!(session.abandon(1, CancelMode::KillNoWait), Some(9));
    assert!(
        outputs(&mut session).is_empty(),
        "the caller builds its own error: nothing is completed"
    );
    assert_eq!(
        sent(&mut session),
        vec![Message::Cancel {
            request: 1,
            options: dict([("mode", s("killnowait"))]),
        }]
    );
    assert_eq!(session.pending_requests(), 0);

    // It is no longer pending: a second abandon gets nothing and sends nothing.
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), None);
    assert!(sent(&mut session).is_empty());
    assert!(outputs(&mut session).is_empty());
}

#[test]
fn abandoned_call_sends_no_cancel_when_the_dealer_lacks_call_canceling() {
    let mut session = joined_with(&["progressive_call_results"], 1 << 20);
    assert_eq!(call(&mut session, "com.example.slow", 9), Some(1));
    sent(&mut session);
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), Some(9));
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn late_result_and_cancel_error_for_an_abandoned_call_are_ignored() {
    let mut session = joined();
    assert_eq!(call(&mut session, "com.example.slow", 6), Some(1));
    sent(&mut session);
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), Some(6));
    assert!(outputs(&mut session).is_empty());
    assert!(matches!(
        &sent(&mut session)[..],
        [Message::Cancel { request: 1, .. }]
    ));
    session.handle_message(Message::Error {
        request_type: code::CALL,
        request: 1,
        details: Dict::new(),
        error: "wamp.error.canceled".into(),
        payload: Payload::default(),
    });
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: args(vec![Value::Int(5)]),
    });
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
    assert_eq!(session.state(), State::Established);
}

/// The deadline heap moved out of the session (the layer above decides when a
/// request is overdue), so what is left of "timeouts fire in deadline order and only
/// when due" is that abandoning one of several pending calls touches that one only:
/// the others stay pending and are completed by their answers.
#[test]
fn abandoning_one_call_leaves_the_others_pending_and_answerable() {
    let mut session = joined();
    let requests: Vec<Option<u64>> = ["com.example.a", "com.example.b", "com.example.c"]
        .into_iter()
        .zip([10, 20, 30])
        .map(|(procedure, ctx)| {
            session.call(procedure.into(), Dict::new(), Payload::default(), ctx)
        })
        .collect();
    assert_eq!(requests, vec![Some(1), Some(2), Some(3)]);
    sent(&mut session);

    assert_eq!(session.abandon(2, CancelMode::KillNoWait), Some(20));
    assert!(outputs(&mut session).is_empty());
    assert_eq!(
        sent(&mut session),
        vec![Message::Cancel {
            request: 2,
            options: dict([("mode", s("killnowait"))]),
        }],
        "only the abandoned call is canceled"
    );
    assert_eq!(session.pending_requests(), 2, "the other calls wait");

    // The late answer to the abandoned call is ignored; the others are answered.
    session.handle_message(Message::Result {
        request: 2,
        details: Dict::new(),
        payload: args(vec![s("late")]),
    });
    assert!(outputs(&mut session).is_empty());
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: args(vec![s("a")]),
    });
    assert_eq!(
        one_completion(&mut session),
        (
            10,
            Ok(Reply::Result {
                details: Dict::new(),
                payload: args(vec![s("a")]),
            })
        )
    );
    assert_eq!(session.pending_requests(), 1, "the third call still waits");
    session.handle_message(Message::Error {
        request_type: code::CALL,
        request: 3,
        details: Dict::new(),
        error: "com.example.error.c".into(),
        payload: Payload::default(),
    });
    assert_eq!(
        one_completion(&mut session),
        (30, Err(Error::Wamp(WampError::new("com.example.error.c"))))
    );
    assert_eq!(session.pending_requests(), 0);
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.state(), State::Established);
}

#[test]
fn answered_call_cannot_be_abandoned() {
    let mut session = joined();
    assert_eq!(call(&mut session, "com.example.add", 1), Some(1));
    sent(&mut session);
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: Payload::default(),
    });
    assert!(matches!(
        one_completion(&mut session),
        (1, Ok(Reply::Result { .. }))
    ));
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), None);
    // Nor can a request that was never made.
    assert_eq!(session.abandon(42, CancelMode::KillNoWait), None);
    assert!(outputs(&mut session).is_empty());
    assert!(
        sent(&mut session).is_empty(),
        "no CANCEL for an answered call"
    );
}

#[test]
fn abandoned_register_is_unregistered_when_registered_arrives_late() {
    let mut session = joined();
    assert_eq!(
        session.register("com.example.proc".into(), Dict::new(), 4),
        Some(1)
    );
    sent(&mut session);
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), Some(4));
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty(), "nothing to cancel yet");
    assert_eq!(
        session.abandon(1, CancelMode::KillNoWait),
        None,
        "the ctx was already given back"
    );
    session.handle_message(Message::Registered {
        request: 1,
        registration: 555,
    });
    assert!(
        outputs(&mut session).is_empty(),
        "nobody waits for it any more"
    );
    assert_eq!(
        sent(&mut session),
        vec![Message::Unregister {
            request: 2,
            registration: 555,
        }]
    );
    session.handle_message(Message::Unregistered { request: 2 });
    assert!(outputs(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
    assert_eq!(session.state(), State::Established);
    // The undo used ID 2, so the next request gets 3.
    assert_eq!(call(&mut session, "com.example.x", 5), Some(3));
    assert_eq!(request_id(&sent(&mut session)[0]), 3);
}

#[test]
fn abandoned_subscribe_is_unsubscribed_when_subscribed_arrives_late() {
    let mut session = joined();
    assert_eq!(
        session.subscribe("com.example.t".into(), Dict::new(), 4),
        Some(1)
    );
    sent(&mut session);
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), Some(4));
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty(), "nothing to cancel yet");
    session.handle_message(Message::Subscribed {
        request: 1,
        subscription: 777,
    });
    assert!(
        outputs(&mut session).is_empty(),
        "nobody waits for it any more"
    );
    assert_eq!(
        sent(&mut session),
        vec![Message::Unsubscribe {
            request: 2,
            subscription: 777,
        }]
    );
    session.handle_message(Message::Unsubscribed { request: 2 });
    assert!(outputs(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
    assert_eq!(session.state(), State::Established);
    // The undo used ID 2, so the next request gets 3.
    assert_eq!(call(&mut session, "com.example.x", 5), Some(3));
    assert_eq!(request_id(&sent(&mut session)[0]), 3);
}

#[test]
fn unregister_unsubscribe_and_acknowledged_publish_are_abandoned_without_a_message() {
    let mut session = joined();
    assert_eq!(session.unregister(10, 11), Some(1));
    assert_eq!(session.unsubscribe(20, 12), Some(2));
    assert_eq!(
        session.publish(
            "com.example.t".into(),
            dict([("acknowledge", Value::Bool(true))]),
            Payload::default(),
            13,
        ),
        Some(3)
    );
    sent(&mut session);
    assert_eq!(
        [1, 2, 3].map(|request| session.abandon(request, CancelMode::KillNoWait)),
        [Some(11), Some(12), Some(13)]
    );
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty(), "only calls are canceled");
    assert_eq!(session.pending_requests(), 0);
    // Their late answers are ignored.
    session.handle_message(Message::Unregistered { request: 1 });
    session.handle_message(Message::Unsubscribed { request: 2 });
    session.handle_message(Message::Published {
        request: 3,
        publication: 99,
    });
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.state(), State::Established);
}

#[test]
fn register_that_was_abandoned_and_then_failed_is_forgotten() {
    let mut session = joined();
    assert_eq!(
        session.register("com.example.proc".into(), Dict::new(), 4),
        Some(1)
    );
    sent(&mut session);
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), Some(4));
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
    session.handle_message(Message::Error {
        request_type: code::REGISTER,
        request: 1,
        details: Dict::new(),
        error: "wamp.error.procedure_already_exists".into(),
        payload: Payload::default(),
    });
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
    assert_eq!(session.state(), State::Established);
}

// ---------------------------------------------------------------------------
// URIs and options refused before sending
// ---------------------------------------------------------------------------

#[test]
fn invalid_uris_complete_with_an_error_and_send_nothing() {
    let mut session = joined();
    let returned = [
        call(&mut session, "com.example. add", 1),
        call(&mut session, "com..add", 2),
        call(&mut session, "", 3),
        session.register("com.exa#mple".into(), Dict::new(), 4),
        session.register("com..add".into(), Dict::new(), 5),
        session.subscribe("com.example.\ttopic".into(), Dict::new(), 6),
        session.publish(
            "com.example.topic.".into(),
            Dict::new(),
            Payload::default(),
            7,
        ),
    ];
    assert_eq!(returned, [None; 7], "every request finished at once");
    assert!(sent(&mut session).is_empty(), "nothing may be sent");
    let done = completions(&mut session);
    let ctxs: Vec<u32> = done.iter().map(|(ctx, _)| *ctx).collect();
    assert_eq!(ctxs, vec![1, 2, 3, 4, 5, 6, 7]);
    let reasons = [
        "whitespace",
        "empty component",
        "empty",
        "'#'",
        "empty component",
        "whitespace",
        "empty component",
    ];
    for ((ctx, result), reason) in done.into_iter().zip(reasons) {
        match result {
            Err(Error::InvalidUri(e)) => {
                assert!(e.reason.contains(reason), "{ctx}: {e}");
                assert!(e.to_string().starts_with("invalid URI"), "{ctx}: {e}");
            }
            other => panic!("{ctx}: expected InvalidUri, got {other:?}"),
        }
    }
    assert_eq!(session.pending_requests(), 0);
    // No ID was used up.
    assert_eq!(call(&mut session, "com.example.ok", 8), Some(1));
    assert_eq!(request_id(&sent(&mut session)[0]), 1);
}

#[test]
fn bad_match_option_completes_with_an_invalid_option_error_and_sends_nothing() {
    let mut session = joined();
    let registered = session.register("com.example".into(), dict([("match", s("regex"))]), 1);
    let subscribed = session.subscribe("com.example".into(), dict([("match", Value::Int(1))]), 2);
    assert_eq!((registered, subscribed), (None, None));
    assert!(sent(&mut session).is_empty());
    let invalid_match = |found: &str| {
        Err(Error::InvalidOption {
            option: "match".into(),
            expected: "\"exact\", \"prefix\" or \"wildcard\"".into(),
            found: found.into(),
        })
    };
    let done = completions(&mut session);
    assert_eq!(
        done,
        vec![(1, invalid_match("\"regex\"")), (2, invalid_match("1"))]
    );
    for (ctx, result) in done {
        let text = result.unwrap_err().to_string();
        assert!(text.contains("option match"), "{ctx}: {text}");
    }
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn pattern_uris_are_accepted_with_the_matching_policy() {
    let mut session = joined();
    let registered = session.register("com..add".into(), dict([("match", s("wildcard"))]), 1);
    let subscribed = session.subscribe("com.example.".into(), dict([("match", s("prefix"))]), 2);
    assert_eq!((registered, subscribed), (Some(1), Some(2)));
    let frames = sent(&mut session);
    assert!(matches!(
        &frames[..],
        [Message::Register { procedure, .. }, Message::Subscribe { topic, .. }]
            if procedure == "com..add" && topic == "com.example."
    ));
    assert!(outputs(&mut session).is_empty());
}

#[test]
fn wamp_namespace_is_refused_for_register_and_publish() {
    let mut session = joined();
    let registered = session.register("wamp.my.proc".into(), Dict::new(), 1);
    let published = session.publish("wamp.my.topic".into(), Dict::new(), Payload::default(), 2);
    assert_eq!((registered, published), (None, None));
    assert!(sent(&mut session).is_empty());
    let done = completions(&mut session);
    let ctxs: Vec<u32> = done.iter().map(|(ctx, _)| *ctx).collect();
    assert_eq!(ctxs, vec![1, 2]);
    for (ctx, result) in done {
        assert!(
            matches!(&result, Err(Error::InvalidUri(e)) if e.reason.contains("reserved")),
            "{ctx}: {result:?}"
        );
    }
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn wamp_namespace_is_allowed_for_call_and_subscribe() {
    let mut session = joined();
    assert_eq!(call(&mut session, "wamp.session.count", 1), Some(1));
    assert_eq!(
        session.subscribe("wamp.session.on_join".into(), Dict::new(), 2),
        Some(2)
    );
    let frames = sent(&mut session);
    assert!(matches!(
        &frames[..],
        [Message::Call { procedure, .. }, Message::Subscribe { topic, .. }]
            if procedure == "wamp.session.count" && topic == "wamp.session.on_join"
    ));
    assert!(outputs(&mut session).is_empty());
}

// ---------------------------------------------------------------------------
// Publish
// ---------------------------------------------------------------------------

#[test]
fn unacknowledged_publish_completes_at_once_with_publication_zero() {
    let mut session = joined();
    let request = session.publish(
        "com.example.topic".into(),
        Dict::new(),
        args(vec![s("hi")]),
        5,
    );
    assert_eq!(request, None, "nothing waits for an answer");
    assert_eq!(
        sent(&mut session),
        vec![Message::Publish {
            request: 1,
            options: Dict::new(),
            topic: "com.example.topic".into(),
            payload: args(vec![s("hi")]),
        }]
    );
    assert_eq!(one_completion(&mut session), (5, Ok(Reply::Published(0))));
    assert_eq!(session.pending_requests(), 0);
    // Nothing is left to abandon.
    assert_eq!(session.abandon(1, CancelMode::KillNoWait), None);
    assert!(outputs(&mut session).is_empty());
    assert!(sent(&mut session).is_empty());
}

#[test]
fn acknowledged_publish_waits_for_published() {
    let mut session = joined();
    let options = dict([("acknowledge", Value::Bool(true))]);
    let request = session.publish(
        "com.example.topic".into(),
        options.clone(),
        Payload::default(),
        5,
    );
    assert_eq!(request, Some(1));
    assert_eq!(
        sent(&mut session),
        vec![Message::Publish {
            request: 1,
            options,
            topic: "com.example.topic".into(),
            payload: Payload::default(),
        }]
    );
    assert!(outputs(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 1);
    session.handle_message(Message::Published {
        request: 1,
        publication: 123_456,
    });
    assert_eq!(
        one_completion(&mut session),
        (5, Ok(Reply::Published(123_456)))
    );
}

#[test]
fn acknowledged_publish_error_completes_with_the_wamp_error() {
    let mut session = joined();
    let request = session.publish(
        "com.example.topic".into(),
        dict([("acknowledge", Value::Bool(true))]),
        Payload::default(),
        5,
    );
    assert_eq!(request, Some(1));
    session.handle_message(Message::Error {
        request_type: code::PUBLISH,
        request: 1,
        details: Dict::new(),
        error: "wamp.error.not_authorized".into(),
        payload: Payload::default(),
    });
    let (ctx, result) = one_completion(&mut session);
    assert_eq!(ctx, 5);
    match result {
        Err(Error::Wamp(e)) => assert_eq!(e.uri, "wamp.error.not_authorized"),
        other => panic!("expected a WAMP error, got {other:?}"),
    }
    assert_eq!(session.pending_requests(), 0);
}

// ---------------------------------------------------------------------------
// Register, subscribe, unregister, unsubscribe replies
// ---------------------------------------------------------------------------

#[test]
fn registered_subscribed_unregistered_and_unsubscribed_complete_their_requests() {
    let mut session = joined();
    let requests = [
        session.register("com.example.p".into(), Dict::new(), 1),
        session.subscribe("com.example.t".into(), Dict::new(), 2),
        session.unregister(10, 3),
        session.unsubscribe(20, 4),
    ];
    assert_eq!(requests, [Some(1), Some(2), Some(3), Some(4)]);
    sent(&mut session);
    session.handle_message(Message::Unsubscribed { request: 4 });
    session.handle_message(Message::Registered {
        request: 1,
        registration: 10,
    });
    session.handle_message(Message::Unregistered { request: 3 });
    session.handle_message(Message::Subscribed {
        request: 2,
        subscription: 20,
    });
    assert_eq!(
        completions(&mut session),
        vec![
            (4, Ok(Reply::Unsubscribed)),
            (1, Ok(Reply::Registered(10))),
            (3, Ok(Reply::Unregistered)),
            (2, Ok(Reply::Subscribed(20))),
        ]
    );
    assert_eq!(session.pending_requests(), 0);
}

// ---------------------------------------------------------------------------
// Message size limit
// ---------------------------------------------------------------------------

#[test]
fn payload_over_the_message_limit_fails_naming_size_and_limit_without_using_an_id() {
    // HELLO (about 500 bytes) must still fit.
    let limit = 1000;
    let mut session = joined_with(&["call_canceling"], limit);
    let request = session.call(
        "com.example.big".into(),
        Dict::new(),
        args(vec![s(&"x".repeat(1200))]),
        1,
    );
    assert_eq!(request, None, "refused before sending");
    assert!(sent(&mut session).is_empty(), "nothing may be sent");
    let (ctx, result) = one_completion(&mut session);
    assert_eq!(ctx, 1);
    let size = match result {
        Err(Error::PayloadTooLarge { size, limit: l }) => {
            assert_eq!(l, limit);
            assert!(size > limit, "{size}");
            size
        }
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    };
    // The CALL frame would be `[48,1,{},"com.example.big",["xxx..."]]`.
    assert_eq!(size, r#"[48,1,{},"com.example.big",[""]]"#.len() + 1200);
    let text = Error::PayloadTooLarge { size, limit }.to_string();
    assert!(
        text.contains(&size.to_string()) && text.contains("1000"),
        "{text}"
    );
    assert_eq!(session.pending_requests(), 0);

    // The failed request did not use up ID 1.
    assert_eq!(call(&mut session, "com.example.small", 2), Some(1));
    let frames = sent(&mut session);
    assert_eq!(request_id(&frames[0]), 1, "{frames:?}");
}

#[test]
fn acknowledged_publish_over_the_limit_fails_with_payload_too_large() {
    let mut session = joined_with(&[], 1000);
    let request = session.publish(
        "com.example.t".into(),
        dict([("acknowledge", Value::Bool(true))]),
        args(vec![s(&"x".repeat(1200))]),
        1,
    );
    assert_eq!(request, None);
    assert!(sent(&mut session).is_empty());
    assert!(matches!(
        one_completion(&mut session),
        (1, Err(Error::PayloadTooLarge { limit: 1000, .. }))
    ));
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn unacknowledged_publish_over_the_limit_fails_and_sends_nothing() {
    let mut session = joined_with(&[], 1000);
    let request = session.publish(
        "com.example.t".into(),
        Dict::new(),
        args(vec![s(&"x".repeat(1200))]),
        1,
    );
    assert_eq!(request, None);
    assert!(sent(&mut session).is_empty());
    let (ctx, result) = one_completion(&mut session);
    assert_eq!(ctx, 1);
    assert!(
        matches!(result, Err(Error::PayloadTooLarge { limit: 1000, .. })),
        "{result:?}"
    );
    // And the ID was not used up.
    assert_eq!(call(&mut session, "com.example.x", 2), Some(1));
    assert_eq!(request_id(&sent(&mut session)[0]), 1);
}

#[test]
fn unencodable_call_payload_fails_with_a_codec_error_and_sends_nothing() {
    let mut session = joined();
    let request = session.call(
        "com.example.nan".into(),
        Dict::new(),
        args(vec![Value::Float(f64::NAN)]),
        1,
    );
    assert_eq!(request, None);
    assert!(sent(&mut session).is_empty());
    let (ctx, result) = one_completion(&mut session);
    assert_eq!(ctx, 1);
    assert!(
        matches!(
            &result,
            Err(Error::Codec(CodecError::Unencodable {
                serializer: Serializer::Json,
                detail,
            })) if detail.contains("NaN")
        ),
        "{result:?}"
    );
    assert_eq!(session.pending_requests(), 0);
    assert_eq!(call(&mut session, "com.example.x", 2), Some(1));
    assert_eq!(request_id(&sent(&mut session)[0]), 1);
}

// ---------------------------------------------------------------------------
// Callee side: INVOCATION, YIELD, INTERRUPT
// ---------------------------------------------------------------------------

fn invocation(request: u64) -> Message {
    Message::Invocation {
        request,
        registration: 10,
        details: dict([("caller", Value::Int(5))]),
        payload: Payload::new(vec![Value::Int(1), Value::Int(2)], dict([("k", s("v"))])),
    }
}

#[test]
fn invocation_is_output_and_yield_result_sends_yield() {
    let mut session = joined();
    session.handle_message(invocation(31));
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Invocation {
            request,
            registration,
            details,
            payload,
        }] => {
            assert_eq!((*request, *registration), (31, 10));
            assert_eq!(details, &dict([("caller", Value::Int(5))]));
            assert_eq!(
                payload,
                &Payload::new(vec![Value::Int(1), Value::Int(2)], dict([("k", s("v"))]))
            );
        }
        other => panic!("{other:?}"),
    }
    session.yield_result(31, args(vec![Value::Int(3)]), Dict::new());
    assert_eq!(
        sent(&mut session),
        vec![Message::Yield {
            request: 31,
            options: Dict::new(),
            payload: args(vec![Value::Int(3)]),
        }]
    );
    // A second answer to the same invocation is dropped.
    session.yield_result(31, args(vec![Value::Int(4)]), Dict::new());
    assert!(sent(&mut session).is_empty());
}

#[test]
fn yield_error_sends_error_for_the_invocation() {
    let mut session = joined();
    session.handle_message(invocation(32));
    outputs(&mut session);
    session.yield_error(
        32,
        WampError::new("com.example.error.bad").with_args(vec![s("no")]),
    );
    assert_eq!(
        sent(&mut session),
        vec![Message::Error {
            request_type: code::INVOCATION,
            request: 32,
            details: Dict::new(),
            error: "com.example.error.bad".into(),
            payload: args(vec![s("no")]),
        }]
    );
}

#[test]
fn yield_for_an_unknown_invocation_sends_nothing() {
    let mut session = joined();
    session.yield_result(99, Payload::default(), Dict::new());
    session.yield_error(98, WampError::new("com.example.error"));
    assert!(sent(&mut session).is_empty());
    assert!(outputs(&mut session).is_empty());
}

#[test]
fn interrupt_with_mode_kill_sends_canceled_and_drops_the_later_yield() {
    let mut session = joined();
    session.handle_message(invocation(33));
    outputs(&mut session);
    session.handle_message(Message::Interrupt {
        request: 33,
        options: dict([("mode", s("kill"))]),
    });
    assert_eq!(
        sent(&mut session),
        vec![Message::Error {
            request_type: code::INVOCATION,
            request: 33,
            details: Dict::new(),
            error: "wamp.error.canceled".into(),
            payload: Payload::default(),
        }]
    );
    // The handler is told.
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Interrupt {
            request: 33,
            mode: CancelMode::Kill
        }]
    ));
    session.yield_result(33, args(vec![Value::Int(1)]), Dict::new());
    session.yield_error(33, WampError::new("com.example.error"));
    assert!(sent(&mut session).is_empty());
    assert!(outputs(&mut session).is_empty());
}

#[test]
fn interrupt_with_mode_killnowait_sends_nothing_and_drops_the_later_yield() {
    let mut session = joined();
    session.handle_message(invocation(34));
    outputs(&mut session);
    session.handle_message(Message::Interrupt {
        request: 34,
        options: dict([("mode", s("killnowait"))]),
    });
    assert!(sent(&mut session).is_empty());
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Interrupt {
            request: 34,
            mode: CancelMode::KillNoWait
        }]
    ));
    session.yield_result(34, Payload::default(), Dict::new());
    assert!(sent(&mut session).is_empty());
}

#[test]
fn interrupt_without_mode_is_treated_as_kill() {
    let mut session = joined();
    session.handle_message(invocation(37));
    outputs(&mut session);
    session.handle_message(Message::Interrupt {
        request: 37,
        options: Dict::new(),
    });
    assert!(matches!(
        &sent(&mut session)[..],
        [Message::Error { request: 37, error, .. }] if error == "wamp.error.canceled"
    ));
}

#[test]
fn interrupt_for_an_unknown_invocation_is_ignored() {
    let mut session = joined();
    session.handle_message(Message::Interrupt {
        request: 12345,
        options: dict([("mode", s("kill"))]),
    });
    assert!(sent(&mut session).is_empty());
    assert!(outputs(&mut session).is_empty());
    assert_eq!(session.state(), State::Established);
}

#[test]
fn interrupt_for_an_answered_invocation_sends_nothing() {
    let mut session = joined();
    session.handle_message(invocation(35));
    outputs(&mut session);
    session.yield_result(35, Payload::default(), Dict::new());
    sent(&mut session);
    session.handle_message(Message::Interrupt {
        request: 35,
        options: dict([("mode", s("kill"))]),
    });
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.state(), State::Established);
}

#[test]
fn yield_result_over_the_limit_sends_payload_size_exceeded_instead() {
    let mut session = joined_with(&[], 1000);
    session.handle_message(invocation(36));
    outputs(&mut session);
    session.yield_result(36, args(vec![s(&"x".repeat(1200))]), Dict::new());
    let frames = sent(&mut session);
    match &frames[..] {
        [Message::Error {
            request_type,
            request,
            error,
            payload,
            ..
        }] => {
            assert_eq!((*request_type, *request), (code::INVOCATION, 36));
            assert_eq!(error, "wamp.error.payload_size_exceeded");
            let text = payload.args[0].as_str().unwrap();
            assert!(text.contains("1000"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Events and revocations
// ---------------------------------------------------------------------------

#[test]
fn event_is_output_with_ids_details_and_payload() {
    let mut session = joined();
    let payload = Payload::new(vec![s("hello")], dict([("n", Value::Int(1))]));
    session.handle_message(Message::Event {
        subscription: 20,
        publication: 9_000_000,
        details: dict([("publisher", Value::Int(7))]),
        payload: payload.clone(),
    });
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Event {
            subscription,
            publication,
            details,
            payload: got,
        }] => {
            assert_eq!((*subscription, *publication), (20, 9_000_000));
            assert_eq!(details, &dict([("publisher", Value::Int(7))]));
            assert_eq!(got, &payload);
        }
        other => panic!("{other:?}"),
    }
    assert!(sent(&mut session).is_empty());
}

#[test]
fn event_frame_is_decoded_and_output() {
    let mut session = joined();
    session.handle_frame(br#"[36,20,21,{},["\u0000AQI="]]"#);
    let outs = outputs(&mut session);
    assert!(
        matches!(&outs[..], [Output::Event { subscription: 20, publication: 21, payload, .. }]
            if payload.args == vec![Value::bytes([1, 2])]),
        "{outs:?}"
    );
}

#[test]
fn subscription_revocation_is_output_with_reason() {
    let mut session = joined();
    session.handle_frame(br#"[35,0,{"subscription":20,"reason":"wamp.error.revoked"}]"#);
    let outs = outputs(&mut session);
    assert!(
        matches!(&outs[..], [Output::SubscriptionRevoked { subscription: 20, reason: Some(r) }]
            if r == "wamp.error.revoked"),
        "{outs:?}"
    );
    assert!(sent(&mut session).is_empty());
}

#[test]
fn registration_revocation_is_output_without_reason() {
    let mut session = joined();
    session.handle_message(Message::RegistrationRevoked {
        details: dict([("registration", Value::Int(10))]),
    });
    let outs = outputs(&mut session);
    assert!(
        matches!(
            &outs[..],
            [Output::RegistrationRevoked {
                registration: 10,
                reason: None
            }]
        ),
        "{outs:?}"
    );
}

// ---------------------------------------------------------------------------
// Ending the session
// ---------------------------------------------------------------------------

#[test]
fn router_goodbye_is_answered_and_fails_pending_requests() {
    let mut session = joined();
    assert_eq!(call(&mut session, "com.example.a", 1), Some(1));
    assert_eq!(
        session.subscribe("com.example.t".into(), Dict::new(), 2),
        Some(2)
    );
    sent(&mut session);
    session.handle_message(Message::Goodbye {
        details: dict([("message", s("bye"))]),
        reason: "com.example.kicked".into(),
    });
    assert_eq!(
        sent(&mut session),
        vec![Message::Goodbye {
            details: Dict::new(),
            reason: "wamp.close.goodbye_and_out".into(),
        }]
    );
    let mut outs = outputs(&mut session);
    let closed = outs.pop();
    assert!(
        matches!(&closed, Some(Output::Closed(CloseReason::RouterGoodbye { reason, message }))
            if reason == "com.example.kicked" && message.as_deref() == Some("bye")),
        "{closed:?}"
    );
    let ended = || {
        Err(Error::SessionEnded(CloseReason::RouterGoodbye {
            reason: "com.example.kicked".into(),
            message: Some("bye".into()),
        }))
    };
    let done: Vec<(u32, Result<Reply, Error>)> = outs
        .into_iter()
        .map(|o| match o {
            Output::Completed { ctx, result } => (ctx, result),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(done, vec![(1, ended()), (2, ended())]);
    let text = ended().unwrap_err().to_string();
    assert!(
        text.contains("com.example.kicked") && text.contains("bye"),
        "{text}"
    );
    assert_eq!(session.state(), State::Closed);
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn client_goodbye_fails_pending_with_session_ended_and_closes_on_the_routers_goodbye() {
    let mut session = joined();
    assert_eq!(call(&mut session, "com.example.a", 1), Some(1));
    assert_eq!(
        session.register("com.example.p".into(), Dict::new(), 2),
        Some(2)
    );
    sent(&mut session);
    session.goodbye("wamp.close.close_realm");
    assert_eq!(
        sent(&mut session),
        vec![Message::Goodbye {
            details: Dict::new(),
            reason: "wamp.close.close_realm".into(),
        }]
    );
    let said_goodbye = || Err(Error::SessionEnded(CloseReason::ClientGoodbye));
    assert_eq!(
        completions(&mut session),
        vec![(1, said_goodbye()), (2, said_goodbye())]
    );
    assert_eq!(session.state(), State::Closing);
    assert_eq!(session.pending_requests(), 0);

    // Late replies while closing are ignored; requests fail with SessionEnded.
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: Payload::default(),
    });
    assert_eq!(call(&mut session, "com.example.b", 3), None);
    assert_eq!(completions(&mut session), vec![(3, said_goodbye())]);
    assert!(sent(&mut session).is_empty());

    // Crossbar answers with wamp.close.normal: any reason ends the handshake.
    session.handle_message(Message::Goodbye {
        details: Dict::new(),
        reason: "wamp.close.normal".into(),
    });
    assert!(
        sent(&mut session).is_empty(),
        "a GOODBYE reply is not answered"
    );
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Closed(CloseReason::ClientGoodbye)]
    ));
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn client_goodbye_before_welcome_closes_at_once_without_sending() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    session.goodbye("wamp.close.normal");
    assert!(sent(&mut session).is_empty());
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Closed(CloseReason::ClientGoodbye)]
    ));
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn connection_lost_fails_pending_requests_with_connection_lost() {
    let mut session = joined();
    assert_eq!(call(&mut session, "com.example.a", 1), Some(1));
    let published = session.publish(
        "com.example.t".into(),
        dict([("acknowledge", Value::Bool(true))]),
        Payload::default(),
        2,
    );
    assert_eq!(published, Some(2));
    sent(&mut session);
    session.connection_lost("socket reset");
    let mut outs = outputs(&mut session);
    assert!(
        matches!(outs.pop(), Some(Output::Closed(CloseReason::ConnectionLost(why))) if why == "socket reset")
    );
    let done: Vec<(u32, Result<Reply, Error>)> = outs
        .into_iter()
        .map(|o| match o {
            Output::Completed { ctx, result } => (ctx, result),
            other => panic!("{other:?}"),
        })
        .collect();
    let lost = || {
        Err(Error::SessionEnded(CloseReason::ConnectionLost(
            "socket reset".into(),
        )))
    };
    assert_eq!(done, vec![(1, lost()), (2, lost())]);
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.state(), State::Closed);
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn connection_lost_after_client_goodbye_counts_as_client_goodbye() {
    let mut session = joined();
    session.goodbye("wamp.close.normal");
    sent(&mut session);
    session.connection_lost("closed by peer");
    assert!(matches!(
        &outputs(&mut session)[..],
        [Output::Closed(CloseReason::ClientGoodbye)]
    ));
}

#[test]
fn router_abort_in_an_established_session_fails_pending_with_abort() {
    let mut session = joined();
    assert_eq!(call(&mut session, "com.example.a", 1), Some(1));
    sent(&mut session);
    session.handle_message(Message::Abort {
        details: dict([("message", s("realm closed"))]),
        reason: "wamp.close.close_realm".into(),
        payload: Payload::default(),
    });
    assert!(sent(&mut session).is_empty());
    let aborted = CloseReason::Abort {
        reason: "wamp.close.close_realm".into(),
        message: Some("realm closed".into()),
    };
    let outs = outputs(&mut session);
    assert!(
        matches!(&outs[..], [
            Output::Completed { ctx: 1, result: Err(Error::SessionEnded(why)) },
            Output::Closed(closed),
        ] if *why == aborted && *closed == aborted),
        "{outs:?}"
    );
    assert_eq!(session.state(), State::Closed);
    assert_eq!(session.pending_requests(), 0);
}

#[test]
fn nothing_happens_after_the_session_closed() {
    let mut session = joined();
    session.connection_lost("gone");
    outputs(&mut session);
    session.handle_message(invocation(1));
    session.handle_message(welcome(&[]));
    session.handle_frame(b"garbage");
    session.goodbye("wamp.close.normal");
    session.connection_lost("again");
    assert!(sent(&mut session).is_empty());
    assert!(outputs(&mut session).is_empty());
    assert_eq!(call(&mut session, "com.example.a", 5), None);
    assert_eq!(
        completions(&mut session),
        vec![(
            5,
            // The request names why the session ended: the first loss, not the second.
            Err(Error::SessionEnded(CloseReason::ConnectionLost(
                "gone".into()
            )))
        )]
    );
    assert!(sent(&mut session).is_empty());
    assert_eq!(session.pending_requests(), 0);
}

// ---------------------------------------------------------------------------
// Protocol violations
// ---------------------------------------------------------------------------

#[test]
fn result_before_welcome_is_a_protocol_violation() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: Payload::default(),
    });
    let why = assert_protocol_violation(&mut session);
    assert!(why.contains("RESULT"), "{why}");
}

#[test]
fn goodbye_before_welcome_is_a_protocol_violation() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    session.handle_message(Message::Goodbye {
        details: Dict::new(),
        reason: "wamp.close.normal".into(),
    });
    let why = assert_protocol_violation(&mut session);
    assert!(why.contains("GOODBYE"), "{why}");
}

#[test]
fn welcome_after_welcome_is_a_protocol_violation() {
    let mut session = joined();
    call(&mut session, "com.example.a", 1);
    sent(&mut session);
    session.handle_message(welcome(&[]));
    let frames = sent(&mut session);
    assert!(
        matches!(&frames[..], [Message::Abort { reason, .. }] if reason == "wamp.error.protocol_violation"),
        "{frames:?}"
    );
    let outs = outputs(&mut session);
    assert!(
        matches!(&outs[..], [
            Output::Completed {
                ctx: 1,
                result: Err(Error::SessionEnded(CloseReason::ProtocolViolation(why))),
            },
            Output::Closed(CloseReason::ProtocolViolation(closed)),
        ] if why.contains("WELCOME") && why == closed),
        "{outs:?}"
    );
}

#[test]
fn challenge_after_welcome_is_a_protocol_violation() {
    let mut session = joined();
    session.handle_message(Message::Challenge {
        method: "ticket".into(),
        extra: Dict::new(),
    });
    let why = assert_protocol_violation(&mut session);
    assert!(why.contains("CHALLENGE"), "{why}");
}

#[test]
fn undecodable_frame_is_a_protocol_violation() {
    let mut session = joined();
    session.handle_frame(b"[48, 1, {}");
    let why = assert_protocol_violation(&mut session);
    assert!(why.contains("undecodable json frame"), "{why}");
}

#[test]
fn malformed_frame_is_a_protocol_violation() {
    let mut session = joined();
    session.handle_frame(br#"[50, 0, {}]"#);
    let why = assert_protocol_violation(&mut session);
    assert!(why.contains("outside the valid ID range"), "{why}");
}

#[test]
fn undecodable_frame_during_join_is_a_protocol_violation() {
    let mut session = new_session(vec![]);
    sent(&mut session);
    session.handle_frame(&[0xff, 0x00]);
    assert_protocol_violation(&mut session);
}

#[test]
fn reply_of_the_wrong_type_for_a_request_is_a_protocol_violation() {
    let mut session = joined();
    call(&mut session, "com.example.a", 1);
    sent(&mut session);
    session.handle_message(Message::Registered {
        request: 1,
        registration: 5,
    });
    let frames = sent(&mut session);
    assert!(
        matches!(&frames[..], [Message::Abort { reason, .. }] if reason == "wamp.error.protocol_violation"),
        "{frames:?}"
    );
    let outs = outputs(&mut session);
    assert!(
        matches!(&outs[..], [
            Output::Completed {
                ctx: 1,
                result: Err(Error::SessionEnded(CloseReason::ProtocolViolation(why))),
            },
            Output::Closed(CloseReason::ProtocolViolation(closed)),
        ] if why.contains("request 1") && why.contains("wrong type") && why == closed),
        "{outs:?}"
    );
}

#[test]
fn result_for_a_subscribe_request_is_a_protocol_violation() {
    let mut session = joined();
    assert_eq!(
        session.subscribe("com.example.t".into(), Dict::new(), 1),
        Some(1)
    );
    sent(&mut session);
    session.handle_message(Message::Result {
        request: 1,
        details: Dict::new(),
        payload: Payload::default(),
    });
    let frames = sent(&mut session);
    assert!(matches!(&frames[..], [Message::Abort { .. }]), "{frames:?}");
    assert!(matches!(
        outputs(&mut session).last(),
        Some(Output::Closed(CloseReason::ProtocolViolation(_)))
    ));
}

#[test]
fn error_naming_the_wrong_request_type_is_a_protocol_violation() {
    let mut session = joined();
    call(&mut session, "com.example.a", 1);
    sent(&mut session);
    session.handle_message(Message::Error {
        request_type: code::REGISTER,
        request: 1,
        details: Dict::new(),
        error: "wamp.error.x".into(),
        payload: Payload::default(),
    });
    let why = assert_protocol_violation(&mut session);
    assert!(
        why.contains("request type 64") && why.contains("expected 48"),
        "{why}"
    );
}

#[test]
fn messages_a_client_never_receives_are_protocol_violations() {
    let cases = [
        Message::Hello {
            realm: "realm1".into(),
            details: Dict::new(),
        },
        Message::Call {
            request: 1,
            options: Dict::new(),
            procedure: "com.example.a".into(),
            payload: Payload::default(),
        },
        Message::Yield {
            request: 1,
            options: Dict::new(),
            payload: Payload::default(),
        },
        Message::Authenticate {
            signature: "x".into(),
            extra: Dict::new(),
        },
    ];
    for message in cases {
        let name = message.name();
        let mut session = joined();
        session.handle_message(message);
        let why = assert_protocol_violation(&mut session);
        assert!(why.contains(name), "{name}: {why}");
    }
}

// ---------------------------------------------------------------------------
// Advanced profile: progressive results, cancellation, progressive invocations,
// payload transparency

fn call_with(session: &mut Session<u32>, options: Dict, ctx: u32) -> u64 {
    session
        .call("com.example.p".into(), options, Payload::default(), ctx)
        .expect("sent")
}

fn result(request: u64, progress: bool, value: i64) -> Message {
    let details = if progress {
        dict([("progress", Value::Bool(true))])
    } else {
        Dict::new()
    };
    Message::Result {
        request,
        details,
        payload: args(vec![Value::Int(value)]),
    }
}

#[test]
fn progressive_results_are_handed_up_only_when_asked_for() {
    let mut session = joined_with(&["call_canceling", "progressive_call_results"], 1 << 20);
    let asked = call_with(
        &mut session,
        dict([("receive_progress", Value::Bool(true))]),
        7,
    );
    let plain = call_with(&mut session, Dict::new(), 8);
    sent(&mut session);
    session.handle_message(result(asked, true, 1));
    session.handle_message(result(asked, true, 2));
    // Crossbar forwards progress nobody asked for: not the final answer, dropped.
    session.handle_message(result(plain, true, 99));
    let outs = outputs(&mut session);
    let progress: Vec<(u32, Vec<Value>)> = outs
        .into_iter()
        .map(|out| match out {
            Output::Progress { ctx, payload, .. } => (ctx, payload.args),
            other => panic!("expected progress, got {other:?}"),
        })
        .collect();
    assert_eq!(
        progress,
        vec![(7, vec![Value::Int(1)]), (7, vec![Value::Int(2)])]
    );
    session.handle_message(result(asked, false, 3));
    session.handle_message(result(plain, false, 4));
    let done = completions(&mut session);
    assert_eq!(done.len(), 2);
    assert!(
        matches!(&done[0], (7, Ok(Reply::Result { payload, .. })) if payload.args == vec![Value::Int(3)])
    );
    assert!(
        matches!(&done[1], (8, Ok(Reply::Result { payload, .. })) if payload.args == vec![Value::Int(4)])
    );
}

#[test]
fn cancel_skip_and_killnowait_end_the_call_at_once_kill_waits_for_the_router() {
    for mode in [CancelMode::Skip, CancelMode::KillNoWait] {
        let mut session = joined();
        let request = call_with(&mut session, Dict::new(), 3);
        sent(&mut session);
        assert_eq!(session.cancel(request, mode), Some(3), "{mode:?}");
        assert_eq!(
            sent(&mut session),
            vec![Message::Cancel {
                request,
                options: dict([("mode", s(mode.as_str()))]),
            }]
        );
        // The router's late answer is ignored.
        session.handle_message(result(request, false, 1));
        assert!(outputs(&mut session).is_empty());
        assert_eq!(session.pending_requests(), 0);
    }
    let mut session = joined();
    let request = call_with(&mut session, Dict::new(), 4);
    sent(&mut session);
    assert_eq!(session.cancel(request, CancelMode::Kill), None, "waits");
    assert_eq!(
        sent(&mut session),
        vec![Message::Cancel {
            request,
            options: dict([("mode", s("kill"))]),
        }]
    );
    session.handle_message(Message::Error {
        request_type: code::CALL,
        request,
        details: Dict::new(),
        error: "wamp.error.canceled".into(),
        payload: Payload::default(),
    });
    assert!(matches!(
        &completions(&mut session)[..],
        [(4, Err(Error::Wamp(e)))] if e.uri == "wamp.error.canceled"
    ));
}

#[test]
fn without_router_support_a_cancel_is_local_and_sends_nothing() {
    let mut session = joined_with(&[], 1 << 20);
    let request = call_with(&mut session, Dict::new(), 5);
    sent(&mut session);
    assert_eq!(session.cancel(request, CancelMode::Kill), Some(5));
    assert!(sent(&mut session).is_empty());
    assert_eq!(
        session.cancel(request, CancelMode::Kill),
        None,
        "not pending any more"
    );
}

#[test]
fn a_callee_sends_progress_only_when_the_caller_asked() {
    let mut session = joined();
    let with_progress = Message::Invocation {
        request: 41,
        registration: 9,
        details: dict([("receive_progress", Value::Bool(true))]),
        payload: Payload::default(),
    };
    session.handle_message(with_progress);
    session.handle_message(invocation(42));
    outputs(&mut session);
    session
        .yield_progress(41, args(vec![Value::Int(1)]), Dict::new())
        .expect("asked for");
    assert!(matches!(
        session.yield_progress(42, Payload::default(), Dict::new()),
        Err(Error::InvalidOption { .. })
    ));
    session.yield_result(41, args(vec![Value::Int(2)]), Dict::new());
    let messages = sent(&mut session);
    assert_eq!(
        messages,
        vec![
            Message::Yield {
                request: 41,
                options: dict([("progress", Value::Bool(true))]),
                payload: args(vec![Value::Int(1)]),
            },
            Message::Yield {
                request: 41,
                options: Dict::new(),
                payload: args(vec![Value::Int(2)]),
            },
        ]
    );
    assert!(
        session
            .yield_progress(41, Payload::default(), Dict::new())
            .is_err(),
        "the invocation is over"
    );
}

#[test]
fn progressive_invocations_arrive_in_chunks_until_the_last() {
    let mut session = joined();
    let chunk = |progress: bool, value: i64| Message::Invocation {
        request: 50,
        registration: 9,
        details: if progress {
            dict([("progress", Value::Bool(true))])
        } else {
            Dict::new()
        },
        payload: args(vec![Value::Int(value)]),
    };
    session.handle_message(chunk(true, 1));
    session.handle_message(chunk(true, 2));
    session.handle_message(chunk(false, 3));
    let outs = outputs(&mut session);
    assert!(
        matches!(&outs[0], Output::Invocation { request: 50, payload, .. } if payload.args == vec![Value::Int(1)])
    );
    assert!(
        matches!(&outs[1], Output::InvocationChunk { request: 50, last: false, payload } if payload.args == vec![Value::Int(2)])
    );
    assert!(
        matches!(&outs[2], Output::InvocationChunk { request: 50, last: true, payload } if payload.args == vec![Value::Int(3)])
    );
    assert_eq!(outs.len(), 3);
}

#[test]
fn a_caller_sends_chunks_only_where_the_router_announces_progressive_invocations() {
    let progress = dict([("progress", Value::Bool(true))]);
    let mut without = joined();
    assert_eq!(
        without.call(
            "com.example.p".into(),
            progress.clone(),
            Payload::default(),
            1
        ),
        None
    );
    assert!(matches!(
        &completions(&mut without)[..],
        [(1, Err(Error::Wamp(e)))] if e.uri == "wamp.error.feature_not_supported"
    ));
    let mut with = joined_with(&["call_canceling", "progressive_call_invocations"], 1 << 20);
    let request = with
        .call(
            "com.example.p".into(),
            progress,
            args(vec![Value::Int(1)]),
            2,
        )
        .expect("sent");
    with.call_chunk(
        request,
        "com.example.p".into(),
        args(vec![Value::Int(2)]),
        false,
    )
    .expect("chunk");
    with.call_chunk(
        request,
        "com.example.p".into(),
        args(vec![Value::Int(3)]),
        true,
    )
    .expect("last chunk");
    let calls: Vec<(u64, Dict)> = sent(&mut with)
        .into_iter()
        .map(|m| match m {
            Message::Call {
                request, options, ..
            } => (request, options),
            other => panic!("expected CALL, got {other:?}"),
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            (request, dict([("progress", Value::Bool(true))])),
            (request, dict([("progress", Value::Bool(true))])),
            (request, Dict::new()),
        ]
    );
    assert!(with
        .call_chunk(999, "com.example.p".into(), Payload::default(), true)
        .is_err());
}

#[test]
fn a_transparent_payload_in_place_of_the_arguments_is_accepted() {
    let mut session = joined();
    // autobahn's form, as Crossbar.io forwards it: the payload bytes instead of the
    // arguments list, enc_* in the details. JSON carries bytes as "\0" + base64.
    let frame = br#"[36, 5, 77, {"enc_algo": "x_test", "enc_serializer": "json"}, "\u0000AQID"]"#;
    session.handle_frame(frame);
    let outs = outputs(&mut session);
    match &outs[..] {
        [Output::Event {
            payload, details, ..
        }] => {
            assert_eq!(payload.args, vec![Value::Bytes(vec![1, 2, 3])]);
            assert_eq!(details.get("enc_algo"), Some(&s("x_test")));
        }
        other => panic!("expected the event, got {other:?}"),
    }
    assert_eq!(session.state(), State::Established);
}
