//! Running handlers: the client handle's side of the event loop's [`Inbox`].
//!
//! The loop hands up invocations, events and life-cycle changes as protocol data,
//! under its lock; here they are queued and run on the worker pool, turned into
//! [`Invocation`]s and [`Event`]s only when their handler starts. This is also where
//! the handler policy lives: a panicking handler is caught, and its caller gets the
//! client's handler-failure error.
//!
//! Queued work holds no [`Client`], only a weak reference to it: a backlog does not
//! keep a connection alive after the user dropped the last handle.

use super::handler::{Event, EventDetails, HandlerError, Invocation, InvocationDetails};
use super::hooks::{HookEvent, Hooks};
use super::session_info::SessionInfo;
use super::{Client, ClientInner};
use crate::event_loop::{
    Admission, Command, InboundEvent, InboundInvocation, Inbox, LifeEvent, LocalId,
};
use crate::proto::message::Payload;
use crate::sync::lock::assert_unlocked;
use crate::sync::pool::{SerialQueue, WorkerPool};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// A procedure handler.
pub(crate) type ProcedureHandler = Arc<dyn Fn(Invocation) -> super::HandlerResult + Send + Sync>;

/// An event handler.
pub(crate) type EventHandler = Arc<dyn Fn(Event) + Send + Sync>;

/// How long a handler's YIELD may wait for room in the loop's command queue.
const YIELD_WAIT: Duration = Duration::from_secs(60);

/// A registered handler, by the local ID the loop knows it under.
enum Handler {
    Procedure {
        /// The registered URI, the procedure when the router does not say.
        uri: Arc<str>,
        handler: ProcedureHandler,
    },
    Topic {
        /// Events of one subscription are handled one at a time, in order.
        queue: Arc<SerialQueue<InboundEvent>>,
    },
}

/// The client handle's inbox: handlers by local ID, and the pool they run on.
pub(crate) struct Dispatcher {
    client: Weak<ClientInner>,
    handlers: RwLock<HashMap<LocalId, Handler>>,
    pool: WorkerPool,
    hooks: Hooks,
    hook_queue: Arc<SerialQueue<HookJob>>,
    failure_uri: String,
    closed: AtomicBool,
}

type HookJob = Box<dyn FnOnce() + Send>;

impl Dispatcher {
    /// A dispatcher for the client `client` (not yet fully built: only used once
    /// handlers run).
    pub fn new(
        client: Weak<ClientInner>,
        hooks: Hooks,
        failure_uri: String,
        max_threads: usize,
    ) -> Self {
        Dispatcher {
            client,
            handlers: RwLock::new(HashMap::new()),
            pool: WorkerPool::new("izaber-wamp-handler", max_threads, Duration::from_secs(10)),
            hooks,
            hook_queue: SerialQueue::new(|job: HookJob| job()),
            failure_uri,
            closed: AtomicBool::new(false),
        }
    }

    /// Adds the handler of a registration about to be made, under `local`.
    pub fn add_procedure(&self, local: LocalId, uri: &str, handler: ProcedureHandler) {
        let handler = Handler::Procedure {
            uri: uri.into(),
            handler,
        };
        self.handlers.write().insert(local, handler);
    }

    /// Adds the handler of a subscription about to be made, under `local`.
    pub fn add_topic(self: &Arc<Self>, local: LocalId, uri: &str, handler: EventHandler) {
        let uri: Arc<str> = uri.into();
        let client = self.client.clone();
        let topic = uri;
        let queue = SerialQueue::new(move |event: InboundEvent| {
            let Some(inner) = client.upgrade() else {
                return; // the client is gone: its backlog is dropped
            };
            if inner.dispatcher.closed.load(Ordering::Acquire) {
                return;
            }
            let event = Event::new(event, &topic, Client::from_inner(inner));
            assert_unlocked("an event handler");
            if catch_unwind(AssertUnwindSafe(|| handler(event))).is_err() {
                log::error!("an event handler for {topic} panicked");
            }
        });
        self.handlers
            .write()
            .insert(local, Handler::Topic { queue });
    }

    /// Removes the handler under `local` (unregistered, unsubscribed, or never made).
    pub fn remove(&self, local: LocalId) {
        // Dropped here, outside the loop's lock: the handler may hold user values.
        let removed = self.handlers.write().remove(&local);
        drop(removed);
    }

    /// Runs an invocation's handler; its answer goes back as a YIELD command.
    fn run_invocation(
        &self,
        invocation: InboundInvocation,
        uri: Arc<str>,
        handler: ProcedureHandler,
    ) {
        let client = self.client.clone();
        let failure_uri = self.failure_uri.clone();
        self.pool.execute(move || {
            let Some(inner) = client.upgrade() else {
                return; // the client is gone, and the caller already got an error
            };
            if inner.dispatcher.closed.load(Ordering::Acquire) {
                return;
            }
            let request = invocation.request;
            let commands = inner.commands.clone();
            let invocation = Invocation {
                args: invocation.payload.args,
                kwargs: invocation.payload.kwargs,
                details: InvocationDetails::from_raw(invocation.details, &uri),
                client: Client::from_inner(inner),
            };
            assert_unlocked("a procedure handler");
            let result = match catch_unwind(AssertUnwindSafe(|| handler(invocation))) {
                Ok(Ok(result)) => Ok(Payload::new(result.args, result.kwargs)),
                Ok(Err(error)) => Err(error.into_wamp(&failure_uri)),
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    log::error!("a procedure handler panicked: {message}");
                    Err(
                        HandlerError::Failed(format!("the handler panicked: {message}"))
                            .into_wamp(&failure_uri),
                    )
                }
            };
            // If the loop is gone the caller already got a connection error.
            let _ = commands.send(
                Command::Yield { request, result },
                Instant::now() + YIELD_WAIT,
            );
        });
    }
}

impl Inbox for Dispatcher {
    fn invocation(&self, invocation: InboundInvocation) -> Admission {
        let found = match self.handlers.read().get(&invocation.registration) {
            Some(Handler::Procedure { uri, handler }) => {
                Some((Arc::clone(uri), Arc::clone(handler)))
            }
            _ => None,
        };
        match found {
            Some((uri, handler)) => {
                self.run_invocation(invocation, uri, handler);
                Admission::Accepted
            }
            None => Admission::Rejected(crate::proto::WampError::new(
                "wamp.error.no_such_registration",
            )),
        }
    }

    fn event(&self, event: InboundEvent) {
        if let Some(Handler::Topic { queue, .. }) = self.handlers.read().get(&event.subscription) {
            queue.push(event, &self.pool);
        }
    }

    fn life_event(&self, event: LifeEvent) {
        let event = match event {
            LifeEvent::Join(joined) => {
                HookEvent::Join(SessionInfo::from_welcome(joined.session_id, joined.details))
            }
            LifeEvent::Leave(error) => HookEvent::Leave(error),
            LifeEvent::Disconnect => HookEvent::Disconnect,
            LifeEvent::State(state) => HookEvent::State(state),
        };
        let job = self.hooks.job(event);
        // A queued hook must not keep the client alive: when the user drops the last
        // handle, the client closes at once, and hooks still queued are skipped.
        let client = self.client.clone();
        let run = move || {
            if let Some(inner) = client.upgrade() {
                assert_unlocked("a hook");
                job(&Client::from_inner(inner));
            }
        };
        self.hook_queue.push(Box::new(run), &self.pool);
    }

    fn has_room(&self) -> bool {
        true
    }

    fn closed(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

impl Event {
    fn new(event: InboundEvent, subscribed: &str, client: Client) -> Self {
        Event {
            args: event.payload.args,
            kwargs: event.payload.kwargs,
            details: EventDetails::from_raw(event.details, event.publication, subscribed),
            client,
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
