//! Who runs next: the concurrency queues at work.
//!
//! Design: every registration and subscription has a **lane**, its own line of
//! waiting work; every lane belongs to one **queue**, which limits how many handlers
//! of its lanes run at once. An ordered lane (a subscription whose events are handled
//! one at a time) runs at most one item at a time; other lanes run as many as their
//! queue allows. Work that cannot start waits in its lane, and the lane waits in its
//! queue's `ready` line for a free slot, so the order of arrival is kept. A worker that
//! finishes an item takes the next ready item of its queue itself, without going back
//! to the pool: a backlog of events costs one wake-up, not one per event.
//!
//! The pool's thread cap is a limit too: work that finds every thread busy waits in
//! its lane (counted and bounded like any waiting work) until a worker is free.
//!
//! Locks: a queue's lock is always taken before a lane's, and at most one lane's at a
//! time. [`Scheduler::admit`] runs under the event loop's lock, so it only does
//! bookkeeping and hands started work to the pool.
//!
//! Two hand-offs between the loop and the workers must never lose a wake-up, and the
//! loom models in `scheduler/loom_tests.rs` check both: whoever makes room (a worker
//! taking the next item, or a lane being removed) wakes the loop if it stopped reading
//! for want of room ([`Scheduler::has_room`]); and whoever gives a worker slot back
//! starts the work that found every slot taken ([`Scheduler::work`]).

use super::concurrency::{InboundLimits, Overflow, QueueLimits};
use crate::event_loop::{InboundEvent, InboundInvocation};
use crate::sync::prim::{fence, Arc, AtomicBool, AtomicUsize, Mutex, Ordering};
use std::collections::{HashMap, VecDeque};
// Statistics only: never read to decide anything, so not modelled under loom.
use std::sync::atomic::{self as stat, AtomicU64};
use std::time::Duration;

/// A piece of inbound work.
pub(crate) enum Item {
    Invocation(InboundInvocation),
    Event(InboundEvent),
}

impl Item {
    fn size(&self) -> usize {
        match self {
            Item::Invocation(invocation) => invocation.size,
            Item::Event(event) => event.size,
        }
    }
}

/// One concurrency queue.
pub(crate) struct Queue<H> {
    pub name: Arc<str>,
    state: Mutex<QueueState<H>>,
    pub counters: QueueCounters,
}

struct QueueState<H> {
    limits: QueueLimits,
    /// Handlers of this queue running now.
    active: usize,
    /// Items of this queue's lanes waiting for a turn.
    waiting: usize,
    /// Lanes with an item that may start once a slot is free, in arrival order.
    ready: VecDeque<Arc<Lane<H>>>,
}

impl<H> QueueState<H> {
    fn has_slot(&self) -> bool {
        self.limits.concurrency_max == 0 || self.active < self.limits.concurrency_max
    }
}

/// A queue's statistics, kept as it works.
#[derive(Debug, Default)]
pub(crate) struct QueueCounters {
    pub run: AtomicU64,
    pub waited: AtomicU64,
    pub rejected: AtomicU64,
    pub errors: AtomicU64,
    pub waitlist_max: stat::AtomicUsize,
    pub handler_nanos: AtomicU64,
    pub handler_max_nanos: AtomicU64,
}

impl QueueCounters {
    /// Records one handler run of `took`; `failed` when it returned an error or panicked.
    pub fn record(&self, took: Duration, failed: bool) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.handler_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.handler_max_nanos.fetch_max(nanos, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<H> Queue<H> {
    pub fn new(name: &str, limits: QueueLimits) -> Arc<Self> {
        Arc::new(Queue {
            name: name.into(),
            state: Mutex::new(QueueState {
                limits,
                active: 0,
                waiting: 0,
                ready: VecDeque::new(),
            }),
            counters: QueueCounters::default(),
        })
    }

    /// The queue's limits and how many of its handlers run and wait now.
    pub fn snapshot(&self) -> (QueueLimits, usize, usize) {
        let state = self.state.lock();
        (state.limits, state.active, state.waiting)
    }
}

/// A registration's or subscription's line of waiting work.
pub(crate) struct Lane<H> {
    pub queue: Arc<Queue<H>>,
    /// What runs the lane's items.
    pub handler: H,
    /// One item at a time, in order.
    pub ordered: bool,
    pub overflow: Overflow,
    state: Mutex<LaneState>,
}

#[derive(Default)]
struct LaneState {
    pending: VecDeque<Item>,
    running: usize,
    /// Entries of this lane in its queue's `ready` line.
    in_ready: usize,
    /// Holding back reading (back-pressure) because `pending` is full.
    full: bool,
    /// Removed (unregistered, unsubscribed) or the client closed: takes no more work.
    closed: bool,
}

impl<H> Lane<H> {
    pub fn new(queue: Arc<Queue<H>>, handler: H, ordered: bool, overflow: Overflow) -> Arc<Self> {
        Arc::new(Lane {
            queue,
            handler,
            ordered,
            overflow,
            state: Mutex::new(LaneState::default()),
        })
    }
}

/// What became of an item offered to a lane.
pub(crate) enum Admit {
    /// It starts now: run it on a worker with [`Scheduler::finished`] after.
    Start(Item),
    /// It waits for a turn.
    Queued,
    /// The queue's waitlist is full; the item is dropped.
    WaitlistFull,
    /// The lane's overflow policy dropped an event, or the lane takes no more work.
    Dropped,
}

/// Where the scheduler's decisions are carried out: the client's handler runner, or
/// a model of it in the loom tests.
pub(crate) trait Workers<H> {
    /// Runs the handler of `item`, of `lane`.
    fn run(&self, lane: &Lane<H>, item: Item);
    /// Starts a worker with `item` of `lane`; it goes on with [`Scheduler::work`].
    fn spawn(&self, lane: Arc<Lane<H>>, item: Item);
    /// Wakes the event loop: there is room to read again.
    fn wake_loop(&self);
}

/// The bookkeeping shared by all queues of one client.
pub(crate) struct Scheduler<H> {
    limits: InboundLimits,
    /// Items running on workers now, at most `max_running` (the pool's thread cap).
    running: AtomicUsize,
    max_running: usize,
    /// Estimated bytes of items waiting in lanes.
    pending_bytes: AtomicUsize,
    /// Lanes holding back reading because they are full.
    full_lanes: AtomicUsize,
    /// Some item could not start because every worker was busy.
    starved: AtomicBool,
    /// The loop found no room and may have stopped reading: wake it when there is.
    blocked: AtomicBool,
    pub dropped_events: AtomicU64,
    closed: AtomicBool,
    queues: Mutex<HashMap<Arc<str>, Arc<Queue<H>>>>,
}

impl<H> Scheduler<H> {
    pub fn new(limits: InboundLimits, max_running: usize) -> Self {
        Scheduler {
            limits,
            running: AtomicUsize::new(0),
            max_running: max_running.max(1),
            pending_bytes: AtomicUsize::new(0),
            full_lanes: AtomicUsize::new(0),
            starved: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            dropped_events: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// The queue `name`, made with `limits` if it does not exist yet.
    pub fn queue(&self, name: &str, limits: impl FnOnce() -> QueueLimits) -> Arc<Queue<H>> {
        let mut queues = self.queues.lock();
        if let Some(queue) = queues.get(name) {
            return Arc::clone(queue);
        }
        let queue = Queue::new(name, limits());
        queues.insert(Arc::clone(&queue.name), Arc::clone(&queue));
        queue
    }

    /// Every queue made so far, by name.
    pub fn queues(&self) -> Vec<Arc<Queue<H>>> {
        let mut queues: Vec<_> = self.queues.lock().values().cloned().collect();
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        queues
    }

    /// Whether more inbound work fits: no back-pressure lane is full and the waiting
    /// bytes are under their bound. Asked by the loop before it reads; a `false`
    /// answer makes [`room_regained`](Self::room_regained) report the room later.
    pub fn has_room(&self) -> bool {
        if self.room() {
            return true;
        }
        // Marked before looking again, so that a worker making room meanwhile sees the
        // mark. This fence and the one in `room_regained` form a store-buffering
        // pair: either this look sees the room, or the worker's look sees the mark
        // (SeqCst loads and stores alone would not do, as the worker makes room with
        // AcqRel read-modify-writes). Every write of the mark is a read-modify-write.
        self.blocked.swap(true, Ordering::AcqRel);
        fence(Ordering::SeqCst);
        let room = self.room();
        if room {
            self.blocked.swap(false, Ordering::AcqRel);
        }
        room
    }

    fn room(&self) -> bool {
        self.full_lanes.load(Ordering::Relaxed) == 0
            && self.pending_bytes.load(Ordering::Relaxed) < self.limits.max_pending_bytes
    }

    /// True once after the loop found no room and there is room again: the loop must
    /// be woken to read on. Asked right after making room (see [`has_room`](Self::has_room)).
    fn room_regained(&self) -> bool {
        fence(Ordering::SeqCst);
        self.blocked.load(Ordering::Relaxed)
            && self.room()
            && self.blocked.swap(false, Ordering::AcqRel)
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Takes a worker slot of the pool, if one is free; else marks the work starved,
    /// so that the next worker to finish starts it.
    fn take_worker(&self) -> bool {
        let take = || {
            self.running
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < self.max_running).then_some(n + 1)
                })
                .is_ok()
        };
        if take() {
            return true;
        }
        // A worker that finished between the failed take and the mark may have looked
        // for the mark before it was set: look again for the slot it freed. This fence
        // and the one in `take_starved` form a store-buffering pair: either this look
        // sees the free slot, or that worker sees the mark.
        self.starved.swap(true, Ordering::AcqRel);
        fence(Ordering::SeqCst);
        take()
    }

    /// Offers `item` to `lane`: it starts now, waits its turn, or is refused.
    pub fn admit(&self, lane: &Arc<Lane<H>>, item: Item) -> Admit {
        let queue = &lane.queue;
        let mut q = queue.state.lock();
        let mut l = lane.state.lock();
        if l.closed || self.is_closed() {
            return Admit::Dropped;
        }
        let lane_busy = lane.ordered && l.running + l.in_ready > 0;
        if !lane_busy && q.ready.is_empty() && q.has_slot() && self.take_worker() {
            q.active += 1;
            l.running += 1;
            queue.counters.run.fetch_add(1, Ordering::Relaxed);
            return Admit::Start(item);
        }
        if q.limits.queue_max.is_some_and(|max| q.waiting >= max) {
            queue.counters.rejected.fetch_add(1, Ordering::Relaxed);
            return Admit::WaitlistFull;
        }
        if matches!(item, Item::Event(_)) && l.pending.len() >= self.limits.max_pending_events {
            match lane.overflow {
                Overflow::Backpressure => {
                    if !std::mem::replace(&mut l.full, true) {
                        self.full_lanes.fetch_add(1, Ordering::AcqRel);
                    }
                }
                Overflow::DropNewest => {
                    self.dropped_events.fetch_add(1, Ordering::Relaxed);
                    return Admit::Dropped;
                }
                Overflow::DropOldest => {
                    if let Some(oldest) = l.pending.pop_front() {
                        q.waiting -= 1;
                        self.pending_bytes
                            .fetch_sub(oldest.size(), Ordering::AcqRel);
                        self.dropped_events.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        self.pending_bytes.fetch_add(item.size(), Ordering::AcqRel);
        l.pending.push_back(item);
        q.waiting += 1;
        queue.counters.waited.fetch_add(1, Ordering::Relaxed);
        queue
            .counters
            .waitlist_max
            .fetch_max(q.waiting, Ordering::Relaxed);
        let may_schedule = if lane.ordered {
            l.running + l.in_ready == 0
        } else {
            l.in_ready < l.pending.len()
        };
        if may_schedule {
            l.in_ready += 1;
            q.ready.push_back(Arc::clone(lane));
        }
        Admit::Queued
    }

    /// A worker finished an item of `lane`: returns the next item the worker should
    /// run (the next ready one of the same queue), or `None` when it should stop.
    pub fn finished(&self, lane: &Arc<Lane<H>>) -> Option<(Arc<Lane<H>>, Item)> {
        let queue = &lane.queue;
        let mut q = queue.state.lock();
        {
            let mut l = lane.state.lock();
            l.running -= 1;
            if lane.ordered && !l.pending.is_empty() && l.in_ready == 0 && !l.closed {
                l.in_ready = 1;
                q.ready.push_back(Arc::clone(lane));
            }
        }
        q.active -= 1;
        let next = if self.is_closed() {
            None
        } else {
            self.next_ready(&mut q, queue)
        };
        if next.is_none() {
            self.running.fetch_sub(1, Ordering::AcqRel);
        }
        next
    }

    /// What a worker does with `item` of `lane` and the work that follows: runs each
    /// item, takes the next ready one of the same queue itself, wakes the loop as
    /// soon as taking it made room to read again (not after running it: its handler
    /// may wait for something the loop has yet to read), and once it gives its slot
    /// back, starts work that found every worker busy.
    pub fn work(&self, workers: &impl Workers<H>, mut lane: Arc<Lane<H>>, mut item: Item) {
        loop {
            workers.run(&lane, item);
            let Some((next_lane, next_item)) = self.finished(&lane) else {
                break;
            };
            self.wake_loop_if_room(workers);
            (lane, item) = (next_lane, next_item);
        }
        if self.take_starved() {
            for queue in self.queues() {
                self.start_ready(workers, &queue);
            }
        }
    }

    /// Starts ready work of `queue` that waited for a slot or a worker, one worker
    /// each, and wakes the loop when that made room.
    pub fn start_ready(&self, workers: &impl Workers<H>, queue: &Arc<Queue<H>>) {
        let started = self.take_ready(queue);
        if started.is_empty() {
            return;
        }
        self.wake_loop_if_room(workers);
        for (lane, item) in started {
            workers.spawn(lane, item);
        }
    }

    fn wake_loop_if_room(&self, workers: &impl Workers<H>) {
        if self.room_regained() {
            workers.wake_loop();
        }
    }

    /// Takes the next ready item of `queue` if it has a free slot (the caller holds a
    /// worker already), updating the counts.
    fn next_ready(&self, q: &mut QueueState<H>, queue: &Queue<H>) -> Option<(Arc<Lane<H>>, Item)> {
        if !q.has_slot() {
            return None;
        }
        while let Some(next) = q.ready.pop_front() {
            let mut l = next.state.lock();
            l.in_ready -= 1;
            let Some(item) = l.pending.pop_front() else {
                continue; // dropped or removed meanwhile
            };
            l.running += 1;
            q.active += 1;
            q.waiting -= 1;
            queue.counters.run.fetch_add(1, Ordering::Relaxed);
            self.pending_bytes.fetch_sub(item.size(), Ordering::AcqRel);
            self.maybe_not_full(&mut l);
            drop(l);
            return Some((next, item));
        }
        None
    }

    /// A lane that held back reading has room again (below three quarters of its
    /// bound, so reading does not stop and start at every event).
    fn maybe_not_full(&self, lane: &mut LaneState) {
        if lane.full && lane.pending.len() < self.limits.max_pending_events * 3 / 4 {
            lane.full = false;
            self.full_lanes.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Whether some item waits for a worker that was busy; clears the mark. Asked by
    /// every worker after it gave its slot back (see [`take_worker`](Self::take_worker)).
    fn take_starved(&self) -> bool {
        fence(Ordering::SeqCst);
        self.starved.swap(false, Ordering::AcqRel)
    }

    /// Takes ready items of `queue` that waited for a slot or a worker, one worker
    /// slot each.
    fn take_ready(&self, queue: &Arc<Queue<H>>) -> Vec<(Arc<Lane<H>>, Item)> {
        let mut q = queue.state.lock();
        let mut started = Vec::new();
        // A worker slot is taken only for an item that is there, so none is given back
        // here (a slot given back must be followed by a look for starved work).
        while !self.is_closed() && q.has_slot() && Self::has_ready(&mut q) && self.take_worker() {
            match self.next_ready(&mut q, queue) {
                Some(work) => started.push(work),
                None => {
                    // Not reached: `has_ready` found an item under the same lock.
                    self.running.fetch_sub(1, Ordering::AcqRel);
                    break;
                }
            }
        }
        started
    }

    /// Whether `q` has a ready item, first dropping the entries of lanes whose items
    /// went meanwhile (dropped, or their lane closed).
    fn has_ready(q: &mut QueueState<H>) -> bool {
        while let Some(lane) = q.ready.front() {
            let mut l = lane.state.lock();
            if !l.pending.is_empty() {
                return true;
            }
            l.in_ready -= 1;
            drop(l);
            q.ready.pop_front();
        }
        false
    }

    /// Changes `queue`'s limits at run time.
    pub fn set_limits(&self, queue: &Queue<H>, limits: QueueLimits) {
        queue.state.lock().limits = limits;
    }

    /// Closes `lane`: it takes no more work, and its waiting items are returned.
    pub fn close_lane(&self, lane: &Lane<H>) -> Vec<Item> {
        let mut q = lane.queue.state.lock();
        let mut l = lane.state.lock();
        l.closed = true;
        if std::mem::replace(&mut l.full, false) {
            self.full_lanes.fetch_sub(1, Ordering::AcqRel);
        }
        let items: Vec<Item> = l.pending.drain(..).collect();
        q.waiting -= items.len();
        let bytes: usize = items.iter().map(Item::size).sum();
        self.pending_bytes.fetch_sub(bytes, Ordering::AcqRel);
        items
    }

    /// Closes `lane` as [`close_lane`](Self::close_lane) does, and wakes the loop when
    /// its waiting items were the room the loop waits for.
    pub fn remove_lane(&self, workers: &impl Workers<H>, lane: &Lane<H>) -> Vec<Item> {
        let items = self.close_lane(lane);
        self.wake_loop_if_room(workers);
        items
    }

    /// The client closed: no item starts from now on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// What the unit tests and the loom models admit to a lane weighs this much.
#[cfg(test)]
const TEST_EVENT_SIZE: usize = 10;

/// Event `n` of subscription 1, weighing [`TEST_EVENT_SIZE`], for the tests.
#[cfg(test)]
fn test_event(n: u64) -> Item {
    Item::Event(InboundEvent {
        subscription: 1,
        publication: n,
        details: crate::proto::Dict::new(),
        payload: crate::proto::message::Payload::default(),
        size: TEST_EVENT_SIZE,
    })
}

#[cfg(test)]
mod tests {
    use super::test_event as event;
    use super::*;

    fn publication(item: &Item) -> u64 {
        match item {
            Item::Event(e) => e.publication,
            Item::Invocation(i) => i.request,
        }
    }

    fn started(admit: Admit) -> Item {
        match admit {
            Admit::Start(item) => item,
            _ => panic!("expected the item to start"),
        }
    }

    #[test]
    fn an_ordered_lane_runs_one_item_at_a_time_in_order() {
        let scheduler: Scheduler<()> = Scheduler::new(InboundLimits::default(), 8);
        let queue = Queue::new("default", QueueLimits::unlimited());
        let lane = Lane::new(queue, (), true, Overflow::Backpressure);
        let first = started(scheduler.admit(&lane, event(1)));
        assert_eq!(publication(&first), 1);
        for n in 2..=4 {
            assert!(matches!(scheduler.admit(&lane, event(n)), Admit::Queued));
        }
        let mut order = vec![1];
        let mut current = Arc::clone(&lane);
        while let Some((next, item)) = scheduler.finished(&current) {
            order.push(publication(&item));
            current = next;
        }
        assert_eq!(order, vec![1, 2, 3, 4]);
        assert_eq!(scheduler.running.load(Ordering::Acquire), 0);
        assert_eq!(lane.queue.snapshot(), (QueueLimits::unlimited(), 0, 0));
    }

    #[test]
    fn a_queue_never_runs_more_than_its_limit_and_its_waitlist_is_bounded() {
        let scheduler: Scheduler<()> = Scheduler::new(InboundLimits::default(), 8);
        let queue = Queue::new("q", QueueLimits::new(2, Some(1)));
        let lane = Lane::new(queue, (), false, Overflow::Backpressure);
        started(scheduler.admit(&lane, event(1)));
        started(scheduler.admit(&lane, event(2)));
        assert!(matches!(scheduler.admit(&lane, event(3)), Admit::Queued));
        assert!(matches!(
            scheduler.admit(&lane, event(4)),
            Admit::WaitlistFull
        ));
        let (_, active, waiting) = lane.queue.snapshot();
        assert_eq!((active, waiting), (2, 1));
        let (_, next) = scheduler.finished(&lane).expect("the waiting item is next");
        assert_eq!(publication(&next), 3);
        assert_eq!(lane.queue.counters.rejected.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_full_backpressure_lane_holds_reading_until_it_drains() {
        let limits = InboundLimits {
            max_pending_events: 4,
            ..InboundLimits::default()
        };
        let scheduler: Scheduler<()> = Scheduler::new(limits, 8);
        let queue = Queue::new("default", QueueLimits::unlimited());
        let lane = Lane::new(queue, (), true, Overflow::Backpressure);
        started(scheduler.admit(&lane, event(0)));
        for n in 1..=5 {
            assert!(matches!(scheduler.admit(&lane, event(n)), Admit::Queued));
        }
        assert!(!scheduler.has_room());
        let mut current = Arc::clone(&lane);
        let mut ran = 1;
        while let Some((next, _)) = scheduler.finished(&current) {
            current = next;
            ran += 1;
        }
        assert_eq!(ran, 6, "nothing is lost under back-pressure");
        assert!(scheduler.has_room());
    }

    #[test]
    fn drop_policies_keep_the_newest_or_the_oldest_events() {
        for (overflow, kept) in [
            (Overflow::DropNewest, vec![0, 1, 2]),
            (Overflow::DropOldest, vec![0, 3, 4]),
        ] {
            let limits = InboundLimits {
                max_pending_events: 2,
                ..InboundLimits::default()
            };
            let scheduler: Scheduler<()> = Scheduler::new(limits, 8);
            let queue = Queue::new("default", QueueLimits::unlimited());
            let lane = Lane::new(queue, (), true, overflow);
            started(scheduler.admit(&lane, event(0)));
            for n in 1..=4 {
                let _ = scheduler.admit(&lane, event(n));
            }
            assert!(scheduler.has_room());
            let mut order = vec![0];
            let mut current = Arc::clone(&lane);
            while let Some((next, item)) = scheduler.finished(&current) {
                order.push(publication(&item));
                current = next;
            }
            assert_eq!(order, kept, "{overflow:?}");
            assert_eq!(scheduler.dropped_events.load(Ordering::Relaxed), 2);
        }
    }

    #[test]
    fn the_worker_cap_makes_work_wait_and_start_later() {
        let scheduler: Scheduler<()> = Scheduler::new(InboundLimits::default(), 1);
        let queue = Queue::new("default", QueueLimits::unlimited());
        let lane = Lane::new(Arc::clone(&queue), (), false, Overflow::Backpressure);
        started(scheduler.admit(&lane, event(1)));
        assert!(matches!(scheduler.admit(&lane, event(2)), Admit::Queued));
        assert!(scheduler.take_starved());
        let (_, next) = scheduler
            .finished(&lane)
            .expect("continues with the waiting item");
        assert_eq!(publication(&next), 2);
        assert!(scheduler.finished(&lane).is_none());
        assert!(scheduler.take_ready(&queue).is_empty());
    }

    /// Records what the scheduler asks of the workers, in order.
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Workers<()> for Log {
        fn run(&self, _lane: &Lane<()>, item: Item) {
            self.0.lock().push(format!("run {}", publication(&item)));
        }

        fn spawn(&self, _lane: Arc<Lane<()>>, item: Item) {
            self.0.lock().push(format!("spawn {}", publication(&item)));
        }

        fn wake_loop(&self) {
            self.0.lock().push("wake".into());
        }
    }

    /// A scheduler whose bound on waiting bytes is one item.
    fn one_item_of_room() -> Scheduler<()> {
        let limits = InboundLimits {
            max_pending_bytes: 10,
            ..InboundLimits::default()
        };
        Scheduler::new(limits, 8)
    }

    /// Regression (found by the loom model): the room made by taking the next item was
    /// reported only after that item's handler returned, so a handler waiting for
    /// something the loop had yet to read kept the loop asleep for good.
    #[test]
    fn the_loop_is_woken_before_the_handler_of_the_item_that_made_room() {
        let scheduler = one_item_of_room();
        let queue = Queue::new("default", QueueLimits::unlimited());
        let lane = Lane::new(queue, (), true, Overflow::Backpressure);
        let first = started(scheduler.admit(&lane, event(1)));
        assert!(matches!(scheduler.admit(&lane, event(2)), Admit::Queued));
        assert!(!scheduler.has_room());
        let log = Log::default();
        scheduler.work(&log, Arc::clone(&lane), first);
        assert_eq!(*log.0.lock(), ["run 1", "wake", "run 2"]);
        assert!(scheduler.has_room());
    }

    /// Regression (found by the loom model): unsubscribing made room without waking
    /// the loop that waited for it.
    #[test]
    fn removing_a_lane_that_held_the_room_wakes_the_loop() {
        let scheduler = one_item_of_room();
        let queue = Queue::new("default", QueueLimits::unlimited());
        let lane = Lane::new(queue, (), true, Overflow::Backpressure);
        started(scheduler.admit(&lane, event(1)));
        assert!(matches!(scheduler.admit(&lane, event(2)), Admit::Queued));
        assert!(!scheduler.has_room());
        let log = Log::default();
        let left = scheduler.remove_lane(&log, &lane);
        assert_eq!(left.iter().map(publication).collect::<Vec<_>>(), [2]);
        assert_eq!(*log.0.lock(), ["wake"]);
    }

    #[test]
    fn closing_a_lane_returns_its_waiting_items() {
        let scheduler: Scheduler<()> = Scheduler::new(InboundLimits::default(), 8);
        let queue = Queue::new("default", QueueLimits::new(1, None));
        let lane = Lane::new(queue, (), false, Overflow::Backpressure);
        started(scheduler.admit(&lane, event(1)));
        assert!(matches!(scheduler.admit(&lane, event(2)), Admit::Queued));
        let left = scheduler.close_lane(&lane);
        assert_eq!(left.iter().map(publication).collect::<Vec<_>>(), vec![2]);
        assert!(matches!(scheduler.admit(&lane, event(3)), Admit::Dropped));
        assert!(scheduler.finished(&lane).is_none());
        assert_eq!(lane.queue.snapshot().2, 0);
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
