//! The async request methods (`call_async`, `publish_with_async`, `register_async`,
//! ...) against a real Crossbar.io router, on three executors: tokio's
//! current-thread runtime, tokio's multi-thread runtime (the futures spawned there,
//! so they are `Send + 'static`), and `futures::executor::block_on`, which shares
//! nothing with tokio. No timer of any runtime ends a request: the connection's own
//! I/O thread wakes the task, also at the request's deadline.
#![cfg(feature = "websocket")]

mod common;

use common::scenarios::{register_waiter, wait_until};
use common::shared_router;
use izaber_wamp::{
    CallOptions, CallResult, CancelMode, Client, ClientConfig, Error, PublishOptions,
    SubscribeOptions, Value,
};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn connect() -> Client {
    let config = ClientConfig::new(shared_router().ws_url(), "izaber")
        .with_ticket("test-user", "test-pass")
        .with_timeout(Duration::from_secs(20));
    Client::connect(config).expect("connect")
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a multi-thread runtime")
}

/// Runs `work` on a thread of its own and fails the test if it takes longer than
/// `limit`: a future nobody wakes would otherwise hang the test run.
fn within<R: Send + 'static>(limit: Duration, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    match outcome.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("not done within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the work panicked"),
    }
}

/// Runs the future `make` builds on each executor in turn: tokio's current-thread
/// runtime, a task spawned on tokio's multi-thread runtime, `futures`' `block_on`.
fn on_every_executor<F, Fut>(make: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    within(Duration::from_secs(60), move || {
        current_thread().block_on(make());
        let runtime = multi_thread();
        let task = runtime.spawn(make());
        runtime.block_on(task).expect("the spawned task");
        futures::executor::block_on(make());
    });
}

#[test]
fn a_call_of_a_handler_of_the_same_client_completes_on_every_executor() {
    let client = connect();
    client
        .register("async.same.double", |inv| {
            let n: i64 = inv.arg(0)?;
            Ok(CallResult::value(n * 2)?)
        })
        .expect("register");
    on_every_executor(move || {
        let client = client.clone();
        async move {
            let doubled: i64 = client
                .call_async("async.same.double", (21,))
                .await
                .expect("call")
                .arg(0)
                .expect("an int");
            assert_eq!(doubled, 42);
        }
    });
}

#[test]
fn a_handler_that_needs_the_runtime_thread_does_not_deadlock_a_current_thread_runtime() {
    // The handler runs on the client's worker pool and hands work to the runtime,
    // whose only thread is the caller's: it is free only because the call is awaited.
    let runtime = current_thread();
    let handle = runtime.handle().clone();
    let client = connect();
    client
        .register("async.same.runtime", move |inv| {
            let n: i64 = inv.arg(0)?;
            let (tx, rx) = mpsc::channel();
            handle.spawn(async move {
                let _ = tx.send(n + 1);
            });
            let n = rx
                .recv_timeout(Duration::from_secs(5))
                .map_err(izaber_wamp::HandlerError::failed)?;
            Ok(CallResult::value(n)?)
        })
        .expect("register");
    let started = Instant::now();
    let result = within(Duration::from_secs(30), move || {
        runtime.block_on(client.call_async("async.same.runtime", (1,)))
    });
    assert_eq!(result.expect("call").args, vec![Value::Int(2)]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it waited for the handler's timeout"
    );
}

#[test]
fn a_ticker_keeps_ticking_while_a_call_is_in_flight_on_a_current_thread_runtime() {
    let client = connect();
    client
        .register("async.slow", |_inv| {
            std::thread::sleep(Duration::from_millis(500));
            Ok(CallResult::value("slow")?)
        })
        .expect("register");
    let ticks = |blocking: bool| {
        let client = client.clone();
        within(Duration::from_secs(30), move || {
            current_thread().block_on(async move {
                let ticks = Arc::new(AtomicU64::new(0));
                let counter = Arc::clone(&ticks);
                let ticker = tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
                let result = if blocking {
                    client.call("async.slow", ())
                } else {
                    client.call_async("async.slow", ()).await
                };
                assert_eq!(result.expect("call").args, vec![Value::from("slow")]);
                ticker.abort();
                ticks.load(Ordering::Relaxed)
            })
        })
    };
    // The blocking form holds the runtime's only thread for the whole call...
    assert_eq!(ticks(true), 0);
    // ...the async form leaves it to the ticker (about 50 ticks in 500 ms).
    let async_ticks = ticks(false);
    assert!(async_ticks > 10, "{async_ticks} ticks");
}

#[test]
fn sixteen_concurrent_call_tasks_share_one_current_thread_runtime() {
    let client = connect();
    client
        .register("async.echo", |inv| {
            Ok(CallResult::from_values(inv.args, Default::default()))
        })
        .expect("register");
    let sums = within(Duration::from_secs(60), move || {
        current_thread().block_on(async move {
            let tasks: Vec<_> = (0..16_i64)
                .map(|task| {
                    let client = client.clone();
                    tokio::spawn(async move {
                        let mut sum = 0;
                        for n in 0..10 {
                            let result = client.call_async("async.echo", (task * 100 + n,));
                            let echoed: i64 = result.await.expect("call").arg(0).expect("int");
                            sum += echoed;
                        }
                        sum
                    })
                })
                .collect();
            let mut sums = Vec::new();
            for task in tasks {
                sums.push(task.await.expect("task"));
            }
            sums
        })
    });
    let expected: Vec<i64> = (0..16).map(|task| task * 1000 + 45).collect();
    assert_eq!(sums, expected);
}

#[test]
fn an_acknowledged_publish_returns_its_publication_id_on_every_executor() {
    let client = connect();
    on_every_executor(move || {
        let client = client.clone();
        async move {
            let acknowledged = PublishOptions::new().acknowledge(true);
            let id = client
                .publish_with_async("async.publish", ("hello",), (), &acknowledged)
                .await
                .expect("publish");
            assert!(id.is_some(), "no publication ID");
            let unacknowledged = client
                .publish_with_async("async.publish", ("hello",), (), &PublishOptions::new())
                .await
                .expect("publish");
            assert_eq!(unacknowledged, None);
            client
                .publish_async("async.publish", ("plain",))
                .await
                .expect("publish");
        }
    });
}

#[test]
fn register_and_subscribe_async_on_every_executor() {
    let client = connect();
    let round = Arc::new(AtomicU64::new(0));
    on_every_executor(move || {
        let client = client.clone();
        let round = round.fetch_add(1, Ordering::Relaxed);
        async move {
            let procedure = format!("async.reg.add{round}");
            let registration = client
                .register_async(&procedure, |inv| {
                    let (a, b): (i64, i64) = inv.args_as()?;
                    Ok(CallResult::value(a + b)?)
                })
                .await
                .expect("register");
            assert_eq!(registration.procedure(), procedure);
            let sum: i64 = client
                .call_kw_async(&procedure, (2, 3), ())
                .await
                .expect("call")
                .arg(0)
                .expect("int");
            assert_eq!(sum, 5);
            // A second registration of the same procedure is refused by the router.
            let again = client
                .register_async(&procedure, |_inv| Ok(CallResult::empty()))
                .await;
            assert_eq!(
                again.as_ref().err().and_then(Error::wamp_uri),
                Some("wamp.error.procedure_already_exists"),
                "{again:?}"
            );
            client.unregister(&registration).expect("unregister");

            let topic = format!("async.sub.news{round}");
            let (tx, events) = mpsc::channel();
            let tx = Mutex::new(tx);
            let subscription = client
                .subscribe_with_async(&topic, &SubscribeOptions::new(), move |event| {
                    let _ = tx.lock().expect("lock").send(event.args);
                })
                .await
                .expect("subscribe");
            let to_self = PublishOptions::new().exclude_me(false).acknowledge(true);
            client
                .publish_with_async(&topic, ("extra!",), (), &to_self)
                .await
                .expect("publish");
            let args = events
                .recv_timeout(Duration::from_secs(5))
                .expect("an event");
            assert_eq!(args, vec![Value::from("extra!")]);
            client.unsubscribe(&subscription).expect("unsubscribe");
        }
    });
}

#[test]
fn a_future_ends_with_timeout_at_its_deadline_with_no_other_traffic() {
    let callee = connect();
    let _interrupts = register_waiter(&callee, "async.timeout.wait");
    // A client of its own: nothing but the one request happens on it.
    let caller = connect();
    let timeout = Duration::from_millis(300);
    on_every_executor(move || {
        let caller = caller.clone();
        async move {
            let options = CallOptions::new().timeout(timeout);
            let started = Instant::now();
            let outcome = caller
                .call_with_async("async.timeout.wait", (), (), &options)
                .await;
            let took = started.elapsed();
            match outcome {
                Err(Error::Timeout { after, operation }) => {
                    assert_eq!(after, timeout);
                    assert_eq!(operation, "call async.timeout.wait");
                }
                other => panic!("expected a timeout, got {other:?}"),
            }
            assert!(took >= timeout, "ended early, after {took:?}");
            assert!(
                took < timeout + Duration::from_millis(700),
                "ended late, after {took:?}"
            );
        }
    });
}

#[test]
fn a_dropped_call_future_cancels_the_call_at_the_callee() {
    let callee = connect();
    let interrupts = register_waiter(&callee, "async.drop.wait");
    let caller = connect();
    // Dropped by hand once the callee runs.
    let pending = caller.call_async("async.drop.wait", ());
    std::thread::sleep(Duration::from_millis(300));
    drop(pending);
    assert_eq!(
        interrupts
            .recv_timeout(Duration::from_secs(5))
            .expect("the handler ended"),
        Some(CancelMode::KillNoWait)
    );
    // Dropped by a runtime's timeout, the usual way to give up on a future.
    let waited = within(Duration::from_secs(30), move || {
        current_thread().block_on(async move {
            let call = caller.call_async("async.drop.wait", ());
            tokio::time::timeout(Duration::from_millis(300), call).await
        })
    });
    assert!(waited.is_err(), "the call ended by itself: {waited:?}");
    assert_eq!(
        interrupts
            .recv_timeout(Duration::from_secs(5))
            .expect("the handler ended"),
        Some(CancelMode::KillNoWait)
    );
}

#[test]
fn a_dropped_register_future_leaves_no_half_made_registration() {
    let client = connect();
    let other = connect();
    drop(client.register_async("async.drop.register", |_inv| Ok(CallResult::value("ours")?)));
    // Either the router's confirmation came after the drop, and the registration was
    // undone (another client may then register the procedure), or it came first and
    // the registration stays whole (a call reaches our handler). Never a
    // registration at the router without its handler here.
    // (Until the undo reaches the router, the procedure is taken and calls fail.)
    let settled = wait_until(Duration::from_secs(5), || {
        other
            .register("async.drop.register", |_inv| {
                Ok(CallResult::value("other")?)
            })
            .is_ok()
            || other
                .call("async.drop.register", ())
                .is_ok_and(|answer| answer.args == vec![Value::from("ours")])
    });
    assert!(
        settled,
        "a registration without its handler was left behind"
    );
}

#[test]
fn errors_found_before_sending_come_out_of_the_future() {
    let client = connect();
    on_every_executor(move || {
        let client = client.clone();
        async move {
            let outcome = client.call_async("not a uri!", ()).await;
            assert!(matches!(outcome, Err(Error::InvalidUri(_))), "{outcome:?}");
        }
    });
}
