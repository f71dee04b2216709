//! The `tracing` feature against a real Crossbar.io router: the spans and events a
//! subscriber sees for a session, its requests, handler runs and a reconnect.
//!
//! The subscriber is a small one of this file's own: it keeps every span with its
//! fields and parent, and every event with the span it happened in, for the tests to
//! look through. It is the process's global subscriber, as handlers, the I/O thread
//! and connector threads run on threads of the library's; tests sharing it tell their
//! spans apart by the URL, session ID or URI they use.
//!
//! WebSocket too: the router's endpoint for clients is a WebSocket.
#![cfg(all(feature = "tracing", feature = "websocket"))]

mod common;

use common::scenarios::wait_until;
use common::{shared_router, Router};
use izaber_wamp::{
    CallOptions, CallResult, Client, ClientConfig, ConnectionState, HandlerError, PublishOptions,
    ReconnectPolicy, WampError,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

// --- the capturing subscriber -----------------------------------------------------

/// A span as the subscriber saw it.
#[derive(Debug, Clone)]
struct SpanData {
    id: u64,
    name: &'static str,
    parent: Option<u64>,
    fields: HashMap<String, String>,
}

impl SpanData {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// An event as the subscriber saw it: its message, fields, and the span it is in.
#[derive(Debug, Clone)]
struct EventData {
    target: &'static str,
    message: String,
    fields: HashMap<String, String>,
    span: Option<u64>,
}

impl EventData {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Captured {
    next_id: AtomicU64,
    spans: Mutex<HashMap<u64, SpanData>>,
    events: Mutex<Vec<EventData>>,
}

thread_local! {
    /// The spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Field values as text: strings as they are, everything else as printed.
struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// The subscriber: records into the shared [`Captured`].
struct Capture(Arc<Captured>);

impl Capture {
    fn current() -> Option<u64> {
        ENTERED.with(|entered| entered.borrow().last().copied())
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        // IDs are never reused, so a closed span's record stays unambiguous.
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let parent = if let Some(parent) = attributes.parent() {
            Some(parent.into_u64())
        } else if attributes.is_contextual() {
            Capture::current()
        } else {
            None
        };
        let mut fields = HashMap::new();
        attributes.record(&mut Fields(&mut fields));
        let span = SpanData {
            id,
            name: attributes.metadata().name(),
            parent,
            fields,
        };
        lock(&self.0.spans).insert(id, span);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(span) = lock(&self.0.spans).get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let span = if let Some(parent) = event.parent() {
            Some(parent.into_u64())
        } else if event.is_contextual() {
            Capture::current()
        } else {
            None
        };
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        lock(&self.0.events).push(EventData {
            target: event.metadata().target(),
            message,
            fields,
            span,
        });
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            if let Some(at) = entered.iter().rposition(|&id| id == span.into_u64()) {
                entered.remove(at);
            }
        });
    }
}

/// What the process's subscriber captured; installs it on first use.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Arc<Captured>> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Arc::new(Captured::default());
        tracing::subscriber::set_global_default(Capture(Arc::clone(&captured)))
            .expect("no other global subscriber in this test binary");
        captured
    })
}

impl Captured {
    fn spans(&self) -> Vec<SpanData> {
        lock(&self.spans).values().cloned().collect()
    }

    fn events(&self) -> Vec<EventData> {
        lock(&self.events).clone()
    }

    fn span(&self, id: u64) -> SpanData {
        lock(&self.spans)
            .get(&id)
            .cloned()
            .unwrap_or_else(|| panic!("no span {id}"))
    }

    /// The spans named `name` whose field `field` is `value`.
    fn spans_with(&self, name: &str, field: &str, value: &str) -> Vec<SpanData> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name && s.field(field) == Some(value))
            .collect()
    }

    /// The one span named `name` whose field `field` is `value`.
    fn only_span(&self, name: &str, field: &str, value: &str) -> SpanData {
        let mut found = self.spans_with(name, field, value);
        assert_eq!(
            found.len(),
            1,
            "expected one {name} span with {field}={value}, found {found:#?}"
        );
        found.remove(0)
    }

    /// The events in span `span`.
    fn events_in(&self, span: u64) -> Vec<EventData> {
        self.events()
            .into_iter()
            .filter(|e| e.span == Some(span))
            .collect()
    }

    /// The one event in span `span` whose message starts with `message`.
    fn only_event(&self, span: u64, message: &str) -> EventData {
        let mut found: Vec<_> = self
            .events_in(span)
            .into_iter()
            .filter(|e| e.message.starts_with(message))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {message:?} event in span {span}, found {found:#?} among {:#?}",
            self.events_in(span)
        );
        found.remove(0)
    }

    /// Every field value of every span and event, for the no-secrets check.
    fn all_values(&self) -> Vec<String> {
        let spans = self
            .spans()
            .into_iter()
            .flat_map(|s| s.fields.into_values());
        let events = self
            .events()
            .into_iter()
            .flat_map(|e| e.fields.into_values().chain([e.message]));
        spans.chain(events).collect()
    }
}

/// Parses a recorded ID field.
fn id_field(value: Option<&str>) -> u64 {
    let value = value.expect("an ID was recorded");
    value
        .parse()
        .unwrap_or_else(|_| panic!("{value:?} is not an ID"))
}

// --- tests ------------------------------------------------------------------------

fn config(url: &str) -> ClientConfig {
    ClientConfig::new(url, "izaber")
        .with_ticket("test-user", "test-pass")
        .with_timeout(Duration::from_secs(20))
        .with_connect_timeout(Duration::from_secs(20))
}

#[test]
fn a_session_its_requests_and_its_handlers_have_spans_with_their_fields() {
    let captured = captured();
    let url = shared_router().ws_url();
    let client = Client::connect(config(&url)).expect("connect");
    let session_id = client.session_id().expect("joined");

    // The session's span: where, which realm, which session, as whom; under the
    // connection's span.
    let session = captured.only_span("wamp.session", "session", &session_id.to_string());
    assert_eq!(session.field("url"), Some(url.as_str()));
    assert_eq!(session.field("realm"), Some("izaber"));
    assert_eq!(session.field("authid"), Some("test-user"));
    assert_eq!(session.field("authrole"), Some("user"));
    assert_eq!(session.field("attempt"), Some("1"));
    let connection = captured.span(session.parent.expect("a parent"));
    assert_eq!(connection.name, "wamp.connection");
    assert_eq!(connection.field("url"), Some(url.as_str()));
    assert_eq!(connection.field("realm"), Some("izaber"));
    let connect = captured.only_event(session.id, "connecting");
    assert_eq!(connect.field("attempt"), Some("1"));
    assert_eq!(connect.field("url"), Some(url.as_str()));
    // The target is the module that wrote this line with `log` before, as without
    // the feature.
    assert_eq!(connect.target, "izaber_wamp::event_loop::link");
    let join = captured.only_event(session.id, "joined");
    assert_eq!(join.field("session"), Some(session_id.to_string().as_str()));
    assert_eq!(join.field("authid"), Some("test-user"));
    assert_eq!(join.field("authrole"), Some("user"));

    // A registration, and calls of it: ok, failing, timing out.
    let procedure = "tracing.spans.echo";
    let registration = client
        .register(procedure, |invocation| {
            tracing::info!(marker = "in the handler", "handler runs");
            match invocation.arg::<String>(0)?.as_str() {
                "fail" => Err(HandlerError::Wamp(WampError::new("app.error.refused"))),
                "slow" => {
                    std::thread::sleep(Duration::from_millis(800));
                    Ok(CallResult::value("late")?)
                }
                _ => Ok(CallResult::from_values(invocation.args, invocation.kwargs)),
            }
        })
        .expect("register");
    let register = captured.only_span("wamp.request", "uri", procedure);
    assert_eq!(register.field("kind"), Some("register"));
    assert!(id_field(register.field("request")) > 0);
    assert_eq!(register.field("outcome"), Some("ok"));

    let caller = tracing::info_span!("test.caller", case = "ok");
    let reply = caller
        .in_scope(|| client.call(procedure, ("payload-contents-1",)))
        .expect("call");
    assert_eq!(reply.arg::<String>(0).expect("echo"), "payload-contents-1");
    let calls: Vec<_> = captured
        .spans_with("wamp.request", "uri", procedure)
        .into_iter()
        .filter(|s| s.field("kind") == Some("call"))
        .collect();
    assert_eq!(calls.len(), 1, "one call span: {calls:#?}");
    let call = &calls[0];
    // Made on the calling thread, inside the caller's span.
    let parent = captured.span(call.parent.expect("the caller's span"));
    assert_eq!(parent.name, "test.caller");
    let call_request = id_field(call.field("request"));
    assert!(call_request > 0);
    assert_eq!(call.field("outcome"), Some("ok"));
    assert_eq!(
        captured
            .only_event(call.id, "request done")
            .field("outcome"),
        Some("ok")
    );

    // The handler ran in an invocation span naming the procedure.
    let in_handler: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.field("marker") == Some("in the handler"))
        .collect();
    assert_eq!(in_handler.len(), 1, "{in_handler:#?}");
    let handler = captured.span(in_handler[0].span.expect("in a span"));
    assert_eq!(handler.name, "wamp.handler");
    assert_eq!(handler.field("kind"), Some("invocation"));
    assert_eq!(handler.field("uri"), Some(procedure));
    assert!(id_field(handler.field("request")) > 0);
    assert_eq!(handler.parent, None, "handler spans are roots");
    assert!(
        wait_until(Duration::from_secs(2), || {
            captured.span(handler.id).field("outcome") == Some("ok")
        }),
        "the handler's outcome was not recorded: {:#?}",
        captured.span(handler.id)
    );

    // An error ends with its URI, from the callee and from the router.
    let err = tracing::info_span!("test.caller", case = "refused")
        .in_scope(|| client.call(procedure, ("fail",)))
        .expect_err("refused");
    assert_eq!(err.wamp_uri(), Some("app.error.refused"));
    let refused = child_request(captured, "refused");
    assert_eq!(refused.field("outcome"), Some("app.error.refused"));
    let missing = "tracing.spans.missing";
    client.call(missing, ()).expect_err("no such procedure");
    let missing = captured.only_span("wamp.request", "uri", missing);
    assert_eq!(missing.field("kind"), Some("call"));
    assert_eq!(
        missing.field("outcome"),
        Some("wamp.error.no_such_procedure")
    );

    // A timeout ends as one.
    let options = CallOptions::new().timeout(Duration::from_millis(200));
    let err = tracing::info_span!("test.caller", case = "slow")
        .in_scope(|| client.call_with(procedure, ("slow",), (), &options))
        .expect_err("times out");
    assert!(matches!(err, izaber_wamp::Error::Timeout { .. }), "{err}");
    let slow = child_request(captured, "slow");
    assert_eq!(slow.field("outcome"), Some("timeout"));

    // An event handler runs in an event span naming the topic.
    let topic = "tracing.spans.topic";
    let (seen, received) = std::sync::mpsc::channel();
    client
        .subscribe(topic, move |_| {
            tracing::info!(marker = "in the event handler", "event handler runs");
            let _ = seen.send(());
        })
        .expect("subscribe");
    let publish = PublishOptions::new().exclude_me(false).acknowledge(true);
    client
        .publish_with(topic, ("payload-contents-2",), (), &publish)
        .expect("publish");
    received
        .recv_timeout(Duration::from_secs(5))
        .expect("the event arrives");
    let in_handler: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.field("marker") == Some("in the event handler"))
        .collect();
    assert_eq!(in_handler.len(), 1, "{in_handler:#?}");
    let event_span = in_handler[0].span.expect("in a span");
    let event_span = captured.span(event_span);
    assert_eq!(event_span.name, "wamp.handler");
    assert_eq!(event_span.field("kind"), Some("event"));
    assert_eq!(event_span.field("uri"), Some(topic));
    assert!(id_field(event_span.field("request")) > 0);
    let published: Vec<_> = captured
        .spans_with("wamp.request", "uri", topic)
        .into_iter()
        .filter(|s| s.field("kind") == Some("publish"))
        .collect();
    assert_eq!(published.len(), 1, "{published:#?}");
    assert_eq!(published[0].field("outcome"), Some("ok"));

    client.unregister(&registration).expect("unregister");
    let unregister: Vec<_> = captured
        .spans_with("wamp.request", "uri", procedure)
        .into_iter()
        .filter(|s| s.field("kind") == Some("unregister"))
        .collect();
    assert_eq!(unregister.len(), 1, "{unregister:#?}");
    assert!(id_field(unregister[0].field("request")) > 0);

    // Leaving is an event of the session's span, with its reason.
    client.close().expect("close");
    let leave = captured.only_event(session.id, "session closed");
    assert_eq!(leave.field("reason"), Some("client_goodbye"));

    // Nothing holds the ticket or the payloads.
    for value in captured.all_values() {
        assert!(!value.contains("test-pass"), "a secret in {value:?}");
        assert!(
            !value.contains("payload-contents"),
            "a payload in {value:?}"
        );
    }
}

/// The request span made inside the `test.caller` span with `case` = `case`.
fn child_request(captured: &Captured, case: &str) -> SpanData {
    let caller = captured.only_span("test.caller", "case", case);
    let mut children: Vec<_> = captured
        .spans()
        .into_iter()
        .filter(|s| s.name == "wamp.request" && s.parent == Some(caller.id))
        .collect();
    assert_eq!(children.len(), 1, "{children:#?}");
    children.remove(0)
}

#[test]
fn a_reconnect_shows_as_events_and_a_new_session_span_with_what_was_restored() {
    let captured = captured();
    let router = Router::start();
    let url = router.ws_url();
    let policy = ReconnectPolicy::default()
        .with_initial_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(1));
    let client = Client::connect(config(&url).with_reconnect(policy)).expect("connect");
    client
        .register("tracing.restore.proc", |_| Ok(CallResult::value(1)?))
        .expect("register");
    client
        .subscribe("tracing.restore.topic", |_| {})
        .expect("subscribe");
    let first = client.session_id().expect("joined");

    router.kill();
    assert!(wait_until(Duration::from_secs(5), || client.state()
        == ConnectionState::Reconnecting));
    router.restart();
    assert!(
        wait_until(Duration::from_secs(20), || client.state()
            == ConnectionState::Joined
            && client.session_id().is_some_and(|id| id != first)),
        "no rejoin within 20 s"
    );
    let second = client.session_id().expect("rejoined");

    // This router's port is its own, so its URL finds this client's spans.
    let connection = captured.only_span("wamp.connection", "url", &url);
    let sessions: Vec<_> = captured
        .spans()
        .into_iter()
        .filter(|s| s.name == "wamp.session" && s.parent == Some(connection.id))
        .collect();
    let joined = |id: u64| {
        let found: Vec<_> = sessions
            .iter()
            .filter(|s| s.field("session") == Some(id.to_string().as_str()))
            .collect();
        assert_eq!(found.len(), 1, "session {id} in {sessions:#?}");
        found[0].clone()
    };
    let (old, new) = (joined(first.get()), joined(second.get()));
    assert_eq!(new.field("url"), Some(url.as_str()));
    assert_eq!(new.field("realm"), Some("izaber"));
    assert_eq!(new.field("authid"), Some("test-user"));

    // The old session left because the connection was lost.
    let leave = captured.only_event(old.id, "session closed");
    assert_eq!(leave.field("reason"), Some("connection_lost"));

    // The connection reconnected with a delay, and backed off while the router was
    // down (its restart takes far longer than the first delay).
    let on_connection = captured.events_in(connection.id);
    let reconnect: Vec<_> = on_connection
        .iter()
        .filter(|e| e.message.starts_with("connection lost"))
        .collect();
    assert_eq!(reconnect.len(), 1, "{on_connection:#?}");
    let delay: u64 = reconnect[0]
        .field("delay_ms")
        .and_then(|d| d.parse().ok())
        .expect("a delay in milliseconds");
    assert!(delay <= 1200, "{delay} ms exceeds max_delay with jitter");
    let backoffs: Vec<_> = on_connection
        .iter()
        .filter(|e| e.message.starts_with("backing off"))
        .collect();
    assert!(!backoffs.is_empty(), "no back-off in {on_connection:#?}");
    assert!(backoffs.iter().all(|e| e.field("delay_ms").is_some()));
    let failed_attempts = sessions
        .iter()
        .filter(|s| s.field("session").is_none())
        .filter(|s| {
            captured
                .events_in(s.id)
                .iter()
                .any(|e| e.message.starts_with("connection attempt failed"))
        })
        .count();
    assert!(failed_attempts >= 1, "{sessions:#?}");

    // The new session restored the registration and the subscription.
    let restored = captured.only_event(new.id, "restored");
    assert_eq!(restored.field("registrations"), Some("1"));
    assert_eq!(restored.field("subscriptions"), Some("1"));
    assert_eq!(restored.field("failed"), Some("0"));

    client.close().expect("close");
    let closed = captured.only_event(connection.id, "connection closed");
    assert!(closed.message.contains("closed"), "{closed:?}");
}
