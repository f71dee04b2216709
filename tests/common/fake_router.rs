//! A small misbehaving WAMP router of our own, for conditions Crossbar.io cannot
//! produce on demand (a flood faster than any real router forwards, a router that
//! breaks the protocol). It speaks RawSocket with JSON (`tcpip://`), one
//! connection at a time, and follows a script: each test says what the router does.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

/// A scripted router on a free loopback port.
pub struct FakeRouter {
    url: String,
    thread: Option<JoinHandle<()>>,
}

impl FakeRouter {
    /// Listens on a free port and runs `script` for every connection, in turn, until
    /// the script returns `false` (or the test ends).
    pub fn start(mut script: impl FnMut(&mut Conn) -> bool + Send + 'static) -> FakeRouter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("tcpip://{}", listener.local_addr().expect("addr"));
        let thread = std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(socket) = socket else { return };
                let mut conn = Conn { socket };
                if !script(&mut conn) {
                    return;
                }
            }
        });
        FakeRouter {
            url,
            thread: Some(thread),
        }
    }

    /// `tcpip://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// One client connection, as the script sees it. Every method panics on an I/O
/// error, which ends the script's thread (the client went away).
pub struct Conn {
    socket: TcpStream,
}

impl Conn {
    /// Answers the RawSocket handshake: JSON, 16 MiB messages.
    pub fn handshake(&mut self) {
        let mut request = [0u8; 4];
        self.socket.read_exact(&mut request).expect("handshake");
        assert_eq!(request[0], 0x7F, "not a RawSocket handshake");
        self.socket
            .write_all(&[0x7F, 0xF1, 0, 0])
            .expect("handshake reply");
    }

    /// The next WAMP message from the client.
    pub fn recv(&mut self) -> Value {
        let mut header = [0u8; 4];
        self.socket.read_exact(&mut header).expect("frame header");
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let mut payload = vec![0u8; len];
        self.socket.read_exact(&mut payload).expect("frame payload");
        serde_json::from_slice(&payload).expect("a JSON message")
    }

    /// Sends one WAMP message.
    pub fn send(&mut self, message: &Value) {
        let payload = serde_json::to_vec(message).expect("encode");
        self.send_frame(&payload);
    }

    /// Sends one RawSocket frame carrying `payload` as it is.
    pub fn send_frame(&mut self, payload: &[u8]) {
        let len = payload.len();
        let header = [0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        self.socket.write_all(&header).expect("write header");
        self.socket.write_all(payload).expect("write payload");
    }

    /// Sends one frame, or returns false when the client is gone.
    pub fn try_send_frame(&mut self, payload: &[u8]) -> bool {
        let len = payload.len();
        let header = [0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        self.socket.write_all(&header).is_ok() && self.socket.write_all(payload).is_ok()
    }

    /// Handshake, HELLO, WELCOME for session `session`: returns HELLO's details.
    pub fn join(&mut self, session: u64) -> Value {
        self.handshake();
        let hello = self.recv();
        assert_eq!(hello[0], 1, "expected HELLO, got {hello}");
        let roles =
            json!({"broker": {"features": {}}, "dealer": {"features": {"call_canceling": true}}});
        self.send(&json!([2, session, {"roles": roles, "authid": "fake", "authrole": "user"}]));
        hello[2].clone()
    }

    /// Waits for the client's SUBSCRIBE and answers SUBSCRIBED with `subscription`.
    pub fn accept_subscribe(&mut self, subscription: u64) -> Value {
        let subscribe = self.recv();
        assert_eq!(subscribe[0], 32, "expected SUBSCRIBE, got {subscribe}");
        self.send(&json!([33, subscribe[1], subscription]));
        subscribe
    }

    /// Reads with a timeout: `None` when nothing arrives in `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Value> {
        self.socket
            .set_read_timeout(Some(timeout))
            .expect("timeout");
        let mut header = [0u8; 4];
        let got = self.socket.read_exact(&mut header);
        self.socket.set_read_timeout(None).expect("timeout");
        got.ok()?;
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let mut payload = vec![0u8; len];
        self.socket.read_exact(&mut payload).ok()?;
        serde_json::from_slice(&payload).ok()
    }

    /// The raw socket, for scripts that misbehave below WAMP.
    pub fn socket(&mut self) -> &mut TcpStream {
        &mut self.socket
    }
}
