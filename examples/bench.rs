//! The cross-client benchmark: one client, one session, against a running router.
//!
//! It registers `bench.echo` (which returns its arguments) and measures:
//!
//! 1. `sequential_calls`: N calls one after the other;
//! 2. `parallel_calls`: N calls from 16 threads sharing the one client;
//! 3. `async_calls`: N calls from 16 tasks awaiting `call_async` on one thread
//!    (a `futures` local executor: the client needs no runtime, so the benchmark
//!    links none), sharing the one client;
//! 4. `events`: N events published (unacknowledged, `exclude_me: false`) to its own
//!    subscription on `bench.topic`, timed until all N arrived;
//! 5. `call_4mb`: calls with a 4 MiB binary argument;
//! 6. `idle_rss_mb`: the resident memory of the joined, idle client.
//!
//! With `--echo-url` it also times `raw_websocket_4mb`: the same 4 MiB echoed as one
//! binary message by a WebSocket echo server (a Crossbar `websocket-testee` worker in
//! `scripts/bench`), which is what the 4 MiB call costs the transport alone.
//!
//! Each phase reports operations per second, microseconds per operation and the CPU
//! time of this whole process (caller and callee sides) per operation; the call phases
//! also the 50th, 99th and 99.9th percentiles of each call's latency (`p50_us`,
//! `p99_us`, `p999_us`). The Python peers
//! in `bench/peers/` run the same workload and print the same JSON (`--json`), but for
//! `async_calls` (their `parallel_calls` are asyncio tasks already).
//!
//! ```text
//! cargo run --release --example bench -- --url ws://127.0.0.1:18080 -n 10000 [--json]
//! ```

use izaber_wamp::{
    CallResult, Client, ClientConfig, Dict, Error, PublishOptions, RegisterOptions, Serializer,
    SubscribeOptions, Value,
};
use serde_json::{json, Value as Json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench [--url URL] [--realm REALM] [--serializer json|msgpack|cbor] \
[-n N] [--big-n N] [--threads T] [--echo-url URL] [--only PHASE] [--handlers inline|pool] [--json]";

/// The phases, in the order they run and are shown.
const PHASES: [&str; 6] = [
    "sequential_calls",
    "parallel_calls",
    "async_calls",
    "events",
    "call_4mb",
    "raw_websocket_4mb",
];

/// Calls made before measuring, as the Python peers do.
const WARM_UP_CALLS: u64 = 50;

/// Size of the binary argument of the `call_4mb` phase.
const BIG_PAYLOAD: usize = 4 * 1024 * 1024;

/// Delivery stops being awaited when no event arrived for this long.
const EVENT_STALL: Duration = Duration::from_secs(10);

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench: {message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&options) {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// Command-line options; the same flags as the Python peers' scripts.
struct Options {
    url: String,
    realm: String,
    serializer: Serializer,
    calls: u64,
    big_calls: u64,
    threads: u64,
    echo_url: Option<String>,
    /// Run just this phase (for profiling one of them).
    only: Option<String>,
    /// Run the echo procedure and the event handler on the I/O thread (`inline`, the
    /// default: what the Python and tokio peers do on their one loop) or on the worker
    /// pool (`pool`, the default of `register` and `subscribe`).
    inline_handlers: bool,
    json: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            url: "ws://127.0.0.1:18080".into(),
            realm: "izaber".into(),
            serializer: Serializer::Json,
            calls: 10_000,
            big_calls: 5,
            threads: 16,
            echo_url: None,
            only: None,
            inline_handlers: true,
            json: false,
        };
        while let Some(flag) = args.next() {
            if flag == "--json" {
                options.json = true;
                continue;
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
            match flag.as_str() {
                "--url" => options.url = value.clone(),
                "--realm" => options.realm = value.clone(),
                "--serializer" => options.serializer = value.parse()?,
                "-n" => options.calls = number()?.max(1),
                "--big-n" => options.big_calls = number()?.max(1),
                "--threads" => options.threads = number()?.max(1),
                "--echo-url" => options.echo_url = Some(value.clone()),
                "--only" => options.only = Some(value.clone()),
                "--handlers" => {
                    options.inline_handlers = match value.as_str() {
                        "inline" => true,
                        "pool" => false,
                        other => return Err(format!("--handlers: {other}: inline or pool")),
                    }
                }
                other => return Err(format!("unknown flag {other}")),
            }
        }
        Ok(options)
    }
}

/// What one phase measured.
struct Phase {
    ops: u64,
    wall: Duration,
    cpu: Duration,
    /// How long each operation took, where each is timed on its own (calls).
    latencies: Vec<Duration>,
}

impl Phase {
    /// Runs `work`, which returns how long each operation it completed took, and
    /// times it.
    fn measure(work: impl FnOnce() -> Result<Vec<Duration>, Error>) -> Result<Phase, Error> {
        let cpu_start = process_cpu_time();
        let start = Instant::now();
        let latencies = work()?;
        Ok(Phase {
            ops: latencies.len() as u64,
            wall: start.elapsed(),
            cpu: process_cpu_time().saturating_sub(cpu_start),
            latencies,
        })
    }

    fn to_json(&self) -> Json {
        let ops = self.ops.max(1) as f64;
        let mut report = json!({
            "ops": self.ops,
            "seconds": self.wall.as_secs_f64(),
            "ops_per_s": self.ops as f64 / self.wall.as_secs_f64(),
            "us_per_op": self.wall.as_secs_f64() * 1e6 / ops,
            "cpu_us_per_op": self.cpu.as_secs_f64() * 1e6 / ops,
        });
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        for (key, fraction) in [("p50_us", 0.5), ("p99_us", 0.99), ("p999_us", 0.999)] {
            if let Some(latency) = percentile(&sorted, fraction) {
                report[key] = (latency.as_secs_f64() * 1e6).into();
            }
        }
        report
    }
}

/// The smallest latency at least `fraction` of `sorted` do not exceed.
fn percentile(sorted: &[Duration], fraction: f64) -> Option<Duration> {
    let rank = (sorted.len() as f64 * fraction).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}

/// Runs `operation`, returning how long it took.
fn timed(operation: impl FnOnce() -> Result<(), Error>) -> Result<Duration, Error> {
    let start = Instant::now();
    operation()?;
    Ok(start.elapsed())
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let config = ClientConfig::new(&options.url, &options.realm)
        .with_serializers(&[options.serializer])
        .with_max_message_size(64 * 1024 * 1024);
    let client = Client::connect(config)?;
    let echo = RegisterOptions::new().inline(options.inline_handlers);
    client.register_with("bench.echo", &echo, |invocation| {
        Ok(CallResult::from_values(invocation.args, Dict::new()))
    })?;
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss_mb = resident_memory_mb();
    sequential_calls(&client, WARM_UP_CALLS)?;

    let mut results = serde_json::Map::new();
    for phase in PHASES {
        if options.only.as_deref().is_some_and(|only| only != phase) {
            continue;
        }
        let report = match phase {
            "sequential_calls" => {
                Phase::measure(|| sequential_calls(&client, options.calls))?.to_json()
            }
            "parallel_calls" => {
                let parallel =
                    Phase::measure(|| parallel_calls(&client, options.calls, options.threads))?;
                let mut report = parallel.to_json();
                report["threads"] = options.threads.into();
                report
            }
            "async_calls" => {
                let tasks = options.threads;
                let concurrent = Phase::measure(|| async_calls(&client, options.calls, tasks))?;
                let mut report = concurrent.to_json();
                report["tasks"] = tasks.into();
                report
            }
            "events" => events(&client, options.calls, options.inline_handlers)?,
            "call_4mb" => Phase::measure(|| big_calls(&client, options.big_calls))?.to_json(),
            _ => match &options.echo_url {
                Some(echo_url) => raw_websocket_echo(echo_url, options.big_calls)
                    .map_or_else(|e| json!({ "error": e.to_string() }), |p| p.to_json()),
                None => continue,
            },
        };
        results.insert(phase.into(), report);
    }
    client.close()?;

    let report = json!({
        "client": "izaber-wamp",
        "version": env!("CARGO_PKG_VERSION"),
        "serializer": options.serializer.name(),
        "n": options.calls,
        "idle_rss_mb": idle_rss_mb,
        "results": results,
    });
    if options.json {
        println!("{report}");
    } else {
        print_table(&report);
    }
    Ok(())
}

fn sequential_calls(client: &Client, calls: u64) -> Result<Vec<Duration>, Error> {
    (0..calls)
        .map(|n| timed(|| client.call("bench.echo", (n,)).map(drop)))
        .collect()
}

/// `calls` calls in all, shared out among `threads` threads using clones of `client`.
fn parallel_calls(client: &Client, calls: u64, threads: u64) -> Result<Vec<Duration>, Error> {
    let workers: Vec<_> = (0..threads)
        .map(|thread| {
            let client = client.clone();
            let share = calls / threads + u64::from(thread < calls % threads);
            std::thread::spawn(move || sequential_calls(&client, share))
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.join().map_err(|_| Error::Closed)??);
    }
    Ok(latencies)
}

/// `calls` calls in all, shared out among `tasks` tasks on a local executor (every
/// task runs on this thread), each awaiting `call_async` one call after the other.
fn async_calls(client: &Client, calls: u64, tasks: u64) -> Result<Vec<Duration>, Error> {
    use futures::task::LocalSpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    let workers = (0..tasks)
        .map(|task| {
            let client = client.clone();
            let share = calls / tasks + u64::from(task < calls % tasks);
            spawner.spawn_local_with_handle(async move {
                let mut latencies = Vec::new();
                for n in 0..share {
                    let start = Instant::now();
                    client.call_async("bench.echo", (n,)).await?;
                    latencies.push(start.elapsed());
                }
                Ok::<_, Error>(latencies)
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::Closed)?;
    let mut latencies = Vec::new();
    for finished in pool.run_until(futures::future::join_all(workers)) {
        latencies.extend(finished?);
    }
    Ok(latencies)
}

/// Publishes `count` events to our own subscription and waits until all arrived (or
/// delivery stalls, in which case the phase reports how many did).
fn events(client: &Client, count: u64, inline: bool) -> Result<Json, Error> {
    let origin = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    // When the latest event arrived, in nanoseconds since `origin`: if some are lost,
    // the phase ends there, not after waiting for them.
    let last_arrival = Arc::new(AtomicU64::new(0));
    let (all_arrived, arrival) = crossbeam_channel::bounded::<()>(1);
    let (counter, arrived_at) = (Arc::clone(&received), Arc::clone(&last_arrival));
    let subscription = client.subscribe_with(
        "bench.topic",
        &SubscribeOptions::new().inline(inline),
        move |_event| {
            let nanos = u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
            arrived_at.fetch_max(nanos, Ordering::Relaxed);
            if counter.fetch_add(1, Ordering::Relaxed) + 1 == count {
                let _ = all_arrived.send(());
            }
        },
    )?;
    let publish = PublishOptions::new().exclude_me(false);
    let cpu_start = process_cpu_time();
    let publishing_began = origin.elapsed();
    for n in 0..count {
        client.publish_with("bench.topic", (n,), (), &publish)?;
    }
    let mut seen = 0;
    while arrival.recv_timeout(EVENT_STALL).is_err() {
        let now = received.load(Ordering::Relaxed);
        if now == seen {
            break;
        }
        seen = now;
    }
    let phase = Phase {
        ops: received.load(Ordering::Relaxed),
        wall: Duration::from_nanos(last_arrival.load(Ordering::Relaxed))
            .saturating_sub(publishing_began),
        cpu: process_cpu_time().saturating_sub(cpu_start),
        // Events are not timed one by one: only when the last arrived.
        latencies: Vec::new(),
    };
    client.unsubscribe(&subscription)?;
    let mut report = phase.to_json();
    report["received"] = phase.ops.into();
    Ok(report)
}

fn big_calls(client: &Client, calls: u64) -> Result<Vec<Duration>, Error> {
    let payload = Value::bytes(vec![0x5a; BIG_PAYLOAD]);
    (0..calls)
        .map(|_| {
            timed(|| {
                let echoed = client.call("bench.echo", (&payload,))?;
                let length = echoed
                    .args
                    .first()
                    .and_then(Value::as_bytes)
                    .map(<[u8]>::len);
                if length != Some(BIG_PAYLOAD) {
                    return Err(Error::Serialization(format!(
                        "bench.echo returned {length:?} bytes instead of {BIG_PAYLOAD}"
                    )));
                }
                Ok(())
            })
        })
        .collect()
}

/// The 4 MiB payload echoed as a bare WebSocket message: the transport's share of a
/// `call_4mb`.
fn raw_websocket_echo(url: &str, echoes: u64) -> Result<Phase, Box<dyn std::error::Error>> {
    let (mut socket, _) = tungstenite::connect(url)?;
    let payload = tungstenite::Bytes::from(vec![0x5a; BIG_PAYLOAD]);
    let mut failure = None;
    let phase = Phase::measure(|| {
        let mut latencies = Vec::new();
        for _ in 0..echoes {
            let start = Instant::now();
            let echoed = socket
                .send(tungstenite::Message::Binary(payload.clone()))
                .and_then(|()| socket.read());
            match echoed {
                Ok(message) if message.len() == BIG_PAYLOAD => latencies.push(start.elapsed()),
                Ok(message) => {
                    failure = Some(format!(
                        "echo of {} bytes instead of {BIG_PAYLOAD}",
                        message.len()
                    ));
                    break;
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        Ok(latencies)
    })?;
    let _ = socket.close(None);
    match failure {
        Some(message) => Err(message.into()),
        None => Ok(phase),
    }
}

fn print_table(report: &Json) {
    println!(
        "izaber-wamp {} ({} serializer, n = {})",
        report["version"].as_str().unwrap_or("?"),
        report["serializer"].as_str().unwrap_or("?"),
        report["n"]
    );
    println!(
        "{:<20} {:>8} {:>12} {:>12} {:>12} {:>10} {:>10} {:>10}",
        "phase", "ops", "ops/s", "us/op", "CPU us/op", "p50 us", "p99 us", "p99.9 us"
    );
    for name in PHASES {
        let phase = &report["results"][name];
        if phase.is_null() {
            continue;
        }
        {
            if let Some(error) = phase["error"].as_str() {
                println!("{name:<20} error: {error}");
                continue;
            }
            let number = |key: &str| phase[key].as_f64().unwrap_or(f64::NAN);
            println!(
                "{name:<20} {:>8} {:>12.0} {:>12.1} {:>12.1} {:>10.0} {:>10.0} {:>10.0}",
                phase["ops"],
                number("ops_per_s"),
                number("us_per_op"),
                number("cpu_us_per_op"),
                number("p50_us"),
                number("p99_us"),
                number("p999_us")
            );
        }
    }
    println!(
        "idle client resident memory: {:.1} MB",
        report["idle_rss_mb"].as_f64().unwrap_or(f64::NAN)
    );
}

/// Resident memory of this process, from /proc (Linux).
fn resident_memory_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User plus system CPU time of the whole process, all threads.
fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}
