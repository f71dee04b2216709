//! The event loop's lock, and the rule every user of it follows.
//!
//! # The lock rule
//!
//! All connection state sits behind one [`LoopLock`], taken by the I/O thread and by
//! every thread that sends a request. So that no thread waits long for it:
//!
//! 1. **Nothing unbounded and no user code runs under the lock.** Handlers, hooks,
//!    authenticators (which may run PBKDF2), and drops of user closures all run
//!    elsewhere: handlers and hooks on the worker pool, authentication on the
//!    connector thread. [`assert_unlocked`] marks each place that runs user code and
//!    catches a violation in debug builds. Reading is done in bounded batches.
//! 2. **Wake-ups wait until the lock is released.** A thread woken while the waker
//!    still holds the lock often runs at once (the scheduler favours a thread that
//!    just woke), needs the same lock and goes back to sleep on it: two extra context
//!    switches per message. So code under the lock only notes whom to wake
//!    ([`wake`]), and [`LoopLock::with`] wakes them after releasing the lock.
//! 3. **The lock is not re-entered.** A thread holding it never takes it again; code
//!    that may be reached under the lock (a value dropped there) checks
//!    [`in_locked_section`] and hands its work to the I/O thread instead. Nesting is
//!    caught by a debug assertion.
//!
//! # Work for whoever holds the lock
//!
//! A thread with work for the loop (a request to write) queues it and does not wait
//! for the lock: if another thread holds it, that thread does the work too
//! ([`LoopLock::drain_or_leave`]). Many requests then go out in one write, and their
//! threads go straight to waiting for their answers instead of queueing for the lock
//! (where each release would wake the next). For no work to be left behind, every
//! holder looks at the queue again after releasing the lock
//! ([`work_left_after_release`]) and drains what it finds: a queued item is either
//! seen there or finds the lock free (SeqCst fences on both sides order the two).

use super::prim::{const_thread_local, fence, Arc, Mutex, Ordering};
use std::cell::RefCell;

/// Something a sleeping thread waits on.
pub(crate) trait Wake: Send + Sync {
    /// Wakes the thread (or task) waiting on it.
    fn wake(&self);
}

/// This thread's locked section, if any, and the wake-ups it put off.
struct Section {
    /// Whether this thread holds a [`LoopLock`].
    active: bool,
    /// The wake-ups put off until the lock is released. The buffer is kept from
    /// section to section, so noting a wake-up allocates nothing in the steady state.
    wakes: Vec<Arc<dyn Wake>>,
}

const_thread_local! {
    static DEFERRED: RefCell<Section> = RefCell::new(Section {
        active: false,
        wakes: Vec::new(),
    });
}

/// A mutex that follows the lock rule (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct LoopLock<T> {
    inner: Mutex<T>,
}

impl<T> LoopLock<T> {
    /// Runs `section` with the lock held, then the wake-ups it asked for, after the
    /// lock is released.
    pub fn with<R>(&self, section: impl FnOnce(&mut T) -> R) -> R {
        let _deferred = Deferred::begin();
        let mut guard = self.inner.lock();
        section(&mut guard)
        // The guard is dropped before `_deferred`: the lock is free when they wake.
    }

    /// As [`with`](Self::with) if the lock is free; `None` without waiting if not.
    pub fn try_with<R>(&self, section: impl FnOnce(&mut T) -> R) -> Option<R> {
        let _deferred = Deferred::begin();
        let mut guard = self.inner.try_lock()?;
        Some(section(&mut guard))
    }

    /// Work was queued for the loop: drains it with `drain` under the lock, unless
    /// another thread holds the lock, which then drains it (see the module docs).
    /// `pending` tells whether work is queued; `drain` returns whether the I/O thread
    /// must be woken. Returns whether any drain asked for that.
    pub fn drain_or_leave(
        &self,
        pending: impl Fn() -> bool,
        mut drain: impl FnMut(&mut T) -> bool,
    ) -> bool {
        let mut wake = false;
        loop {
            // Orders the caller's queueing before the look at the lock, against a
            // holder's release before its look at the queue.
            fence(Ordering::SeqCst);
            match self.try_with(&mut drain) {
                Some(asked) => wake |= asked,
                None => return wake,
            }
            if !work_left_after_release(&pending) {
                return wake;
            }
        }
    }
}

/// Whether work is still queued after this thread released the lock: then it must
/// drain it, as nobody else may have seen it (see the module docs).
pub(crate) fn work_left_after_release(pending: impl Fn() -> bool) -> bool {
    fence(Ordering::SeqCst);
    pending()
}

/// The deferred wake-ups of one locked section; wakes them when dropped, also when
/// unwinding, so the woken threads never sleep forever.
struct Deferred;

impl Deferred {
    fn begin() -> Self {
        DEFERRED.with(|cell| {
            let mut section = cell.borrow_mut();
            debug_assert!(
                !section.active,
                "the event loop's lock was taken by a thread that already holds it"
            );
            section.active = true;
        });
        Deferred
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        let mut wakes = DEFERRED.with(|cell| {
            let mut section = cell.borrow_mut();
            section.active = false;
            std::mem::take(&mut section.wakes)
        });
        // A woken target may take the lock again on this thread (a task's waker runs
        // its executor's code), so the buffer is out of the cell while they run.
        for target in wakes.drain(..) {
            target.wake();
        }
        DEFERRED.with(|cell| {
            let mut section = cell.borrow_mut();
            if section.wakes.capacity() == 0 {
                section.wakes = wakes;
            }
        });
    }
}

/// Whether this thread holds the event loop's lock.
pub(crate) fn in_locked_section() -> bool {
    DEFERRED.with(|cell| cell.borrow().active)
}

/// Marks code that runs user code (`what` names it): in debug builds, fails if the
/// event loop's lock is held.
#[track_caller]
pub(crate) fn assert_unlocked(what: &str) {
    debug_assert!(
        !in_locked_section(),
        "{what} must not run under the event loop's lock"
    );
}

/// Wakes `target` now, or when the current locked section ends.
pub(crate) fn wake<T: Wake + 'static>(target: &Arc<T>) {
    let target_now = DEFERRED.with(|cell| {
        let mut section = cell.borrow_mut();
        if section.active {
            section.wakes.push(Arc::clone(target) as Arc<dyn Wake>);
        }
        !section.active
    });
    if target_now {
        target.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_wait_for_the_end_of_the_section() {
        let lock = LoopLock::<()>::default();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        lock.with(|()| {
            assert!(in_locked_section());
            wake(&counter);
            wake(&counter);
            assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        });
        assert!(!in_locked_section());
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn outside_a_section_wakes_happen_at_once() {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        wake(&counter);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn wakes_happen_even_when_the_section_panics() {
        let lock = LoopLock::<()>::default();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let woken = Arc::clone(&counter);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lock.with(|()| {
                wake(&woken);
                panic!("boom");
            })
        }));
        assert!(result.is_err());
        assert!(!in_locked_section());
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }

    #[cfg(debug_assertions)]
    #[test]
    fn taking_the_lock_twice_on_one_thread_is_caught() {
        let outer = LoopLock::<()>::default();
        let inner = LoopLock::<()>::default();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            outer.with(|()| inner.with(|()| ()))
        }));
        assert!(result.is_err(), "nesting must be caught");
        assert!(!in_locked_section());
    }

    #[cfg(debug_assertions)]
    #[test]
    fn user_code_under_the_lock_is_caught() {
        let lock = LoopLock::<()>::default();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lock.with(|()| assert_unlocked("a handler"))
        }));
        assert!(result.is_err());
        assert_unlocked("a handler");
    }
}

/// Model checks (`RUSTFLAGS="--cfg loom"`, see [`super::prim`]).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::{model, thread, Condvar};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A sleeper as the reply slot's: its state under its own mutex, woken by a notify
    /// that does not take that mutex.
    struct Sleeper {
        ready: Mutex<bool>,
        cond: Condvar,
        wakes: AtomicUsize,
        /// The loop's lock, to check it is free when the wake arrives.
        lock: Arc<LoopLock<()>>,
    }

    impl Wake for Sleeper {
        fn wake(&self) {
            assert!(!in_locked_section(), "woken inside the locked section");
            // Takes the lock: were it still held by the waking thread, loom would
            // report a deadlock.
            self.lock.with(|()| ());
            self.wakes.fetch_add(1, Ordering::Relaxed);
            self.cond.notify_one();
        }
    }

    impl Sleeper {
        fn new(lock: &Arc<LoopLock<()>>) -> Arc<Self> {
            Arc::new(Sleeper {
                ready: Mutex::new(false),
                cond: Condvar::new(),
                wakes: AtomicUsize::new(0),
                lock: Arc::clone(lock),
            })
        }

        /// Checks, then sleeps until woken: a lost wake-up is a deadlock.
        fn sleep_until_ready(&self) {
            let mut ready = self.ready.lock();
            while !*ready {
                self.cond.wait(&mut ready);
            }
        }
    }

    /// The waker's side: marks the sleeper ready under the loop's lock and asks for
    /// its wake-up there; `panics` makes the section panic after that.
    fn mark_ready(lock: &LoopLock<()>, sleeper: &Arc<Sleeper>, panics: bool) {
        let section = || {
            lock.with(|()| {
                *sleeper.ready.lock() = true;
                wake(sleeper);
                assert_eq!(sleeper.wakes.load(Ordering::Relaxed), 0, "woken too early");
                assert!(!panics, "(expected) the section fails");
            });
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(section));
        assert_eq!(result.is_err(), panics);
        assert!(!in_locked_section());
    }

    fn deferred_wake(panics: bool) {
        let lock = Arc::new(LoopLock::<()>::default());
        let sleeper = Sleeper::new(&lock);
        let waker = {
            let (lock, sleeper) = (Arc::clone(&lock), Arc::clone(&sleeper));
            thread::spawn(move || mark_ready(&lock, &sleeper, panics))
        };
        // A third thread takes the lock meanwhile, as request threads do.
        let other = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || lock.with(|()| ()))
        };
        sleeper.sleep_until_ready();
        waker.join().expect("the waker");
        other.join().expect("the other thread");
        assert_eq!(
            sleeper.wakes.load(Ordering::Relaxed),
            1,
            "woken exactly once"
        );
    }

    #[test]
    fn a_deferred_wake_arrives_after_the_lock_is_released_exactly_once() {
        model::check("lock: deferred wake", 0, || deferred_wake(false));
    }

    /// The loop's command queue, reduced to counts: `queued` items wait,
    /// `drained` were handled under the lock.
    #[derive(Default)]
    struct Work {
        queued: crate::sync::prim::AtomicUsize,
        drained: crate::sync::prim::AtomicUsize,
    }

    impl Work {
        /// Queues one item, then leaves it to the lock's holder or drains it.
        fn send(&self, lock: &LoopLock<()>) {
            self.queued.fetch_add(1, Ordering::SeqCst);
            lock.drain_or_leave(|| self.pending(), |()| self.drain());
        }

        fn pending(&self) -> bool {
            self.queued.load(Ordering::SeqCst) > 0
        }

        fn drain(&self) -> bool {
            let items = self.queued.swap(0, Ordering::SeqCst);
            self.drained.fetch_add(items, Ordering::SeqCst);
            false
        }
    }

    #[test]
    fn work_left_to_the_holder_of_the_lock_is_never_stranded() {
        model::check("lock: drain or leave", 0, || {
            let lock = Arc::new(LoopLock::<()>::default());
            let work = Arc::new(Work::default());
            let senders: Vec<_> = (0..2)
                .map(|_| {
                    let (lock, work) = (Arc::clone(&lock), Arc::clone(&work));
                    thread::spawn(move || work.send(&lock))
                })
                .collect();
            // The I/O thread: one pass under the lock, then the look at the queue
            // before it would sleep, draining what it finds.
            lock.with(|()| work.drain());
            while work_left_after_release(|| work.pending()) {
                lock.with(|()| work.drain());
            }
            for sender in senders {
                sender.join().expect("a sender");
            }
            assert_eq!(
                work.drained.load(Ordering::SeqCst),
                2,
                "every item was drained by the time every thread stopped looking"
            );
        });
    }

    #[test]
    fn a_deferred_wake_arrives_even_when_the_section_panics() {
        model::silence_expected_panics();
        model::check("lock: deferred wake, panicking section", 0, || {
            deferred_wake(true);
        });
    }
}
