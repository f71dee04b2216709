//! A call in flight: started without blocking, read as it progresses, canceled at
//! will.

use super::payload::{to_args, to_kwargs};
use super::{CallResult, Client};
use crate::error::{Error, Result};
use crate::event_loop::{CallUpdate, Command, Operation, Token};
use crate::proto::message::Payload;
use crate::proto::session::{CancelMode, Reply};
use crate::sync::stream;
use crate::trace;
use serde::Serialize;
use std::fmt;
use std::time::{Duration, Instant};

/// How long a cancel or a chunk may wait for room in the loop's command queue.
const COMMAND_WAIT: Duration = Duration::from_secs(5);

/// A call in flight, from [`Client::start_call`] or [`Client::call_progress`].
///
/// As an iterator it yields the call's progressive results as they arrive (each
/// with [`CallResult::is_progress`] true) and then its final result, or an error,
/// and then ends. [`wait`](Call::wait) skips to the final result; [`cancel`]
/// ends the call with `wamp.error.canceled`. Dropping a call that is not over
/// cancels it (mode `killnowait`).
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// use izaber_wamp::CancelMode;
///
/// for step in client.call_progress("com.example.countdown", (3,))? {
///     let step = step?;
///     println!("{} {:?}", if step.is_progress() { "progress" } else { "result" }, step.args);
/// }
///
/// let call = client.start_call("com.example.slow", (), (), &Default::default())?;
/// call.cancel(CancelMode::Kill);
/// assert_eq!(call.wait().unwrap_err().wamp_uri(), Some("wamp.error.canceled"));
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
///
/// [`cancel`]: Call::cancel
pub struct Call {
    client: Client,
    key: Token,
    procedure: String,
    timeout: Duration,
    deadline: Instant,
    updates: stream::Receiver<CallUpdate>,
    over: bool,
    /// The call's `wamp.request` span: entered while waiting, ended with the outcome.
    span: trace::Span,
}

impl Call {
    pub(crate) fn new(
        client: Client,
        key: Token,
        procedure: String,
        timeout: Duration,
        deadline: Instant,
        updates: stream::Receiver<CallUpdate>,
        span: trace::Span,
    ) -> Self {
        Call {
            client,
            key,
            procedure,
            timeout,
            deadline,
            updates,
            over: false,
            span,
        }
    }

    /// Waits for the final result, skipping progressive ones.
    ///
    /// # Errors
    ///
    /// As [`Client::call`]: the callee's or router's error, [`Error::Timeout`] at the
    /// call's deadline, `wamp.error.canceled` after [`cancel`](Call::cancel).
    pub fn wait(mut self) -> Result<CallResult> {
        loop {
            match self.next() {
                Some(Ok(step)) if step.is_progress() => continue,
                Some(outcome) => return outcome,
                None => return Err(Error::Closed),
            }
        }
    }

    /// Cancels the call with `mode` (see [`CancelMode`]); it ends with
    /// `wamp.error.canceled`: at once for `skip` and `killnowait`, and for `kill` once
    /// the callee stops (within a few seconds whatever the router does).
    pub fn cancel(&self, mode: CancelMode) {
        if self.over {
            return;
        }
        let command = Command::Cancel {
            key: self.key,
            mode,
        };
        // If the loop is gone, the call has ended already.
        let _ = self
            .client
            .inner
            .commands
            .send(command, Instant::now() + COMMAND_WAIT);
    }

    /// Sends the next chunk of a progressive call invocation (a call started with
    /// [`CallOptions::progressive`](crate::CallOptions::progressive)); `last` ends the
    /// call's input.
    ///
    /// # Errors
    ///
    /// [`Error::Serialization`] for arguments that cannot be sent, [`Error::Closed`]
    /// when the client is closed.
    pub fn send_chunk(
        &self,
        args: impl Serialize,
        kwargs: impl Serialize,
        last: bool,
    ) -> Result<()> {
        let payload = Payload::new(to_args(&args)?, to_kwargs(&kwargs)?);
        let command = Command::CallChunk {
            key: self.key,
            payload,
            last,
        };
        self.client
            .inner
            .commands
            .send(command, Instant::now() + COMMAND_WAIT)
            .map_err(|_| Error::Closed)
    }

    /// Progressive results dropped because they were not read fast enough.
    pub fn dropped_progress(&self) -> u64 {
        self.updates.dropped()
    }
}

impl Iterator for Call {
    type Item = Result<CallResult>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.over {
            return None;
        }
        let _entered = self.span.enter();
        if let Err(refused) = self
            .client
            .inner
            .may_wait(|| format!("call {}", self.procedure))
        {
            self.cancel(CancelMode::KillNoWait);
            self.over = true;
            self.span.finish(&Err::<(), _>(refused.clone()));
            return Some(Err(refused));
        }
        let step = match self.updates.recv_until(self.deadline) {
            Ok(CallUpdate::Progress {
                mut details,
                payload,
            }) => {
                details.insert("progress".into(), true.into());
                return Some(Ok(CallResult::received(details, payload)));
            }
            Ok(CallUpdate::Done(Ok(Reply::Result { details, payload }))) => {
                Ok(CallResult::received(details, payload))
            }
            Ok(CallUpdate::Done(Ok(other))) => Err(Error::ProtocolViolation(format!(
                "unexpected reply {other:?}"
            ))),
            Ok(CallUpdate::Done(Err(error))) => Err(error),
            Err(stream::RecvError::Timeout) => {
                Err(Operation::call(&self.procedure).timed_out(self.timeout))
            }
            Err(stream::RecvError::Ended) => Err(self.client.inner.ended()),
        };
        self.over = true;
        self.span.finish(&step);
        Some(step)
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.over {
            self.span.record_outcome("canceled");
            self.cancel(CancelMode::KillNoWait);
        }
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("procedure", &self.procedure)
            .field("over", &self.over)
            .finish_non_exhaustive()
    }
}
