//! When `wamp` stops, and how: the command runs on a worker thread while the main
//! thread waits for the first of its end, its `--duration`, or Ctrl-C/SIGTERM, then
//! leaves the session with a GOODBYE.
//!
//! Long-running commands (subscribe, register) return as soon as they are set up,
//! saying how long they may run; their handlers end them later through a [`Stopper`].

use crate::failure::{Failure, EXIT_INTERRUPTED};
use izaber_wamp::Client;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What a command returns once it is done or set up.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Finished: exit with 0.
    Done,
    /// Set up and running until a [`Stopper`] ends it, Ctrl-C, or the limit passes.
    Running { limit: Option<Duration> },
}

/// Why the main thread wakes up.
enum Wake {
    /// The command returned.
    Returned(Result<Outcome, Failure>),
    /// A running command ended by itself.
    Ended(Result<(), Failure>),
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// Ends a running command from any thread (e.g. a handler); cheap to clone.
#[derive(Clone)]
pub struct Stopper {
    wake: Sender<Wake>,
}

impl Stopper {
    /// Ends the command: exit 0 with `Ok`, else the failure's exit code.
    pub fn end(&self, result: Result<(), Failure>) {
        // Only the first wake-up counts; later ones find nobody listening.
        let _ = self.wake.send(Wake::Ended(result));
    }
}

/// The client of the running command, for the GOODBYE at the end; set once joined.
pub type Live = Arc<OnceLock<Client>>;

/// Runs `command` on a worker thread, waits for its end and returns the exit code.
/// `runs_until_stopped`: Ctrl-C is the command's normal end (0), not an interruption.
pub fn supervise(
    runs_until_stopped: bool,
    verbose: u8,
    command: impl FnOnce(Stopper, Live) -> Result<Outcome, Failure> + Send + 'static,
) -> u8 {
    let (wake, woken) = mpsc::channel();
    let interrupts = wake.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = interrupts.send(Wake::Interrupted);
    }) {
        // Not fatal: Ctrl-C then ends the process at once, as it would anyway.
        log::warn!("cannot catch Ctrl-C: {e}");
    }
    let live: Live = Arc::default();
    let stopper = Stopper { wake: wake.clone() };
    let worker_live = Arc::clone(&live);
    std::thread::spawn(move || {
        // A panic (a bug) must end the process, not leave it waiting forever; the
        // panic message is already on stderr.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| command(stopper, worker_live)))
            .unwrap_or_else(|_| Err(Failure::Local("wamp failed unexpectedly (a bug)".into())));
        let _ = wake.send(Wake::Returned(result));
    });
    let result = wait(&woken);
    // Leave with a GOODBYE, whatever the reason (the command may have done so already).
    if let Some(client) = live.get() {
        let _ = client.close();
    }
    match result {
        Some(Ok(())) => 0,
        Some(Err(failure)) => {
            crate::report(&failure, verbose);
            failure.exit_code()
        }
        None if runs_until_stopped => 0,
        None => EXIT_INTERRUPTED,
    }
}

/// Waits for the command's end; `None` when interrupted.
fn wait(woken: &Receiver<Wake>) -> Option<Result<(), Failure>> {
    let mut deadline: Option<Instant> = None;
    loop {
        let wake = match deadline {
            None => woken.recv().ok()?,
            Some(at) => match woken.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(wake) => wake,
                Err(RecvTimeoutError::Timeout) => return Some(Ok(())),
                Err(RecvTimeoutError::Disconnected) => return None,
            },
        };
        match wake {
            Wake::Returned(Ok(Outcome::Done)) | Wake::Ended(Ok(())) => return Some(Ok(())),
            Wake::Returned(Err(failure)) | Wake::Ended(Err(failure)) => return Some(Err(failure)),
            Wake::Returned(Ok(Outcome::Running { limit })) => {
                deadline = limit.map(|limit| Instant::now() + limit);
            }
            Wake::Interrupted => return None,
        }
    }
}
