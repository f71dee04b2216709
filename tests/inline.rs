//! Inline handlers (`RegisterOptions::inline`, `SubscribeOptions::inline`) against a
//! real Crossbar.io router: they answer and receive like pool handlers, on the
//! connection's I/O thread, in order; what would wait for an answer there fails at
//! once with `Error::WouldDeadlock` instead of hanging; sending is allowed. The same
//! holds where a caller waiting for its answer runs them in the I/O thread's stead.

#![cfg(feature = "websocket")]

mod common;

use common::shared_router;
use izaber_wamp::{
    CallOptions, CallResult, Client, ClientConfig, Error, HandlerError, PublishOptions,
    RegisterOptions, SubscribeOptions, Value,
};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn connect() -> Client {
    let config = ClientConfig::new(shared_router().ws_url(), "izaber")
        .with_ticket("test-user", "test-pass")
        .with_timeout(Duration::from_secs(20));
    Client::connect(config).expect("connect")
}

fn inline() -> RegisterOptions {
    RegisterOptions::new().inline(true)
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn an_inline_procedure_answers_on_the_io_thread() {
    let callee = connect();
    let (tx, ran_on) = mpsc::channel();
    let tx = Mutex::new(tx);
    callee
        .register_with("inline.add", &inline(), move |inv| {
            let _ = tx.lock().expect("lock").send(thread_name());
            let (a, b): (i64, i64) = inv.args_as()?;
            Ok(CallResult::value(a + b)?)
        })
        .expect("register");
    let caller = connect();
    for n in 0..20 {
        let sum: i64 = caller
            .call("inline.add", (n, 1))
            .expect("call")
            .arg(0)
            .expect("int");
        assert_eq!(sum, n + 1);
    }
    assert_eq!(ran_on.recv().expect("ran"), "izaber-wamp-io");
    // A failing inline handler answers with the handler-failure error, as others do.
    callee
        .register_with("inline.fail", &inline(), |_inv| {
            Err(HandlerError::failed("no"))
        })
        .expect("register");
    let err = caller.call("inline.fail", ()).expect_err("fails");
    assert_eq!(err.wamp_uri(), Some("wamp.error.runtime_error"));
}

#[test]
fn inline_events_arrive_in_order_on_the_io_thread() {
    let listener = connect();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, done) = mpsc::channel();
    let tx = Mutex::new(tx);
    let record = Arc::clone(&seen);
    listener
        .subscribe_with(
            "inline.topic",
            &SubscribeOptions::new().inline(true),
            move |e| {
                let n: i64 = e.arg(0).expect("int");
                record.lock().expect("lock").push((n, thread_name()));
                if n == 199 {
                    let _ = tx.lock().expect("lock").send(());
                }
            },
        )
        .expect("subscribe");
    let publisher = connect();
    let ack = PublishOptions::new().acknowledge(true);
    for n in 0..200 {
        publisher
            .publish_with("inline.topic", (n,), (), &ack)
            .expect("publish");
    }
    done.recv_timeout(Duration::from_secs(20))
        .expect("all events");
    let seen = seen.lock().expect("lock");
    let order: Vec<i64> = seen.iter().map(|(n, _)| *n).collect();
    assert_eq!(order, (0..200).collect::<Vec<_>>());
    assert!(seen.iter().all(|(_, thread)| thread == "izaber-wamp-io"));
}

#[test]
fn waiting_in_an_inline_handler_fails_at_once_and_sending_works() {
    let client = connect();
    client
        .register("inline.target", |_inv| Ok(CallResult::value("target")?))
        .expect("register");
    let (tx, outcomes) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .register_with("inline.waits", &inline(), move |inv| {
            let started = Instant::now();
            let blocking = inv.client().call("inline.target", ());
            let subscribing = inv.client().subscribe("inline.never", |_| {});
            // Sending without waiting is fine: the call goes out, its answer is read
            // after this handler returns.
            let started_call =
                inv.client()
                    .start_call("inline.target", (), (), &CallOptions::new());
            let published = inv.client().publish("inline.topic2", (1,));
            let _ = tx.lock().expect("lock").send((
                blocking.err(),
                subscribing.err(),
                started.elapsed(),
                started_call.map(drop),
                published,
            ));
            Ok(CallResult::value("answered")?)
        })
        .expect("register");
    let caller = connect();
    let answer = caller.call("inline.waits", ()).expect("call");
    assert_eq!(answer.args, vec![Value::from("answered")]);
    let (blocking, subscribing, took, started_call, published) =
        outcomes.recv_timeout(Duration::from_secs(5)).expect("ran");
    assert!(
        matches!(&blocking, Some(Error::WouldDeadlock { operation }) if operation == "call inline.target"),
        "{blocking:?}"
    );
    assert!(
        matches!(subscribing, Some(Error::WouldDeadlock { .. })),
        "{subscribing:?}"
    );
    assert!(
        took < Duration::from_secs(1),
        "refused at once, not at a timeout: {took:?}"
    );
    assert!(
        started_call.is_ok() && published.is_ok(),
        "{started_call:?} {published:?}"
    );
    // The connection is still fine.
    assert_eq!(
        caller.call("inline.target", ()).expect("call").args,
        vec![Value::from("target")]
    );
}

#[test]
fn closing_from_an_inline_handler_does_not_hang_the_connection() {
    let client = connect();
    let (tx, closed) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .subscribe_with(
            "inline.close",
            &SubscribeOptions::new().inline(true),
            move |event| {
                let started = Instant::now();
                let _ = event.client().close();
                let _ = tx.lock().expect("lock").send(started.elapsed());
            },
        )
        .expect("subscribe");
    let publisher = connect();
    publisher
        .publish_with(
            "inline.close",
            (),
            (),
            &PublishOptions::new().acknowledge(true),
        )
        .expect("publish");
    let took = closed
        .recv_timeout(Duration::from_secs(10))
        .expect("closed");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(common::scenarios::wait_until(
        Duration::from_secs(10),
        || { matches!(client.call("inline.x", ()), Err(Error::Closed)) }
    ));
}

/// On Linux, a thread blocked in a request reads the socket in the I/O thread's stead
/// and then runs the inline handlers of what it read (here its own call's
/// invocation). They keep the I/O thread's rules there: a request that would wait
/// for its answer fails at once. Elsewhere the I/O thread runs them all.
#[test]
fn an_inline_handler_run_by_a_waiting_caller_keeps_the_io_threads_rules() {
    const CALLER: &str = "inline-self-caller";
    let client = connect();
    let (tx, runs) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .register_with("inline.self", &inline(), move |inv| {
            let waited = inv.client().call("inline.never.answered", ());
            let _ = tx.lock().expect("lock").send((thread_name(), waited.err()));
            let n: i64 = inv.arg(0)?;
            Ok(CallResult::value(n + 1)?)
        })
        .expect("register");
    let caller = client.clone();
    std::thread::Builder::new()
        .name(CALLER.into())
        .spawn(move || {
            for n in 0..30 {
                let answer: i64 = caller
                    .call("inline.self", (n,))
                    .expect("call")
                    .arg(0)
                    .expect("int");
                assert_eq!(answer, n + 1);
            }
        })
        .expect("spawn")
        .join()
        .expect("calls");
    let runs: Vec<(String, Option<Error>)> = runs.try_iter().collect();
    assert_eq!(runs.len(), 30);
    for (thread, waited) in &runs {
        assert!(thread == "izaber-wamp-io" || thread == CALLER, "{thread}");
        assert!(
            matches!(waited, Some(Error::WouldDeadlock { .. })),
            "{waited:?}"
        );
    }
    let by_caller = runs.iter().filter(|(thread, _)| thread == CALLER).count();
    let read_by_callers = client.stats().messages_read_by_callers;
    if cfg!(all(
        any(target_os = "linux", target_os = "android"),
        not(izaber_wamp_no_lead)
    )) {
        assert!(by_caller > 0, "no invocation was run by the waiting caller");
        assert!(read_by_callers > 0);
    } else {
        assert_eq!((by_caller, read_by_callers), (0, 0));
    }
}
