//! `wamp publish TOPIC [ARG]... [-k KEY=VALUE]...`

use super::Context;
use crate::args::PublishArgs;
use crate::failure::Failure;
use crate::stop::Outcome;
use crate::{input, output};
use izaber_wamp::PublishOptions;
use std::io::Write;

pub fn run(args: &PublishArgs, context: &Context) -> Result<Outcome, Failure> {
    let payload = input::payload(&args.payload, &mut std::io::stdin().lock())?;
    let mut options = PublishOptions::new().acknowledge(args.acknowledge);
    options.exclude_me = args.exclude_me;
    options.retain = args.retain;
    let client = context.connect()?;
    let doing = format!("publish {}", client.full_uri(&args.topic));
    let mut stdout = std::io::stdout().lock();
    for n in 0..args.repeat {
        if n > 0 && !args.interval.is_zero() {
            std::thread::sleep(args.interval);
        }
        let published = client
            .publish_with(&args.topic, &payload.args, &payload.kwargs, &options)
            .map_err(|e| Failure::request(doing.as_str(), e))?;
        if let Some(id) = published {
            let printed = writeln!(stdout, "{id}").and_then(|()| stdout.flush());
            if printed.as_ref().is_err_and(output::reader_gone) {
                break;
            }
            output::written(printed)?;
        }
    }
    Ok(Outcome::Done)
}
