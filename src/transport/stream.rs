//! The byte stream under a transport: TCP, TCP with TLS (feature `tls`), or a Unix
//! socket (feature `rawsocket`).
//!
//! A stream starts in setup mode: blocking, for the TCP connect, the TLS, WebSocket
//! or RawSocket handshake and the WAMP join, which run on a connector thread. Every
//! blocking operation then waits in short slices and checks the attempt's
//! [`SetupLimit`] between them, so an attempt ends at its deadline, or soon after
//! the client closes, however slowly the router answers. After the join,
//! [`Stream::finish_setup`] switches the socket to non-blocking mode for the event
//! loop.

#[cfg(feature = "tls")]
use super::connect_failure;
#[cfg(all(unix, feature = "rawsocket"))]
use super::connect_io_failure;
use super::socket::{connect_tcp, SetupLimit, Socket};
#[cfg(feature = "tls")]
use super::tls::{self, TlsStream};
use super::TlsOptions;
use crate::error::ConnectFailure;
use crate::error::Error;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};

/// The byte stream under a transport.
pub(crate) enum Stream {
    Plain(Socket),
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

/// Connects streams.
pub(crate) struct Connected;

impl Connected {
    /// Connects to `host:port` within `limit`, with TLS when `tls` is given (the TLS
    /// handshake included). The stream stays in setup mode until
    /// [`Stream::finish_setup`].
    pub fn open(
        url: &str,
        host: &str,
        port: u16,
        tls: Option<&TlsOptions>,
        limit: &SetupLimit,
    ) -> Result<Stream, Error> {
        let addrs = (host, port).to_socket_addrs().map_err(|e| {
            Error::connect(
                url,
                ConnectFailure::Dns,
                format!("cannot resolve {host}: {e}"),
            )
        })?;
        let mut last_error = Error::connect(
            url,
            ConnectFailure::Dns,
            format!("{host} resolved to no address"),
        );
        for addr in addrs {
            match connect_tcp(addr, limit) {
                Ok(tcp) => return Self::wrap(url, host, tcp, tls, limit),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(Error::connect_io(url, &e, format!("{addr}: timed out")))
                }
                Err(e) => last_error = Error::connect_io(url, &e, format!("{addr}: {e}")),
            }
        }
        Err(last_error)
    }

    fn wrap(
        url: &str,
        host: &str,
        tcp: TcpStream,
        tls: Option<&TlsOptions>,
        limit: &SetupLimit,
    ) -> Result<Stream, Error> {
        let fail = |e: io::Error| Error::connect_io(url, &e, e.to_string());
        // Small WAMP messages must not wait for Nagle's algorithm.
        tcp.set_nodelay(true).map_err(fail)?;
        let socket = Socket::tcp(tcp, limit).map_err(fail)?;
        match tls {
            Some(options) => start_tls(url, host, socket, options),
            None => Ok(Stream::Plain(socket)),
        }
    }

    /// Connects to the Unix socket at `path`; the stream stays in setup mode until
    /// [`Stream::finish_setup`]. (Connecting to a local socket does not wait for a
    /// peer, so the connect itself needs no limit.)
    #[cfg(all(unix, feature = "rawsocket"))]
    pub fn open_unix(
        url: &str,
        path: &std::path::Path,
        limit: &SetupLimit,
    ) -> Result<Stream, Error> {
        let socket = std::os::unix::net::UnixStream::connect(path)
            .map_err(|e| Error::connect_io(url, &e, format!("{}: {e}", path.display())))?;
        let socket =
            Socket::unix(socket, limit).map_err(|e| connect_io_failure(url, &e, e.to_string()))?;
        Ok(Stream::Plain(socket))
    }
}

/// Runs the TLS handshake over `socket` (still blocking, with the deadline's timeouts).
#[cfg(feature = "tls")]
fn start_tls(url: &str, host: &str, socket: Socket, options: &TlsOptions) -> Result<Stream, Error> {
    let stream = TlsStream::handshake(host, socket, options)
        .map_err(|(kind, detail)| connect_failure(url, kind)(detail))?;
    Ok(Stream::Tls(Box::new(stream)))
}

/// Without the `tls` feature: `transport::connect` has refused TLS URLs already.
#[cfg(not(feature = "tls"))]
fn start_tls(
    url: &str,
    _host: &str,
    _socket: Socket,
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

impl Stream {
    /// Registers the socket with the poller.
    pub fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interest: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.register(registry, token, interest),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.socket_mut().register(registry, token, interest),
        }
    }

    /// Bytes read from the socket so far (before TLS).
    pub fn bytes_read(&mut self) -> u64 {
        match self {
            Stream::Plain(s) => s.bytes_read(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.socket_mut().bytes_read(),
        }
    }

    /// The socket's descriptor, for registering it with more than one poller.
    #[cfg(unix)]
    pub fn raw_fd(&mut self) -> std::os::fd::RawFd {
        match self {
            Stream::Plain(s) => s.raw_fd(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.socket_mut().raw_fd(),
        }
    }

    /// Ends setup: the socket becomes non-blocking, for the event loop.
    pub fn finish_setup(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.finish_setup(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.socket_mut().finish_setup(),
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
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
        }
    }
}
