//! The soak: a client under steady load while its Crossbar.io router is SIGKILLed and
//! restarted every 20 s. Four threads call a procedure of the client's own (through
//! the router), a subscriber counts events published every 10 ms, and every cycle
//! reports how long the client took to recover, its resident size, threads and file
//! descriptors.
//!
//! It fails when a cycle takes more than 5 s to recover (from the router being back
//! to a call answered), when a call takes longer than its timeout + 1 s, or when
//! threads, descriptors or resident size grow from cycle to cycle. Those are read in
//! the steady state, just before each kill. Handler threads are held to a bound of
//! their own instead: the pool grows with the work and shrinks back once its threads
//! are idle for 10 s, so their number at any moment depends on how the last seconds'
//! jobs fell (a job that comes while every worker is busy, or between two jobs, gets
//! a new thread).
//!
//! `SOAK_SECONDS` sets its length (default 60); `scripts/soak` runs it for minutes.

#![cfg(feature = "websocket")]

mod common;

use common::process::{count_entries, status_kb, threads_named};
use common::scenarios::wait_until;
use common::Router;
use izaber_wamp::{
    CallOptions, CallResult, Client, ClientConfig, PublishOptions, ReconnectPolicy, Serializer,
};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CYCLE: Duration = Duration::from_secs(20);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);
/// Threads calling the client's own procedure.
const CALLERS: usize = 4;
/// Handler threads this load may keep: one per caller's invocation and one for the
/// events, twice over for jobs that come while a worker is between two jobs. The
/// pool that kept every thread it ever had went past it within 12 minutes.
const HANDLER_THREADS: usize = 2 * (CALLERS + 1);
/// The handler pool's thread name, as /proc shows it (cut to 15 characters).
const HANDLER_THREAD: &str = "izaber-wamp-han";

/// What one cycle measured.
#[derive(Debug, Clone, Copy)]
struct Cycle {
    recovery: Duration,
    rss_kb: u64,
    /// Threads other than handler threads.
    threads: usize,
    handler_threads: usize,
    fds: usize,
}

/// The load: callers and a publisher, until `stop`; records the slowest call.
struct Load {
    stop: Arc<AtomicBool>,
    slowest_ms: Arc<AtomicU64>,
    answered: Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(client: &Client) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let slowest_ms = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for n in 0..CALLERS {
            let (client, stop) = (client.clone(), Arc::clone(&stop));
            let (slowest, answered) = (Arc::clone(&slowest_ms), Arc::clone(&answered));
            threads.push(std::thread::spawn(move || {
                let options = CallOptions::new().timeout(CALL_TIMEOUT);
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    if client.call_with("soak.echo", (n,), (), &options).is_ok() {
                        answered.fetch_add(1, Ordering::Relaxed);
                    } else {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let ms = started.elapsed().as_millis() as u64;
                    slowest.fetch_max(ms, Ordering::Relaxed);
                }
            }));
        }
        let (publisher, stop_publishing) = (client.clone(), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || {
            let options = PublishOptions::new().exclude_me(false);
            while !stop_publishing.load(Ordering::Relaxed) {
                let _ = publisher.publish_with("soak.tick", (), (), &options);
                std::thread::sleep(Duration::from_millis(10));
            }
        }));
        Load {
            stop,
            slowest_ms,
            answered,
            threads,
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("load thread");
        }
    }
}

#[test]
fn soak() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let router = Router::start();
    let config = ClientConfig::new(router.ws_url(), "izaber")
        .with_serializers(&[Serializer::Json])
        .with_ticket("test-user", "test-pass")
        .with_timeout(CALL_TIMEOUT)
        .with_reconnect(
            ReconnectPolicy::default()
                .with_initial_delay(Duration::from_millis(100))
                .with_max_delay(Duration::from_secs(1)),
        );
    let client = Client::connect(config).expect("connect");
    client
        .register("soak.echo", |inv| Ok(CallResult::new(inv.args, ())?))
        .expect("register");
    let events = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&events);
    let options = izaber_wamp::SubscribeOptions::new();
    client
        .subscribe_with("soak.tick", &options, move |_event| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .expect("subscribe");
    let load = Load::start(&client);
    let cycles = (seconds / CYCLE.as_secs()).max(2);
    let measured = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    for cycle in 1..=cycles {
        std::thread::sleep(CYCLE.saturating_sub(Duration::from_secs(4)));
        let handler_threads = threads_named(HANDLER_THREAD);
        let (rss_kb, threads, fds) = (
            status_kb("VmRSS"),
            count_entries("/proc/self/task").saturating_sub(handler_threads),
            count_entries("/proc/self/fd"),
        );
        router.kill();
        router.restart();
        let back = Instant::now();
        let before = load.answered.load(Ordering::Relaxed);
        let recovered = wait_until(RECOVERY_LIMIT * 2, || {
            load.answered.load(Ordering::Relaxed) > before
        });
        let recovery = back.elapsed();
        std::thread::sleep(Duration::from_secs(1));
        let m = Cycle {
            recovery,
            rss_kb,
            threads,
            handler_threads,
            fds,
        };
        println!(
            "cycle {cycle}: before the kill RSS {} kB, {} threads + {} handler threads, {} fds; \
             recovered in {:?}, {} events, slowest call {} ms",
            m.rss_kb,
            m.threads,
            m.handler_threads,
            m.fds,
            m.recovery,
            events.load(Ordering::Relaxed),
            load.slowest_ms.load(Ordering::Relaxed)
        );
        assert!(
            recovered,
            "cycle {cycle}: no call answered 10 s after the restart"
        );
        let events_before = events.load(Ordering::Relaxed);
        assert!(
            wait_until(RECOVERY_LIMIT, || events.load(Ordering::Relaxed)
                > events_before),
            "cycle {cycle}: no event arrived after the restart"
        );
        measured.lock().expect("lock").push(m);
    }
    let slowest = Duration::from_millis(load.slowest_ms.load(Ordering::Relaxed));
    load.stop();
    client.close().expect("close");
    println!("soak: {cycles} cycles in {:?}", started.elapsed());
    let measured = measured.lock().expect("lock");
    assert!(
        slowest <= CALL_TIMEOUT + Duration::from_secs(1),
        "a call took {slowest:?}, past its {CALL_TIMEOUT:?} timeout"
    );
    for (n, m) in measured.iter().enumerate() {
        assert!(
            m.recovery <= RECOVERY_LIMIT,
            "cycle {}: recovery took {:?}",
            n + 1,
            m.recovery
        );
    }
    for (n, m) in measured.iter().enumerate() {
        assert!(
            m.handler_threads <= HANDLER_THREADS,
            "cycle {}: {} handler threads for {CALLERS} callers and one subscriber",
            n + 1,
            m.handler_threads
        );
    }
    let first = measured[0];
    for (n, m) in measured.iter().enumerate().skip(1) {
        // Threads and descriptors come back to what they were; a few may be in flight
        // (a hook run, a connector thread just ending).
        assert!(
            m.threads <= first.threads + 2 && m.fds <= first.fds + 2,
            "cycle {}: {} threads (not counting handler threads) and {} fds, after {} and {} \
             in cycle 1",
            n + 1,
            m.threads,
            m.fds,
            first.threads,
            first.fds
        );
        assert!(
            m.rss_kb <= first.rss_kb + 8 * 1024,
            "cycle {}: RSS {} kB, after {} kB in cycle 1",
            n + 1,
            m.rss_kb,
            first.rss_kb
        );
    }
}
