//! `wamp subscribe TOPIC`: one JSON line per event.

use super::{watch, Context};
use crate::args::SubscribeArgs;
use crate::failure::Failure;
use crate::json;
use crate::output;
use crate::stop::{Outcome, Stopper};
use izaber_wamp::{Event, SessionId, SubscribeOptions};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// An event as printed: what the router disclosed, nothing more.
#[derive(Serialize)]
struct EventLine<'e> {
    /// `null` only when the router sent a malformed topic.
    topic: Option<&'e str>,
    args: serde_json::Value,
    kwargs: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    publisher: Option<SessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    publisher_authid: Option<&'e str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    publisher_authrole: Option<&'e str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    retained: bool,
}

impl<'e> EventLine<'e> {
    fn new(event: &'e Event) -> Self {
        let details = &event.details;
        EventLine {
            topic: details.topic.as_deref(),
            args: json::list(&event.args),
            kwargs: json::dict(&event.kwargs),
            publisher: details.publisher,
            publisher_authid: details.publisher_authid.as_deref(),
            publisher_authrole: details.publisher_authrole.as_deref(),
            retained: details.retained == Some(true),
        }
    }
}

pub fn run(args: &SubscribeArgs, context: &Context) -> Result<Outcome, Failure> {
    if args.count == Some(0) {
        return Ok(Outcome::Done);
    }
    let stopper = context.stopper.clone();
    let client = context.connect_with(|config| watch::watch(config, stopper))?;
    let mut options = SubscribeOptions::new().match_policy(args.match_policy.policy());
    options.get_retained = args.get_retained;
    let printer = Printer {
        count: args.count,
        printed: AtomicU64::new(0),
        stopper: context.stopper.clone(),
    };
    client
        .subscribe_with(&args.topic, &options, move |event| printer.print(&event))
        .map_err(|e| Failure::request(format!("subscribe {}", client.full_uri(&args.topic)), e))?;
    if context.verbose > 0 {
        eprintln!("wamp: subscribed to {}", client.full_uri(&args.topic));
    }
    Ok(Outcome::Running {
        limit: args.duration,
    })
}

/// Prints events until `count` of them are out, then ends the command.
struct Printer {
    count: Option<u64>,
    printed: AtomicU64,
    stopper: Stopper,
}

impl Printer {
    /// Events of one subscription come one at a time, in order.
    fn print(&self, event: &Event) {
        let done_before = self.printed.load(Ordering::Relaxed);
        if self.count.is_some_and(|count| done_before >= count) {
            return; // the command is ending; the rest is not ours to print
        }
        let written = output::line(&mut std::io::stdout().lock(), &EventLine::new(event));
        if let Err(e) = written {
            return self.stopper.end(output::written(Err(e)));
        }
        let printed = self.printed.fetch_add(1, Ordering::Relaxed) + 1;
        if self.count.is_some_and(|count| printed >= count) {
            self.stopper.end(Ok(()));
        }
    }
}
