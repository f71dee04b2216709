//! The worker pool that runs user handlers, away from the I/O thread.
//!
//! Design: the pool grows on demand. A handler may block on a call to another handler
//! of the same client; with a fixed pool, enough such handlers would occupy every
//! worker and wait forever for invocations nobody can run. So a job that finds no idle
//! worker gets a new thread (up to a generous cap), and threads that stay idle for a
//! while exit, so an idle client keeps no workers at all. Once the pool is shut down
//! (its client closed), workers exit as soon as the queued jobs are done.
//!
//! A job goes to the worker that went idle last. Woken in turn instead, every worker
//! a burst brought would get a job before its idle time ran out, so under steady
//! load the pool would keep each thread it ever had; this way the surplus times out.
//!
//! The pool's own job queue is not bounded here: its users bound the work they hand
//! it (the client's dispatcher admits only a bounded amount of inbound work).

use super::lock::{wake, Wake};
use super::prim::{thread, Arc, Condvar, Mutex};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

struct Shared {
    /// A mutex and condition variables rather than a channel: an idle worker should
    /// sleep at once instead of spinning and yielding the CPU first.
    queue: Mutex<Queue>,
    max_threads: usize,
    idle_timeout: Duration,
    name: String,
}

/// Queued jobs and the workers' accounting, under one lock: queuing a job and picking
/// who runs it, or a worker deciding to exit, are each one step, so no job is left
/// queued with nobody coming for it. (Counting idle workers with atomics outside the
/// lock lost jobs: see the regression tests.)
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Worker threads alive, at most `max_threads`.
    threads: usize,
    /// Workers waiting for a job, the one idle the shortest time last. A job takes
    /// one out and wakes it; a job that finds none gets a new thread, so it never
    /// waits behind a busy worker (which may be a handler blocked on a call that this
    /// very job must answer).
    idle: Vec<Arc<IdleWorker>>,
    shut_down: bool,
}

/// What an idle worker sleeps on, its own so that a job wakes the one it chose.
#[derive(Default)]
struct IdleWorker {
    job_queued: Condvar,
}

impl Wake for IdleWorker {
    fn wake(&self) {
        self.job_queued.notify_one();
    }
}

/// An elastic thread pool; cloning shares the pool.
#[derive(Clone)]
pub(crate) struct WorkerPool {
    shared: Arc<Shared>,
}

/// Who runs a job just queued.
enum Runner {
    /// This waiting worker, to be woken.
    Waiting(Arc<IdleWorker>),
    /// A new worker thread.
    New,
    /// Every thread the cap allows is busy: the first to finish.
    Busy,
}

impl WorkerPool {
    /// A pool of at most `max_threads` workers named `name`.
    pub fn new(name: &str, max_threads: usize, idle_timeout: Duration) -> Self {
        let shared = Shared {
            queue: Mutex::new(Queue::default()),
            max_threads: max_threads.max(1),
            idle_timeout,
            name: name.to_owned(),
        };
        WorkerPool {
            shared: Arc::new(shared),
        }
    }

    /// Runs `job` on a worker. Panics inside the job are the job's own business: jobs
    /// are expected to catch them (the client turns them into WAMP errors).
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let shared = &self.shared;
        let runner = {
            let mut queue = shared.queue.lock();
            queue.jobs.push_back(Box::new(job));
            if let Some(worker) = queue.idle.pop() {
                Runner::Waiting(worker)
            } else if queue.threads < shared.max_threads {
                queue.threads += 1;
                Runner::New
            } else {
                Runner::Busy
            }
        };
        match runner {
            Runner::Waiting(worker) => wake(&worker),
            Runner::New => self.spawn_worker(),
            Runner::Busy => log::warn!(
                "{}: all {} handler threads are busy; the job waits",
                shared.name,
                shared.max_threads
            ),
        }
    }

    /// From now on, workers exit as soon as no job is queued: jobs already queued
    /// still run, and threads do not wait out their idle timeout.
    pub fn shut_down(&self) {
        let idle = {
            let mut queue = self.shared.queue.lock();
            queue.shut_down = true;
            std::mem::take(&mut queue.idle)
        };
        for worker in &idle {
            wake(worker);
        }
    }

    /// Worker threads alive now.
    #[cfg(test)]
    pub fn threads(&self) -> usize {
        self.shared.queue.lock().threads
    }

    /// Starts a worker thread, already counted in `threads`.
    fn spawn_worker(&self) {
        let shared = &self.shared;
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(shared.name.clone())
            .spawn(move || worker.run());
        if let Err(e) = spawned {
            shared.queue.lock().threads -= 1;
            log::error!("{}: cannot start a handler thread: {e}", shared.name);
        }
    }
}

impl Shared {
    fn run(&self) {
        let me = Arc::new(IdleWorker::default());
        while let Some(job) = self.next_job(&me) {
            job();
        }
    }

    /// Waits for the next job; `None` when the worker stayed idle long enough to exit,
    /// or the pool is shut down and no job is queued. The worker is no longer counted
    /// in `threads` then.
    fn next_job(&self, me: &Arc<IdleWorker>) -> Option<Job> {
        let mut queue = self.queue.lock();
        let deadline = Instant::now() + self.idle_timeout;
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                return Some(job);
            }
            if queue.shut_down {
                queue.threads -= 1;
                return None;
            }
            queue.idle.push(Arc::clone(me));
            let timed_out = me.job_queued.wait_until(&mut queue, deadline).timed_out();
            // Still in `idle`: nobody chose this worker (it timed out, or woke for no
            // reason). Taken out: a job or the shut-down did, and it must look at the
            // queue, even if it timed out at the same moment.
            let chosen = match queue.idle.iter().rposition(|idle| Arc::ptr_eq(idle, me)) {
                Some(at) => {
                    queue.idle.remove(at);
                    false
                }
                None => true,
            };
            if timed_out && !chosen && queue.jobs.is_empty() {
                queue.threads -= 1;
                return None;
            }
        }
    }
}

/// Items handled one at a time, in order, on the pool: a worker drains the queue while
/// it has items, and a new worker is asked for only when none is draining it.
pub(crate) struct SerialQueue<T> {
    state: Mutex<(VecDeque<T>, bool)>,
    handle: Box<dyn Fn(T) + Send + Sync>,
}

impl<T: Send + 'static> SerialQueue<T> {
    /// A queue whose items are passed to `handle`.
    pub fn new(handle: impl Fn(T) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(SerialQueue {
            state: Mutex::default(),
            handle: Box::new(handle),
        })
    }

    /// Queues `item`, starting a drain on `pool` unless one is running.
    pub fn push(self: &Arc<Self>, item: T, pool: &WorkerPool) {
        let start = {
            let mut state = self.state.lock();
            state.0.push_back(item);
            !std::mem::replace(&mut state.1, true)
        };
        if start {
            let queue = Arc::clone(self);
            pool.execute(move || queue.drain());
        }
    }

    fn drain(&self) {
        loop {
            let item = {
                let mut state = self.state.lock();
                match state.0.pop_front() {
                    Some(item) => item,
                    None => {
                        state.1 = false;
                        return;
                    }
                }
            };
            (self.handle)(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    fn wait_until(mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        done()
    }

    #[test]
    fn jobs_run_and_idle_workers_are_reused() {
        let pool = WorkerPool::new("test", 4, Duration::from_secs(10));
        for round in 0..3 {
            let (tx, rx) = mpsc::channel();
            pool.execute(move || tx.send(round).expect("send"));
            assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(round));
            // Wait until the worker is idle again, so the next job finds it.
            assert!(wait_until(|| pool.shared.queue.lock().idle.len() == 1));
        }
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn a_shut_down_pool_finishes_queued_jobs_and_then_has_no_threads() {
        let pool = WorkerPool::new("test", 2, Duration::from_secs(60));
        let (tx, rx) = mpsc::channel();
        for i in 0..10 {
            let tx = tx.clone();
            pool.execute(move || {
                std::thread::sleep(Duration::from_millis(5));
                tx.send(i).expect("send");
            });
        }
        pool.shut_down();
        let mut done: Vec<i32> = (0..10)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(5))
                    .expect("every job runs")
            })
            .collect();
        done.sort_unstable();
        assert_eq!(done, (0..10).collect::<Vec<_>>());
        assert!(
            wait_until(|| pool.threads() == 0),
            "{} threads left after shut_down",
            pool.threads()
        );
    }

    /// Regression (found by the loom model): a job that waited for the thread cap was
    /// taken by a worker that had counted itself idle, so the idle count kept a
    /// worker that did not exist once it timed out, and a later job was promised to
    /// it instead of getting a thread: it never ran.
    #[test]
    fn a_job_after_the_workers_timed_out_still_runs() {
        let pool = WorkerPool::new("test", 1, Duration::from_millis(20));
        let (release, held) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel();
        // The only worker is busy, so the next job waits at the thread cap.
        pool.execute(move || held.recv().expect("released"));
        let waited = tx.clone();
        pool.execute(move || waited.send("waited").expect("send"));
        release.send(()).expect("release");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("waited"));
        assert!(wait_until(|| pool.threads() == 0), "the worker idles out");
        pool.execute(move || tx.send("later").expect("send"));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("later"));
    }

    /// A burst brings workers; under the steady trickle that follows, the one idle the
    /// shortest time takes each job, so the others time out. (Woken in turn, each
    /// would get a job every 8 × 10 ms, well within its idle time, and all 8 stay.)
    #[test]
    fn workers_a_burst_brought_retire_under_a_steady_trickle() {
        let pool = WorkerPool::new("test", 16, Duration::from_millis(300));
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(std::sync::Mutex::new(held));
        for _ in 0..8 {
            let held = Arc::clone(&held);
            pool.execute(move || {
                let _released = held.lock().expect("held").recv();
            });
        }
        assert!(wait_until(|| pool.threads() == 8));
        drop(release);
        let trickle_until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < trickle_until {
            pool.execute(|| {});
            std::thread::sleep(Duration::from_millis(10));
        }
        let threads = pool.threads();
        assert!(
            threads <= 3,
            "{threads} workers stayed for a trickle of jobs"
        );
    }

    #[test]
    fn the_thread_cap_holds_and_excess_jobs_wait_their_turn() {
        let pool = WorkerPool::new("test", 2, Duration::from_secs(10));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for _ in 0..8 {
            let (running, peak, tx) = (Arc::clone(&running), Arc::clone(&peak), tx.clone());
            pool.execute(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
                running.fetch_sub(1, Ordering::SeqCst);
                tx.send(()).expect("send");
            });
        }
        for _ in 0..8 {
            rx.recv_timeout(Duration::from_secs(5))
                .expect("every job runs");
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert!(pool.threads() <= 2);
    }
}

/// Model checks (`RUSTFLAGS="--cfg loom"`, see [`super::prim`]).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::lock::LoopLock;
    use crate::sync::prim::model;

    /// Ignored under loom: whether an idle worker times out is the model's choice.
    const IDLE: Duration = Duration::from_secs(10);

    /// Counts finished jobs; waiting for them never times out, so a job nobody runs
    /// is a deadlock, which loom reports.
    #[derive(Default)]
    struct Done {
        count: Mutex<usize>,
        cond: Condvar,
    }

    impl Done {
        fn job(self: &Arc<Self>) -> impl FnOnce() + Send + 'static {
            let done = Arc::clone(self);
            move || {
                *done.count.lock() += 1;
                done.cond.notify_all();
            }
        }

        fn wait_for(&self, jobs: usize) {
            let mut count = self.count.lock();
            while *count < jobs {
                self.cond.wait(&mut count);
            }
        }
    }

    /// Waits until every worker has exited, then checks the accounting is back to 0.
    fn wait_for_exit(pool: &WorkerPool) {
        while pool.threads() > 0 {
            thread::yield_now();
        }
        let queue = pool.shared.queue.lock();
        assert_eq!((queue.idle.len(), queue.jobs.len()), (0, 0));
    }

    #[test]
    fn a_job_queued_while_the_only_worker_goes_idle_or_times_out_runs() {
        // The worker's first three idle waits may each time out, at any point.
        model::check("pool: jobs while the worker idles", 3, || {
            let pool = WorkerPool::new("loom", 1, IDLE);
            let done = Arc::new(Done::default());
            pool.execute(done.job());
            // As the event loop does: under its lock, so the wake-up is deferred.
            LoopLock::<()>::default().with(|()| pool.execute(done.job()));
            done.wait_for(2);
            // The worker may be waiting, timing out or gone by now.
            pool.execute(done.job());
            done.wait_for(3);
            pool.shut_down();
            wait_for_exit(&pool);
        });
    }

    #[test]
    fn after_shut_down_every_worker_exits_once_the_queue_is_empty() {
        model::check("pool: shut down", 2, || {
            let pool = WorkerPool::new("loom", 2, IDLE);
            let done = Arc::new(Done::default());
            pool.execute(done.job());
            pool.execute(done.job());
            pool.shut_down();
            done.wait_for(2);
            wait_for_exit(&pool);
        });
    }

    #[test]
    fn a_serial_queue_runs_every_item_once_in_order() {
        model::check("pool: serial queue", 1, || {
            let pool = WorkerPool::new("loom", 2, IDLE);
            let seen = Arc::new(Mutex::new(Vec::new()));
            let done = Arc::new(Done::default());
            let queue = {
                let (seen, done) = (Arc::clone(&seen), Arc::clone(&done));
                SerialQueue::new(move |item: u32| {
                    seen.lock().push(item);
                    done.job()();
                })
            };
            queue.push(1, &pool);
            queue.push(2, &pool);
            done.wait_for(2);
            assert_eq!(*seen.lock(), [1, 2]);
            pool.shut_down();
            wait_for_exit(&pool);
        });
    }
}
