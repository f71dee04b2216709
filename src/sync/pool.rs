//! The worker pool that runs user handlers, away from the I/O thread.
//!
//! Design: the pool grows on demand. A handler may block on a call to another handler
//! of the same client; with a fixed pool, enough such handlers would occupy every
//! worker and wait forever for invocations nobody can run. So a job that finds no idle
//! worker gets a new thread (up to a generous cap), and threads that stay idle for a
//! while exit, so an idle client keeps no workers at all. Once the pool is shut down
//! (its client closed), workers exit as soon as the queued jobs are done.
//!
//! The pool's own job queue is not bounded here: its users bound the work they hand
//! it (the client's dispatcher admits only a bounded amount of inbound work).

use super::lock::{wake, Wake};
use super::prim::{thread, Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

struct Shared {
    /// Queued jobs. A mutex and condition variable rather than a channel: an idle
    /// worker should sleep at once instead of spinning and yielding the CPU first.
    jobs: Mutex<VecDeque<Job>>,
    job_queued: Condvar,
    /// Idle workers not yet promised to a queued job.
    idle: AtomicUsize,
    threads: AtomicUsize,
    max_threads: usize,
    idle_timeout: Duration,
    shut_down: AtomicBool,
    name: String,
}

/// An elastic thread pool; cloning shares the pool.
#[derive(Clone)]
pub(crate) struct WorkerPool {
    shared: Arc<Shared>,
}

impl WorkerPool {
    /// A pool of at most `max_threads` workers named `name`.
    pub fn new(name: &str, max_threads: usize, idle_timeout: Duration) -> Self {
        let shared = Shared {
            jobs: Mutex::new(VecDeque::new()),
            job_queued: Condvar::new(),
            idle: AtomicUsize::new(0),
            threads: AtomicUsize::new(0),
            max_threads: max_threads.max(1),
            idle_timeout,
            shut_down: AtomicBool::new(false),
            name: name.to_owned(),
        };
        WorkerPool {
            shared: Arc::new(shared),
        }
    }

    /// Runs `job` on a worker. Panics inside the job are the job's own business: jobs
    /// are expected to catch them (the client turns them into WAMP errors).
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let claimed_idle = self
            .shared
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        self.shared.jobs.lock().push_back(Box::new(job));
        if claimed_idle {
            wake(&self.shared);
        } else {
            self.spawn_worker();
        }
    }

    /// From now on, workers exit as soon as no job is queued: jobs already queued
    /// still run, and threads do not wait out their idle timeout.
    pub fn shut_down(&self) {
        self.shared.shut_down.store(true, Ordering::Release);
        // Take the lock so no worker is between its check and its wait.
        drop(self.shared.jobs.lock());
        self.shared.job_queued.notify_all();
    }

    /// Worker threads alive now.
    #[cfg(test)]
    pub fn threads(&self) -> usize {
        self.shared.threads.load(Ordering::Acquire)
    }

    fn spawn_worker(&self) {
        let shared = &self.shared;
        let below_cap = shared
            .threads
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < shared.max_threads).then_some(n + 1)
            })
            .is_ok();
        if !below_cap {
            log::warn!(
                "{}: all {} handler threads are busy; the job waits",
                shared.name,
                shared.max_threads
            );
            return;
        }
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(shared.name.clone())
            .spawn(move || worker.run());
        if let Err(e) = spawned {
            shared.threads.fetch_sub(1, Ordering::AcqRel);
            log::error!("{}: cannot start a handler thread: {e}", shared.name);
        }
    }
}

impl Wake for Shared {
    fn wake(&self) {
        self.job_queued.notify_one();
    }
}

impl Shared {
    fn run(&self) {
        // The job that caused this thread to start is already queued, but an idle
        // worker may have taken it first; this thread then was never counted idle.
        let mut counted_idle = false;
        while let Some(job) = self.next_job(counted_idle) {
            job();
            self.idle.fetch_add(1, Ordering::AcqRel);
            counted_idle = true;
        }
        self.threads.fetch_sub(1, Ordering::AcqRel);
    }

    /// Waits for the next job; `None` when the worker stayed idle long enough to exit,
    /// or the pool is shut down and no job is queued.
    fn next_job(&self, counted_idle: bool) -> Option<Job> {
        let mut jobs = self.jobs.lock();
        let mut deadline = Instant::now() + self.idle_timeout;
        loop {
            if let Some(job) = jobs.pop_front() {
                return Some(job);
            }
            let shut_down = self.shut_down.load(Ordering::Acquire);
            if shut_down || self.job_queued.wait_until(&mut jobs, deadline).timed_out() {
                if !jobs.is_empty() {
                    continue;
                }
                if !counted_idle {
                    return None;
                }
                // Leave only if no queued job has been promised to us.
                if self
                    .idle
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return None;
                }
                if !shut_down {
                    deadline = Instant::now() + self.idle_timeout;
                } else {
                    // A job was promised to us and is being queued: wait for it.
                    self.job_queued
                        .wait_for(&mut jobs, Duration::from_millis(10));
                }
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
            assert!(wait_until(|| pool.shared.idle.load(Ordering::Acquire) == 1));
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
