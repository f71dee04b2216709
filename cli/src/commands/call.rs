//! `wamp call URI [ARG]... [-k KEY=VALUE]...`

use super::Context;
use crate::args::CallArgs;
use crate::failure::Failure;
use crate::stop::Outcome;
use crate::{input, output};
use izaber_wamp::CallOptions;

pub fn run(args: &CallArgs, context: &Context) -> Result<Outcome, Failure> {
    if args.progress {
        progressive_results()?;
    }
    let payload = input::payload(&args.payload, &mut std::io::stdin().lock())?;
    let client = context.connect()?;
    let result = client
        .call_with(
            &args.uri,
            &payload.args,
            &payload.kwargs,
            &CallOptions::new(),
        )
        .map_err(|e| Failure::request(format!("call {}", client.full_uri(&args.uri)), e))?;
    output::written(output::call_result(
        &mut std::io::stdout().lock(),
        &result,
        args.output,
    ))?;
    Ok(Outcome::Done)
}

/// Whether `--progress` can be honoured. izaber-wamp does not receive progressive call
/// results yet; once it does, this returns `Ok` and `run` prints each progressive
/// result as a JSON line as it arrives.
fn progressive_results() -> Result<(), Failure> {
    Err(Failure::usage(
        "progressive results are not supported by this build",
    ))
}
