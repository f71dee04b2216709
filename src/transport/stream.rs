//! The byte stream under a transport: TCP, TCP with TLS (feature `tls`), or a Unix
//! socket (feature `rawsocket`); blocking (with timeouts at the connect deadline)
//! during setup, non-blocking after.

#[cfg(feature = "tls")]
use super::tls::{self, TlsStream};
use super::{connect_failure, TlsOptions};
use crate::error::Error;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The byte stream under a transport.
pub(crate) enum Stream {
    Plain(mio::net::TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
    #[cfg(all(unix, feature = "rawsocket"))]
    Unix(mio::net::UnixStream),
}

/// A second handle to a connected socket, kept to switch it from blocking to
/// non-blocking mode after the handshakes (mio's stream cannot do that itself).
pub(crate) enum SocketControl {
    Tcp(TcpStream),
    #[cfg(all(unix, feature = "rawsocket"))]
    Unix(std::os::unix::net::UnixStream),
}

impl SocketControl {
    /// Switches the socket to non-blocking mode for the event loop.
    pub fn make_nonblocking(self) -> io::Result<()> {
        match self {
            SocketControl::Tcp(s) => {
                s.set_read_timeout(None)?;
                s.set_write_timeout(None)?;
                s.set_nonblocking(true)
            }
            #[cfg(all(unix, feature = "rawsocket"))]
            SocketControl::Unix(s) => {
                s.set_read_timeout(None)?;
                s.set_write_timeout(None)?;
                s.set_nonblocking(true)
            }
        }
    }
}

/// Connects streams.
pub(crate) struct Connected;

impl Connected {
    /// Connects to `host:port` before `deadline`, with TLS when `tls` is given (the
    /// TLS handshake included). The socket is blocking, with read/write timeouts at
    /// the deadline, until [`SocketControl::make_nonblocking`].
    pub fn open(
        url: &str,
        host: &str,
        port: u16,
        tls: Option<&TlsOptions>,
        deadline: Instant,
    ) -> Result<(Stream, SocketControl), Error> {
        let fail = connect_failure(url);
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?;
        let mut last_error = format!("{host} resolved to no address");
        for addr in addrs {
            let remaining = time_left(deadline).map_err(|_| fail("timed out".into()))?;
            match TcpStream::connect_timeout(&addr, remaining) {
                Ok(tcp) => return Self::wrap(url, host, tcp, tls, deadline),
                Err(e) => last_error = format!("{addr}: {e}"),
            }
        }
        Err(fail(last_error))
    }

    fn wrap(
        url: &str,
        host: &str,
        tcp: TcpStream,
        tls: Option<&TlsOptions>,
        deadline: Instant,
    ) -> Result<(Stream, SocketControl), Error> {
        let fail = connect_failure(url);
        // Small WAMP messages must not wait for Nagle's algorithm.
        tcp.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
        let remaining = time_left(deadline).map_err(|_| fail("timed out".into()))?;
        tcp.set_read_timeout(Some(remaining))
            .map_err(|e| fail(e.to_string()))?;
        tcp.set_write_timeout(Some(remaining))
            .map_err(|e| fail(e.to_string()))?;
        let control = tcp.try_clone().map_err(|e| fail(e.to_string()))?;
        let socket = mio::net::TcpStream::from_std(tcp);
        let stream = match tls {
            Some(options) => start_tls(url, host, socket, options)?,
            None => Stream::Plain(socket),
        };
        Ok((stream, SocketControl::Tcp(control)))
    }

    /// Connects to the Unix socket at `path`. The socket is blocking, with read/write
    /// timeouts at the deadline, until [`SocketControl::make_nonblocking`]. (Connecting
    /// to a local socket does not wait for a peer, so the connect itself has no timeout.)
    #[cfg(all(unix, feature = "rawsocket"))]
    pub fn open_unix(
        url: &str,
        path: &std::path::Path,
        deadline: Instant,
    ) -> Result<(Stream, SocketControl), Error> {
        let fail = connect_failure(url);
        let socket = std::os::unix::net::UnixStream::connect(path)
            .map_err(|e| fail(format!("{}: {e}", path.display())))?;
        let remaining = time_left(deadline).map_err(|_| fail("timed out".into()))?;
        socket
            .set_read_timeout(Some(remaining))
            .map_err(|e| fail(e.to_string()))?;
        socket
            .set_write_timeout(Some(remaining))
            .map_err(|e| fail(e.to_string()))?;
        let control = socket.try_clone().map_err(|e| fail(e.to_string()))?;
        Ok((
            Stream::Unix(mio::net::UnixStream::from_std(socket)),
            SocketControl::Unix(control),
        ))
    }
}

/// Runs the TLS handshake over `socket` (still blocking, with the deadline's timeouts).
#[cfg(feature = "tls")]
fn start_tls(
    url: &str,
    host: &str,
    socket: mio::net::TcpStream,
    options: &TlsOptions,
) -> Result<Stream, Error> {
    let fail = connect_failure(url);
    let stream = TlsStream::handshake(host, socket, options).map_err(fail)?;
    Ok(Stream::Tls(Box::new(stream)))
}

/// Without the `tls` feature: `transport::connect` has refused TLS URLs already.
#[cfg(not(feature = "tls"))]
fn start_tls(
    url: &str,
    _host: &str,
    _socket: mio::net::TcpStream,
    _options: &TlsOptions,
) -> Result<Stream, Error> {
    Err(super::feature_disabled("tls", url))
}

/// If `error` carries a TLS error, `TLS error: ` and its description.
#[cfg(feature = "tls")]
pub(crate) fn describe_tls_error(error: &io::Error) -> Option<String> {
    tls::describe_io(error)
}

/// Without the `tls` feature no stream has TLS, so no error carries a TLS error.
#[cfg(not(feature = "tls"))]
pub(crate) fn describe_tls_error(_: &io::Error) -> Option<String> {
    None
}

fn time_left(deadline: Instant) -> Result<Duration, ()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(())
    } else {
        Ok(left)
    }
}

/// True for the errors a blocking socket reports when its timeout passed.
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Stream {
    /// Registers the socket with the poller.
    pub fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interest: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Plain(s) => registry.register(s, token, interest),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.register(registry, token, interest),
            #[cfg(all(unix, feature = "rawsocket"))]
            Stream::Unix(s) => registry.register(s, token, interest),
        }
    }

    /// Starts a clean TLS close (close_notify), best effort; nothing for other streams.
    #[cfg(feature = "rawsocket")]
    pub fn close_notify(&mut self) {
        #[cfg(feature = "tls")]
        if let Stream::Tls(s) = self {
            s.close_notify();
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf),
            #[cfg(all(unix, feature = "rawsocket"))]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
            #[cfg(all(unix, feature = "rawsocket"))]
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
            #[cfg(all(unix, feature = "rawsocket"))]
            Stream::Unix(s) => s.flush(),
        }
    }
}
