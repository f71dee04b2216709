//! The byte stream under a transport: TCP, TCP with TLS, or a Unix socket; blocking
//! (with timeouts at the connect deadline) during setup, non-blocking after.

use super::connect_failure;
use super::tls::{self, TlsOptions};
use crate::error::Error;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The byte stream under a transport.
pub(crate) enum Stream {
    Plain(mio::net::TcpStream),
    Tls(Box<TlsStream>),
    #[cfg(unix)]
    Unix(mio::net::UnixStream),
}

/// TLS over a TCP socket.
///
/// Unlike `rustls::StreamOwned`, reading never waits for queued writes: a read only
/// reads, so a backed-up outgoing message cannot hide incoming data from the event
/// loop (whose poller reports readiness only on changes).
pub(crate) struct TlsStream {
    conn: rustls::ClientConnection,
    sock: mio::net::TcpStream,
}

/// A second handle to a connected socket, kept to switch it from blocking to
/// non-blocking mode after the handshakes (mio's stream cannot do that itself).
pub(crate) enum SocketControl {
    Tcp(TcpStream),
    #[cfg(unix)]
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
            #[cfg(unix)]
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
            Some(options) => {
                let conn = tls::client_connection(host, options).map_err(fail)?;
                let mut stream = TlsStream { conn, sock: socket };
                stream.handshake().map_err(fail)?;
                Stream::Tls(Box::new(stream))
            }
            None => Stream::Plain(socket),
        };
        Ok((stream, SocketControl::Tcp(control)))
    }

    /// Connects to the Unix socket at `path`. The socket is blocking, with read/write
    /// timeouts at the deadline, until [`SocketControl::make_nonblocking`]. (Connecting
    /// to a local socket does not wait for a peer, so the connect itself has no timeout.)
    #[cfg(unix)]
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
            Stream::Tls(s) => registry.register(&mut s.sock, token, interest),
            #[cfg(unix)]
            Stream::Unix(s) => registry.register(s, token, interest),
        }
    }

    /// Starts a clean TLS close (close_notify), best effort; nothing for other streams.
    pub fn close_notify(&mut self) {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.write_records();
        }
    }
}

impl TlsStream {
    /// Runs the TLS handshake on the (blocking) socket.
    fn handshake(&mut self) -> Result<(), String> {
        while self.conn.is_handshaking() {
            if let Err(e) = self.conn.complete_io(&mut self.sock) {
                return Err(match tls::rustls_error(&e) {
                    Some(tls_error) => {
                        format!("TLS handshake failed: {}", tls::describe(tls_error))
                    }
                    None if is_timeout(&e) => "timed out during the TLS handshake".into(),
                    None if e.kind() == io::ErrorKind::UnexpectedEof => {
                        "the router closed the connection during the TLS handshake".into()
                    }
                    None => format!("TLS handshake failed: {e}"),
                });
            }
        }
        Ok(())
    }

    /// Writes queued TLS records until none are left or the socket is full.
    fn write_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Ok(0) after the router's close_notify; UnexpectedEof after a plain EOF.
            match self.conn.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return done,
            }
            // At EOF rustls remembers it, and the read above ends the loop next time.
            self.conn.read_tls(&mut self.sock)?;
            let processed = self.conn.process_new_packets();
            // Alerts and post-handshake messages go out best effort; a write that
            // cannot happen now happens at the next flush.
            let _ = self.write_records();
            if let Err(e) = processed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Keep at most one batch of records queued: push the last one out first.
        self.write_records()?;
        let written = self.conn.writer().write(buf)?;
        // Errors other than a full socket show up at the next call.
        let _ = self.write_records();
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.writer().flush()?;
        self.write_records()
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            #[cfg(unix)]
            Stream::Unix(s) => s.flush(),
        }
    }
}
