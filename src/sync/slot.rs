//! The reply slot: where one request's outcome is put, and where its caller waits.
//!
//! Why not a general channel: a blocked caller should sleep in the kernel until its
//! reply is there. General-purpose channels spin and yield the CPU a few times before
//! sleeping, which on a small machine (where the router shares the CPU) costs more
//! than the wake-up it tries to avoid. Here the receiver sleeps on a condition
//! variable at once, and the sender wakes it only after the event loop's lock is
//! released (see [`super::lock`]).
//!
//! The slot is also a [`Future`]-friendly cell: an async caller polls it and leaves
//! its [`Waker`], which the sender wakes the same way.
//!
//! A blocking caller waits until the request's deadline at most (the one instant the
//! request was given when it was made) and then stops waiting: a reply sent later is
//! refused, so the sender knows the caller is gone.

use super::lock::Wake;
use super::prim::{Arc, Condvar, Mutex};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

enum State<T> {
    /// Nothing yet; an async caller's waker, if it polled.
    Empty(Option<Waker>),
    Sent(T),
    /// The sender went away without sending, the receiver left, or the value was taken.
    Closed,
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
    /// The deadline passed first.
    Timeout,
    /// The sender was dropped without sending.
    Disconnected,
}

/// A new slot for one value.
pub(crate) fn channel<T: Send + 'static>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Empty(None)),
        ready: Condvar::new(),
    });
    (
        Sender {
            slot: Some(Arc::clone(&slot)),
        },
        Receiver { slot },
    )
}

impl<T: Send> Wake for Slot<T> {
    fn wake(&self) {
        self.ready.notify_one();
    }
}

/// Wakes an async caller's task.
struct TaskWake(Waker);

impl Wake for TaskWake {
    fn wake(&self) {
        self.0.wake_by_ref();
    }
}

impl<T: Send + 'static> Sender<T> {
    /// Hands `value` to the receiver. Fails, giving the value back, when the receiver
    /// is gone (it was dropped, or its deadline passed).
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(slot) = self.slot.take() else {
            return Err(value);
        };
        match fill(&slot, State::Sent(value)) {
            Err(State::Sent(value)) => Err(value),
            // `fill` gives back what it was given, so only `Sent` comes back.
            Err(State::Empty(_) | State::Closed) | Ok(()) => Ok(()),
        }
    }
}

/// Puts `new` into an empty slot and wakes its waiter (after the loop's lock is
/// released); gives `new` back when the slot is no longer empty.
fn fill<T: Send + 'static>(slot: &Arc<Slot<T>>, new: State<T>) -> Result<(), State<T>> {
    let waker = {
        let mut state = slot.state.lock();
        match &mut *state {
            State::Empty(waker) => {
                let waker = waker.take();
                *state = new;
                waker
            }
            State::Sent(_) | State::Closed => return Err(new),
        }
    };
    super::lock::wake(slot);
    if let Some(waker) = waker {
        super::lock::wake(&Arc::new(TaskWake(waker)));
    }
    Ok(())
}

impl<T: Send + 'static> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let _ = fill(&slot, State::Closed);
        }
    }
}

impl<T> Receiver<T> {
    /// Waits until the value arrives or `deadline` passes. After a timeout the slot is
    /// closed: a value sent later is refused.
    pub fn recv_until(&self, deadline: Instant) -> Result<T, RecvError> {
        let mut state = self.slot.state.lock();
        loop {
            match std::mem::replace(&mut *state, State::Closed) {
                State::Sent(value) => return Ok(value),
                State::Closed => return Err(RecvError::Disconnected),
                empty @ State::Empty(_) => *state = empty,
            }
            if self.slot.ready.wait_until(&mut state, deadline).timed_out() {
                if let State::Sent(value) = std::mem::replace(&mut *state, State::Closed) {
                    return Ok(value);
                }
                return Err(RecvError::Timeout);
            }
        }
    }

    /// Polls for the value from async code; the sender wakes the task.
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let mut state = self.slot.state.lock();
        match std::mem::replace(&mut *state, State::Closed) {
            State::Sent(value) => Poll::Ready(Ok(value)),
            State::Closed => Poll::Ready(Err(RecvError::Disconnected)),
            State::Empty(waker) => {
                let waker = match waker {
                    Some(old) if old.will_wake(cx.waker()) => old,
                    _ => cx.waker().clone(),
                };
                *state = State::Empty(Some(waker));
                Poll::Pending
            }
        }
    }

    /// Stops waiting: later sends are refused. Returns the value if one was sent and
    /// not taken yet, so a caller that gives up can still act on an answer that beat
    /// it (one atomic step: a racing send is either in the value or refused).
    pub fn close(&self) -> Option<T> {
        let state = std::mem::replace(&mut *self.slot.state.lock(), State::Closed);
        match state {
            State::Sent(value) => Some(value),
            State::Empty(_) | State::Closed => None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // A value nobody will take is dropped here (outside the slot's lock), and
        // later sends are refused.
        drop(self.close());
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_recv(cx)
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
    fn the_value_sent_is_received() {
        let (sender, receiver) = channel();
        std::thread::spawn(move || sender.send(7).map_err(drop));
        assert_eq!(receiver.recv_until(soon()), Ok(7));
    }

    #[test]
    fn nothing_sent_times_out_at_the_deadline_and_refuses_later_values() {
        let (sender, receiver) = channel::<u8>();
        let start = Instant::now();
        assert_eq!(
            receiver.recv_until(start + Duration::from_millis(50)),
            Err(RecvError::Timeout)
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(sender.send(1), Err(1));
    }

    #[test]
    fn a_dropped_sender_disconnects_a_waiting_receiver() {
        let (sender, receiver) = channel::<u8>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(sender);
        });
        assert_eq!(receiver.recv_until(soon()), Err(RecvError::Disconnected));
    }

    #[test]
    fn sending_to_a_dropped_receiver_gives_the_value_back() {
        let (sender, receiver) = channel();
        drop(receiver);
        assert_eq!(sender.send(3), Err(3));
    }

    #[test]
    fn closing_returns_a_value_not_taken_and_refuses_later_ones() {
        let (sender, receiver) = channel();
        sender.send(4).expect("the receiver waits");
        assert_eq!(receiver.close(), Some(4));
        let (sender, receiver) = channel::<u8>();
        assert_eq!(receiver.close(), None);
        assert_eq!(sender.send(5), Err(5));
    }

    #[test]
    fn an_async_receiver_is_woken_by_the_sender() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::task::Wake as TaskWakeTrait;

        struct CountWakes(AtomicUsize);
        impl TaskWakeTrait for CountWakes {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);
        let (sender, receiver) = channel();
        assert!(receiver.poll_recv(&mut cx).is_pending());
        sender.send(9).expect("the receiver waits");
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(receiver.poll_recv(&mut cx), Poll::Ready(Ok(9)));
    }
}

/// Model checks (`RUSTFLAGS="--cfg loom"`, see [`super::prim`]).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::lock::LoopLock;
    use crate::sync::prim::{model, thread, AtomicBool, Ordering};

    /// The event loop fills reply slots under its lock, so their wake-ups are deferred.
    fn send_under_the_loop_lock(sender: Sender<u32>, value: u32) -> Result<(), u32> {
        LoopLock::<()>::default().with(|()| sender.send(value))
    }

    #[test]
    fn a_send_racing_the_deadline_is_delivered_or_refused_never_both_nor_neither() {
        // Ignored under loom: whether the wait times out is the model's choice.
        let deadline = Instant::now();
        model::check("slot: a send racing the deadline", 1, move || {
            let (sender, receiver) = channel::<u32>();
            let sending = thread::spawn(move || send_under_the_loop_lock(sender, 7));
            let received = receiver.recv_until(deadline);
            let sent = sending.join().expect("the sender");
            match (received, sent) {
                // Delivered, or refused and given back: exactly one of them.
                (Ok(7), Ok(())) | (Err(RecvError::Timeout), Err(7)) => {}
                other => panic!("delivered and refused, or lost: {other:?}"),
            }
        });
    }

    #[test]
    fn a_dropped_sender_wakes_a_waiting_receiver() {
        let deadline = Instant::now();
        // No timeouts: a lost wake-up leaves the receiver asleep, which loom reports.
        model::check("slot: a dropped sender", 0, move || {
            let (sender, receiver) = channel::<u32>();
            let dropping = thread::spawn(move || LoopLock::<()>::default().with(|()| drop(sender)));
            assert_eq!(receiver.recv_until(deadline), Err(RecvError::Disconnected));
            dropping.join().expect("the sender");
        });
    }

    #[test]
    fn a_send_racing_a_close_is_taken_by_the_closer_or_refused_never_both_nor_neither() {
        // An async caller that gives up (a dropped future) closes its slot while the
        // answer may be arriving; it must learn of an answer that got in first.
        model::check("slot: a send racing a close", 0, || {
            let (sender, receiver) = channel::<u32>();
            let sending = thread::spawn(move || send_under_the_loop_lock(sender, 5));
            let taken = receiver.close();
            let sent = sending.join().expect("the sender");
            match (taken, sent) {
                (Some(5), Ok(())) | (None, Err(5)) => {}
                other => panic!("taken and refused, or lost: {other:?}"),
            }
        });
    }

    /// A task's waker that unparks the polling thread.
    struct Unpark {
        woken: AtomicBool,
        thread: thread::Thread,
    }

    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            // A swap, not a store: loom 0.7 can order a plain store wrongly against a
            // concurrent swap of the same atomic (tokio-rs/loom#254).
            self.woken.swap(true, Ordering::Release);
            self.thread.unpark();
        }
    }

    #[test]
    fn an_async_receiver_is_woken_when_the_value_arrives_after_it_polled() {
        model::check("slot: async receiver", 0, || {
            let (sender, receiver) = channel::<u32>();
            let sending = thread::spawn(move || send_under_the_loop_lock(sender, 9));
            // A first poll from elsewhere (the task moved): its waker must be replaced.
            let noop = Waker::noop();
            let first = receiver.poll_recv(&mut Context::from_waker(noop));
            let unpark = Arc::new(Unpark {
                woken: AtomicBool::new(false),
                thread: thread::current(),
            });
            let waker = Waker::from(Arc::clone(&unpark));
            let mut cx = Context::from_waker(&waker);
            let value = match first {
                Poll::Ready(value) => value,
                Poll::Pending => loop {
                    match receiver.poll_recv(&mut cx) {
                        Poll::Ready(value) => break value,
                        // A lost wake-up parks this thread for good; loom reports it.
                        Poll::Pending => {
                            while !unpark.woken.swap(false, Ordering::Acquire) {
                                thread::park();
                            }
                        }
                    }
                },
            };
            assert_eq!(value, Ok(9));
            assert_eq!(sending.join().expect("the sender"), Ok(()));
        });
    }
}
