//! A bounded stream of items ending with a last one: the progressive results of a
//! call and then its result, or the chunks of a progressive invocation.
//!
//! The sender never blocks (it runs under the event loop's lock): when the receiver
//! falls `capacity` items behind, the oldest waiting item that is not the last is
//! dropped and counted. Wake-ups follow the lock rule (see [`super::lock`]).

use super::lock::Wake;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

struct State<T> {
    items: VecDeque<T>,
    /// The last item was queued, or the sender is gone.
    ended: bool,
    dropped: u64,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    capacity: usize,
}

impl<T: Send> Wake for Shared<T> {
    fn wake(&self) {
        self.ready.notify_one();
    }
}

/// The sending half.
pub(crate) struct Sender<T: Send + 'static> {
    shared: Arc<Shared<T>>,
}

/// The receiving half.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// What a receive found instead of an item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RecvError {
    /// The deadline passed first.
    Timeout,
    /// Nothing more will come.
    Ended,
}

/// A stream holding at most `capacity` items not yet received (at least 1).
pub(crate) fn channel<T: Send + 'static>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            ended: false,
            dropped: 0,
        }),
        ready: Condvar::new(),
        capacity: capacity.max(1),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver { shared },
    )
}

impl<T: Send + 'static> Sender<T> {
    /// Queues an item; `last` ends the stream. Returns false when the receiver is gone.
    pub fn send(&self, item: T, last: bool) -> bool {
        {
            let mut state = self.shared.state.lock();
            if state.ended {
                return false;
            }
            if state.items.len() >= self.shared.capacity {
                state.items.pop_front();
                state.dropped += 1;
            }
            state.items.push_back(item);
            state.ended = last;
        }
        super::lock::wake(&self.shared);
        Arc::strong_count(&self.shared) > 1
    }

    /// True when nobody receives any more.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) == 1
    }
}

impl<T: Send + 'static> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.state.lock().ended = true;
        super::lock::wake(&self.shared);
    }
}

impl<T> Receiver<T> {
    /// The next item, waiting until `deadline` at most.
    pub fn recv_until(&self, deadline: Instant) -> Result<T, RecvError> {
        let mut state = self.shared.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Ok(item);
            }
            if state.ended {
                return Err(RecvError::Ended);
            }
            if self
                .shared
                .ready
                .wait_until(&mut state, deadline)
                .timed_out()
            {
                return state.items.pop_front().ok_or(RecvError::Timeout);
            }
        }
    }

    /// Items dropped so far because the receiver fell behind.
    pub fn dropped(&self) -> u64 {
        self.shared.state.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn items_arrive_in_order_and_the_stream_ends_after_the_last() {
        let (tx, rx) = channel(8);
        std::thread::spawn(move || {
            tx.send(1, false);
            tx.send(2, false);
            tx.send(3, true);
            assert!(!tx.send(4, true), "nothing after the last");
        });
        assert_eq!(rx.recv_until(soon()), Ok(1));
        assert_eq!(rx.recv_until(soon()), Ok(2));
        assert_eq!(rx.recv_until(soon()), Ok(3));
        assert_eq!(rx.recv_until(soon()), Err(RecvError::Ended));
    }

    #[test]
    fn a_slow_receiver_loses_the_oldest_items_and_learns_how_many() {
        let (tx, rx) = channel(2);
        for n in 0..5 {
            tx.send(n, n == 4);
        }
        assert_eq!(rx.recv_until(soon()), Ok(3));
        assert_eq!(rx.recv_until(soon()), Ok(4));
        assert_eq!(rx.dropped(), 3);
    }

    #[test]
    fn nothing_sent_times_out_and_a_dropped_sender_ends_the_stream() {
        let (tx, rx) = channel::<u8>(1);
        assert_eq!(
            rx.recv_until(Instant::now() + Duration::from_millis(20)),
            Err(RecvError::Timeout)
        );
        drop(tx);
        assert_eq!(rx.recv_until(soon()), Err(RecvError::Ended));
    }
}
