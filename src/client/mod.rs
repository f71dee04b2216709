//! The client handle.
//!
//! * `requests.rs`: the request methods (`call`, `register`, `publish`, ...) and the
//!   builders of their requests.
//! * `async_requests.rs`: their async forms (`call_async`, ...) and [`ReplyFuture`].
//! * `pending.rs`: a request from its building to its answer, waited on blocking
//!   or polled as a future.
//! * `dispatch.rs`: running handlers and hooks on the worker pool.
//! * `config.rs`, `options.rs`: connection settings and per-request options.
//! * `handler.rs`: what handlers receive and return.

mod async_requests;
mod call;
mod concurrency;
mod config;
mod details;
mod dispatch;
pub(crate) mod handler;
pub(crate) mod hooks;
mod invocation;
mod options;
pub(crate) mod payload;
mod pending;
mod ppt;
mod requests;
mod scheduler;
mod session_info;
mod stats;

pub use async_requests::ReplyFuture;
pub use call::Call;
pub use concurrency::{Concurrency, InboundLimits, Overflow, QueueConfig, QueueLimits};
pub use config::{ClientConfig, ReconnectPolicy};
pub use details::{EventDetails, InvocationDetails};
pub use handler::{CallResult, Event, HandlerError, HandlerResult, Registration, Subscription};
pub use hooks::Hooks;
pub use invocation::Invocation;
pub use options::{CallOptions, InvokePolicy, PublishOptions, RegisterOptions, SubscribeOptions};
pub use ppt::{Ppt, Transparent};
pub use session_info::SessionInfo;
pub use stats::{QueueStats, Stats};

use crate::error::{Error, Result};
use crate::event_loop::{self, Command, CommandSender, ConnectionState, Status};
use crate::proto::id::SessionId;
use dispatch::{DispatchSettings, Dispatcher};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long closing waits for the event loop to say GOODBYE and stop.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A connection to a WAMP router: cheap to clone, safe to share between threads.
///
/// Every method blocks until the router answers or the request's timeout passes,
/// but the `*_async` forms ([`call_async`](Client::call_async), ...), which return a
/// [`ReplyFuture`] instead (see [Using it from async
/// code](crate#using-it-from-async-code)). Requests from many threads and tasks are
/// multiplexed over the one connection. The
/// connection closes (with a GOODBYE) on [`close`](Client::close) or when the last
/// clone is dropped.
///
/// ```no_run
/// use izaber_wamp::{Client, ClientConfig, CallResult};
///
/// let client = Client::connect(ClientConfig::new("ws://127.0.0.1:8080", "izaber"))?;
/// client.register("com.example.add", |inv| {
///     let (a, b): (i64, i64) = inv.args_as()?;
///     CallResult::value(a + b).map_err(Into::into)
/// })?;
/// let sum: i64 = client.call("com.example.add", (2, 3))?.arg(0)?;
/// assert_eq!(sum, 5);
/// client.close()?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
    /// The prefix of this handle's URIs, if it takes them relative to one.
    uri_base: Option<Arc<str>>,
}

/// State shared by all clones of one client. Dropping it closes the connection.
pub(crate) struct ClientInner {
    commands: CommandSender,
    status: Arc<Status>,
    config: ClientConfig,
    dispatcher: Arc<Dispatcher>,
    /// The last local ID given to a registration or subscription.
    last_local_id: AtomicU64,
    closed: AtomicBool,
    io_thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.config.url)
            .field("realm", &self.inner.config.realm)
            .field("session", &self.session_id())
            .field("uri_base", &self.uri_base)
            .finish()
    }
}

impl Client {
    /// Connects to the router and joins the realm.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] when the router cannot be reached, [`Error::Abort`] when it
    /// refuses the session (e.g. wrong credentials), [`Error::Timeout`] when joining
    /// takes longer than `config.connect_timeout`, [`Error::Config`] and
    /// [`Error::FeatureDisabled`] for a configuration this build cannot use.
    pub fn connect(config: ClientConfig) -> Result<Client> {
        let settings = config.loop_settings()?;
        let status = Arc::new(Status::default());
        let (commands, prepared) = event_loop::prepare(&config.url)?;
        let dispatch = DispatchSettings {
            hooks: config.hooks.clone(),
            failure_uri: config.handler_failure_uri.clone(),
            max_threads: config.max_handler_threads,
            concurrency: config.concurrency.clone(),
            inbound: config.inbound,
        };
        let wakeup = commands.wakeup();
        let inner = Arc::new_cyclic(|weak| ClientInner {
            commands,
            status: Arc::clone(&status),
            dispatcher: Arc::new(Dispatcher::new(weak.clone(), dispatch, wakeup)),
            config,
            last_local_id: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            io_thread: Mutex::new(None),
        });
        let inbox = Arc::clone(&inner.dispatcher) as Arc<dyn event_loop::Inbox>;
        let io_thread = event_loop::start(prepared, settings, inbox, status)?;
        *inner.io_thread.lock() = Some(io_thread);
        Ok(Client::from_inner(inner))
    }

    pub(crate) fn from_inner(inner: Arc<ClientInner>) -> Client {
        Client {
            inner,
            uri_base: None,
        }
    }

    /// A handle to the same connection whose URIs are relative to `uri_base`: every
    /// URI given to it gets `uri_base + "."` in front (nothing when `uri_base` is
    /// empty). This is how the izaber facade's [`Wamp`](crate::Wamp) prefixes URIs.
    ///
    /// ```no_run
    /// # let client: izaber_wamp::Client = unimplemented!();
    /// let relative = client.with_uri_base("com.izaber.wamp");
    /// assert_eq!(relative.full_uri("auth.whoami"), "com.izaber.wamp.auth.whoami");
    /// relative.call("auth.whoami", ())?; // calls com.izaber.wamp.auth.whoami
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    pub fn with_uri_base(&self, uri_base: &str) -> Client {
        let base = uri_base.trim_end_matches('.');
        Client {
            inner: Arc::clone(&self.inner),
            uri_base: (!base.is_empty()).then(|| base.into()),
        }
    }

    /// A handle to the same connection that takes URIs as given (no prefix).
    pub fn absolute(&self) -> Client {
        Client::from_inner(Arc::clone(&self.inner))
    }

    /// The prefix of this handle's URIs (empty when they are taken as given).
    pub fn uri_base(&self) -> &str {
        self.uri_base.as_deref().unwrap_or_default()
    }

    /// The URI this handle sends for `uri`: `uri_base + "." + uri`, or `uri` itself
    /// when the handle has no prefix. The one place the prefix rule lives.
    pub fn full_uri<'u>(&self, uri: &'u str) -> Cow<'u, str> {
        prefixed(self.uri_base(), uri)
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The current session ID, or `None` when not joined.
    pub fn session_id(&self) -> Option<SessionId> {
        self.inner
            .status
            .session
            .lock()
            .as_ref()
            .map(|s| SessionId::new(s.session_id))
    }

    /// The joined session as the router described it, or `None` when not joined.
    pub fn session_info(&self) -> Option<SessionInfo> {
        let joined = self.inner.status.session.lock().clone()?;
        Some(SessionInfo::from_welcome(joined.session_id, joined.details))
    }

    /// True while the session is joined.
    pub fn is_connected(&self) -> bool {
        self.inner.status.session.lock().is_some()
    }

    /// Where the connection is: connecting, joined, reconnecting or closed.
    pub fn state(&self) -> ConnectionState {
        *self.inner.status.state.lock()
    }

    /// Message, request and queue counters since the client was created.
    pub fn stats(&self) -> Stats {
        Stats::collect(&self.inner.status.counters, &self.inner.dispatcher)
    }

    /// Changes the limits of concurrency queue `name` at run time, for its
    /// registrations and subscriptions now and later (as Python izaber's
    /// `queue.configure(concurrency_max=...)`).
    ///
    /// ```no_run
    /// # let client: izaber_wamp::Client = unimplemented!();
    /// use izaber_wamp::QueueLimits;
    /// client.set_queue_limits("default", QueueLimits::new(4, Some(100)))?;
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when strict naming is on and `name` is not configured.
    pub fn set_queue_limits(&self, name: &str, limits: QueueLimits) -> Result<()> {
        self.inner.dispatcher.set_limits(name, limits)
    }

    /// The client's life-cycle callbacks (shared with its configuration); hooks added
    /// here see the next join, leave or disconnect.
    pub fn hooks(&self) -> &Hooks {
        &self.inner.config.hooks
    }

    /// Leaves the session with GOODBYE and closes the connection. Every clone of this
    /// client is closed; later requests fail with [`Error::Closed`].
    ///
    /// # Errors
    ///
    /// None so far; the `Result` leaves room for reporting a failed goodbye.
    pub fn close(&self) -> Result<()> {
        self.inner.shutdown();
        Ok(())
    }
}

/// `base + "." + uri`, or `uri` when `base` is empty: the izaber `uri_base` rule.
pub(crate) fn prefixed<'u>(base: &str, uri: &'u str) -> Cow<'u, str> {
    let base = base.trim_end_matches('.');
    if base.is_empty() {
        Cow::Borrowed(uri)
    } else {
        Cow::Owned(format!("{base}.{uri}"))
    }
}

impl ClientInner {
    /// Refuses to wait for the answer to `operation` on this client's I/O thread (in an
    /// inline handler), where the answer would never be read.
    ///
    /// # Errors
    ///
    /// [`Error::WouldDeadlock`] on the I/O thread.
    fn may_wait(&self, operation: impl FnOnce() -> String) -> Result<()> {
        if self.commands.on_io_thread() {
            return Err(Error::WouldDeadlock {
                operation: operation(),
            });
        }
        Ok(())
    }

    /// Why requests can no longer be made.
    fn ended(&self) -> Error {
        self.status
            .ended
            .lock()
            .clone()
            .unwrap_or_else(|| Error::ConnectionLost("the event loop stopped".into()))
    }

    /// A new local ID for a registration or subscription.
    fn next_local_id(&self) -> event_loop::LocalId {
        self.last_local_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Says GOODBYE and waits (bounded) for the event loop to stop. Idempotent.
    fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let (done, stopped) = crossbeam_channel::bounded::<()>(0);
        let deadline = std::time::Instant::now() + CLOSE_WAIT;
        if self
            .commands
            .send(Command::Close { done }, deadline)
            .is_err()
        {
            return;
        }
        // Loop code (which runs only while holding the loop's lock, on the I/O thread
        // or any other) must never wait for the loop's end.
        if crate::sync::lock::in_locked_section() || self.commands.on_io_thread() {
            return;
        }
        // `done` is dropped when the loop stops; nothing is ever sent on it.
        let _ = stopped.recv_deadline(deadline);
        if let Some(thread) = self.io_thread.lock().take() {
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::prefixed;

    #[test]
    fn prefixing_joins_with_one_dot_and_skips_an_empty_base() {
        assert_eq!(
            prefixed("com.izaber.wamp", "auth.whoami"),
            "com.izaber.wamp.auth.whoami"
        );
        assert_eq!(prefixed("com.izaber.wamp.", "x"), "com.izaber.wamp.x");
        assert_eq!(prefixed("", "auth.whoami"), "auth.whoami");
    }
}
