//! Progressive call results, both sides.
//!
//! ```text
//! progress serve URI      registers URI: a call with [n] sends the progressive
//!                         results [1] ... [n], then the result ["done"]
//! progress call URI N     calls URI with [N] asking for progress; prints a line
//!                         `progress <args as JSON>` per progressive result, then
//!                         `result <args as JSON>`
//! ```
//!
//! The connection comes from `izaber.yaml` (or the `IZABER_YAML` variable); URIs are
//! taken as given.

mod common;

use izaber_wamp::{CallResult, Error};

fn main() {
    common::main(run);
}

fn usage() -> Error {
    Error::Config("usage: progress serve URI | progress call URI N".into())
}

fn run() -> izaber_wamp::Result<()> {
    let args = common::args();
    izaber_wamp::initialize()?;
    let wamp = izaber_wamp::wamp()?;
    let client = wamp.absolute();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve", uri] => common::serve(client, uri, |inv| {
            let n: u64 = inv.arg(0)?;
            if inv.wants_progress() {
                for i in 1..=n {
                    inv.progress(CallResult::value(i)?)?;
                }
            }
            Ok(CallResult::value("done")?)
        })?,
        ["call", uri, n] => {
            let n: u64 = n.parse().map_err(|_| usage())?;
            for step in client.call_progress(uri, (n,))? {
                let step = step?;
                let args = serde_json::to_string(&step.args)
                    .map_err(|e| Error::Serialization(e.to_string()))?;
                let what = if step.is_progress() {
                    "progress"
                } else {
                    "result"
                };
                println!("{what} {args}");
            }
        }
        _ => return Err(usage()),
    }
    wamp.close()
}
