//! Cancelling a call, both sides.
//!
//! ```text
//! cancel serve URI        registers URI with a handler that waits until it is
//!                         interrupted, then prints `interrupted` and returns
//! cancel call URI MODE    starts a call of URI, cancels it after 0.5 s with MODE
//!                         (skip, kill or killnowait) and prints `error <error URI>`
//!                         for the error the call ends with
//! ```
//!
//! The connection comes from `izaber.yaml` (or the `IZABER_YAML` variable); URIs are
//! taken as given.

mod common;

use izaber_wamp::{CallOptions, CallResult, CancelMode, Error};
use std::time::Duration;

fn main() {
    common::main(run);
}

fn usage() -> Error {
    Error::Config("usage: cancel serve URI | cancel call URI skip|kill|killnowait".into())
}

fn run() -> izaber_wamp::Result<()> {
    let args = common::args();
    izaber_wamp::initialize()?;
    let wamp = izaber_wamp::wamp()?;
    let client = wamp.absolute();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve", uri] => common::serve(client, uri, |inv| {
            while !inv.wait_interrupted(Duration::from_secs(60)) {}
            println!("interrupted");
            Ok(CallResult::empty())
        })?,
        ["call", uri, mode] => {
            let mode = match mode {
                "skip" => CancelMode::Skip,
                "kill" => CancelMode::Kill,
                "killnowait" => CancelMode::KillNoWait,
                _ => return Err(usage()),
            };
            let call = client.start_call(uri, (), (), &CallOptions::new())?;
            std::thread::sleep(Duration::from_millis(500));
            call.cancel(mode);
            match call.wait() {
                Ok(result) => println!("result {:?}", result.args),
                Err(e) => println!("error {}", e.wamp_uri().unwrap_or("(not a WAMP error)")),
            }
        }
        _ => return Err(usage()),
    }
    wamp.close()
}
