//! Handing commands to the event loop.
//!
//! A thread with a [`Command`] queues it on a bounded queue and, if the loop's lock
//! is free, takes it and handles the queue itself, sending the message from its own
//! thread: a call then costs no wake-up of the I/O thread on the way out. If another
//! thread holds the lock, the command is left to it
//! ([`LoopLock::drain_or_leave`](crate::sync::lock::LoopLock::drain_or_leave)):
//! whoever holds the lock drains the whole queue, so commands from many threads go out
//! together in one socket flush, in order, and no thread queues for the lock. The I/O
//! thread is woken (through the waker, skipped when a wake is already pending) only
//! when it must notice something: an earlier deadline, room to read again, or its
//! end.

use super::lead::Lead;
use super::requests::{Request, Token};
use super::{Core, EventLoop};
use crate::proto::message::Payload;
use crate::proto::session::CancelMode;
use crate::proto::value::Dict;
use crate::proto::WampError;
use crate::sync::lock::work_left_after_release;
use crossbeam_channel::Sender;
use mio::{Poll, Waker};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The poller token of the waker.
pub(super) const WAKER: mio::Token = mio::Token(0);

/// How many commands may wait for the loop's lock. Beyond that, senders wait for room
/// (up to their deadline): the queue only grows while the socket does not take what
/// is written, and then the senders should wait anyway. The deque underneath grows
/// with use only (a bounded channel allocates and touches every slot at once: 4,096
/// commands of 192 bytes are most of an idle client's memory); the bound is kept
/// here, give or take the senders racing past it at once.
const COMMAND_QUEUE: usize = 4096;

/// Work for the event loop.
pub(crate) enum Command {
    /// A request that expects an answer.
    Request(Request),
    /// A handler's answer to an INVOCATION: its result (with YIELD options, e.g.
    /// payload transparency) or error; `progress` for a progressive result.
    Yield {
        request: u64,
        result: Result<(Payload, Dict), WampError>,
        progress: bool,
    },
    /// Cancel the call with key `key`.
    Cancel { key: Token, mode: CancelMode },
    /// The next chunk of the progressive call invocation with key `key`.
    CallChunk {
        key: Token,
        payload: Payload,
        last: bool,
    },
    /// Say GOODBYE, close the socket and stop; `done` is dropped when the loop has stopped.
    Close { done: Sender<()> },
}

/// Why a command could not be handed over.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The loop has stopped.
    Stopped,
    /// The queue stayed full until the deadline.
    Full,
}

/// The commands between the threads that send them and the loop. A mutex over a
/// deque rather than a channel: a linked-block channel allocates and zeroes a block
/// (31 commands, 6 KiB) every 31 sends, while the deque reuses its buffer. The lock is
/// held to push or take one command, never while one is handled or dropped.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// The queue's length, read without the lock.
    len: AtomicUsize,
}

#[derive(Default)]
struct Queue {
    commands: VecDeque<Command>,
    /// The loop is gone: nothing more is queued.
    closed: bool,
}

/// The capacity a drained queue keeps: a burst's larger buffer is given back.
const KEPT_CAPACITY: usize = 64;

impl Shared {
    fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Queues `command`; false (the command dropped) when the loop is gone.
    fn push(&self, command: Command) -> bool {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            // After the lock: a dropped request's reply slot wakes its caller.
            drop(command);
            return false;
        }
        queue.commands.push_back(command);
        self.len.store(queue.commands.len(), Ordering::SeqCst);
        true
    }

    fn pop(&self) -> Option<Command> {
        let mut queue = self.queue.lock();
        let command = queue.commands.pop_front();
        self.len.store(queue.commands.len(), Ordering::SeqCst);
        if queue.commands.is_empty() && queue.commands.capacity() > KEPT_CAPACITY {
            queue.commands.shrink_to(KEPT_CAPACITY);
        }
        command
    }

    /// Takes every queued command; with `close`, later pushes are refused.
    fn take_all(&self, close: bool) -> VecDeque<Command> {
        let mut queue = self.queue.lock();
        queue.closed |= close;
        self.len.store(0, Ordering::SeqCst);
        std::mem::take(&mut queue.commands)
    }
}

/// Held by every copy of the loop's side: when the last goes, the queue closes and
/// what it still holds is dropped (each request's dropped reply slot tells its caller
/// the loop stopped).
struct Receiving(Arc<Shared>);

impl Drop for Receiving {
    fn drop(&mut self) {
        // Dropped after the queue's lock is released: a command's drop may wake others.
        drop(self.0.take_all(true));
    }
}

/// The sending side of the command queue; cloneable and cheap.
#[derive(Clone)]
pub(crate) struct CommandSender {
    shared: Arc<Shared>,
    room: Arc<Room>,
    pub(super) waker: Arc<LoopWaker>,
    pub(super) core: Arc<Core>,
    /// Where a waiting caller reads the socket itself ([`super::lead`]), if it can.
    pub(super) lead: Option<Arc<Lead>>,
    /// The last key given to a request (see `Token`).
    last_key: Arc<AtomicU64>,
}

impl CommandSender {
    /// A key for a new request, unique among this client's requests.
    pub fn next_key(&self) -> Token {
        self.last_key.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether this thread is the loop's I/O thread (running an inline handler), where
    /// waiting for an answer would wait forever.
    pub fn on_io_thread(&self) -> bool {
        super::is_io_thread_of(&self.core)
    }

    /// What wakes the I/O thread.
    pub fn wakeup(&self) -> super::inbound::Wakeup {
        super::inbound::Wakeup(Arc::clone(&self.waker))
    }

    /// Queues the command and handles the queue on this thread if the loop's lock is
    /// free (else its holder does); the I/O thread is woken only when it must notice
    /// something. Waits for room in the queue until `deadline`: with a deadline
    /// already passed (async callers, drops) not at all. The rest is short and never
    /// sleeps: the lock is only tried, the socket is non-blocking, and a full one stops
    /// the handling.
    pub fn send(&self, command: Command, deadline: Instant) -> Result<(), SendError> {
        let has_room = || self.shared.len() < COMMAND_QUEUE;
        // The I/O thread (in an inline handler) would wait for itself to make room.
        if !has_room() && (self.on_io_thread() || !self.room.wait_until(deadline, has_room)) {
            return Err(SendError::Full);
        }
        if !self.shared.push(command) {
            return Err(SendError::Stopped);
        }
        if DEFERRING.get() {
            // The I/O thread running inline handlers: it writes what they send
            // together, once they are done.
            return Ok(());
        }
        if crate::sync::lock::in_locked_section() {
            // Reached from code running under the lock (a value dropped there): the
            // holder, or the woken I/O thread, handles the queue.
            self.waker.wake();
            return Ok(());
        }
        if self.drain() {
            self.waker.wake();
        }
        Ok(())
    }

    /// Handles the queue under the loop's lock unless another thread holds it (which
    /// then does). Returns whether the I/O thread must be woken.
    fn drain(&self) -> bool {
        self.core.drain_or_leave(
            || self.shared.len() > 0,
            |core| match core.as_mut() {
                Some(event_loop) => {
                    event_loop.handle_queued_commands();
                    event_loop.pump();
                    event_loop.needs_attention()
                }
                None => true,
            },
        )
    }

    /// After this thread released the lock: handles commands left to it while it held
    /// it (see [`crate::sync::lock`]). Returns whether the I/O thread must be woken.
    pub(super) fn drain_left(&self) -> bool {
        work_left_after_release(|| self.shared.len() > 0) && self.drain()
    }
}

std::thread_local! {
    /// Set while this thread's commands are only queued (see [`deferring_sends`]).
    static DEFERRING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `work` with this thread's commands only queued, not handled at once: the I/O
/// thread runs inline handlers so, then handles everything they sent with one write
/// (after `work`, it finds the queue not empty and goes round again at once).
pub(super) fn deferring_sends<R>(work: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DEFERRING.set(false);
        }
    }
    DEFERRING.set(true);
    let _reset = Reset;
    work()
}

/// Wakes the I/O thread out of its poll.
pub(crate) struct LoopWaker {
    waker: Waker,
    wake_pending: AtomicBool,
}

impl LoopWaker {
    /// Wakes the loop unless a wake is already pending.
    pub fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            // If waking fails the loop is gone; the dropped reply slot reports that.
            let _ = self.waker.wake();
        }
    }

    /// The I/O thread is awake: the next wake must reach it again.
    pub fn woken(&self) {
        self.wake_pending.store(false, Ordering::Release);
    }
}

/// Senders waiting for room in the command queue, and how they are woken.
#[derive(Default)]
struct Room {
    waiting: AtomicU64,
    lock: Mutex<()>,
    made: Condvar,
}

impl Room {
    /// Waits until `has_room` or `deadline`; returns whether there is room.
    fn wait_until(&self, deadline: Instant, has_room: impl Fn() -> bool) -> bool {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock();
        let room = loop {
            if has_room() {
                break true;
            }
            if self.made.wait_until(&mut guard, deadline).timed_out() {
                break has_room();
            }
        };
        drop(guard);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        room
    }

    /// Commands were taken from the queue: wakes the senders waiting for room. With
    /// SeqCst on both sides, a sender that registered too late to be seen here sees
    /// the room itself.
    fn made(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.made.notify_all();
        }
    }
}

/// The loop's side of the command queue.
#[derive(Clone)]
pub(super) struct CommandQueue {
    shared: Arc<Shared>,
    room: Arc<Room>,
    _receiving: Arc<Receiving>,
}

impl CommandQueue {
    /// Whether commands are queued.
    pub fn is_empty(&self) -> bool {
        self.shared.len() == 0
    }

    /// Takes every queued command (the loop is ending), and lets waiting senders
    /// find out.
    pub fn take_all(&self) -> VecDeque<Command> {
        let commands = self.shared.take_all(false);
        self.room.made();
        commands
    }
}

impl EventLoop {
    /// Handles queued commands until the queue is empty or the socket is full.
    pub(super) fn handle_queued_commands(&mut self) {
        let mut taken = false;
        while !self.write_blocked() {
            let Some(queue) = self.commands.as_ref() else {
                break;
            };
            let Some(command) = queue.shared.pop() else {
                break;
            };
            taken = true;
            self.handle_command(command);
        }
        if let (true, Some(queue)) = (taken, self.commands.as_ref()) {
            queue.room.made();
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Close { done } => self.close(done),
            Command::Request(request) => self.submit(request),
            Command::Yield {
                request,
                result,
                progress,
            } => self.answer_invocation(request, result, progress),
            Command::Cancel { key, mode } => self.cancel(key, mode),
            Command::CallChunk { key, payload, last } => self.call_chunk(key, payload, last),
        }
    }
}

/// A connected command queue: the poller the I/O thread waits on, the loop's
/// receiving side, the handle's sending side, the I/O thread's waker and the
/// leaders' poller (if any).
pub(super) type CommandChannel = (
    Poll,
    CommandQueue,
    CommandSender,
    Arc<LoopWaker>,
    Option<Arc<Lead>>,
);

/// Makes a [`CommandChannel`].
pub(super) fn command_channel(core: Arc<Core>) -> std::io::Result<CommandChannel> {
    let poll = Poll::new()?;
    let waker = Arc::new(LoopWaker {
        waker: Waker::new(poll.registry(), WAKER)?,
        wake_pending: AtomicBool::new(false),
    });
    let lead = Lead::new().map(Arc::new);
    let shared = Arc::new(Shared::default());
    let room = Arc::new(Room::default());
    let commands = CommandQueue {
        shared: Arc::clone(&shared),
        room: Arc::clone(&room),
        _receiving: Arc::new(Receiving(Arc::clone(&shared))),
    };
    let sender = CommandSender {
        shared,
        room,
        waker: Arc::clone(&waker),
        core,
        lead: lead.clone(),
        last_key: Arc::new(AtomicU64::new(0)),
    };
    Ok((poll, commands, sender, waker, lead))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    fn close_command() -> (Command, crossbeam_channel::Receiver<()>) {
        let (done, stopped) = crossbeam_channel::bounded(1);
        (Command::Close { done }, stopped)
    }

    #[test]
    fn commands_left_when_the_loop_goes_are_dropped_and_later_ones_refused() {
        let shared = Arc::new(Shared::default());
        let receiving = Arc::new(Receiving(Arc::clone(&shared)));
        let (command, stopped) = close_command();
        assert!(shared.push(command));
        assert_eq!(shared.len(), 1);
        drop(receiving);
        assert_eq!(shared.len(), 0);
        assert!(
            stopped.try_recv().is_err(),
            "the queued command was dropped"
        );
        let (command, _stopped) = close_command();
        assert!(!shared.push(command), "the loop is gone");
    }

    #[test]
    fn commands_come_out_in_order_and_a_drained_queue_gives_back_a_burst_s_buffer() {
        let shared = Shared::default();
        let mut stopped = Vec::new();
        for _ in 0..1000 {
            let (command, receiver) = close_command();
            assert!(shared.push(command));
            stopped.push(receiver);
        }
        assert_eq!(shared.len(), 1000);
        for (taken, receiver) in stopped.iter().enumerate() {
            let Some(Command::Close { done }) = shared.pop() else {
                panic!("command {taken} missing");
            };
            done.send(()).expect("its receiver is kept");
            assert!(receiver.try_recv().is_ok(), "command {taken} out of order");
        }
        assert!(shared.pop().is_none());
        assert_eq!(shared.len(), 0);
        assert!(shared.queue.lock().commands.capacity() <= KEPT_CAPACITY);
    }

    #[test]
    fn a_sender_waiting_for_room_is_woken_when_commands_are_taken() {
        let room = Arc::new(Room::default());
        let free = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (room, free) = (Arc::clone(&room), Arc::clone(&free));
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(10);
                let started = Instant::now();
                let found = room.wait_until(deadline, || free.load(Ordering::SeqCst));
                (found, started.elapsed())
            })
        };
        while room.waiting.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        free.store(true, Ordering::SeqCst);
        room.made();
        let (found, took) = waiter.join().expect("waiter");
        assert!(found);
        assert!(
            took < Duration::from_secs(5),
            "woken, not timed out: {took:?}"
        );
        assert_eq!(room.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn without_room_the_wait_ends_at_the_deadline() {
        let room = Room::default();
        let deadline = Instant::now() + Duration::from_millis(50);
        assert!(!room.wait_until(deadline, || false));
        assert!(Instant::now() >= deadline);
    }
}
