//! The worker pool that runs user handlers, away from the I/O thread.
//!
//! Design: the pool grows on demand. A handler may block on a call to another handler
//! of the same client; with a fixed pool, enough such handlers would occupy every
//! worker and wait forever for invocations nobody can run. So a job that finds no idle
//! worker gets a new thread (up to a generous cap), and threads that stay idle for a
//! while exit, so an idle client keeps no workers at all.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

struct Shared {
    jobs: Receiver<Job>,
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
    sender: Sender<Job>,
    shared: Arc<Shared>,
}

impl WorkerPool {
    /// A pool of at most `max_threads` workers named `name`.
    pub fn new(name: &str, max_threads: usize, idle_timeout: Duration) -> Self {
        let (sender, jobs) = crossbeam_channel::unbounded();
        let shared = Shared {
            jobs,
            idle: AtomicUsize::new(0),
            threads: AtomicUsize::new(0),
            max_threads: max_threads.max(1),
            idle_timeout,
            name: name.to_owned(),
        };
        WorkerPool {
            sender,
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
        if self.sender.send(Box::new(job)).is_err() {
            return; // cannot happen: the pool holds its own receiver
        }
        if !claimed_idle {
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

impl Shared {
    fn run(&self) {
        // The job that caused this thread to start is already queued for it.
        while let Ok(job) = self.jobs.recv_timeout(self.idle_timeout) {
            job();
            self.idle.fetch_add(1, Ordering::AcqRel);
            if !self.wait_for_job() {
                break;
            }
        }
        self.threads.fetch_sub(1, Ordering::AcqRel);
    }

    /// Waits idle for the next job; returns false when the worker should exit.
    fn wait_for_job(&self) -> bool {
        loop {
            match self.jobs.recv_timeout(self.idle_timeout) {
                Ok(job) => {
                    job();
                    self.idle.fetch_add(1, Ordering::AcqRel);
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Leave only if no queued job has been promised to us.
                    if self
                        .idle
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return false;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return false,
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
