//! A TCP stream, plain or TLS, usable blocking during setup and non-blocking after.

use super::tls;
use crate::error::Error;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

/// The byte stream under a transport.
pub(crate) enum Stream {
    Plain(mio::net::TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, mio::net::TcpStream>>),
}

/// A second handle to a connected socket, kept to switch it from blocking to
/// non-blocking mode after the handshakes (mio's stream cannot do that itself).
pub(crate) struct SocketControl(TcpStream);

impl SocketControl {
    /// Switches the socket to non-blocking mode for the event loop.
    pub fn make_nonblocking(self) -> io::Result<()> {
        self.0.set_read_timeout(None)?;
        self.0.set_write_timeout(None)?;
        self.0.set_nonblocking(true)
    }
}

/// Connects streams.
pub(crate) struct Connected;

impl Connected {
    /// Connects to `host:port` before `deadline`, optionally with TLS. The socket is
    /// blocking, with read/write timeouts at the deadline, until
    /// [`SocketControl::make_nonblocking`].
    pub fn open(
        url: &str,
        host: &str,
        port: u16,
        use_tls: bool,
        deadline: Instant,
    ) -> Result<(Stream, SocketControl), Error> {
        let fail = |detail: String| Error::Connect {
            url: url.to_owned(),
            detail,
        };
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?;
        let mut last_error = format!("{host} resolved to no address");
        for addr in addrs {
            let remaining = time_left(deadline).map_err(|_| fail("timed out".into()))?;
            match TcpStream::connect_timeout(&addr, remaining) {
                Ok(tcp) => return Self::wrap(url, host, tcp, use_tls, deadline),
                Err(e) => last_error = format!("{addr}: {e}"),
            }
        }
        Err(fail(last_error))
    }

    fn wrap(
        url: &str,
        host: &str,
        tcp: TcpStream,
        use_tls: bool,
        deadline: Instant,
    ) -> Result<(Stream, SocketControl), Error> {
        let fail = |detail: String| Error::Connect {
            url: url.to_owned(),
            detail,
        };
        // Small WAMP messages must not wait for Nagle's algorithm.
        tcp.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
        let remaining = time_left(deadline).map_err(|_| fail("timed out".into()))?;
        tcp.set_read_timeout(Some(remaining))
            .map_err(|e| fail(e.to_string()))?;
        tcp.set_write_timeout(Some(remaining))
            .map_err(|e| fail(e.to_string()))?;
        let control = tcp.try_clone().map_err(|e| fail(e.to_string()))?;
        let socket = mio::net::TcpStream::from_std(tcp);
        let stream = if use_tls {
            let connection = tls::client_connection(host).map_err(fail)?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(connection, socket)))
        } else {
            Stream::Plain(socket)
        };
        Ok((stream, SocketControl(control)))
    }
}

fn time_left(deadline: Instant) -> Result<std::time::Duration, ()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(())
    } else {
        Ok(left)
    }
}

impl Stream {
    /// The socket, for registration with the poller.
    pub fn socket(&mut self) -> &mut mio::net::TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
