//! Wake-ups put off until the event loop's lock is released.
//!
//! Why: a thread woken while the waker still holds the loop's lock often runs at once
//! (the scheduler favours a thread that just woke), needs the same lock for its next
//! request and goes back to sleep on it: two extra context switches per message. So
//! code running under the lock (inside [`locked`]) only notes whom to wake, and the
//! wake-ups happen when the section ends, after the lock is released.

use std::cell::RefCell;
use std::sync::Arc;

/// Something a sleeping thread waits on.
pub(crate) trait Wake: Send + Sync {
    /// Wakes the thread waiting on it.
    fn wake(&self);
}

thread_local! {
    /// `Some` while this thread runs a [`locked`] section: the wake-ups it put off.
    static DEFERRED: RefCell<Option<Vec<Arc<dyn Wake>>>> = const { RefCell::new(None) };
}

/// Runs `section`, which takes the loop's lock and releases it before returning, and
/// then the wake-ups it asked for.
pub(crate) fn locked<R>(section: impl FnOnce() -> R) -> R {
    struct Section;
    impl Drop for Section {
        // Also on unwinding: the woken threads must not sleep forever.
        fn drop(&mut self) {
            let deferred = DEFERRED.with(|cell| cell.borrow_mut().take());
            for target in deferred.into_iter().flatten() {
                target.wake();
            }
        }
    }
    DEFERRED.with(|cell| *cell.borrow_mut() = Some(Vec::new()));
    let _section = Section;
    section()
}

/// Whether this thread runs a [`locked`] section (and so holds the loop's lock).
pub(crate) fn in_locked_section() -> bool {
    DEFERRED.with(|cell| cell.borrow().is_some())
}

/// Wakes `target` now, or when the current [`locked`] section ends.
pub(crate) fn wake<T: Wake + 'static>(target: &Arc<T>) {
    let target_now = DEFERRED.with(|cell| match cell.borrow_mut().as_mut() {
        Some(deferred) => {
            deferred.push(Arc::clone(target) as Arc<dyn Wake>);
            false
        }
        None => true,
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
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        locked(|| {
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
}
