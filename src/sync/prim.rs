//! The synchronization primitives of the event loop's lock, the reply slot, the worker
//! pool, the inbound scheduler and the leaders' flags, named in one place so that
//! those modules can be model-checked with [loom](https://docs.rs/loom).
//!
//! A normal build re-exports parking_lot's and std's primitives as they are: this
//! module adds no code and no indirection to it. In this crate's unit tests built with
//! `RUSTFLAGS="--cfg loom"` (the `loom` session of `scripts/check`), the same names are
//! loom's models, with the same API, and the `loom_tests` modules next to the code
//! explore every interleaving of small scenarios. (loom is a dev-dependency, so only
//! the tests switch: a non-test build with `--cfg loom` is a normal build.)
//!
//! `Arc` stays std's in both builds: loom's `Arc` cannot become an `Arc<dyn Wake>`
//! (that needs the unstable `CoerceUnsized`), and none of the checked properties rests
//! on the reference count; every hand-off between threads goes through a modelled
//! mutex, condition variable or atomic.
//!
//! # Time under loom
//!
//! loom has no clock, and its `Condvar::wait_timeout` never times out. So a wait with a
//! deadline is modelled as a choice: it either waits for a notification like a plain
//! wait, or times out, which releases the lock and takes it again, so that any other
//! thread may run in between (the timeout falls at any point of the other threads'
//! work). The choice is made by the test, not the clock: `model::set_timeouts` gives
//! the pattern of the execution's timed waits, in the order they start, that time out;
//! the tests run the model once for every pattern of their first few timed waits, and
//! later waits never time out (beyond the model's horizon, time stands still).
//! Deadlines and durations are ignored, so no model depends on the real clock.

#[cfg(not(all(test, loom)))]
pub(crate) use parking_lot::{Condvar, Mutex};
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicUsize};
#[cfg(not(all(test, loom)))]
pub(crate) use std::thread;

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicUsize};
#[cfg(all(test, loom))]
pub(crate) use loom::thread;
#[cfg(all(test, loom))]
pub(crate) use model::{Condvar, Mutex};

pub(crate) use std::sync::atomic::Ordering;
pub(crate) use std::sync::Arc;

/// `thread_local!` with a `const` initializer: std's, or loom's per-thread model
/// (whose macro takes no `const` block) under loom.
macro_rules! const_thread_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
        #[cfg(not(all(test, loom)))]
        std::thread_local! { $(#[$attr])* $vis static $name: $t = const { $init }; }
        #[cfg(all(test, loom))]
        loom::thread_local! { $(#[$attr])* $vis static $name: $t = $init; }
    };
}
pub(crate) use const_thread_local;

/// parking_lot's API on loom's mutex and condition variable, and the timeout choice.
#[cfg(all(test, loom))]
pub(crate) mod model {
    use std::fmt;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::PoisonError;
    use std::time::Instant;

    /// A mutex with parking_lot's API: `lock` gives the guard itself, and a panic
    /// while it is held does not poison it. loom's own mutex poisons, and then
    /// panics on every later lock, which would make a panicking section (one of the
    /// checked cases) impossible to model. So the modelled lock is a "locked" flag
    /// under a loom mutex that is never held while the caller's code runs; the value
    /// sits in a std mutex, taken only by the flag's holder (so never contended), whose
    /// poisoning is ignored.
    pub(crate) struct Mutex<T> {
        locked: loom::sync::Mutex<bool>,
        released: loom::sync::Condvar,
        data: std::sync::Mutex<T>,
    }

    impl<T> Mutex<T> {
        pub fn new(value: T) -> Self {
            Mutex {
                locked: loom::sync::Mutex::new(false),
                released: loom::sync::Condvar::new(),
                data: std::sync::Mutex::new(value),
            }
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.acquire(self.flag());
            MutexGuard {
                mutex: self,
                data: Some(self.data()),
            }
        }

        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            let mut locked = self.flag();
            if *locked {
                return None;
            }
            *locked = true;
            drop(locked);
            Some(MutexGuard {
                mutex: self,
                data: Some(self.data()),
            })
        }

        fn flag(&self) -> loom::sync::MutexGuard<'_, bool> {
            self.locked.lock().expect("never held while user code runs")
        }

        fn data(&self) -> std::sync::MutexGuard<'_, T> {
            self.data.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// Takes the lock, given the flag's guard.
        fn acquire(&self, mut locked: loom::sync::MutexGuard<'_, bool>) {
            while *locked {
                locked = self.released.wait(locked).expect("not poisoned");
            }
            *locked = true;
        }

        /// Releases the lock, given the flag's guard.
        fn release(&self, locked: &mut loom::sync::MutexGuard<'_, bool>) {
            **locked = false;
            self.released.notify_one();
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex::new(T::default())
        }
    }

    impl<T> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Mutex { .. }")
        }
    }

    /// The guard of [`Mutex`].
    pub(crate) struct MutexGuard<'a, T> {
        mutex: &'a Mutex<T>,
        /// `None` only inside a wait.
        data: Option<std::sync::MutexGuard<'a, T>>,
    }

    impl<T> MutexGuard<'_, T> {
        /// Releases the lock (the value first), for a wait.
        fn unlock(&mut self, locked: &mut loom::sync::MutexGuard<'_, bool>) {
            self.data = None;
            self.mutex.release(locked);
        }

        /// Takes the lock again after a wait.
        fn relock(&mut self, locked: loom::sync::MutexGuard<'_, bool>) {
            self.mutex.acquire(locked);
            self.data = Some(self.mutex.data());
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;

        fn deref(&self) -> &T {
            self.data.as_ref().expect("held outside waits")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.data.as_mut().expect("held outside waits")
        }
    }

    impl<T> Drop for MutexGuard<'_, T> {
        fn drop(&mut self) {
            let mutex = self.mutex;
            let mut unlock = || self.unlock(&mut mutex.flag());
            if std::thread::panicking() {
                // Unwinding from a model's failure, the execution may be gone: a
                // second panic here would abort the whole test binary.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(unlock));
            } else {
                unlock();
            }
        }
    }

    /// Whether a timed wait timed out, as parking_lot's.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub fn timed_out(self) -> bool {
            self.0
        }
    }

    /// A condition variable with parking_lot's API (waits take `&mut` the guard).
    #[derive(Debug, Default)]
    pub(crate) struct Condvar {
        inner: loom::sync::Condvar,
    }

    impl Condvar {
        pub fn new() -> Self {
            Condvar::default()
        }

        pub fn notify_one(&self) {
            self.inner.notify_one();
        }

        pub fn notify_all(&self) {
            self.inner.notify_all();
        }

        pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let mut locked = guard.mutex.flag();
            guard.unlock(&mut locked);
            // Waiting releases the flag's mutex atomically: a thread that changes the
            // state this thread waits for must take the lock, so the flag's mutex,
            // first, and its notification comes after this thread waits.
            let locked = self.inner.wait(locked).expect("not poisoned");
            guard.relock(locked);
        }

        /// A wait with a deadline; see the module docs for how it times out.
        pub fn wait_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _deadline: Instant,
        ) -> WaitTimeoutResult {
            self.timed_wait(guard)
        }

        fn timed_wait<T>(&self, guard: &mut MutexGuard<'_, T>) -> WaitTimeoutResult {
            if !next_wait_times_out() {
                self.wait(guard);
                return WaitTimeoutResult(false);
            }
            // Released and taken again: other threads may run in between, and a
            // notification meanwhile is missed, as one just after a real timeout.
            guard.unlock(&mut guard.mutex.flag());
            guard.relock(guard.mutex.flag());
            WaitTimeoutResult(true)
        }
    }

    /// Which timed waits of the current execution time out, and how many started.
    #[derive(Default)]
    struct Timeouts {
        pattern: AtomicU32,
        started: AtomicU32,
    }

    // Reset for every execution of a model. Plain std atomics inside: loom runs one
    // thread at a time, and this bookkeeping is no part of the code under test.
    loom::lazy_static! {
        static ref TIMEOUTS: Timeouts = Timeouts::default();
    }

    /// In the current execution, the `n`-th timed wait (from 0, in the order they
    /// start) times out if bit `n` of `pattern` is set; the others are plain waits.
    /// Call at the start of the model; without it, no wait times out.
    pub(crate) fn set_timeouts(pattern: u32) {
        TIMEOUTS.pattern.store(pattern, Ordering::Relaxed);
    }

    fn next_wait_times_out() -> bool {
        let n = TIMEOUTS.started.fetch_add(1, Ordering::Relaxed);
        n < u32::BITS && TIMEOUTS.pattern.load(Ordering::Relaxed) >> n & 1 == 1
    }

    /// Keeps panics that a model causes on purpose, whose message starts with
    /// `(expected)`, out of the test output; others are reported as usual.
    pub(crate) fn silence_expected_panics() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let report = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
                if !message.is_some_and(|m| m.starts_with("(expected)")) {
                    report(info);
                }
            }));
        });
    }

    /// Runs `model` under loom once for each pattern of timeouts of the first
    /// `timed_waits` timed waits, and prints how many executions were explored.
    pub(crate) fn check(name: &str, timed_waits: u32, model: impl Fn() + Sync + Send + 'static) {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;

        let model = Arc::new(model);
        let executions = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        for pattern in 0..1u32 << timed_waits {
            let (model, executions) = (Arc::clone(&model), Arc::clone(&executions));
            loom::model(move || {
                executions.fetch_add(1, Ordering::Relaxed);
                set_timeouts(pattern);
                model();
            });
        }
        println!(
            "loom: {name}: {} executions ({} timeout patterns) in {:.1?}",
            executions.load(Ordering::Relaxed),
            1u32 << timed_waits,
            start.elapsed()
        );
    }
}
