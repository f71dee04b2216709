//! A call to one of our procedures, as its handler sees it: the arguments, who
//! called, and the ways back to the caller beyond the result — progressive results,
//! the caller's cancel (INTERRUPT), and the further chunks of a progressive call.

use super::details::InvocationDetails;
use super::payload::payload_accessors;
use super::ppt::Transparent;
use super::{CallResult, Client};
use crate::error::{Error, Result};
use crate::event_loop::{Command, InboundInvocation};
use crate::id_map::IdMap;
use crate::proto::message::Payload;
use crate::proto::session::CancelMode;
use crate::proto::value::{Dict, Value};
use crate::sync::stream;
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a progressive result may wait for room in the loop's command queue.
const PROGRESS_WAIT: Duration = Duration::from_secs(60);

/// Whether the caller canceled an invocation, shared with the dispatcher that hears
/// of the INTERRUPT.
#[derive(Debug, Default)]
pub(crate) struct Interrupt {
    mode: Mutex<Option<CancelMode>>,
    raised: Condvar,
}

impl Interrupt {
    /// The caller canceled with `mode`.
    pub fn raise(&self, mode: CancelMode) {
        *self.mode.lock() = Some(mode);
        self.raised.notify_all();
    }

    fn mode(&self) -> Option<CancelMode> {
        *self.mode.lock()
    }
}

/// A chunk of a progressive call invocation.
pub(crate) type Chunk = Payload;

/// The most chunks of a progressive invocation that wait for its handler.
const CHUNK_BACKLOG: usize = 1024;

/// What the dispatcher keeps of an invocation, from its arrival until its handler
/// returns, to reach the handler with an INTERRUPT or further chunks.
struct Control {
    interrupt: Arc<Interrupt>,
    /// Where further chunks go, for a progressive invocation.
    chunks: Option<stream::Sender<Chunk>>,
    /// The chunks' receiving end, until the handler starts.
    receiver: Option<stream::Receiver<Chunk>>,
}

/// The controls of every invocation not yet answered, by request ID.
#[derive(Default)]
pub(crate) struct Controls {
    open: Mutex<IdMap<u64, Control>>,
}

impl Controls {
    /// An invocation arrived (under the loop's lock: bookkeeping only).
    pub fn open(&self, request: u64, details: &Dict) {
        let progressive = matches!(details.get("progress"), Some(Value::Bool(true)));
        let (chunks, receiver) = if progressive {
            let (sender, receiver) = stream::channel(CHUNK_BACKLOG);
            (Some(sender), Some(receiver))
        } else {
            (None, None)
        };
        let control = Control {
            interrupt: Arc::default(),
            chunks,
            receiver,
        };
        self.open.lock().insert(request, control);
    }

    /// The invocation is over (answered, refused, or dropped).
    pub fn close(&self, request: u64) {
        self.open.lock().remove(&request);
    }

    /// Every invocation is over (the client closed).
    pub fn close_all(&self) {
        self.open.lock().clear();
    }

    /// The caller canceled invocation `request`.
    pub fn interrupt(&self, request: u64, mode: CancelMode) {
        if let Some(control) = self.open.lock().get(&request) {
            control.interrupt.raise(mode);
        }
    }

    /// The next chunk of progressive invocation `request`.
    pub fn chunk(&self, request: u64, payload: Payload, last: bool) {
        if let Some(Control {
            chunks: Some(chunks),
            ..
        }) = self.open.lock().get(&request)
        {
            chunks.send(payload, last);
        }
    }

    /// The handler of `request` starts: its interrupt flag and chunk stream; `None`
    /// when the caller canceled it while it waited.
    fn start(&self, request: u64) -> Option<(Arc<Interrupt>, Option<stream::Receiver<Chunk>>)> {
        let mut open = self.open.lock();
        let control = open.get_mut(&request)?;
        if control.interrupt.mode().is_some() {
            open.remove(&request);
            return None;
        }
        Some((Arc::clone(&control.interrupt), control.receiver.take()))
    }
}

/// A call to one of our procedures, as passed to its handler.
///
/// ```no_run
/// use izaber_wamp::{CallResult, Client, ClientConfig};
/// use std::time::Duration;
///
/// let client = Client::connect(ClientConfig::new("ws://127.0.0.1:8080", "izaber"))?;
/// client.register("com.example.countdown", |inv| {
///     let n: u32 = inv.arg(0)?;
///     for i in (1..=n).rev() {
///         if inv.wait_interrupted(Duration::from_millis(100)) {
///             return Ok(CallResult::empty()); // the caller canceled; nobody listens
///         }
///         if inv.wants_progress() {
///             inv.progress(CallResult::value(i)?)?;
///         }
///     }
///     Ok(CallResult::value("liftoff")?)
/// })?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[non_exhaustive]
pub struct Invocation {
    /// Positional arguments (decoded from a transparent payload when possible).
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
    /// Who called what.
    pub details: InvocationDetails,
    /// The payload as sent, when the caller used payload transparency.
    pub transparent: Option<Transparent>,
    pub(crate) client: Client,
    pub(crate) request: u64,
    pub(crate) interrupt: Arc<Interrupt>,
    pub(crate) chunks: Option<stream::Receiver<Chunk>>,
}

impl Invocation {
    /// The invocation for `inbound`'s handler, registered under `registered`; `None`
    /// when the caller canceled it before it started.
    pub(crate) fn start(
        inbound: InboundInvocation,
        registered: &str,
        client: Client,
        controls: &Controls,
    ) -> Option<Self> {
        let (interrupt, chunks) = controls.start(inbound.request)?;
        let details = InvocationDetails::from_raw(inbound.details, registered);
        let (args, kwargs, transparent) =
            super::ppt::receive(&details.raw, inbound.payload.args, inbound.payload.kwargs);
        Some(Invocation {
            args,
            kwargs,
            details,
            transparent,
            client,
            request: inbound.request,
            interrupt,
            chunks,
        })
    }

    payload_accessors!();

    /// The client that received the call; use it to make calls from the handler
    /// (capturing a clone of the client in the handler would keep it alive forever).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether the caller asked for progressive results (`receive_progress`).
    pub fn wants_progress(&self) -> bool {
        matches!(
            self.details.raw.get("receive_progress"),
            Some(Value::Bool(true))
        )
    }

    /// Sends a progressive result; the handler's return value is the final one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] when the caller did not ask for progressive results,
    /// [`Error::Closed`] when the result cannot be handed over (the client is closed,
    /// or its connection stopped for good).
    pub fn progress(&self, result: CallResult) -> Result<()> {
        if !self.wants_progress() {
            return Err(Error::InvalidOption {
                option: "progress".into(),
                expected: "a call whose caller asked for progressive results".into(),
                found: "a call without receive_progress".into(),
            });
        }
        let payload = Payload::new(result.args, result.kwargs);
        let command = Command::Yield {
            request: self.request,
            result: Ok((payload, super::ppt::yield_options(&result.details))),
            progress: true,
        };
        self.client
            .inner
            .commands
            .send(command, Instant::now() + PROGRESS_WAIT)
            .map_err(|_| Error::Closed)
    }

    /// True once the caller canceled the call (the router sent INTERRUPT): its
    /// answer is no longer wanted, so the handler may stop.
    pub fn is_interrupted(&self) -> bool {
        self.interrupt.mode().is_some()
    }

    /// How the caller canceled the call, once it did.
    pub fn interrupt_mode(&self) -> Option<CancelMode> {
        self.interrupt.mode()
    }

    /// Waits up to `timeout` for the caller to cancel; true when it did.
    pub fn wait_interrupted(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut mode = self.interrupt.mode.lock();
        while mode.is_none() {
            if self
                .interrupt
                .raised
                .wait_until(&mut mode, deadline)
                .timed_out()
            {
                break;
            }
        }
        mode.is_some()
    }

    /// Whether the caller sends this call in chunks (a progressive call invocation):
    /// `args`/`kwargs` hold the first, [`next_chunk`](Self::next_chunk) the others.
    pub fn is_progressive(&self) -> bool {
        self.chunks.is_some()
    }

    /// The next chunk of a progressive call invocation, as `(args, kwargs)`; `None`
    /// once the last has been read (or for a call sent in one piece).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when no chunk comes within `timeout`;
    /// [`Error::WouldDeadlock`] in an inline handler, whose thread reads the chunks.
    pub fn next_chunk(&self, timeout: Duration) -> Result<Option<(Vec<Value>, Dict)>> {
        let Some(chunks) = &self.chunks else {
            return Ok(None);
        };
        self.client
            .inner
            .may_wait(|| "waiting for the next chunk of a progressive call".into())?;
        match chunks.recv_until(Instant::now() + timeout) {
            Ok(chunk) => Ok(Some((chunk.args, chunk.kwargs))),
            Err(stream::RecvError::Ended) => Ok(None),
            Err(stream::RecvError::Timeout) => Err(Error::Timeout {
                operation: "the next chunk of a progressive call".into(),
                after: timeout,
            }),
        }
    }
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("args", &self.args)
            .field("kwargs", &self.kwargs)
            .field("details", &self.details)
            .field("transparent", &self.transparent)
            .finish_non_exhaustive()
    }
}
