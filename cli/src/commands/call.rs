//! `wamp call URI [ARG]... [-k KEY=VALUE]... [--progress]`

use super::Context;
use crate::args::{CallArgs, OutputFormat};
use crate::failure::Failure;
use crate::stop::Outcome;
use crate::{input, output};
use izaber_wamp::{CallOptions, CallResult};

pub fn run(args: &CallArgs, context: &Context) -> Result<Outcome, Failure> {
    let payload = input::payload(&args.payload, &mut std::io::stdin().lock())?;
    let client = context.connect()?;
    let failed = |e| Failure::request(format!("call {}", client.full_uri(&args.uri)), e);
    let result = if args.progress {
        let options = CallOptions::new().receive_progress(true);
        let call = client
            .start_call(&args.uri, &payload.args, &payload.kwargs, &options)
            .map_err(failed)?;
        let mut last = None;
        for step in call {
            let step = step.map_err(failed)?;
            if step.is_progress() {
                print(&step, OutputFormat::Json)?;
            } else {
                last = Some(step);
            }
        }
        last.unwrap_or_else(CallResult::empty)
    } else {
        client
            .call_with(
                &args.uri,
                &payload.args,
                &payload.kwargs,
                &CallOptions::new(),
            )
            .map_err(failed)?
    };
    print(&result, args.output)?;
    Ok(Outcome::Done)
}

/// Prints one result and flushes it, so a pipe sees each progressive result at once.
fn print(result: &CallResult, format: OutputFormat) -> Result<(), Failure> {
    output::written(output::call_result(
        &mut std::io::stdout().lock(),
        result,
        format,
    ))
}
