//! The leaders' poller ([`super`]): where a leading caller waits for the socket or a
//! nudge. On Linux and Android an epoll instance of the leaders' own and an eventfd
//! (the crate's only `unsafe` code); elsewhere, or built with
//! `--cfg izaber_wamp_no_lead`, a stub that cannot be made, so nobody leads; in the
//! model checks, a condition variable.

use super::Readiness;

/// The leaders' poller: an epoll instance of its own, holding the socket and an
/// eventfd that wakes the leader.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(izaber_wamp_no_lead),
    not(all(test, loom))
))]
#[allow(unsafe_code)]
mod imp {
    use super::Readiness;
    use std::fs::File;
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::time::Duration;

    /// The most events taken at once: the socket's and the nudge's.
    pub const CAPACITY: usize = 4;

    /// The nudge's token in the leaders' poller (never a socket's).
    const NUDGE: u64 = u64::MAX;

    pub struct LeadPoller {
        epoll: OwnedFd,
        nudge: File,
    }

    /// A system call's result, or the error it set.
    fn checked(result: libc::c_int) -> std::io::Result<libc::c_int> {
        if result < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(result)
        }
    }

    /// Adds `fd` to the epoll instance `epoll`.
    fn add(epoll: RawFd, fd: RawFd, flags: libc::c_int, data: u64) -> std::io::Result<()> {
        let mut event = libc::epoll_event {
            events: flags as u32,
            u64: data,
        };
        // SAFETY: `event` is valid for the call; the kernel copies it.
        checked(unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) }).map(drop)
    }

    impl LeadPoller {
        pub fn new() -> std::io::Result<Self> {
            // SAFETY: each call makes a new descriptor, owned at once by an OwnedFd.
            let epoll =
                unsafe { OwnedFd::from_raw_fd(checked(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
            // SAFETY: as above.
            let nudge = unsafe {
                OwnedFd::from_raw_fd(checked(libc::eventfd(
                    0,
                    libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
                ))?)
            };
            // Edge-triggered, never read: every signal is a new edge.
            add(
                epoll.as_raw_fd(),
                nudge.as_raw_fd(),
                libc::EPOLLIN | libc::EPOLLET,
                NUDGE,
            )?;
            Ok(LeadPoller {
                epoll,
                nudge: File::from(nudge),
            })
        }

        /// Registers the socket here first, then with the I/O thread's poller, both
        /// exclusive: the kernel offers each event to the leaders' poller first.
        pub fn register_socket(
            &self,
            loop_poller: &mio::Registry,
            fd: RawFd,
            token: mio::Token,
        ) -> std::io::Result<()> {
            // EPOLLRDHUP may not go with EPOLLEXCLUSIVE; the peer's close still shows
            // as readable (a read of nothing), and errors and hang-ups are reported
            // anyway.
            let flags = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLET | libc::EPOLLEXCLUSIVE;
            let data = token.0 as u64;
            add(self.epoll.as_raw_fd(), fd, flags, data)?;
            if let Err(e) = add(loop_poller.as_raw_fd(), fd, flags, data) {
                // SAFETY: removes what was added above; no pointer is passed.
                unsafe {
                    libc::epoll_ctl(
                        self.epoll.as_raw_fd(),
                        libc::EPOLL_CTL_DEL,
                        fd,
                        std::ptr::null_mut(),
                    )
                };
                return Err(e);
            }
            Ok(())
        }

        /// Wakes the leader waiting in this poller.
        pub fn nudge(&self) {
            // Only fails once the counter is near 2^64: there is a signal pending then.
            let _ = (&self.nudge).write(&1u64.to_ne_bytes());
        }

        /// Waits for up to `timeout` (rounded up to whole milliseconds, as epoll
        /// counts) and puts the sockets' readiness at the start of `ready`; returns
        /// how many it put. A nudge only ends the wait.
        pub fn wait(
            &self,
            timeout: Duration,
            ready: &mut [Readiness; CAPACITY],
        ) -> std::io::Result<usize> {
            let mut events = [libc::epoll_event { events: 0, u64: 0 }; CAPACITY];
            let millis = i32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
            // SAFETY: the descriptor is owned by `self`; `events` holds CAPACITY
            // entries, the most the kernel writes.
            let count = checked(unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    CAPACITY as libc::c_int,
                    millis,
                )
            })?;
            let mut put = 0;
            for event in events.iter().take(count as usize) {
                // Copied out: the kernel's struct is packed on some targets.
                let (flags, data) = (event.events, event.u64);
                if data == NUDGE {
                    continue;
                }
                let any = |mask: libc::c_int| flags & mask as u32 != 0;
                ready[put] = Readiness {
                    token: mio::Token(data as usize),
                    readable: any(libc::EPOLLIN
                        | libc::EPOLLPRI
                        | libc::EPOLLRDHUP
                        | libc::EPOLLHUP
                        | libc::EPOLLERR),
                    writable: any(libc::EPOLLOUT),
                };
                put += 1;
            }
            Ok(put)
        }
    }
}

/// Elsewhere there is no leaders' poller: callers sleep on their slots.
#[cfg(all(
    any(
        not(any(target_os = "linux", target_os = "android")),
        izaber_wamp_no_lead
    ),
    not(all(test, loom))
))]
mod imp {
    use super::Readiness;
    use std::time::Duration;

    pub const CAPACITY: usize = 1;

    pub enum LeadPoller {}

    impl LeadPoller {
        pub fn new() -> std::io::Result<Self> {
            Err(std::io::ErrorKind::Unsupported.into())
        }

        pub fn register_socket(
            &self,
            _loop_poller: &mio::Registry,
            _fd: i32,
            _token: mio::Token,
        ) -> std::io::Result<()> {
            match *self {}
        }

        pub fn nudge(&self) {
            match *self {}
        }

        pub fn wait(
            &self,
            _timeout: Duration,
            _ready: &mut [Readiness; CAPACITY],
        ) -> std::io::Result<usize> {
            match *self {}
        }
    }
}

/// The leaders' poller in the model checks: a nudge is a flag and a condition
/// variable, and no socket is ever ready. A wait never times out, so a nudge that is
/// owed and lost leaves the leader asleep, which loom reports.
#[cfg(all(test, loom))]
mod imp {
    use super::Readiness;
    use crate::sync::prim::{Condvar, Mutex};
    use std::time::Duration;

    pub const CAPACITY: usize = 1;

    pub struct LeadPoller {
        nudged: Mutex<bool>,
        nudge: Condvar,
    }

    impl LeadPoller {
        pub fn new() -> std::io::Result<Self> {
            Ok(LeadPoller {
                nudged: Mutex::new(false),
                nudge: Condvar::new(),
            })
        }

        pub fn register_socket(
            &self,
            _loop_poller: &mio::Registry,
            _fd: i32,
            _token: mio::Token,
        ) -> std::io::Result<()> {
            Err(std::io::ErrorKind::Unsupported.into())
        }

        pub fn nudge(&self) {
            *self.nudged.lock() = true;
            self.nudge.notify_one();
        }

        /// Until nudged; the nudge is used up, as reading the eventfd does.
        pub fn wait(
            &self,
            _timeout: Duration,
            _ready: &mut [Readiness; CAPACITY],
        ) -> std::io::Result<usize> {
            let mut nudged = self.nudged.lock();
            while !*nudged {
                self.nudge.wait(&mut nudged);
            }
            *nudged = false;
            Ok(0)
        }
    }
}

pub(super) use imp::{LeadPoller, CAPACITY};

#[cfg(all(
    test,
    any(target_os = "linux", target_os = "android"),
    not(izaber_wamp_no_lead),
    not(loom)
))]
mod tests {
    use super::super::{Readiness, NOTHING};
    use super::{LeadPoller, CAPACITY};
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    const SOCKET: mio::Token = mio::Token(1);

    fn wait(poller: &LeadPoller, timeout: Duration) -> Vec<Readiness> {
        let mut ready = [NOTHING; CAPACITY];
        let count = poller.wait(timeout, &mut ready).expect("epoll_wait");
        ready[..count].to_vec()
    }

    #[test]
    fn a_registered_sockets_data_is_reported_to_the_leaders_poller() {
        let lead = LeadPoller::new().expect("poller");
        let io_thread = mio::Poll::new().expect("poll");
        let (ours, mut peer) = UnixStream::pair().expect("pair");
        ours.set_nonblocking(true).expect("nonblocking");
        lead.register_socket(io_thread.registry(), ours.as_raw_fd(), SOCKET)
            .expect("register");
        // Nobody waits yet, so both pollers note it; the leaders' reports it at once.
        peer.write_all(b"x").expect("write");
        let ready = wait(&lead, Duration::from_secs(5));
        assert!(
            ready.iter().any(|r| r.token == SOCKET && r.readable),
            "{ready:?}"
        );
    }

    #[test]
    fn a_nudge_ends_the_wait_and_reports_nothing() {
        let lead = std::sync::Arc::new(LeadPoller::new().expect("poller"));
        let nudger = std::sync::Arc::clone(&lead);
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            nudger.nudge();
        });
        let ready = wait(&lead, Duration::from_secs(30));
        thread.join().expect("nudger");
        assert!(ready.is_empty(), "{ready:?}");
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_failed_registration_leaves_the_socket_in_neither_poller() {
        let lead = LeadPoller::new().expect("poller");
        let (ours, _peer) = UnixStream::pair().expect("pair");
        let fd = ours.as_raw_fd();
        // Another client's pollers hold the socket already.
        let taken = mio::Poll::new().expect("poll");
        LeadPoller::new()
            .expect("poller")
            .register_socket(taken.registry(), fd, SOCKET)
            .expect("first registration");
        // The I/O thread's poller has it: refused, and undone in ours.
        assert!(lead.register_socket(taken.registry(), fd, SOCKET).is_err());
        let other = mio::Poll::new().expect("poll");
        lead.register_socket(other.registry(), fd, SOCKET)
            .expect("ours was left free");
    }
}
