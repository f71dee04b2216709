//! The worker pool that runs user handlers, away from the I/O thread.
//!
//! Design: the pool grows on demand. A handler may block on a call to another handler
//! of the same client; with a fixed pool, enough such handlers would occupy every
//! worker and wait forever for invocations nobody can run. So a job that finds no idle
//! worker gets a new thread (up to a generous cap), and threads that stay idle for a
//! while exit, so an idle client keeps no workers at all.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
            crate::sync::lock::wake(&self.shared);
        } else {
            self.spawn_worker();
        }
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
        let spawned = std::thread::Builder::new()
            .name(shared.name.clone())
            .spawn(move || worker.run());
        if let Err(e) = spawned {
            shared.threads.fetch_sub(1, Ordering::AcqRel);
            log::error!("{}: cannot start a handler thread: {e}", shared.name);
        }
    }
}

impl crate::sync::lock::Wake for Shared {
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

    /// Waits for the next job; `None` when the worker stayed idle long enough to exit.
    fn next_job(&self, counted_idle: bool) -> Option<Job> {
        let mut jobs = self.jobs.lock();
        let mut deadline = Instant::now() + self.idle_timeout;
        loop {
            if let Some(job) = jobs.pop_front() {
                return Some(job);
            }
            if self.job_queued.wait_until(&mut jobs, deadline).timed_out() && jobs.is_empty() {
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
                deadline = Instant::now() + self.idle_timeout;
            }
        }
    }
}

/// Items handled one at a time, in order, on the pool: a worker drains the queue while
/// it has items, and a new worker is asked for only when none is draining it.
pub(crate) struct SerialQueue<T> {
    state: parking_lot::Mutex<(std::collections::VecDeque<T>, bool)>,
    handle: Box<dyn Fn(T) + Send + Sync>,
}

impl<T: Send + 'static> SerialQueue<T> {
    /// A queue whose items are passed to `handle`.
    pub fn new(handle: impl Fn(T) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(SerialQueue {
            state: parking_lot::Mutex::default(),
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
