//! Reading from a non-blocking socket in large chunks.
//!
//! Why: tungstenite zero-fills its free read buffer before every read, so it is kept
//! small; reading the socket through it directly would then take hundreds of system
//! calls for one large message, and a router sharing the CPU would be woken for every
//! few kilobytes drained. This wrapper reads up to [`CHUNK`] at a time and hands the
//! bytes out from memory. It also knows when the socket is empty: after a read that
//! returned less than asked, it answers `WouldBlock` without a system call until the
//! poller reports the socket readable again ([`ReadAhead::readable`]). With
//! edge-triggered polling that is safe: data arriving after the short read raises a
//! new readiness event.

use std::io::{self, Read, Write};

/// How much is read from the socket at once.
const CHUNK: usize = 256 * 1024;

/// A stream read through a buffer of its own.
pub(crate) struct ReadAhead<S> {
    inner: S,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// The last socket read was short: nothing more is there until `readable()`.
    drained: bool,
    /// Whether a short read means "empty": only for a non-blocking socket read
    /// directly (not through TLS, which may hold decrypted bytes back).
    short_read_means_empty: bool,
}

impl<S> ReadAhead<S> {
    /// Wraps `inner`; short reads say nothing until [`trust_short_reads`] is called.
    ///
    /// [`trust_short_reads`]: ReadAhead::trust_short_reads
    pub fn new(inner: S) -> Self {
        ReadAhead {
            inner,
            buffer: Vec::new(),
            start: 0,
            end: 0,
            drained: false,
            short_read_means_empty: false,
        }
    }

    /// From now on, a short read means the socket is empty (call once the socket is
    /// non-blocking and polled edge-triggered).
    pub fn trust_short_reads(&mut self) {
        self.short_read_means_empty = true;
    }

    /// The poller reported the socket readable: read it again.
    pub fn readable(&mut self) {
        self.drained = false;
    }

    /// The wrapped stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: Read> Read for ReadAhead<S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            if self.drained {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if self.buffer.is_empty() {
                self.buffer = vec![0; CHUNK];
            }
            let read = self.inner.read(&mut self.buffer)?;
            self.drained = self.short_read_means_empty && read > 0 && read < CHUNK;
            self.start = 0;
            self.end = read;
        }
        let count = out.len().min(self.end - self.start);
        out[..count].copy_from_slice(&self.buffer[self.start..self.start + count]);
        self.start += count;
        Ok(count)
    }
}

impl<S: Write> Write for ReadAhead<S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.inner.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that returns the given reads one by one, then `WouldBlock`.
    struct Script {
        reads: Vec<Vec<u8>>,
        calls: usize,
    }

    impl Read for Script {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.reads.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let data = self.reads.remove(0);
            out[..data.len()].copy_from_slice(&data);
            Ok(data.len())
        }
    }

    fn script(reads: &[&[u8]]) -> ReadAhead<Script> {
        ReadAhead::new(Script {
            reads: reads.iter().map(|r| r.to_vec()).collect(),
            calls: 0,
        })
    }

    #[test]
    fn bytes_come_out_in_order_in_pieces_of_any_size() {
        let mut stream = script(&[b"hello world"]);
        let mut piece = [0; 4];
        let mut all = Vec::new();
        while let Ok(n @ 1..) = stream.read(&mut piece) {
            all.extend_from_slice(&piece[..n]);
        }
        assert_eq!(all, b"hello world");
        assert_eq!(
            stream.inner.calls, 2,
            "one read for the data, one finding none"
        );
    }

    #[test]
    fn after_a_short_read_the_socket_is_not_asked_again_until_readable() {
        let mut stream = script(&[b"abc", b"def"]);
        stream.trust_short_reads();
        let mut out = [0; 16];
        assert_eq!(stream.read(&mut out).ok(), Some(3));
        let empty = stream.read(&mut out).expect_err("drained");
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(stream.inner.calls, 1);
        stream.readable();
        assert_eq!(stream.read(&mut out).ok(), Some(3));
        assert_eq!(&out[..3], b"def");
    }

    #[test]
    fn before_short_reads_are_trusted_the_socket_is_always_asked() {
        let mut stream = script(&[b"abc", b"def"]);
        let mut out = [0; 16];
        assert_eq!(stream.read(&mut out).ok(), Some(3));
        assert_eq!(stream.read(&mut out).ok(), Some(3));
        assert_eq!(stream.inner.calls, 2);
    }

    #[test]
    fn end_of_stream_reads_as_zero() {
        let mut stream = script(&[b""]);
        stream.trust_short_reads();
        let mut out = [0; 16];
        assert_eq!(stream.read(&mut out).ok(), Some(0));
    }
}
