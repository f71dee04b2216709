//! `wamp register URI [-- COMMAND [ARG]...]`: answer calls by running a command, at
//! most `--concurrency` at once, or echo the arguments back.

use super::run_command::CommandLine;
use super::{watch, Context};
use crate::args::RegisterArgs;
use crate::failure::Failure;
use crate::stop::{Outcome, Stopper};
use izaber_wamp::{CallResult, Client, HandlerResult, Invocation, RegisterOptions, WampError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The error for calls beyond `--times`: the router tries another callee of a shared
/// registration, if there is one.
const UNAVAILABLE: &str = "wamp.error.unavailable";

/// How long the last answer of `--times` may take to go out before we leave anyway.
const LAST_ANSWER_WAIT: Duration = Duration::from_secs(5);

pub fn run(args: RegisterArgs, context: &Context) -> Result<Outcome, Failure> {
    let command = CommandLine::new(args.command, args.error_uri)?;
    if args.times == Some(0) {
        return Ok(Outcome::Done);
    }
    let stopper = context.stopper.clone();
    let client = context.connect_with(|config| watch::watch(config, stopper))?;
    let mut options = RegisterOptions::new().match_policy(args.match_policy.policy());
    options.invoke = args.invoke.map(|invoke| invoke.policy());
    let answerer = Answerer {
        command,
        slots: Slots::new(args.concurrency),
        times: args.times,
        taken: AtomicU64::new(0),
        answered: AtomicU64::new(0),
        stopper: context.stopper.clone(),
        verbose: context.verbose > 0,
    };
    client
        .register_with(&args.uri, &options, move |invocation| {
            answerer.answer(invocation)
        })
        .map_err(|e| Failure::request(format!("register {}", client.full_uri(&args.uri)), e))?;
    if context.verbose > 0 {
        eprintln!("wamp: registered {}", client.full_uri(&args.uri));
    }
    Ok(Outcome::Running { limit: None })
}

/// Answers invocations: runs the command (or echoes) within the concurrency limit,
/// and ends the command after `times` answers.
struct Answerer {
    command: Option<CommandLine>,
    slots: Slots,
    times: Option<u64>,
    /// Invocations taken on, in order of arrival.
    taken: AtomicU64,
    /// Invocations answered.
    answered: AtomicU64,
    stopper: Stopper,
    verbose: bool,
}

impl Answerer {
    fn answer(&self, invocation: Invocation) -> HandlerResult {
        let ticket = self.taken.fetch_add(1, Ordering::Relaxed) + 1;
        if self.times.is_some_and(|times| ticket > times) {
            return Err(WampError::new(UNAVAILABLE)
                .with_args(vec![
                    "this callee has answered all the calls it was started for".into(),
                ])
                .into());
        }
        if self.verbose {
            let details = &invocation.details;
            eprintln!(
                "wamp: call {ticket} of {} from session {}",
                details.procedure.as_deref().unwrap_or("?"),
                details
                    .caller
                    .map_or("(not disclosed)".into(), |c| c.to_string())
            );
        }
        let result = {
            let _slot = self.slots.take();
            match &self.command {
                Some(command) => command.answer(&invocation),
                None => Ok(CallResult::from_values(
                    invocation.args.clone(),
                    invocation.kwargs.clone(),
                )),
            }
        };
        let answered = self.answered.fetch_add(1, Ordering::Relaxed) + 1;
        if self.times == Some(answered) {
            end_after_this_answer(invocation.client(), self.stopper.clone());
        }
        result
    }
}

/// Ends the command once the answer being returned has gone out: the library sends
/// it right after the handler returns, so wait (briefly) until one more message has
/// been sent before leaving with a GOODBYE.
fn end_after_this_answer(client: &Client, stopper: Stopper) {
    let client = client.clone();
    let sent = client.stats().messages_sent;
    std::thread::spawn(move || {
        let deadline = Instant::now() + LAST_ANSWER_WAIT;
        while client.stats().messages_sent <= sent && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        stopper.end(Ok(()));
    });
}

/// A counting semaphore: at most `n` commands run at once; the others wait.
struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

/// A taken slot, given back on drop.
struct Slot<'s>(&'s Slots);

impl Slots {
    fn new(n: u32) -> Self {
        Slots {
            free: Mutex::new(n),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, u32> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Slot<'_> {
        let mut free = self.lock();
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.lock() += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn no_more_than_n_slots_are_taken_at_once() {
        let slots = Arc::new(Slots::new(2));
        let running = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
                std::thread::spawn(move || {
                    let _slot = slots.take();
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(*slots.lock(), 2);
    }
}
