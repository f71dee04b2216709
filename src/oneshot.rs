//! A single-use channel for one request's outcome.
//!
//! Why not a general channel: a blocked caller should sleep in the kernel until its
//! reply is there. General-purpose channels spin and yield the CPU a few times before
//! sleeping, which on a small machine (where the router shares the CPU) costs more
//! than the wake-up it tries to avoid. Here the receiver sleeps on a condition
//! variable at once, and the sender wakes it only if it sleeps, after the event
//! loop's lock is released (see [`crate::wake`]).

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

enum State<T> {
    Empty,
    Sent(T),
    /// The sender went away without sending, or the value was taken.
    Dropped,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

/// The sending half; sending consumes it, dropping it unsent wakes the receiver too.
pub(crate) struct Sender<T: Send + 'static> {
    slot: Option<Arc<Slot<T>>>,
}

/// The receiving half.
pub(crate) struct Receiver<T> {
    slot: Arc<Slot<T>>,
}

/// Why no value was received.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RecvError {
    Timeout,
    /// The sender was dropped without sending.
    Disconnected,
}

/// A new channel for one value.
pub(crate) fn channel<T: Send + 'static>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Empty),
        ready: Condvar::new(),
    });
    (
        Sender {
            slot: Some(Arc::clone(&slot)),
        },
        Receiver { slot },
    )
}

impl<T: Send> crate::wake::Wake for Slot<T> {
    fn wake(&self) {
        self.ready.notify_one();
    }
}

impl<T: Send + 'static> Sender<T> {
    /// Hands `value` to the receiver. Fails, giving the value back, when the receiver
    /// is gone.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(slot) = self.slot.take() else {
            return Err(value);
        };
        if Arc::strong_count(&slot) == 1 {
            return Err(value);
        }
        *slot.state.lock() = State::Sent(value);
        crate::wake::wake(&slot);
        Ok(())
    }
}

impl<T: Send + 'static> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            *slot.state.lock() = State::Dropped;
            crate::wake::wake(&slot);
        }
    }
}

impl<T> Receiver<T> {
    /// Waits up to `timeout` for the value.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvError> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.slot.state.lock();
        loop {
            // Taking the value leaves `Dropped`: a second receive finds nothing.
            match std::mem::replace(&mut *state, State::Dropped) {
                State::Sent(value) => return Ok(value),
                State::Dropped => return Err(RecvError::Disconnected),
                State::Empty => *state = State::Empty,
            }
            let timed_out = match deadline {
                Some(deadline) => self.slot.ready.wait_until(&mut state, deadline).timed_out(),
                None => {
                    self.slot.ready.wait(&mut state);
                    false
                }
            };
            if timed_out && matches!(*state, State::Empty) {
                return Err(RecvError::Timeout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_sent_is_received() {
        let (sender, receiver) = channel();
        std::thread::spawn(move || sender.send(7).map_err(drop));
        assert_eq!(receiver.recv_timeout(Duration::from_secs(5)), Ok(7));
    }

    #[test]
    fn nothing_sent_times_out() {
        let (_sender, receiver) = channel::<u8>();
        let start = Instant::now();
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(50)),
            Err(RecvError::Timeout)
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn a_dropped_sender_disconnects_a_waiting_receiver() {
        let (sender, receiver) = channel::<u8>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(sender);
        });
        assert_eq!(
            receiver.recv_timeout(Duration::from_secs(5)),
            Err(RecvError::Disconnected)
        );
    }

    #[test]
    fn sending_to_a_dropped_receiver_gives_the_value_back() {
        let (sender, receiver) = channel();
        drop(receiver);
        assert_eq!(sender.send(3), Err(3));
    }
}
