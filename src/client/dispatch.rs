//! Running handlers: the client handle's side of the event loop's [`Inbox`].
//!
//! The loop hands up invocations, events and life-cycle changes as protocol data,
//! under its lock; here each goes to its registration's or subscription's lane
//! ([`scheduler`](super::scheduler)), and runs on the worker pool when its
//! concurrency queue lets it, turned into an [`Invocation`] or [`Event`] only when
//! its handler starts. This is also where the handler policy lives: a failing or
//! panicking handler is caught and its caller gets the client's handler-failure
//! error, shaped as Python izaber sends it.
//!
//! Waiting work holds no [`Client`], only a weak reference to it: a backlog does not
//! keep a connection alive after the user dropped the last handle.

use super::concurrency::{Concurrency, InboundLimits, Overflow, QueueLimits};
use super::details::EventDetails;
use super::handler::{Event, HandlerError};
use super::hooks::{HookEvent, Hooks};
use super::invocation::{Controls, Invocation};
use super::scheduler::{Admit, Item, Lane, Queue, Scheduler, Workers};
use super::session_info::SessionInfo;
use super::{Client, ClientInner};
use crate::error::Error;
use crate::event_loop::{
    Admission, Command, InboundEvent, InboundInvocation, Inbox, LifeEvent, LocalId, Wakeup,
};
use crate::id_map::IdMap;
use crate::proto::message::Payload;
use crate::proto::session::CancelMode;
use crate::proto::{Dict, Value, WampError};
use crate::sync::lock::assert_unlocked;
use crate::sync::pool::{SerialQueue, WorkerPool};
use crate::trace;
use parking_lot::{Mutex, RwLock};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// A procedure handler.
pub(crate) type ProcedureHandler = Arc<dyn Fn(Invocation) -> super::HandlerResult + Send + Sync>;

/// An event handler.
pub(crate) type EventHandler = Arc<dyn Fn(Event) + Send + Sync>;

/// How long a handler's YIELD may wait for room in the loop's command queue.
const YIELD_WAIT: Duration = Duration::from_secs(60);
/// How long a worker waits idle for work before its thread exits.
const WORKER_IDLE: Duration = Duration::from_secs(10);

/// What runs a lane's items.
pub(crate) enum LaneHandler {
    Procedure {
        /// The registered URI: the procedure when the router does not say.
        uri: Arc<str>,
        handler: ProcedureHandler,
    },
    Topic {
        /// The subscribed URI: the topic when the router does not say.
        uri: Arc<str>,
        handler: EventHandler,
    },
}

/// How a registration or subscription takes its work.
pub(crate) struct LaneOptions<'a> {
    pub queue: &'a str,
    pub ordered: bool,
    pub overflow: Overflow,
    /// Run on the I/O thread, bypassing the queues.
    pub inline: bool,
}

/// Where [`Dispatcher::route`] sent an item.
enum Routed {
    /// To this lane, through the scheduler.
    Lane(Arc<Lane<LaneHandler>>, Item),
    /// Queued for the I/O thread.
    Inline,
    /// Nowhere: no such registration or subscription (any more).
    Missing,
}

/// Where a registration's or subscription's work goes.
struct Route {
    lane: Arc<Lane<LaneHandler>>,
    /// Run on the I/O thread right after it reads the work (see
    /// [`Inbox::run_inline`]); the lane then only names the handler and its queue's
    /// statistics.
    inline: bool,
}

/// What workers need: the scheduler, the pool, and the way back to the client.
struct Runner {
    scheduler: Scheduler<LaneHandler>,
    pool: WorkerPool,
    /// Invocations not yet answered, to reach their handlers.
    controls: Controls,
    client: Weak<ClientInner>,
    failure_uri: String,
    wakeup: Wakeup,
}

/// The client handle's inbox: lanes by local ID, and the pool they run on.
pub(crate) struct Dispatcher {
    runner: Arc<Runner>,
    lanes: RwLock<IdMap<LocalId, Route>>,
    /// Work for inline handlers, queued under the loop's lock and run by the I/O
    /// thread right after it; at most what one read batch brought.
    inline: Mutex<Vec<(Arc<Lane<LaneHandler>>, Item)>>,
    /// Held while inline work runs: the I/O thread and a caller reading in its stead
    /// may both run it, one batch after the other, in the order it was read.
    running_inline: Mutex<()>,
    concurrency: Mutex<Concurrency>,
    hooks: Hooks,
    hook_queue: Arc<SerialQueue<HookJob>>,
}

type HookJob = Box<dyn FnOnce() + Send>;

/// The settings a dispatcher takes from the client's configuration.
pub(crate) struct DispatchSettings {
    pub hooks: Hooks,
    pub failure_uri: String,
    pub max_threads: usize,
    pub concurrency: Concurrency,
    pub inbound: InboundLimits,
}

impl Dispatcher {
    /// A dispatcher for the client `client` (not yet fully built: only used once
    /// handlers run); `wakeup` wakes the loop when there is room to read again.
    pub fn new(client: Weak<ClientInner>, settings: DispatchSettings, wakeup: Wakeup) -> Self {
        let pool = WorkerPool::new("izaber-wamp-handler", settings.max_threads, WORKER_IDLE);
        let runner = Runner {
            scheduler: Scheduler::new(settings.inbound, settings.max_threads),
            pool,
            controls: Controls::default(),
            client,
            failure_uri: settings.failure_uri,
            wakeup,
        };
        Dispatcher {
            runner: Arc::new(runner),
            lanes: RwLock::new(IdMap::default()),
            inline: Mutex::new(Vec::new()),
            running_inline: Mutex::new(()),
            concurrency: Mutex::new(settings.concurrency),
            hooks: settings.hooks,
            hook_queue: SerialQueue::new(|job: HookJob| job()),
        }
    }

    /// The queue `name`, made with its configured limits on first use.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when strict naming is on and `name` is not configured.
    fn queue(&self, name: &str) -> Result<Arc<Queue<LaneHandler>>, Error> {
        let limits = self.concurrency.lock().limits(name).ok_or_else(|| {
            Error::Config(format!(
                "concurrency queue {name:?} has not been defined (add it to \
                 concurrency_configs, or turn concurrency_strict_naming off)"
            ))
        })?;
        Ok(self.runner.scheduler.queue(name, || limits))
    }

    /// Adds the lane of a registration or subscription about to be made, under `local`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the options name an undefined queue.
    pub fn add(
        &self,
        local: LocalId,
        handler: LaneHandler,
        options: &LaneOptions<'_>,
    ) -> Result<(), Error> {
        let queue = self.queue(options.queue)?;
        let lane = Lane::new(queue, handler, options.ordered, options.overflow);
        let route = Route {
            lane,
            inline: options.inline,
        };
        self.lanes.write().insert(local, route);
        Ok(())
    }

    /// Removes the lane under `local` (unregistered, unsubscribed, or never made).
    /// Invocations still waiting in it are answered with `no_such_registration`.
    pub fn remove(&self, local: LocalId) {
        // Dropped here, outside the loop's lock: the handler may hold user values.
        let Some(Route { lane, .. }) = self.lanes.write().remove(&local) else {
            return;
        };
        for item in self.runner.scheduler.remove_lane(&self.runner, &lane) {
            if let Item::Invocation(invocation) = item {
                let error = WampError::new("wamp.error.no_such_registration");
                self.runner.controls.close(invocation.request);
                self.runner.answer(invocation.request, Err(error));
            }
        }
    }

    /// Sets the limits of queue `name` for the lanes using it now and later.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when strict naming is on and `name` is not configured.
    pub fn set_limits(&self, name: &str, limits: QueueLimits) -> Result<(), Error> {
        let queue = self.queue(name)?;
        {
            let mut concurrency = self.concurrency.lock();
            let entry = concurrency.queues.entry(name.to_owned()).or_default();
            entry.concurrency_max = Some(limits.concurrency_max);
            entry.queue_max = limits.queue_max;
        }
        self.runner.scheduler.set_limits(&queue, limits);
        self.runner.scheduler.start_ready(&self.runner, &queue);
        Ok(())
    }

    /// Every queue in use, for statistics.
    pub fn queues(&self) -> Vec<Arc<Queue<LaneHandler>>> {
        self.runner.scheduler.queues()
    }

    /// Events dropped so far by lanes' overflow policies and waitlists.
    pub fn dropped_events(&self) -> u64 {
        self.runner.scheduler.dropped_events.load(Ordering::Relaxed)
    }

    /// Sends `item` on its way: queued for the I/O thread when the lane under `local`
    /// is inline, else handed back with the lane for the scheduler.
    fn route(&self, local: LocalId, item: Item) -> Routed {
        let lanes = self.lanes.read();
        match lanes.get(&local) {
            None => Routed::Missing,
            Some(route) if route.inline => {
                self.inline.lock().push((Arc::clone(&route.lane), item));
                Routed::Inline
            }
            Some(route) => Routed::Lane(Arc::clone(&route.lane), item),
        }
    }
}

/// The error an invocation gets when its queue's waitlist is full: the wording of
/// Python izaber, so Python callers see what they see from Python callees.
fn waitlist_full(failure_uri: &str, queue: &str) -> WampError {
    let message = format!("Queue {queue} waitlist full");
    WampError::new(failure_uri).with_args(vec![
        Value::from(format!("Call failed: {message}")),
        Value::from(message),
    ])
}

impl Inbox for Dispatcher {
    fn invocation(&self, invocation: InboundInvocation) -> Admission {
        let request = invocation.request;
        self.runner.controls.open(request, &invocation.details);
        let registration = invocation.registration;
        let (lane, item) = match self.route(registration, Item::Invocation(invocation)) {
            Routed::Lane(lane, item) => (lane, item),
            Routed::Inline => return Admission::Accepted,
            Routed::Missing => {
                self.runner.controls.close(request);
                return Admission::Rejected(WampError::new("wamp.error.no_such_registration"));
            }
        };
        let admitted = self.runner.scheduler.admit(&lane, item);
        if matches!(admitted, Admit::WaitlistFull | Admit::Dropped) {
            self.runner.controls.close(request);
        }
        match admitted {
            Admit::Start(item) => {
                self.runner.spawn(lane, item);
                Admission::Accepted
            }
            Admit::Queued => Admission::Accepted,
            Admit::WaitlistFull => {
                log::warn!(
                    "queue {} waitlist full: an invocation was refused",
                    lane.queue.name
                );
                Admission::Rejected(waitlist_full(&self.runner.failure_uri, &lane.queue.name))
            }
            Admit::Dropped => {
                Admission::Rejected(WampError::new("wamp.error.no_such_registration"))
            }
        }
    }

    fn event(&self, event: InboundEvent) {
        // Missing: an event racing the unsubscribe.
        let Routed::Lane(lane, item) = self.route(event.subscription, Item::Event(event)) else {
            return;
        };
        match self.runner.scheduler.admit(&lane, item) {
            Admit::Start(item) => self.runner.spawn(lane, item),
            Admit::Queued => {}
            Admit::WaitlistFull => {
                self.runner
                    .scheduler
                    .dropped_events
                    .fetch_add(1, Ordering::Relaxed);
                log_dropped(&lane.queue.name, "its queue's waitlist is full");
            }
            Admit::Dropped if !self.runner.scheduler.is_closed() => {
                log_dropped(&lane.queue.name, "its subscription's events are full")
            }
            Admit::Dropped => {}
        }
    }

    fn invocation_chunk(&self, request: u64, payload: Payload, last: bool) {
        self.runner.controls.chunk(request, payload, last);
    }

    fn interrupt(&self, request: u64, mode: CancelMode) {
        self.runner.controls.interrupt(request, mode);
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
        let client = self.runner.client.clone();
        let run = move || {
            if let Some(inner) = client.upgrade() {
                assert_unlocked("a hook");
                job(&Client::from_inner(inner));
            }
        };
        self.hook_queue.push(Box::new(run), &self.runner.pool);
    }

    fn run_inline(&self) {
        // The I/O thread calls this every round: most find nothing, and take no
        // second lock.
        if !self.inline_pending() {
            return;
        }
        let _running = self.running_inline.lock();
        let mut work = {
            let mut inline = self.inline.lock();
            if inline.is_empty() {
                return;
            }
            std::mem::take(&mut *inline)
        };
        for (lane, item) in work.drain(..) {
            self.runner.run(&lane, item);
        }
        // The emptied buffer takes the next batch, so queueing allocates nothing in the
        // steady state (unless a batch began meanwhile in a buffer of its own).
        let mut inline = self.inline.lock();
        if inline.capacity() == 0 {
            *inline = work;
        }
    }

    fn inline_pending(&self) -> bool {
        !self.inline.lock().is_empty()
    }

    fn has_room(&self) -> bool {
        self.runner.scheduler.has_room()
    }

    fn closed(&self) -> Vec<(u64, WampError)> {
        if self.runner.scheduler.is_closed() {
            return Vec::new();
        }
        self.runner.scheduler.close();
        let lanes: Vec<_> = self
            .lanes
            .read()
            .values()
            .map(|route| Arc::clone(&route.lane))
            .collect();
        let mut unanswered = Vec::new();
        let mut dropped = 0u64;
        for lane in lanes {
            for item in self.runner.scheduler.close_lane(&lane) {
                match item {
                    Item::Invocation(invocation) => unanswered.push((
                        invocation.request,
                        HandlerError::failed("the callee is closing")
                            .into_wamp(&self.runner.failure_uri),
                    )),
                    Item::Event(_) => dropped += 1,
                }
            }
        }
        if dropped > 0 || !unanswered.is_empty() {
            log::warn!(
                "closing: {dropped} queued events dropped, {} queued invocations refused",
                unanswered.len()
            );
        }
        self.runner
            .scheduler
            .dropped_events
            .fetch_add(dropped, Ordering::Relaxed);
        self.runner.controls.close_all();
        // Workers exit once their item is done; hooks still queued run first.
        self.runner.pool.shut_down();
        unanswered
    }
}

/// Logs a dropped event, at most once a second, saying how many were dropped since.
fn log_dropped(queue: &str, why: &str) {
    static LAST: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
    let mut last = LAST.lock();
    let now = Instant::now();
    match &mut *last {
        Some((when, count)) if now.duration_since(*when) < Duration::from_secs(1) => *count += 1,
        _ => {
            let since = last.map_or(0, |(_, count)| count);
            log::warn!(
                "an event for queue {queue} was dropped: {why} ({since} more dropped before \
                 this one, counted in Stats::events_dropped)"
            );
            *last = Some((now, 0));
        }
    }
}

impl Workers<LaneHandler> for Arc<Runner> {
    fn run(&self, lane: &Lane<LaneHandler>, item: Item) {
        Runner::run(self, lane, item);
    }

    fn spawn(&self, lane: Arc<Lane<LaneHandler>>, item: Item) {
        Runner::spawn(self, lane, item);
    }

    fn wake_loop(&self) {
        self.wakeup.wake();
    }
}

impl Runner {
    /// Runs `item` of `lane` on a worker, then whatever the scheduler hands it next.
    fn spawn(self: &Arc<Self>, lane: Arc<Lane<LaneHandler>>, item: Item) {
        let runner = Arc::clone(self);
        self.pool.execute(move || runner.work(lane, item));
    }

    fn work(self: Arc<Self>, lane: Arc<Lane<LaneHandler>>, item: Item) {
        self.scheduler.work(&self, lane, item);
    }

    /// Runs one item's handler, unless the client is gone or closing.
    fn run(&self, lane: &Lane<LaneHandler>, item: Item) {
        let Some(inner) = self.client.upgrade() else {
            return; // the client is gone: the router answers its callers
        };
        if self.scheduler.is_closed() {
            if let Item::Invocation(invocation) = item {
                let error =
                    HandlerError::failed("the callee is closing").into_wamp(&self.failure_uri);
                self.answer(invocation.request, Err(error));
            }
            return;
        }
        let client = Client::from_inner(inner);
        let started = Instant::now();
        let failed = match (&lane.handler, item) {
            (LaneHandler::Procedure { uri, handler }, Item::Invocation(invocation)) => {
                let span = trace::Span::handler(
                    "invocation",
                    uri,
                    invocation.request,
                    &invocation.details,
                );
                let _entered = span.enter();
                self.invoke(handler, uri, invocation, client, &span)
            }
            (LaneHandler::Topic { uri, handler }, Item::Event(event)) => {
                let span = trace::Span::handler("event", uri, event.publication, &event.details);
                let _entered = span.enter();
                let event = Event::new(event, uri, client);
                assert_unlocked("an event handler");
                let panicked = catch_unwind(AssertUnwindSafe(|| handler(event))).is_err();
                if panicked {
                    log::error!("an event handler for {uri} panicked");
                }
                span.record_outcome(if panicked { "panicked" } else { "ok" });
                panicked
            }
            // The loop hands invocations only to registrations, events to subscriptions.
            _ => false,
        };
        lane.queue.counters.record(started.elapsed(), failed);
    }

    /// Runs a procedure handler and sends its answer; true when it failed. `span` is
    /// the run's, for its outcome.
    fn invoke(
        &self,
        handler: &ProcedureHandler,
        uri: &str,
        invocation: InboundInvocation,
        client: Client,
        span: &trace::Span,
    ) -> bool {
        let request = invocation.request;
        let Some(invocation) = Invocation::start(invocation, uri, client, &self.controls) else {
            span.record_outcome("canceled");
            return false; // the caller canceled it before it started
        };
        assert_unlocked("a procedure handler");
        let outcome = catch_unwind(AssertUnwindSafe(|| handler(invocation)));
        self.controls.close(request);
        let result = match outcome {
            Ok(Ok(result)) => Ok((
                Payload::new(result.args, result.kwargs),
                super::ppt::yield_options(&result.details),
            )),
            Ok(Err(error)) => Err(error.into_wamp(&self.failure_uri)),
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                log::error!("a procedure handler for {uri} panicked: {message}");
                Err(
                    HandlerError::failed(format!("the handler panicked: {message}"))
                        .into_wamp(&self.failure_uri),
                )
            }
        };
        let failed = result.is_err();
        span.record_outcome(match &result {
            Ok(_) => "ok",
            Err(error) => &error.uri,
        });
        self.answer(request, result);
        failed
    }

    /// Sends the answer to INVOCATION `request` (outside the loop's lock).
    fn answer(&self, request: u64, result: Result<(Payload, Dict), WampError>) {
        if let Some(inner) = self.client.upgrade() {
            // If the loop is gone the caller already got a connection error.
            let command = Command::Yield {
                request,
                result,
                progress: false,
            };
            let _ = inner.commands.send(command, Instant::now() + YIELD_WAIT);
        }
    }
}

impl Event {
    fn new(event: InboundEvent, subscribed: &str, client: Client) -> Self {
        let details = EventDetails::from_raw(event.details, event.publication, subscribed);
        let (args, kwargs, transparent) =
            super::ppt::receive(&details.raw, event.payload.args, event.payload.kwargs);
        Event {
            args,
            kwargs,
            details,
            transparent,
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
