//! Scenarios every transport and serializer must pass, shared by the test files.

use izaber_wamp::{CallResult, CancelMode, Client, Dict, HandlerResult, Invocation, Value};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// A procedure handler that answers with its own arguments.
pub fn echo(inv: Invocation) -> HandlerResult {
    Ok(CallResult::from_values(inv.args, inv.kwargs))
}

/// Registers `uri` as a procedure that waits (up to 10 s) until its caller cancels,
/// reporting each interrupt's mode (`None`: it was never interrupted).
pub fn register_waiter(client: &Client, uri: &str) -> mpsc::Receiver<Option<CancelMode>> {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .register(uri, move |inv| {
            inv.wait_interrupted(Duration::from_secs(10));
            let _ = tx.lock().expect("lock").send(inv.interrupt_mode());
            Ok(CallResult::value("finished anyway")?)
        })
        .expect("register");
    rx
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// `EF BB BF 00` and a 4 MB blob come back unchanged from `procedure`, registered
/// here as an echo.
pub fn binary_payloads_round_trip(client: &Client, procedure: &str) {
    client.register(procedure, echo).expect("register");
    let bom = Value::bytes(vec![0xEF, 0xBB, 0xBF, 0x00]);
    let blob: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let kwargs = Dict::from([("blob".to_string(), Value::bytes(blob.clone()))]);
    let result = client
        .call_kw(procedure, (bom.clone(), "text"), &kwargs)
        .expect("call");
    assert_eq!(result.args, vec![bom, Value::from("text")]);
    assert_eq!(
        result.kwargs.get("blob").and_then(Value::as_bytes),
        Some(&blob[..])
    );
}

/// 32 threads call `procedure` (registered here, squaring slowly) five times each,
/// all at once over the one client, and each gets its own answer.
pub fn thirty_two_threads_call_at_once(client: &Client, procedure: &str) {
    client
        .register(procedure, |inv| {
            let n: i64 = inv.arg(0)?;
            std::thread::sleep(Duration::from_millis(20));
            Ok(CallResult::value(n * n)?)
        })
        .expect("register");
    let threads: Vec<_> = (0..32i64)
        .map(|n| {
            let client = client.clone();
            let procedure = procedure.to_owned();
            std::thread::spawn(move || {
                for round in 0..5 {
                    let m = n * 100 + round;
                    let got: i64 = client
                        .call(&procedure, (m,))
                        .expect("call")
                        .arg(0)
                        .expect("i64");
                    assert_eq!(got, m * m);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}
