//! Flow control and concurrency queues against a real Crossbar.io router: bounded
//! memory under an event flood with a slow handler, requests that resolve in time
//! during it, izaber's concurrency queues (as an autobahn-python caller sees them),
//! clean endings with a backlog, and connect/close cycles that leave nothing behind.
//!
//! The tests of this file run one at a time (they measure the whole process: its
//! peak memory, threads and file descriptors).

#![cfg(feature = "websocket")]

mod common;

#[cfg(feature = "rawsocket")]
use common::fake_router::FakeRouter;
use common::process::{count_entries, status_kb};
use common::scenarios::wait_until;
use common::{Peer, Router};
use izaber_wamp::{
    CallResult, Client, ClientConfig, Concurrency, Error, InboundLimits, Overflow, PublishOptions,
    QueueConfig, QueueLimits, RegisterOptions, Serializer, SubscribeOptions, Value,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One test at a time: they measure process-wide figures.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn config(router: &Router) -> ClientConfig {
    ClientConfig::new(router.ws_url(), "izaber")
        .with_serializers(&[Serializer::Json])
        .with_timeout(Duration::from_secs(20))
        .with_connect_timeout(Duration::from_secs(20))
        .with_ticket("test-user", "test-pass")
}

/// A queue `name` with these limits, strict naming on.
fn concurrency(name: &str, concurrency_max: usize, queue_max: Option<usize>) -> Concurrency {
    let mut concurrency = Concurrency::default();
    concurrency.queues.insert(
        name.into(),
        QueueConfig::new(Some(concurrency_max), queue_max),
    );
    concurrency
}

#[test]
fn a_flood_at_a_slow_handler_stays_bounded_and_requests_resolve_in_time() {
    let _serial = serial();
    let router = Router::start();
    let mut limits = InboundLimits::default();
    limits.max_pending_events = 2_000;
    // Pings every 500 ms, dead after 1.5 s of silence: back-pressure must not look
    // like a dead router.
    let subscriber = Client::connect(config(&router).with_inbound_limits(limits).with_liveness(
        Some(Duration::from_millis(500)),
        Duration::from_millis(1500),
    ))
    .expect("subscriber");
    let handled = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&handled);
    subscriber
        .subscribe("flow.flood", move |_event| {
            std::thread::sleep(Duration::from_millis(2));
            count.fetch_add(1, Ordering::SeqCst);
        })
        .expect("subscribe");
    let publisher = Client::connect(config(&router)).expect("publisher");
    publisher
        .register("flow.echo", |inv| Ok(CallResult::new(inv.args, ())?))
        .expect("register");

    // 30,000 events of 8 KiB: 240 MiB on the wire, far more than the bounds let in.
    let blob = Value::String("x".repeat(8 * 1024));
    let flooding = std::thread::spawn(move || {
        for n in 0..30_000u32 {
            publisher
                .publish("flow.flood", (n, &blob))
                .expect("publish");
        }
        publisher
    });
    assert!(
        wait_until(Duration::from_secs(20), || handled.load(Ordering::SeqCst)
            > 100),
        "the handler never ran during the flood"
    );
    // A call with a 2 s timeout resolves (result, error or timeout) within 3 s, even
    // though its result may wait behind the flood.
    let started = Instant::now();
    let outcome = subscriber.call_with(
        "flow.echo",
        ("ping",),
        (),
        &izaber_wamp::CallOptions::new().timeout(Duration::from_secs(2)),
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the call took {took:?}: {outcome:?}"
    );
    // Back-pressure is not mistaken for a dead router: no reconnect.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(subscriber.stats().reconnections, 0);
    assert!(subscriber.is_connected());
    let peak_mb = status_kb("VmHWM") / 1024;
    assert!(peak_mb < 256, "peak resident size {peak_mb} MB");

    let publisher = flooding.join().expect("publisher thread");
    subscriber.close().expect("close");
    let stats = subscriber.stats();
    let handled = handled.load(Ordering::SeqCst) as u64;
    // Every event read from the socket was handled or counted as dropped at close.
    assert_eq!(stats.events, handled + stats.events_dropped, "{stats:?}");
    publisher.close().expect("close");
    eprintln!(
        "flood: peak {peak_mb} MB, call resolved in {took:?} ({}), {} events read, {handled} handled",
        if outcome.is_ok() { "result" } else { "error" },
        stats.events
    );
}

/// Crossbar forwards a few megabytes a second at most, too slow to show what an
/// unbounded client does; this router of our own writes events as fast as the
/// socket takes them: 2,000 events, each a list of 16,000 zeros (32 KB on the wire,
/// half a megabyte decoded), a gigabyte in memory if nothing held the client back.
#[cfg(feature = "rawsocket")]
#[test]
fn a_router_flooding_faster_than_any_handler_keeps_the_client_under_256_mb() {
    let _serial = serial();
    let zeros = serde_json::to_string(&vec![0u8; 16_000]).expect("encode");
    let router = FakeRouter::start(move |conn| {
        conn.join(1);
        conn.accept_subscribe(7);
        for n in 0..2_000u64 {
            let event = format!("[36,7,{},{{}},[{n},{zeros}]]", n + 1);
            if !conn.try_send_frame(event.as_bytes()) {
                break; // the client closed
            }
        }
        false
    });
    let config = ClientConfig::new(router.url(), "izaber")
        .with_serializers(&[Serializer::Json])
        .with_connect_timeout(Duration::from_secs(10));
    let client = Client::connect(config).expect("joined the fake router");
    let handled = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&handled);
    client
        .subscribe("flow.fake.flood", move |_event| {
            std::thread::sleep(Duration::from_millis(20));
            count.fetch_add(1, Ordering::SeqCst);
        })
        .expect("subscribe");
    // The fake router never answers this call: it fails at its timeout, on time,
    // whatever the flood does meanwhile.
    let started = Instant::now();
    let outcome = client.call_with(
        "flow.fake.unanswered",
        (),
        (),
        &izaber_wamp::CallOptions::new().timeout(Duration::from_secs(2)),
    );
    let took = started.elapsed();
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
    assert!(
        took < Duration::from_secs(3),
        "the call's timeout fired after {took:?}"
    );
    // Long enough for an unbounded client to read well past 256 MB.
    std::thread::sleep(Duration::from_secs(6));
    let peak_mb = status_kb("VmHWM") / 1024;
    assert!(peak_mb < 256, "peak resident size {peak_mb} MB");
    assert!(handled.load(Ordering::SeqCst) > 0, "the handler never ran");
    client.close().expect("close");
    eprintln!(
        "fake flood: peak {peak_mb} MB, {} events read",
        client.stats().events
    );
}

#[test]
fn a_drop_policy_drops_and_counts_instead_of_holding_back() {
    let _serial = serial();
    let router = Router::start();
    let mut limits = InboundLimits::default();
    limits.max_pending_events = 50;
    let subscriber =
        Client::connect(config(&router).with_inbound_limits(limits)).expect("subscriber");
    let handled = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&handled);
    subscriber
        .subscribe_with(
            "flow.drop",
            &SubscribeOptions::new().overflow(Overflow::DropOldest),
            move |_event| {
                std::thread::sleep(Duration::from_millis(5));
                count.fetch_add(1, Ordering::SeqCst);
            },
        )
        .expect("subscribe");
    let publisher = Client::connect(config(&router)).expect("publisher");
    for n in 0..2_000u32 {
        publisher.publish("flow.drop", (n,)).expect("publish");
    }
    // An acknowledged publish after the flood: once the router confirms it, every
    // event before it is on its way.
    let options = PublishOptions::new().acknowledge(true);
    publisher
        .publish_with("flow.drop", (u32::MAX,), (), &options)
        .expect("acknowledged");
    assert!(
        wait_until(Duration::from_secs(20), || {
            let stats = subscriber.stats();
            stats.events == 2_001
                && handled.load(Ordering::SeqCst) as u64 + stats.events_dropped == 2_001
        }),
        "events were lost without being counted: {:?}, handled {}",
        subscriber.stats(),
        handled.load(Ordering::SeqCst)
    );
    assert!(subscriber.stats().events_dropped > 0, "nothing was dropped");
}

#[test]
fn a_full_waitlist_answers_an_autobahn_caller_as_python_izaber_does() {
    let _serial = serial();
    let router = Router::start();
    let callee = Client::connect(config(&router).with_concurrency(concurrency("q", 1, Some(1))))
        .expect("callee");
    callee
        .register_with("flow.slow", &RegisterOptions::new().queue("q"), |_inv| {
            std::thread::sleep(Duration::from_millis(800));
            Ok(CallResult::value("done")?)
        })
        .expect("register");
    let peer = Peer::start(&router.ws_url(), "json");
    let caller = Client::connect(config(&router)).expect("caller");
    let _ = &peer;
    let outcomes = caller
        .call("interop.peer.call_many", ("flow.slow", 4))
        .expect("call_many");
    let outcomes: Vec<serde_json::Value> = outcomes.arg(0).expect("a list of outcomes");
    let done = serde_json::json!({"args": ["done"], "kwargs": {}});
    let full = serde_json::json!({
        "error": "wamp.error.runtime_error",
        "args": ["Call failed: Queue q waitlist full", "Queue q waitlist full"],
        "kwargs": {},
    });
    let mut seen = outcomes.clone();
    seen.sort_by_key(|o| o.to_string());
    let mut expected = vec![done.clone(), done, full.clone(), full];
    expected.sort_by_key(|o| o.to_string());
    assert_eq!(seen, expected, "{outcomes:#?}");
    let queue = callee
        .stats()
        .queues
        .into_iter()
        .find(|q| q.name == "q")
        .expect("queue q in the stats");
    assert_eq!((queue.run, queue.rejected, queue.waitlist_max), (2, 2, 1));
}

/// Calls `procedure` from `threads` threads at once; returns the outcomes.
fn call_from_threads(
    client: &Client,
    procedure: &'static str,
    threads: usize,
) -> Vec<Result<CallResult, Error>> {
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client.call(procedure, ()))
        })
        .collect();
    workers
        .into_iter()
        .map(|w| w.join().expect("caller thread"))
        .collect()
}

#[test]
fn concurrency_max_is_never_exceeded_and_can_change_at_run_time() {
    let _serial = serial();
    let router = Router::start();
    let callee = Client::connect(config(&router).with_concurrency(concurrency("pair", 2, None)))
        .expect("callee");
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, most) = (Arc::clone(&running), Arc::clone(&peak));
    callee
        .register_with(
            "flow.counted",
            &RegisterOptions::new().queue("pair"),
            move |_inv| {
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(running, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(CallResult::empty())
            },
        )
        .expect("register");
    let caller = Client::connect(config(&router)).expect("caller");
    for outcome in call_from_threads(&caller, "flow.counted", 10) {
        outcome.expect("every call is answered");
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);

    callee
        .set_queue_limits("pair", QueueLimits::new(4, None))
        .expect("configured queue");
    peak.store(0, Ordering::SeqCst);
    for outcome in call_from_threads(&caller, "flow.counted", 12) {
        outcome.expect("every call is answered");
    }
    assert_eq!(peak.load(Ordering::SeqCst), 4);
    assert!(matches!(
        callee.register_with("flow.other", &RegisterOptions::new().queue("nope"), |_| Ok(CallResult::empty())),
        Err(Error::Config(why)) if why.contains("\"nope\"")
    ));
}

#[test]
fn after_close_no_handler_starts_and_queued_callers_are_answered() {
    let _serial = serial();
    let router = Router::start();
    let callee = Client::connect(config(&router).with_concurrency(concurrency("one", 1, None)))
        .expect("callee");
    let starts = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&starts);
    callee
        .register_with(
            "flow.busy",
            &RegisterOptions::new().queue("one"),
            move |_inv| {
                log.lock().expect("lock").push(Instant::now());
                std::thread::sleep(Duration::from_millis(500));
                Ok(CallResult::value("done")?)
            },
        )
        .expect("register");
    let caller = Client::connect(config(&router)).expect("caller");
    let calls = {
        let caller = caller.clone();
        std::thread::spawn(move || call_from_threads(&caller, "flow.busy", 5))
    };
    assert!(wait_until(Duration::from_secs(10), || !starts
        .lock()
        .expect("lock")
        .is_empty()));
    std::thread::sleep(Duration::from_millis(100)); // the other four are queued
    let closing = Instant::now();
    callee.close().expect("close");
    let closed = Instant::now();
    assert!(
        closed - closing < Duration::from_secs(2),
        "close took {:?}",
        closed - closing
    );
    let answered = Instant::now();
    let outcomes = calls.join().expect("callers");
    // Every caller hears back soon, none waits for its 20 s timeout.
    assert!(answered.elapsed() < Duration::from_secs(5), "{outcomes:?}");
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Error::Wamp(e)) if e.message() == Some("Call failed: the callee is closing")))
        .count();
    assert!(
        refused >= 3,
        "the queued calls were not answered: {outcomes:?}"
    );
    std::thread::sleep(Duration::from_millis(700));
    let starts = starts.lock().expect("lock");
    assert!(
        starts.iter().all(|&start| start < closed),
        "a handler started after close() returned"
    );
}

#[test]
fn dropping_the_last_handle_with_a_backlog_ends_the_session_at_once() {
    let _serial = serial();
    let router = Router::start();
    let observer = Client::connect(config(&router)).expect("observer");
    let subscriber = Client::connect(config(&router)).expect("subscriber");
    let session = subscriber.session_id().expect("joined");
    subscriber
        .subscribe("flow.backlog", |_event| {
            std::thread::sleep(Duration::from_millis(50))
        })
        .expect("subscribe");
    let options = PublishOptions::new().acknowledge(true).exclude_me(false);
    for n in 0..200u32 {
        observer
            .publish_with("flow.backlog", (n,), (), &options)
            .expect("publish");
    }
    drop(subscriber);
    let dropped = Instant::now();
    assert!(
        wait_until(Duration::from_secs(2), || observer
            .call("wamp.session.get", (session,))
            .is_err()),
        "the router still knows the session 2 s after the last handle was dropped"
    );
    assert!(dropped.elapsed() < Duration::from_secs(2));
}

#[test]
fn connect_close_cycles_leave_no_threads_or_file_descriptors() {
    let _serial = serial();
    let router = Router::start();
    let cycle = || {
        let client = Client::connect(config(&router)).expect("connect");
        client
            .subscribe("flow.cycle", |_event| {})
            .expect("subscribe");
        client.close().expect("close");
    };
    cycle(); // warm-up: the router's first session and lazily made statics
    std::thread::sleep(Duration::from_secs(1));
    let threads = count_entries("/proc/self/task");
    let fds = count_entries("/proc/self/fd");
    for _ in 0..500 {
        cycle();
    }
    std::thread::sleep(Duration::from_secs(1));
    let (threads_after, fds_after) = (
        count_entries("/proc/self/task"),
        count_entries("/proc/self/fd"),
    );
    assert!(
        threads_after <= threads && fds_after <= fds,
        "after 500 cycles: {threads_after} threads (was {threads}), {fds_after} fds (was {fds})"
    );
}
