//! A connected socket, bounded during setup.
//!
//! During setup (TCP connect, TLS, WebSocket or RawSocket handshake, WAMP join, all on
//! a connector thread) the socket is blocking, but every operation waits in short
//! slices and checks the attempt's [`SetupLimit`] between them, so an attempt ends at
//! its deadline, or soon after the client closes, however slowly the router answers.
//! [`Socket::finish_setup`] then switches it to non-blocking mode for the event loop.

pub(crate) use super::SetupLimit;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The longest a blocking socket operation waits before the limit is checked again.
const SLICE: Duration = Duration::from_millis(100);

impl SetupLimit {
    /// How long the next blocking step may wait, or the error that ends the attempt.
    pub fn next_wait(&self) -> io::Result<Duration> {
        if self.abandoned.load(Ordering::Acquire) {
            return Err(io::Error::other("the connection attempt was abandoned"));
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        Ok(left.min(SLICE))
    }
}

/// A connected socket, blocking in slices during setup, non-blocking after.
pub(crate) struct Socket {
    io: SocketIo,
    /// A second handle to the same socket, to set its timeouts and blocking mode
    /// (mio's streams cannot).
    control: Control,
    /// `Some` during setup.
    setup: Option<SetupLimit>,
    /// Bytes read so far.
    bytes_read: u64,
}

enum SocketIo {
    Tcp(mio::net::TcpStream),
    #[cfg(all(unix, feature = "rawsocket"))]
    Unix(mio::net::UnixStream),
}

enum Control {
    Tcp(TcpStream),
    #[cfg(all(unix, feature = "rawsocket"))]
    Unix(std::os::unix::net::UnixStream),
}

impl Control {
    fn set_timeouts(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Control::Tcp(s) => {
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
            #[cfg(all(unix, feature = "rawsocket"))]
            Control::Unix(s) => {
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
        }
    }

    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Control::Tcp(s) => s.set_nonblocking(nonblocking),
            #[cfg(all(unix, feature = "rawsocket"))]
            Control::Unix(s) => s.set_nonblocking(nonblocking),
        }
    }
}

impl Socket {
    /// A TCP socket, in setup mode.
    pub fn tcp(tcp: TcpStream, limit: &SetupLimit) -> io::Result<Self> {
        let control = Control::Tcp(tcp.try_clone()?);
        Ok(Socket {
            io: SocketIo::Tcp(mio::net::TcpStream::from_std(tcp)),
            control,
            setup: Some(limit.clone()),
            bytes_read: 0,
        })
    }

    /// A Unix socket, in setup mode.
    #[cfg(all(unix, feature = "rawsocket"))]
    pub fn unix(socket: std::os::unix::net::UnixStream, limit: &SetupLimit) -> io::Result<Self> {
        let control = Control::Unix(socket.try_clone()?);
        Ok(Socket {
            io: SocketIo::Unix(mio::net::UnixStream::from_std(socket)),
            control,
            setup: Some(limit.clone()),
            bytes_read: 0,
        })
    }

    /// Ends setup: the socket becomes non-blocking, for the event loop.
    pub fn finish_setup(&mut self) -> io::Result<()> {
        self.setup = None;
        self.control.set_timeouts(None)?;
        self.control.set_nonblocking(true)
    }

    /// Runs one blocking step; during setup, in slices until the limit ends it.
    fn step<T>(&mut self, mut op: impl FnMut(&mut SocketIo) -> io::Result<T>) -> io::Result<T> {
        loop {
            if let Some(limit) = &self.setup {
                self.control.set_timeouts(Some(limit.next_wait()?))?;
            }
            match op(&mut self.io) {
                Err(e) if self.setup.is_some() && is_timeout(&e) => continue,
                done => return done,
            }
        }
    }

    /// Bytes read from the socket so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The socket's descriptor, for registering it with more than one poller.
    #[cfg(unix)]
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match &self.io {
            SocketIo::Tcp(s) => s.as_raw_fd(),
            #[cfg(all(unix, feature = "rawsocket"))]
            SocketIo::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Registers the socket with the poller.
    pub fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interest: mio::Interest,
    ) -> io::Result<()> {
        match &mut self.io {
            SocketIo::Tcp(s) => registry.register(s, token, interest),
            #[cfg(all(unix, feature = "rawsocket"))]
            SocketIo::Unix(s) => registry.register(s, token, interest),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.step(|io| match io {
            SocketIo::Tcp(s) => s.read(buf),
            #[cfg(all(unix, feature = "rawsocket"))]
            SocketIo::Unix(s) => s.read(buf),
        })?;
        self.bytes_read += read as u64;
        Ok(read)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.step(|io| match io {
            SocketIo::Tcp(s) => s.write(buf),
            #[cfg(all(unix, feature = "rawsocket"))]
            SocketIo::Unix(s) => s.write(buf),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Connects a TCP socket to `addr` within `limit`: a non-blocking connect, waited for
/// in slices so that an abandoned attempt ends soon. The socket is left blocking.
pub(crate) fn connect_tcp(addr: SocketAddr, limit: &SetupLimit) -> io::Result<TcpStream> {
    let mut socket = mio::net::TcpStream::connect(addr)?;
    let mut poll = mio::Poll::new()?;
    poll.registry()
        .register(&mut socket, mio::Token(0), mio::Interest::WRITABLE)?;
    let mut events = mio::Events::with_capacity(4);
    loop {
        let wait = limit.next_wait()?;
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if events.is_empty() {
            continue;
        }
        if let Some(e) = socket.take_error()? {
            return Err(e);
        }
        match socket.peer_addr() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
            Err(e) => return Err(e),
        }
    }
    poll.registry().deregister(&mut socket)?;
    let socket = TcpStream::from(std::os::fd::OwnedFd::from(socket));
    socket.set_nonblocking(false)?;
    Ok(socket)
}

/// True for the errors a blocking socket reports when its timeout passed.
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
