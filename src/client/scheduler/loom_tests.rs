//! Model checks of the scheduler's hand-offs between the event loop and workers
//! (`RUSTFLAGS="--cfg loom"`, see [`crate::sync::prim`]).

use super::test_event as event;
use super::*;
use crate::sync::prim::{model, thread, Condvar};

/// Every item weighs this much; the bound on waiting bytes is one item.
const ITEM: usize = TEST_EVENT_SIZE;

/// The event loop's waker, as `LoopWaker`: a wake before the loop sleeps is kept.
#[derive(Default)]
struct LoopWake {
    woken: Mutex<bool>,
    cond: Condvar,
}

impl LoopWake {
    fn wake(&self) {
        *self.woken.lock() = true;
        self.cond.notify_one();
    }

    /// Sleeps until woken: a lost wake-up leaves the loop asleep, which loom reports.
    fn sleep(&self) {
        let mut woken = self.woken.lock();
        while !*woken {
            self.cond.wait(&mut woken);
        }
        *woken = false;
    }
}

/// What the model's threads share: the scheduler, the loop's waker, the workers
/// started, how many items were handled, and how many the loop read.
struct World {
    scheduler: Scheduler<()>,
    wake: LoopWake,
    workers: Mutex<Vec<thread::JoinHandle<()>>>,
    handled: stat::AtomicUsize,
    read: Mutex<usize>,
    more_read: Condvar,
    /// The handler of this item waits until the loop has read one more.
    waits_for_the_loop: Option<u64>,
}

impl World {
    fn new(max_running: usize) -> Arc<Self> {
        World::with_waiting_handler(max_running, None)
    }

    fn with_waiting_handler(max_running: usize, waits_for_the_loop: Option<u64>) -> Arc<Self> {
        let limits = InboundLimits {
            max_pending_events: 10,
            max_pending_bytes: ITEM,
        };
        Arc::new(World {
            scheduler: Scheduler::new(limits, max_running),
            wake: LoopWake::default(),
            workers: Mutex::new(Vec::new()),
            handled: stat::AtomicUsize::new(0),
            read: Mutex::new(0),
            more_read: Condvar::new(),
            waits_for_the_loop,
        })
    }

    /// The loop reads an item for `lane`: it starts on a new worker or waits.
    fn admit(self: &Arc<Self>, lane: &Arc<Lane<()>>, item: Item) {
        match self.scheduler.admit(lane, item) {
            Admit::Start(item) => self.spawn(Arc::clone(lane), item),
            Admit::Queued => {}
            Admit::WaitlistFull | Admit::Dropped => panic!("the item was refused"),
        }
        *self.read.lock() += 1;
        self.more_read.notify_all();
    }

    /// The loop reads the next frame once there is room, sleeping until then.
    fn admit_when_there_is_room(self: &Arc<Self>, lane: &Arc<Lane<()>>, item: Item) {
        while !self.scheduler.has_room() {
            self.wake.sleep();
        }
        self.admit(lane, item);
    }

    /// Joins every worker (workers may start workers), then checks nothing is left.
    fn finish(&self, items: usize) {
        loop {
            // Not held while joining: the worker may start another one.
            let Some(worker) = self.workers.lock().pop() else {
                break;
            };
            worker.join().expect("a worker");
        }
        assert_eq!(
            self.handled.load(stat::Ordering::Relaxed),
            items,
            "items lost"
        );
        assert_eq!(self.scheduler.running.load(Ordering::Acquire), 0);
        for queue in self.scheduler.queues() {
            let (_, active, waiting) = queue.snapshot();
            assert_eq!((active, waiting), (0, 0), "queue {}", queue.name);
        }
    }

    fn lane(&self, queue: &str, ordered: bool) -> Arc<Lane<()>> {
        let queue = self.scheduler.queue(queue, QueueLimits::unlimited);
        Lane::new(queue, (), ordered, Overflow::Backpressure)
    }
}

/// The client's handler runner, with handlers that only count their items.
impl Workers<()> for Arc<World> {
    fn run(&self, _lane: &Lane<()>, item: Item) {
        if let (Item::Event(event), Some(n)) = (&item, self.waits_for_the_loop) {
            if event.publication == n {
                // E.g. a handler waiting for an answer the router already sent.
                let mut read = self.read.lock();
                let wanted = usize::try_from(n).expect("small") + 1;
                while *read < wanted {
                    self.more_read.wait(&mut read);
                }
            }
        }
        self.handled.fetch_add(1, stat::Ordering::Relaxed);
    }

    /// A new worker thread, as the pool would start.
    fn spawn(&self, lane: Arc<Lane<()>>, item: Item) {
        let world = Arc::clone(self);
        let worker = thread::spawn(move || world.scheduler.work(&world, lane, item));
        self.workers.lock().push(worker);
    }

    fn wake_loop(&self) {
        self.wake.wake();
    }
}

#[test]
fn the_loop_is_woken_when_a_worker_makes_room() {
    model::check("scheduler: room regained by a worker", 0, || {
        let world = World::new(2);
        let lane = world.lane("q", true);
        world.admit(&lane, event(1)); // starts
        world.admit(&lane, event(2)); // waits, and fills the bound
        world.admit_when_there_is_room(&lane, event(3));
        world.finish(3);
    });
}

#[test]
fn the_loop_is_woken_before_the_handler_of_the_item_that_made_room() {
    model::check(
        "scheduler: room regained, handler waits for the loop",
        0,
        || {
            let world = World::with_waiting_handler(2, Some(2));
            let lane = world.lane("q", true);
            world.admit(&lane, event(1));
            world.admit(&lane, event(2));
            world.admit_when_there_is_room(&lane, event(3));
            world.finish(3);
        },
    );
}

#[test]
fn the_loop_is_woken_when_a_removed_lane_makes_room() {
    model::check("scheduler: room regained by removing a lane", 0, || {
        let world = World::new(2);
        let lane = world.lane("q", true);
        world.admit(&lane, event(1));
        world.admit(&lane, event(2));
        // A user thread unsubscribes meanwhile (`Dispatcher::remove`).
        let remover = {
            let (world, lane) = (Arc::clone(&world), Arc::clone(&lane));
            thread::spawn(move || {
                let dropped = world.scheduler.remove_lane(&world, &lane);
                world
                    .handled
                    .fetch_add(dropped.len(), stat::Ordering::Relaxed);
            })
        };
        let other = world.lane("q", true);
        world.admit_when_there_is_room(&other, event(3));
        remover.join().expect("the remover");
        world.finish(3);
    });
}

#[test]
fn work_that_found_every_worker_busy_starts_when_one_is_free() {
    model::check("scheduler: starved work", 0, || {
        let world = World::new(1);
        let first = world.lane("a", false);
        let second = world.lane("b", false);
        world.admit(&first, event(1)); // takes the only worker
        world.admit(&second, event(2)); // may find it busy
        world.finish(2);
    });
}
