//! A small misbehaving WAMP router of our own, for conditions Crossbar.io cannot
//! produce on demand (a flood faster than any real router forwards, a router that
//! breaks the protocol). It speaks RawSocket with JSON (`tcpip://`), one
//! connection at a time, and follows a script: each test says what the router does.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A scripted router on a free loopback port.
pub struct FakeRouter {
    url: String,
    thread: Option<JoinHandle<()>>,
    connections: Arc<AtomicUsize>,
}

impl FakeRouter {
    /// Listens on a free port and runs `script` for every connection, each on a
    /// thread of its own, until a script returns `false` (or the test ends).
    pub fn start(script: impl Fn(&mut Conn) -> bool + Send + Sync + 'static) -> FakeRouter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("tcpip://{}", listener.local_addr().expect("addr"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let script = Arc::new(script);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn(move || {
            for socket in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(socket) = socket else { return };
                let number = counted.fetch_add(1, Ordering::SeqCst) + 1;
                let (script, stop) = (Arc::clone(&script), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut conn = Conn { socket, number };
                    // A script that panics (the client went away) ends with its
                    // connection; the router goes on accepting.
                    let go_on = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        script(&mut conn)
                    }));
                    if matches!(go_on, Ok(false)) {
                        stop.store(true, Ordering::SeqCst);
                    }
                });
            }
        });
        FakeRouter {
            url,
            thread: Some(thread),
            connections,
        }
    }

    /// How many connections the router has accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
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
    /// 1 for the first connection the router accepted, and so on.
    pub number: usize,
}

impl Conn {
    /// Answers the RawSocket handshake: JSON, 16 MiB messages.
    pub fn handshake(&mut self) {
        self.handshake_as(1);
    }

    /// Answers the RawSocket handshake with serializer `id` (1 JSON, 2 MessagePack,
    /// 3 CBOR) and 16 MiB messages.
    pub fn handshake_as(&mut self, id: u8) {
        self.read_handshake();
        self.socket
            .write_all(&[0x7F, 0xF0 | id, 0, 0])
            .expect("handshake reply");
    }

    /// Reads the client's handshake request.
    pub fn read_handshake(&mut self) -> [u8; 4] {
        let mut request = [0u8; 4];
        self.socket.read_exact(&mut request).expect("handshake");
        assert_eq!(request[0], 0x7F, "not a RawSocket handshake");
        request
    }

    /// Reads one raw frame: its type and payload.
    pub fn recv_frame(&mut self) -> (u8, Vec<u8>) {
        let mut header = [0u8; 4];
        self.socket.read_exact(&mut header).expect("frame header");
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let mut payload = vec![0u8; len];
        self.socket.read_exact(&mut payload).expect("frame payload");
        (header[0], payload)
    }

    /// The next WAMP message from the client.
    pub fn recv(&mut self) -> Value {
        let (_, payload) = self.recv_frame();
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
        self.join_with_dealer_features(session, json!({"call_canceling": true}))
    }

    /// Like [`join`](Self::join), announcing the dealer `features` in WELCOME.
    pub fn join_with_dealer_features(&mut self, session: u64, features: Value) -> Value {
        self.handshake();
        let hello = self.recv();
        assert_eq!(hello[0], 1, "expected HELLO, got {hello}");
        let roles = json!({"broker": {"features": {}}, "dealer": {"features": features}});
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
