//! The blocking client handle.

mod config;
pub(crate) mod handler;
pub(crate) mod hooks;
mod options;
pub(crate) mod payload;
pub(crate) mod stats;

pub use config::{ClientConfig, ReconnectPolicy};
pub use handler::{
    CallResult, Event, EventDetails, HandlerError, HandlerResult, Invocation, InvocationDetails,
    Registration, Subscription,
};
pub use hooks::{ConnectionState, Hooks};
pub use options::{CallOptions, InvokePolicy, PublishOptions, RegisterOptions, SubscribeOptions};
pub use stats::Stats;

use crate::error::{Error, Result};
use crate::event_loop::{self, Command, CommandSender, ReplySender, SessionInfo, Status};
use crate::protocol::message::Payload;
use crate::protocol::session::Reply;
use parking_lot::Mutex;
use payload::{to_args, to_kwargs};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Extra wait beyond a request's timeout before the handle gives up on the event loop
/// itself; the loop enforces the real timeout, this only guards against a stuck loop.
const LOOP_GRACE: Duration = Duration::from_secs(5);
/// How long closing waits for the event loop to say GOODBYE and stop.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A connection to a WAMP router: cheap to clone, safe to share between threads.
///
/// Every method blocks until the router answers or the request's timeout passes.
/// Requests from many threads are multiplexed over the one connection. The
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
}

/// State shared by all clones of one client. Dropping it closes the connection.
pub(crate) struct ClientInner {
    commands: CommandSender,
    status: Arc<Status>,
    config: ClientConfig,
    closed: AtomicBool,
    io_thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.config.url)
            .field("realm", &self.inner.config.realm)
            .field("session", &self.session_id())
            .finish()
    }
}

impl Client {
    /// Connects to the router and joins the realm; fails if that does not happen
    /// within `config.connect_timeout`.
    pub fn connect(config: ClientConfig) -> Result<Client> {
        let (poll, receiver, commands) =
            event_loop::command_channel().map_err(|e| Error::Connect {
                url: config.url.clone(),
                detail: format!("cannot create the poller: {e}"),
            })?;
        let status = Arc::new(Status::default());
        let inner = Arc::new(ClientInner {
            commands: commands.clone(),
            status: Arc::clone(&status),
            config,
            closed: AtomicBool::new(false),
            io_thread: Mutex::new(None),
        });
        let thread = event_loop::start(
            &inner.config,
            Arc::downgrade(&inner),
            status,
            receiver,
            poll,
            commands,
        )?;
        *inner.io_thread.lock() = Some(thread);
        Ok(Client { inner })
    }

    pub(crate) fn from_inner(inner: Arc<ClientInner>) -> Client {
        Client { inner }
    }

    /// Where this client's commands go.
    pub(crate) fn commands(&self) -> &CommandSender {
        &self.inner.commands
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The current session ID, or `None` when not joined.
    pub fn session_id(&self) -> Option<u64> {
        self.inner
            .status
            .session
            .lock()
            .as_ref()
            .map(|s| s.session_id)
    }

    /// The joined session as the router described it, or `None` when not joined.
    pub fn session_info(&self) -> Option<SessionInfo> {
        self.inner.status.session.lock().clone()
    }

    /// True while the session is joined.
    pub fn is_connected(&self) -> bool {
        self.inner.status.session.lock().is_some()
    }

    /// Where the connection is: connecting, joined, reconnecting or closed.
    pub fn state(&self) -> ConnectionState {
        *self.inner.status.state.lock()
    }

    /// Message and request counters since the client was created.
    pub fn stats(&self) -> Stats {
        self.inner.status.counters.snapshot()
    }

    /// The client's life-cycle callbacks (shared with its configuration); hooks added
    /// here see the next join, leave or disconnect.
    pub fn hooks(&self) -> &Hooks {
        &self.inner.config.hooks
    }

    /// Calls `procedure` with positional `args` (a tuple, array or `Vec`; `()` for none).
    ///
    /// ```no_run
    /// # let client: izaber_wamp::Client = unimplemented!();
    /// let result = client.call("com.example.add", (1, 2))?;
    /// let sum: i64 = result.arg(0)?;
    /// # Ok::<(), izaber_wamp::Error>(())
    /// ```
    pub fn call(&self, procedure: &str, args: impl Serialize) -> Result<CallResult> {
        self.call_with(procedure, args, (), &CallOptions::default())
    }

    /// Calls `procedure` with positional and keyword arguments (`kwargs`: a struct or map).
    pub fn call_kw(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<CallResult> {
        self.call_with(procedure, args, kwargs, &CallOptions::default())
    }

    /// Calls `procedure` with arguments and options such as a per-call timeout. When the
    /// timeout passes the call fails with [`Error::Timeout`] and the router is asked to
    /// cancel it; a late result is discarded.
    pub fn call_with(
        &self,
        procedure: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &CallOptions,
    ) -> Result<CallResult> {
        let payload = Payload::new(to_args(&args)?, to_kwargs(&kwargs)?);
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let operation = || format!("call {procedure}");
        let reply = self.request(timeout, operation, |reply| Command::Call {
            procedure: procedure.to_owned(),
            options: options.to_dict(),
            payload,
            timeout,
            reply,
        })?;
        match reply {
            Reply::Result { details, payload } => Ok(CallResult {
                args: payload.args,
                kwargs: payload.kwargs,
                details,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// Registers `handler` for `procedure`. The handler runs on a worker thread and may
    /// itself use the client (through [`Invocation::client`]).
    pub fn register<F>(&self, procedure: &str, handler: F) -> Result<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        self.register_with(procedure, &RegisterOptions::default(), handler)
    }

    /// Registers `handler` for `procedure` with options (match policy, shared
    /// registration, force_reregister).
    pub fn register_with<F>(
        &self,
        procedure: &str,
        options: &RegisterOptions,
        handler: F,
    ) -> Result<Registration>
    where
        F: Fn(Invocation) -> HandlerResult + Send + Sync + 'static,
    {
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let reply = self.request(
            timeout,
            || format!("register {procedure}"),
            |reply| Command::Register {
                procedure: procedure.to_owned(),
                options: options.to_dict(),
                handler: Arc::new(handler),
                timeout,
                reply,
            },
        )?;
        match reply {
            Reply::Registered(id) => Ok(Registration {
                id,
                procedure: procedure.to_owned(),
            }),
            other => Err(unexpected(other)),
        }
    }

    /// Removes a registration.
    pub fn unregister(&self, registration: &Registration) -> Result<()> {
        let timeout = self.inner.config.timeout;
        let operation = || format!("unregister {}", registration.procedure);
        self.request(timeout, operation, |reply| Command::Unregister {
            registration: registration.id,
            timeout,
            reply,
        })
        .map(drop)
    }

    /// Subscribes `handler` to `topic`. Events of one subscription reach its handler one
    /// at a time, in the order they arrived, on a worker thread.
    pub fn subscribe<F>(&self, topic: &str, handler: F) -> Result<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        self.subscribe_with(topic, &SubscribeOptions::default(), handler)
    }

    /// Subscribes with options (match policy, retained events).
    pub fn subscribe_with<F>(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        handler: F,
    ) -> Result<Subscription>
    where
        F: Fn(Event) + Send + Sync + 'static,
    {
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let reply = self.request(
            timeout,
            || format!("subscribe {topic}"),
            |reply| Command::Subscribe {
                topic: topic.to_owned(),
                options: options.to_dict(),
                handler: Arc::new(handler),
                timeout,
                reply,
            },
        )?;
        match reply {
            Reply::Subscribed(id) => Ok(Subscription {
                id,
                topic: topic.to_owned(),
            }),
            other => Err(unexpected(other)),
        }
    }

    /// Removes a subscription.
    pub fn unsubscribe(&self, subscription: &Subscription) -> Result<()> {
        let timeout = self.inner.config.timeout;
        let operation = || format!("unsubscribe {}", subscription.topic);
        self.request(timeout, operation, |reply| Command::Unsubscribe {
            subscription: subscription.id,
            timeout,
            reply,
        })
        .map(drop)
    }

    /// Publishes an event with positional `args`, without acknowledgement: returns once
    /// the event is handed to the connection.
    pub fn publish(&self, topic: &str, args: impl Serialize) -> Result<()> {
        self.publish_with(topic, args, (), &PublishOptions::default())
            .map(drop)
    }

    /// Publishes an event with positional and keyword arguments, without acknowledgement.
    pub fn publish_kw(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
    ) -> Result<()> {
        self.publish_with(topic, args, kwargs, &PublishOptions::default())
            .map(drop)
    }

    /// Publishes an event with options. With `acknowledge`, waits for the router and
    /// returns `Some(publication_id)`; otherwise returns `None` once the event is sent.
    pub fn publish_with(
        &self,
        topic: &str,
        args: impl Serialize,
        kwargs: impl Serialize,
        options: &PublishOptions,
    ) -> Result<Option<u64>> {
        let payload = Payload::new(to_args(&args)?, to_kwargs(&kwargs)?);
        let timeout = options.timeout.unwrap_or(self.inner.config.timeout);
        let reply = self.request(
            timeout,
            || format!("publish {topic}"),
            |reply| Command::Publish {
                topic: topic.to_owned(),
                options: options.to_dict(),
                payload,
                timeout,
                reply,
            },
        )?;
        match reply {
            Reply::Published(id) => Ok(options.acknowledge.then_some(id)),
            other => Err(unexpected(other)),
        }
    }

    /// Leaves the session with GOODBYE and closes the connection. Every clone of this
    /// client is closed; later requests fail with [`Error::Closed`].
    pub fn close(&self) -> Result<()> {
        self.inner.shutdown();
        Ok(())
    }

    fn request(
        &self,
        timeout: Duration,
        operation: impl FnOnce() -> String,
        build: impl FnOnce(ReplySender) -> Command,
    ) -> Result<Reply> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let (reply, outcome) = crate::oneshot::channel();
        if self.inner.commands.send(build(reply)).is_err() {
            return Err(self.inner.ended());
        }
        match outcome.recv_timeout(timeout.saturating_add(LOOP_GRACE)) {
            Ok(result) => result,
            Err(crate::oneshot::RecvError::Timeout) => Err(Error::Timeout {
                operation: operation(),
                after: timeout,
            }),
            Err(crate::oneshot::RecvError::Disconnected) => Err(self.inner.ended()),
        }
    }
}

impl ClientInner {
    /// Why requests can no longer be made.
    fn ended(&self) -> Error {
        self.status
            .ended
            .lock()
            .clone()
            .unwrap_or_else(|| Error::ConnectionLost("the event loop stopped".into()))
    }

    /// Says GOODBYE and waits (bounded) for the event loop to stop. Idempotent.
    fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let (done, stopped) = crossbeam_channel::bounded::<()>(0);
        if self.commands.send(Command::Close { done }).is_err() {
            return;
        }
        // Loop code (which runs only while holding the loop's lock, on the I/O thread
        // or any other) must never wait for the loop's end.
        if crate::wake::in_locked_section() {
            return;
        }
        // `done` is dropped when the loop stops; nothing is ever sent on it.
        let _ = stopped.recv_timeout(CLOSE_WAIT);
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

fn unexpected(reply: Reply) -> Error {
    Error::ProtocolViolation(format!("unexpected reply {reply:?}"))
}
