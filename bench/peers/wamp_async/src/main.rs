//! The benchmark workload on wamp_async, a WAMP client for tokio.
//!
//! ```text
//! wamp-async-bench [--url ws://127.0.0.1:18080] [--realm izaber]
//!     [--serializer json|msgpack] [-n 10000] [--big-n 5] [--threads 16] [--json]
//! ```
//!
//! The same workload as `examples/bench.rs` and the Python peers (`bench/peers/`), and
//! the same JSON report (see `benchlib.py`): one session registers `bench.echo` and
//! then, calling itself, makes N calls one after the other and N calls from --threads
//! concurrent tokio tasks, each phase also with the percentiles of the single calls'
//! durations; N events are published (unacknowledged) and timed until all arrived; the
//! idle resident memory and the CPU time of the whole process per operation.
//!
//! Where wamp_async differs, the report says so:
//!
//! - Its `publish` takes no options, so it cannot ask for `exclude_me: false`: the
//!   events go to a second session of this process, which subscribes. The CPU time
//!   covers both sessions.
//! - Its payloads are `serde_json` values, which have no binary type: `call_4mb` is
//!   an error marked unsupported.
//! - It has no CBOR serializer: `--serializer cbor` is refused.
//!
//! Everything runs on one thread (a current-thread tokio runtime), as autobahn-python
//! runs on one asyncio loop; invocations of `bench.echo` run one after the other on a
//! task of their own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value as Json};
use wamp_async::{Client, ClientConfig, SerializerType, WampArgs, WampError, WampKwArgs};

const USAGE: &str = "usage: wamp-async-bench [--url URL] [--realm REALM] \
[--serializer json|msgpack] [-n N] [--big-n N] [--threads T] [--json]";

/// The version of wamp_async, as pinned in Cargo.toml.
const WAMP_ASYNC_VERSION: &str = "0.3.1";

/// Calls made before measuring, as the other clients do.
const WARM_UP_CALLS: u64 = 50;

/// Pause after joining, before the idle resident memory is read.
const SETTLE: Duration = Duration::from_millis(200);

/// The events phase ends when no event arrived for this long, so a lost event bounds
/// the run instead of hanging it.
const EVENT_STALL: Duration = Duration::from_secs(10);

/// The phases, in the order they run.
const PHASES: [&str; 4] = ["sequential_calls", "parallel_calls", "events", "call_4mb"];

type Failure = Box<dyn std::error::Error>;

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("wamp-async-bench: {message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(&options)),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        eprintln!("wamp-async-bench: {e}");
        std::process::exit(1);
    }
}

/// Command-line options: the flags of the other clients.
struct Options {
    url: String,
    realm: String,
    serializer: SerializerType,
    calls: u64,
    tasks: u64,
    json: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            url: "ws://127.0.0.1:18080".into(),
            realm: "izaber".into(),
            serializer: SerializerType::Json,
            calls: 10_000,
            tasks: 16,
            json: false,
        };
        while let Some(flag) = args.next() {
            if flag == "--json" {
                options.json = true;
                continue;
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || match value.parse::<u64>() {
                Ok(0) => Err(format!("{flag} must be at least 1")),
                Ok(number) => Ok(number),
                Err(e) => Err(format!("{flag} {value}: {e}")),
            };
            match flag.as_str() {
                "--url" => options.url = value.clone(),
                "--realm" => options.realm = value.clone(),
                "--serializer" => {
                    options.serializer = match value.as_str() {
                        "json" => SerializerType::Json,
                        "msgpack" => SerializerType::MsgPack,
                        "cbor" => return Err("wamp_async has no CBOR serializer".into()),
                        other => return Err(format!("unknown serializer {other}")),
                    }
                }
                "-n" | "--n" => options.calls = number()?,
                // Checked, but unused: there is no call_4mb to make (see above).
                "--big-n" => drop(number()?),
                "--threads" => options.tasks = number()?,
                other => return Err(format!("unknown flag {other}")),
            }
        }
        Ok(options)
    }

    fn serializer_name(&self) -> &'static str {
        match self.serializer {
            SerializerType::Json => "json",
            SerializerType::MsgPack => "msgpack",
        }
    }
}

async fn run(options: &Options) -> Result<(), Failure> {
    let session = Arc::new(join(options).await?);
    session
        .register("bench.echo", echo)
        .await
        .map_err(|e| format!("registering bench.echo: {e}"))?;
    tokio::time::sleep(SETTLE).await;
    let idle_rss_mb = resident_memory_mb();
    call_n(&session, WARM_UP_CALLS, &mut Vec::new()).await?;

    let mut results = Map::new();
    for phase in PHASES {
        let result = match phase {
            "sequential_calls" => sequential_calls(&session, options.calls).await,
            "parallel_calls" => parallel_calls(&session, options.calls, options.tasks).await,
            "events" => events(&session, options).await,
            _ => Ok(json!({
                "error": "wamp_async's payloads are serde_json values, which have no \
                          binary type: it cannot send a 4 MiB bytes argument",
                "unsupported": true,
            })),
        };
        let report = result.unwrap_or_else(|e| {
            eprintln!("wamp-async-bench: {phase} failed: {e}");
            json!({ "error": e.to_string() })
        });
        results.insert(phase.into(), report);
    }

    let report = json!({
        "client": "wamp_async",
        "version": WAMP_ASYNC_VERSION,
        "transport": "tokio-tungstenite 0.14, one-thread tokio runtime",
        "serializer": options.serializer_name(),
        "n": options.calls,
        "idle_rss_mb": (idle_rss_mb * 10.0).round() / 10.0,
        "results": results,
    });
    if options.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    match Arc::try_unwrap(session) {
        Ok(session) => session.disconnect().await,
        Err(_) => eprintln!("wamp-async-bench: a task still holds the session; not leaving"),
    }
    Ok(())
}

/// A session joined to the realm, its event loop and invocations running on tasks.
async fn join(options: &Options) -> Result<Client<'static>, Failure> {
    let config = ClientConfig::default().set_serializers(vec![options.serializer]);
    let (mut client, (event_loop, invocations)) = Client::connect(&options.url, Some(config))
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", options.url))?;
    tokio::spawn(event_loop);
    if let Some(mut invocations) = invocations {
        tokio::spawn(async move {
            while let Some(invocation) = invocations.recv().await {
                // The echo cannot fail; an error here is the YIELD not being sent,
                // which the caller sees.
                let _ = invocation.await;
            }
        });
    }
    client
        .join_realm(&options.realm)
        .await
        .map_err(|e| format!("cannot join {} at {}: {e}", options.realm, options.url))?;
    Ok(client)
}

async fn echo(
    args: Option<WampArgs>,
    kwargs: Option<WampKwArgs>,
) -> Result<(Option<WampArgs>, Option<WampKwArgs>), WampError> {
    Ok((args, kwargs))
}

/// `count` calls one after the other, each checked and its duration (in nanoseconds)
/// added to `durations`.
async fn call_n(
    session: &Client<'static>,
    count: u64,
    durations: &mut Vec<u64>,
) -> Result<(), Failure> {
    for i in 0..count {
        let start = Instant::now();
        let (args, _) = session
            .call("bench.echo", Some(vec![json!(i)]), None)
            .await
            .map_err(|e| format!("bench.echo({i}): {e}"))?;
        durations.push(nanos(start.elapsed()));
        if args.as_deref() != Some(&[json!(i)]) {
            return Err(format!("bench.echo({i}) returned {args:?}").into());
        }
    }
    Ok(())
}

async fn sequential_calls(session: &Client<'static>, calls: u64) -> Result<Json, Failure> {
    let mut durations = Vec::with_capacity(calls as usize);
    let watch = Stopwatch::start();
    call_n(session, calls, &mut durations).await?;
    Ok(watch.result(calls, Some(&mut durations)))
}

/// `calls` calls in all, shared out among `tasks` tasks on the one session.
async fn parallel_calls(
    session: &Arc<Client<'static>>,
    calls: u64,
    tasks: u64,
) -> Result<Json, Failure> {
    let watch = Stopwatch::start();
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let session = Arc::clone(session);
            let share = calls / tasks + u64::from(task < calls % tasks);
            tokio::spawn(async move {
                let mut durations = Vec::with_capacity(share as usize);
                call_n(&session, share, &mut durations)
                    .await
                    .map(|()| durations)
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut durations = Vec::with_capacity(calls as usize);
    let mut failure = None;
    for worker in workers {
        match worker.await {
            Ok(Ok(share)) => durations.extend(share),
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(e.to_string())),
        }
    }
    let mut result = watch.result(calls, Some(&mut durations));
    if let Some(e) = failure {
        return Err(e.into());
    }
    result["threads"] = tasks.into();
    Ok(result)
}

/// Publishes N events (unacknowledged) from the benchmark session to a second session,
/// which counts them; timed until the last arrived.
async fn events(session: &Client<'static>, options: &Options) -> Result<Json, Failure> {
    let count = options.calls;
    let subscriber = join(options).await?;
    let (subscription, mut queue) = subscriber
        .subscribe("bench.topic")
        .await
        .map_err(|e| format!("subscribing to bench.topic: {e}"))?;
    let counter = tokio::spawn(async move {
        let (mut received, mut last) = (0, None);
        while received < count {
            match tokio::time::timeout(EVENT_STALL, queue.recv()).await {
                Ok(Some(_event)) => {
                    received += 1;
                    last = Some(Instant::now());
                }
                Ok(None) => break, // the subscriber's connection ended
                Err(_stalled) => {
                    eprintln!(
                        "wamp-async-bench: {received} of {count} events after {} s \
                         without progress; giving up",
                        EVENT_STALL.as_secs()
                    );
                    break;
                }
            }
        }
        (received, last)
    });

    let watch = Stopwatch::start();
    for i in 0..count {
        session
            .publish("bench.topic", Some(vec![json!(i)]), None, false)
            .await
            .map_err(|e| format!("publishing event {i}: {e}"))?;
    }
    let (received, last) = counter.await?;
    let mut result = watch.result_until(received, last);
    result["received"] = received.into();
    result["note"] = "published by the benchmark session to a second session of the same \
                      process, which subscribed: wamp_async's publish cannot set \
                      exclude_me: false"
        .into();

    subscriber
        .unsubscribe(subscription)
        .await
        .map_err(|e| format!("unsubscribing: {e}"))?;
    subscriber.disconnect().await;
    Ok(result)
}

/// Wall-clock and process CPU time from its start to a phase's result.
struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            cpu: process_cpu_time(),
            wall: Instant::now(),
        }
    }

    /// The phase's numbers for `ops` operations ending now, with the percentiles of
    /// `durations` (nanoseconds, reordered) when given.
    fn result(&self, ops: u64, durations: Option<&mut Vec<u64>>) -> Json {
        let mut result = self.result_until(ops, Some(Instant::now()));
        if let Some(durations) = durations {
            durations.sort_unstable();
            for (key, percent) in [("p50_us", 50.0), ("p99_us", 99.0), ("p999_us", 99.9)] {
                result[key] = percentile_us(durations, percent).map_or(Json::Null, Json::from);
            }
        }
        result
    }

    /// The numbers for `ops` operations, the wall-clock time ending at `end` (e.g. the
    /// last event's arrival) and the CPU time now.
    fn result_until(&self, ops: u64, end: Option<Instant>) -> Json {
        let cpu = process_cpu_time().saturating_sub(self.cpu);
        let seconds = end.map_or(0.0, |end| (end - self.wall).as_secs_f64());
        if ops == 0 || seconds <= 0.0 {
            return json!({
                "ops": ops, "seconds": seconds, "ops_per_s": null,
                "us_per_op": null, "cpu_us_per_op": null,
            });
        }
        let ops_f = ops as f64;
        json!({
            "ops": ops,
            "seconds": round(seconds, 6),
            "ops_per_s": round(ops_f / seconds, 1),
            "us_per_op": round(seconds / ops_f * 1e6, 2),
            "cpu_us_per_op": round(cpu.as_secs_f64() / ops_f * 1e6, 2),
        })
    }
}

/// The nearest-rank percentile of sorted nanoseconds, in microseconds; None when empty.
fn percentile_us(sorted: &[u64], percent: f64) -> Option<f64> {
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    let nanos = sorted.get(rank.clamp(1, sorted.len()) - 1)?;
    Some(round(*nanos as f64 / 1e3, 1))
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Resident memory of this process in MB, from /proc (Linux); NaN elsewhere.
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
