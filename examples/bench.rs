//! Measures the performance targets against a running router:
//!
//! * sequential call latency (caller and callee are separate clients), compared with
//!   the same CALL/RESULT exchange done with a bare blocking WebSocket and no threads;
//! * calls per second from 16 threads sharing one client;
//! * events per second delivered to one subscriber;
//! * CPU time per message and the resident memory of an idle client.
//!
//! ```text
//! cargo run --release --example bench -- ws://127.0.0.1:18080 [seconds-per-test]
//! ```

use izaber_wamp::protocol::message::Payload;
use izaber_wamp::protocol::session::{Output, Session, SessionConfig};
use izaber_wamp::{CallResult, Client, ClientConfig, Dict, Serializer, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:18080".into());
    let seconds: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3.0);
    let run_for = Duration::from_secs_f64(seconds);
    let config = ClientConfig::new(&url, "izaber").with_serializers(&[Serializer::MsgPack]);

    let idle = Client::connect(config.clone())?;
    std::thread::sleep(Duration::from_millis(200));
    println!("idle client resident memory: {:.1} MB", rss_mb());
    drop(idle);

    let callee = Client::connect(config.clone())?;
    callee.register("bench.echo", |inv| {
        Ok(CallResult {
            args: inv.args,
            ..CallResult::default()
        })
    })?;
    let caller = Client::connect(config.clone())?;

    let baseline = bare_websocket_call_latency(&url, run_for)?;
    println!(
        "bare blocking WebSocket CALL/RESULT (no threads): {:.1} us",
        baseline
    );

    let (latency, cpu) = sequential_calls(&caller, run_for)?;
    println!(
        "sequential call: {latency:.1} us ({:.2}x the bare exchange), {cpu:.1} us CPU per call (both clients)",
        latency / baseline
    );

    let rate = parallel_calls(&caller, 16, run_for)?;
    println!("16 threads, one session: {rate:.0} calls/s");

    let (events, cpu) = event_rate(&config, run_for)?;
    println!("events to one subscriber: {events:.0} events/s, {cpu:.1} us CPU per event (publisher and subscriber)");
    Ok(())
}

fn sequential_calls(client: &Client, run_for: Duration) -> Result<(f64, f64), izaber_wamp::Error> {
    for _ in 0..200 {
        client.call("bench.echo", (1,))?;
    }
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < run_for {
        client.call("bench.echo", (calls,))?;
        calls += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    Ok((elapsed * 1e6 / calls as f64, cpu * 1e6 / calls as f64))
}

fn parallel_calls(
    client: &Client,
    threads: usize,
    run_for: Duration,
) -> Result<f64, izaber_wamp::Error> {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let client = client.clone();
            let done = Arc::clone(&done);
            std::thread::spawn(move || -> Result<(), izaber_wamp::Error> {
                while start.elapsed() < run_for {
                    client.call("bench.echo", (1,))?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().map_err(|_| izaber_wamp::Error::Closed)??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

fn event_rate(config: &ClientConfig, run_for: Duration) -> Result<(f64, f64), izaber_wamp::Error> {
    let subscriber = Client::connect(config.clone())?;
    let publisher = Client::connect(config.clone())?;
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    subscriber.subscribe("bench.events", move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    })?;
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < run_for {
        publisher.publish("bench.events", (sent,))?;
        sent += 1;
    }
    // Let delivery catch up; stop counting once nothing arrived for two seconds.
    let mut last = (received.load(Ordering::Relaxed), Instant::now());
    while last.0 < sent && last.1.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(50));
        let now = received.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    let (got, last_arrival) = last;
    let elapsed = (last_arrival - start).as_secs_f64();
    if got < sent {
        println!("  (received {got} of {sent} events)");
    }
    let cpu = cpu_seconds() - cpu_start;
    Ok((got as f64 / elapsed, cpu * 1e6 / got.max(1) as f64))
}

/// One CALL/RESULT exchange at a time on a blocking socket: the protocol cost alone.
fn bare_websocket_call_latency(
    url: &str,
    run_for: Duration,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(url)?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "wamp.2.msgpack".parse()?);
    let (mut socket, _) = tungstenite::connect(request)?;
    if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = socket.get_ref() {
        tcp.set_nodelay(true)?;
    }
    let config = SessionConfig {
        realm: "izaber".into(),
        auth: Vec::new(),
        agent: "bench".into(),
        serializer: Serializer::MsgPack,
        max_message_size: 1 << 24,
        authextra: Default::default(),
    };
    let mut session: Session<()> = Session::new(config);
    let mut exchange = |session: &mut Session<()>| -> Result<(), Box<dyn std::error::Error>> {
        while let Some(frame) = session.pop_transmit() {
            socket.send(tungstenite::Message::Binary(frame.into()))?;
        }
        loop {
            if let Some(output) = session.pop_output() {
                return match output {
                    Output::Closed(reason) => Err(format!("{reason:?}").into()),
                    _ => Ok(()),
                };
            }
            if let tungstenite::Message::Binary(frame) = socket.read()? {
                session.handle_frame(&frame);
            }
        }
    };
    exchange(&mut session)?; // WELCOME
    let mut call = |session: &mut Session<()>, n: i64| -> Result<(), Box<dyn std::error::Error>> {
        let payload = Payload::new(vec![Value::Int(n)], Dict::new());
        session.call(
            "bench.echo".into(),
            Dict::new(),
            payload,
            None,
            (),
            Instant::now(),
        );
        exchange(session)
    };
    for n in 0..200 {
        call(&mut session, n)?;
    }
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < run_for {
        call(&mut session, calls)?;
        calls += 1;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / calls as f64)
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User plus system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
