//! Callers that read their own answers.
//!
//! A blocking caller that slept until the I/O thread read its answer would cost two
//! threads woken per call: the I/O thread by the socket, then the caller by the I/O
//! thread. Instead, one waiting caller at a time, the *leader*, waits for the socket
//! itself, reads and acts on the frames under the loop's lock as the I/O thread
//! would, and returns as soon as its own answer is there. The other callers sleep on
//! their reply slots as before and are woken by whoever reads their answers. Only a
//! caller that waits alone starts leading: when many wait, most answers are others',
//! and the I/O thread wakes their owners as cheaply.
//!
//! How the socket's events reach the leader and not the I/O thread: the socket is
//! registered with two pollers, the leaders' and the I/O thread's, both as
//! *exclusive* (`EPOLLEXCLUSIVE`), the leaders' first. The kernel then wakes one of
//! the two per event, the first that has a thread waiting: the leader while one
//! waits, else the I/O thread. An event that finds no leader waiting also stays
//! noted in the leaders' poller, so the next leader reads once for nothing.
//!
//! Nothing is left undone when a leader takes an event:
//!
//! * It handles the socket's readiness under the lock exactly as the I/O thread does,
//!   then runs the inline handlers the frames called for, standing in for the I/O
//!   thread (so the same rules hold: they may not wait for answers). What only the
//!   I/O thread does (timers, frames beyond one batch, a deadline earlier than it
//!   sleeps until, the loop's end) it wakes it for.
//! * If someone else read the leader's answer (the I/O thread, while no leader was
//!   waiting), the slot's waker signals the leaders' poller, which only leaders wait
//!   on, so it wakes the leader at once. A leader also stops after [`LEAD_TIME`] and
//!   sleeps on its slot like any caller, so a slow call does not keep it reading for
//!   others; and it stops when a read brings bytes but no whole message, so that a
//!   long message is read by the I/O thread alone (while the leader is busy reading
//!   one piece, the next would wake the I/O thread, and both would want the lock).
//!
//! Only on Linux and Android, whose poller is epoll. Where the leaders' poller cannot
//! be made or the socket cannot be registered with it, the socket is registered with
//! the I/O thread's poller alone and callers sleep on their slots. Built with
//! `RUSTFLAGS="--cfg izaber_wamp_no_lead"`, Linux too builds as those systems do, so
//! that their code is compiled and tested here (the `portable` session of
//! scripts/check).

use super::handoff::{self, CommandSender};
use super::link::Link;
use super::{Counters, EventLoop, Inbox};
use crate::sync::prim::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::slot;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

mod poller;

/// The longest one caller leads. An answer that takes longer is waited for on the
/// slot (the I/O thread reads it).
const LEAD_TIME: Duration = Duration::from_millis(20);

/// What a poller reported for one source, whoever waited on it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Readiness {
    pub token: mio::Token,
    /// Data, the peer's close or an error may be read.
    pub readable: bool,
    pub writable: bool,
}

/// A placeholder in a buffer of readiness.
const NOTHING: Readiness = Readiness {
    token: mio::Token(usize::MAX),
    readable: false,
    writable: false,
};

impl From<&mio::event::Event> for Readiness {
    fn from(event: &mio::event::Event) -> Self {
        Readiness {
            token: event.token(),
            readable: event.is_readable() || event.is_read_closed() || event.is_error(),
            writable: event.is_writable(),
        }
    }
}

/// The leaders' side: their poller and who leads. Shared by every copy of a
/// [`CommandSender`] and by the loop, which registers each new socket here.
pub(crate) struct Lead {
    poller: Arc<poller::LeadPoller>,
    /// Whether a caller is leading.
    leading: AtomicBool,
    /// Callers blocked in [`CommandSender::wait_for`].
    waiting: AtomicUsize,
    /// Wakes the leader when its answer was read by someone else.
    nudge: Arc<Nudge>,
    /// `nudge` as a task waker, made once: registering it in a slot allocates nothing.
    waker: Waker,
}

impl Lead {
    /// The leaders' poller, or `None` where there is none (see the module docs).
    pub fn new() -> Option<Self> {
        let poller = Arc::new(poller::LeadPoller::new().ok()?);
        let nudge = Arc::new(Nudge {
            poller: Arc::clone(&poller),
            polling: AtomicBool::new(false),
        });
        Some(Lead {
            poller,
            leading: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            waker: Waker::from(Arc::clone(&nudge)),
            nudge,
        })
    }

    /// Registers the socket `fd` with the leaders' poller and with `loop_poller`, the
    /// I/O thread's, under `token`. On an error neither holds it.
    #[cfg(unix)]
    pub fn register_socket(
        &self,
        loop_poller: &mio::Registry,
        fd: std::os::fd::RawFd,
        token: mio::Token,
    ) -> std::io::Result<()> {
        self.poller.register_socket(loop_poller, fd, token)
    }

    /// One round of a leader's wait: looks at the slot, then waits in the leaders'
    /// poller until `until`, for the socket or a nudge. The slot is looked at after
    /// `polling` is raised, so an answer put there later signals the poller (the slot's
    /// lock orders the two); `polling` is lowered again before the round ends, so the
    /// leader's own round filling its slot signals nobody. (Model-checked under loom.)
    fn await_round<T>(
        &self,
        outcome: &slot::Receiver<T>,
        until: Instant,
        ready: &mut [Readiness; poller::CAPACITY],
    ) -> Round<T> {
        self.nudge.polling.store(true, Ordering::SeqCst);
        let _polling = Lowered(&self.nudge.polling);
        if let Poll::Ready(received) = outcome.poll_recv(&mut Context::from_waker(&self.waker)) {
            return Round::Answered(received);
        }
        let now = Instant::now();
        if now >= until {
            return Round::Stop;
        }
        match self.poller.wait(until - now, ready) {
            Ok(count) => Round::Ready(count),
            // Interrupted, or a poller this caller cannot use: the slot still works.
            Err(_) => Round::Stop,
        }
    }
}

/// How a round of a leader's wait ended.
enum Round<T> {
    /// The outcome was in the slot.
    Answered(Result<T, slot::RecvError>),
    /// The poller reported this many sources ready (none after a nudge).
    Ready(usize),
    /// Time is up or the poller failed: the caller waits on its slot.
    Stop,
}

/// Wakes a leader waiting in the leaders' poller; a no-op unless the leader is in it
/// (its own round filling its slot must not signal anyone).
struct Nudge {
    poller: Arc<poller::LeadPoller>,
    polling: AtomicBool,
}

impl Wake for Nudge {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.polling.load(Ordering::SeqCst) {
            self.poller.nudge();
        }
    }
}

/// Counts a waiting caller out when dropped, also when unwinding.
struct Departure<'a>(&'a AtomicUsize);

impl Drop for Departure<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Clears a flag when dropped, also when unwinding.
struct Lowered<'a>(&'a AtomicBool);

impl Drop for Lowered<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl CommandSender {
    /// Waits for the outcome in `outcome` until `deadline`, reading the socket itself
    /// while it is the only caller waiting (see the module docs).
    pub fn wait_for<T>(
        &self,
        outcome: &slot::Receiver<T>,
        deadline: Instant,
    ) -> Result<T, slot::RecvError> {
        let Some(lead) = self.lead.as_deref() else {
            return outcome.recv_until(deadline);
        };
        lead.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Departure(&lead.waiting);
        if let Some(received) = self.lead(lead, outcome, deadline) {
            return received;
        }
        outcome.recv_until(deadline)
    }

    /// Leads until the outcome is there, `deadline` or [`LEAD_TIME`]; `None` when this
    /// caller did not lead or stopped before its outcome came. Only a caller that
    /// waits alone leads: with many waiting, most answers are someone else's, so the
    /// leader would only wake their owners as the I/O thread does, and hand the lead
    /// on at a cost.
    fn lead<T>(
        &self,
        lead: &Lead,
        outcome: &slot::Receiver<T>,
        deadline: Instant,
    ) -> Option<Result<T, slot::RecvError>> {
        if lead.waiting.load(Ordering::SeqCst) > 1
            || self.on_io_thread()
            || lead.leading.swap(true, Ordering::AcqRel)
        {
            return None;
        }
        let _leading = Lowered(&lead.leading);
        let until = deadline.min(Instant::now() + LEAD_TIME);
        let mut ready = [NOTHING; poller::CAPACITY];
        loop {
            let count = match lead.await_round(outcome, until, &mut ready) {
                Round::Answered(received) => return Some(received),
                Round::Stop => return None,
                Round::Ready(count) => count,
            };
            if count > 0 && self.act_as_io_thread(&ready[..count]) {
                // Its pieces would wake the I/O thread while this caller reads the
                // last (nobody waits in the leaders' poller then), and both would
                // want the lock: the I/O thread reads it alone, as it reads anything
                // once nobody leads.
                return None;
            }
        }
    }

    /// Does what the I/O thread would have done with the socket's readiness, inline
    /// handlers included: they run here, under the I/O thread's rules. Returns
    /// whether a long message is on its way (bytes came, no message was completed).
    fn act_as_io_thread(&self, ready: &[Readiness]) -> bool {
        let round = self.core.with(|core| match core.as_mut() {
            Some(event_loop) => event_loop.handle_as_leader(ready),
            None => LeaderRound::default(),
        });
        if let Some(inbox) = round.inline {
            super::standing_in_for_io_thread(&self.core, || {
                handoff::deferring_sends(|| inbox.run_inline());
            });
        }
        // As every holder of the lock: commands left to it go out now, with what
        // inline handlers sent.
        if self.drain_left() || round.wake_io_thread {
            self.waker.wake();
        }
        round.long_message
    }
}

impl EventLoop {
    /// Acts on socket readiness a leader took from its poller: reads a batch, acts on
    /// it, sends.
    fn handle_as_leader(&mut self, ready: &[Readiness]) -> LeaderRound {
        for readiness in ready {
            self.note_readiness(*readiness);
        }
        self.handle_queued_commands();
        let bytes_before = self.bytes_read();
        let before = Counters::get(&self.status.counters.messages_received);
        self.read_frames();
        let counters = &self.status.counters;
        // Only holders of the lock count received messages, so this is all ours.
        let read = Counters::get(&counters.messages_received).saturating_sub(before);
        counters.read_by_callers.fetch_add(read, Ordering::Relaxed);
        let long_message = read == 0 && self.bytes_read() > bytes_before;
        self.pump();
        LeaderRound {
            wake_io_thread: self.ended.is_some() || self.wants_to_read() || self.needs_attention(),
            inline: self.inbox.inline_pending().then(|| Arc::clone(&self.inbox)),
            long_message,
        }
    }

    /// Bytes the connection's socket has read so far (0 without one).
    fn bytes_read(&mut self) -> u64 {
        match &mut self.link {
            Link::Up(connection) => connection.transport.bytes_read(),
            _ => 0,
        }
    }
}

/// What a leader's round under the lock leaves to do.
#[derive(Default)]
struct LeaderRound {
    /// The I/O thread must wake for what only it does.
    wake_io_thread: bool,
    /// The inbox, when inline work is to run.
    inline: Option<Arc<dyn Inbox>>,
    /// Bytes came but no message was completed: a long one is on its way.
    long_message: bool,
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::lock::LoopLock;
    use crate::sync::prim::{model, thread};

    /// The hand-off between a leader's round and the thread that puts its answer in
    /// the slot (under the loop's lock, as the I/O thread or another caller does): in
    /// every interleaving the leader ends up with the answer, never asleep in the
    /// poller with the answer in its slot.
    #[test]
    fn an_answer_put_in_the_slot_during_a_leaders_round_is_never_slept_through() {
        model::check("lead: the answer against the leader's round", 0, || {
            let lead = Lead::new().expect("the model's poller");
            let (sender, outcome) = slot::channel::<u32>();
            let answering =
                thread::spawn(move || LoopLock::<()>::default().with(|()| sender.send(7)));
            // Time stands still in the model: the round never runs out of it.
            let until = Instant::now() + Duration::from_secs(3600);
            let mut ready = [NOTHING; poller::CAPACITY];
            let received = loop {
                match lead.await_round(&outcome, until, &mut ready) {
                    Round::Answered(received) => break received,
                    // Nudged: the next round looks at the slot again.
                    Round::Ready(_) => {}
                    Round::Stop => panic!("the model's poller neither fails nor times out"),
                }
            };
            assert_eq!(received, Ok(7));
            assert_eq!(answering.join().expect("the answering thread"), Ok(()));
        });
    }
}
