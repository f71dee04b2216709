//! Integration-test harness: a crossbar router and autobahn-python peers.
//!
//! Needs the Python environment made by `scripts/setup` (`.venv/`); the first
//! router test runs `scripts/setup` when it is missing (see `venv.rs`).
//!
//! * [`Router`] runs `tests/router/run_router.py`, which runs crossbar with
//!   `tests/router/config.json` on free loopback ports and takes commands on
//!   its stdin. Every router lives in its own process group and dies with the
//!   wrapper, and the wrapper dies when its stdin closes, so no router outlives
//!   the test process, however that ends.
//! * [`shared_router`] is one router per test binary, for tests that do not
//!   kill or freeze it.
//! * [`Router::start_tls`] and [`shared_tls_router`] run
//!   `tests/router/config_tls.json` instead: the same plus WebSocket and
//!   `RawSocket` over TLS (certificates made by `tests/router/make_certs.py`
//!   for the router's own test CA), a WebSocket requiring a client
//!   certificate, a `RawSocket` with a 64 KiB limit and a `RawSocket` on a Unix
//!   socket in the router's work directory.
//! * [`Peer`] runs `tests/peers/interop_peer.py`, an autobahn-python session
//!   offering `interop.peer.*` procedures. Only one peer per prefix fits on a
//!   router (the procedures use the default `single` invocation policy), so
//!   `Peer::start` waits while another `Peer` of this process holds the same
//!   URL and prefix; [`Peer::start_with_prefix`] avoids the wait.
//!
//! Router logs are kept in `target/test-routers/<pid>-<n>/crossbar.log`; a
//! dedicated router removes its directory on drop unless the test panicked.

#![allow(dead_code)]

pub mod fake_router;
pub mod keys;
pub mod process;
pub mod scenarios;
mod venv;

/// Defines each listed test once per serializer, in modules `json`, `msgpack` and
/// `cbor`: `for_each_serializer!(a, b)` runs `a(Serializer::Json)` as `json::a`, ...
/// Serializers left out of the build (Cargo features `msgpack`, `cbor`) get no tests.
/// The test file must have `Serializer` in scope.
#[allow(unused_macros)] // not every test file runs per-serializer tests
macro_rules! for_each_serializer {
    ($($test:ident),* $(,)?) => {
        mod json { use super::*; $(#[test] fn $test() { super::$test(Serializer::Json) })* }
        #[cfg(feature = "msgpack")]
        mod msgpack { use super::*; $(#[test] fn $test() { super::$test(Serializer::MsgPack) })* }
        #[cfg(feature = "cbor")]
        mod cbor { use super::*; $(#[test] fn $test() { super::$test(Serializer::Cbor) })* }
    };
}

use izaber_wamp::Serializer;
use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant, SystemTime};

/// How long `Router::start` waits for the router to accept connections.
const ROUTER_START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long `Peer::start` waits for the peer's `READY`.
const PEER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts with fresh ports when the picked ports were taken meanwhile.
const PORT_ATTEMPTS: usize = 3;
/// Router work directories older than this are removed on the first start.
const STALE_WORKDIR_AGE: Duration = Duration::from_secs(12 * 3600);

/// `preferred` when this build has it, else JSON (always built in): for tests whose
/// serializer is incidental, so they also run in builds without `msgpack` or `cbor`.
pub fn serializer_or_json(preferred: Serializer) -> Serializer {
    if preferred.is_compiled_in() {
        preferred
    } else {
        Serializer::Json
    }
}

/// The repository's root directory: the nearest directory at or above the test's
/// crate (`CARGO_MANIFEST_DIR`) holding `tests/router/`, so the harness also serves
/// the other crates of the workspace (e.g. `cli/`, which includes this file).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("tests/router/run_router.py").is_file())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// The Python interpreter of the test environment, `.venv/bin/python`, made by
/// running `scripts/setup` on first use when it is missing.
///
/// Panics with one line saying why and to run `scripts/setup` when it cannot be made.
pub fn venv_python() -> PathBuf {
    venv::python(&repo_root()).unwrap_or_else(|e| panic!("{e}"))
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        _ => repo_root().join("target"),
    }
}

/// Two distinct free loopback ports (both bound at once, then released).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let ports = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    drop((a, b));
    ports
}

/// A loopback port nothing listens on (bound once to find it, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// `n` distinct free loopback ports (all bound at once, then released).
fn free_port_list(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn unique_workdir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    static PRUNED: OnceLock<()> = OnceLock::new();
    let base = target_dir().join("test-routers");
    PRUNED.get_or_init(|| prune_stale(&base));
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = base.join(format!("{}-{}", std::process::id(), n));
    let _ = fs::remove_dir_all(&dir); // a leftover from a recycled pid
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn prune_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_WORKDIR_AGE);
        if old {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The last `max_lines` lines of a file (for panic messages).
fn file_tail(path: &Path, max_lines: usize) -> String {
    let Ok(bytes) = fs::read(path) else {
        return format!("<{} is not readable>", path.display());
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(max_lines)..].join("\n")
}

/// Forwards each stdout line of a child through a channel, so reads can time out.
fn line_channel(stdout: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for the next line; `Err` explains a timeout or the child's exit.
fn next_line(lines: &Receiver<String>, timeout: Duration) -> Result<String, String> {
    match lines.recv_timeout(timeout) {
        Ok(line) => Ok(line),
        Err(RecvTimeoutError::Timeout) => Err(format!("no answer within {timeout:?}")),
        Err(RecvTimeoutError::Disconnected) => Err("the process exited".to_string()),
    }
}

/// Kills and reaps a child, giving it `grace` to exit by itself first.
fn reap(child: &mut Child, grace: Duration) {
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => thread::sleep(Duration::from_millis(20)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock must not wedge the others.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct RouterIo {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

/// A crossbar router on free loopback ports, run by `tests/router/run_router.py`.
///
/// Dropping it stops the router. The control methods block until the wrapper
/// confirms the action and panic (with the router log's tail) when it fails.
pub struct Router {
    ws_port: u16,
    rs_port: u16,
    workdir: PathBuf,
    io: Mutex<RouterIo>,
    /// The extra transports of a router made by [`Router::start_tls`].
    tls: Option<TlsPorts>,
}

/// Ports of the transports `tests/router/config_tls.json` adds.
#[derive(Clone, Copy)]
struct TlsPorts {
    wss: u16,
    rss: u16,
    wss_mutual: u16,
    rs_small: u16,
}

impl TlsPorts {
    fn args(&self) -> Vec<String> {
        [
            ("wss", self.wss),
            ("rss", self.rss),
            ("wss_mutual", self.wss_mutual),
            ("rs_small", self.rs_small),
        ]
        .iter()
        .flat_map(|(id, port)| ["--port".to_string(), format!("{id}={port}")])
        .collect()
    }
}

/// Makes a fresh test CA with server and client certificates in `dir`
/// (`tests/router/make_certs.py`).
fn make_certs(dir: &Path) -> Result<(), String> {
    let python = venv_python();
    let script = repo_root().join("tests/router/make_certs.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "make_certs.py failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Router {
    /// Starts a dedicated router; waits until it accepts connections.
    pub fn start() -> Router {
        Router::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a dedicated router with `tests/router/config_tls.json`: besides the
    /// plain WebSocket and `RawSocket` transports of [`Router::start`], a WebSocket
    /// with TLS ([`Router::wss_url`]), a `RawSocket` with TLS ([`Router::rss_url`]),
    /// a WebSocket with TLS that requires a client certificate
    /// ([`Router::wss_mutual_url`]), a `RawSocket` with a 64 KiB message limit
    /// ([`Router::rawsocket_small_url`]) and a `RawSocket` on a Unix socket
    /// ([`Router::unix_url`]). The certificates are made for this router, by a
    /// test CA ([`Router::ca_file`]), for 127.0.0.1, ::1 and localhost.
    pub fn start_tls() -> Router {
        Router::try_start_tls().unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_start() -> Result<Router, String> {
        Router::try_start_with(false)
    }

    fn try_start_tls() -> Result<Router, String> {
        Router::try_start_with(true)
    }

    fn try_start_with(tls: bool) -> Result<Router, String> {
        let python = venv_python();
        let script = repo_root().join("tests/router/run_router.py");
        let config = repo_root().join(if tls {
            "tests/router/config_tls.json"
        } else {
            "tests/router/config.json"
        });
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let (ws_port, rs_port, tls_ports) = if tls {
                let p = free_port_list(6);
                let more = TlsPorts {
                    wss: p[2],
                    rss: p[3],
                    wss_mutual: p[4],
                    rs_small: p[5],
                };
                (p[0], p[1], Some(more))
            } else {
                let (ws_port, rs_port) = free_ports();
                (ws_port, rs_port, None)
            };
            let workdir = unique_workdir();
            if tls {
                make_certs(&workdir.join("certs"))?;
                let socket = workdir.join(".crossbar").join("rawsocket.sock");
                // sun_path holds 108 bytes on Linux (104 on macOS).
                if socket.as_os_str().len() >= 100 {
                    return Err(format!(
                        "the Unix socket path {} is too long; use a shorter CARGO_TARGET_DIR",
                        socket.display()
                    ));
                }
            }
            let mut child = Command::new(&python)
                .arg(&script)
                .arg("--config")
                .arg(&config)
                .arg("--ws-port")
                .arg(ws_port.to_string())
                .arg("--rs-port")
                .arg(rs_port.to_string())
                .arg("--workdir")
                .arg(&workdir)
                .args(tls_ports.map(|t| t.args()).unwrap_or_default())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
            let stdin = child.stdin.take();
            let lines = line_channel(child.stdout.take().expect("piped stdout"));
            let answer = next_line(&lines, ROUTER_START_TIMEOUT).unwrap_or_else(|e| e);
            if answer == "READY" {
                lock(router_ports()).push((ws_port, rs_port));
                return Ok(Router {
                    ws_port,
                    rs_port,
                    workdir,
                    io: Mutex::new(RouterIo {
                        child,
                        stdin,
                        lines,
                    }),
                    tls: tls_ports,
                });
            }
            drop(stdin);
            reap(&mut child, Duration::from_secs(5));
            let log = workdir.join("crossbar.log");
            last_error = format!(
                "crossbar router failed to start (ports {ws_port}/{rs_port}): {answer}\n\
                 --- tail of {} ---\n{}",
                log.display(),
                file_tail(&log, 60)
            );
            if !answer.contains("port-in-use") {
                break;
            }
        }
        Err(last_error)
    }

    /// The WebSocket URL, `ws://127.0.0.1:<port>`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws_port)
    }

    pub fn ws_port(&self) -> u16 {
        self.ws_port
    }

    /// The `RawSocket` (TCP) port on 127.0.0.1.
    pub fn rawsocket_port(&self) -> u16 {
        self.rs_port
    }

    /// The `RawSocket` URL in autobahn's notation, `rs://127.0.0.1:<port>`.
    pub fn rawsocket_url(&self) -> String {
        format!("rs://127.0.0.1:{}", self.rs_port)
    }

    /// The `RawSocket` (TCP) URL in this library's notation, `tcpip://127.0.0.1:<port>`.
    pub fn tcpip_url(&self) -> String {
        format!("tcpip://127.0.0.1:{}", self.rs_port)
    }

    fn tls_ports(&self) -> TlsPorts {
        self.tls
            .expect("this router has no TLS transports: start it with Router::start_tls")
    }

    /// The WebSocket-with-TLS URL, `wss://127.0.0.1:<port>` (only [`Router::start_tls`]).
    pub fn wss_url(&self) -> String {
        format!("wss://127.0.0.1:{}", self.tls_ports().wss)
    }

    /// The `RawSocket`-with-TLS URL, `tcpips://127.0.0.1:<port>` (only
    /// [`Router::start_tls`]).
    pub fn rss_url(&self) -> String {
        format!("tcpips://127.0.0.1:{}", self.tls_ports().rss)
    }

    /// The URL of the WebSocket with TLS that requires a client certificate signed
    /// by [`Router::ca_file`]'s CA (only [`Router::start_tls`]).
    pub fn wss_mutual_url(&self) -> String {
        format!("wss://127.0.0.1:{}", self.tls_ports().wss_mutual)
    }

    /// The URL of a plain `RawSocket` transport whose router-side message limit
    /// is 64 KiB (only [`Router::start_tls`]).
    pub fn rawsocket_small_url(&self) -> String {
        format!("tcpip://127.0.0.1:{}", self.tls_ports().rs_small)
    }

    /// The path of the `RawSocket` Unix socket (only [`Router::start_tls`]).
    pub fn unix_socket_path(&self) -> PathBuf {
        self.tls_ports();
        self.workdir.join(".crossbar").join("rawsocket.sock")
    }

    /// The `RawSocket` Unix socket URL, `unix:///.../rawsocket.sock` (only
    /// [`Router::start_tls`]).
    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.unix_socket_path().display())
    }

    fn cert_file(&self, name: &str) -> PathBuf {
        self.tls_ports();
        self.workdir.join("certs").join(name)
    }

    /// The test CA's certificate (PEM), to trust as `ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.cert_file("ca.pem")
    }

    /// A CA certificate (PEM) unrelated to the router's certificate.
    pub fn other_ca_file(&self) -> PathBuf {
        self.cert_file("other-ca.pem")
    }

    /// A client certificate (PEM) signed by the test CA, for mutual TLS.
    pub fn client_cert(&self) -> PathBuf {
        self.cert_file("client.pem")
    }

    /// The private key (PEM) of [`Router::client_cert`].
    pub fn client_key(&self) -> PathBuf {
        self.cert_file("client.key")
    }

    /// The router's working directory (holds `crossbar.log` and `.crossbar/`).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The last `lines` lines of `crossbar.log`.
    pub fn log_tail(&self, lines: usize) -> String {
        file_tail(&self.workdir.join("crossbar.log"), lines)
    }

    /// SIGKILLs the router's whole process group; returns once the ports are closed.
    pub fn kill(&self) {
        self.command("kill", Duration::from_secs(60));
    }

    /// Starts the router again on the same ports, after [`Router::kill`].
    pub fn restart(&self) {
        self.command("start", ROUTER_START_TIMEOUT);
    }

    /// SIGSTOPs the router: connections stay open (and TCP connects still
    /// succeed) but nothing is answered until [`Router::thaw`].
    pub fn freeze(&self) {
        self.command("stop", Duration::from_secs(10));
    }

    /// SIGCONTs a frozen router.
    pub fn thaw(&self) {
        self.command("cont", Duration::from_secs(10));
    }

    fn command(&self, cmd: &str, timeout: Duration) {
        let result = {
            let mut io = lock(&self.io);
            send_command(&mut io, cmd, timeout)
        };
        if let Err(e) = result {
            panic!(
                "router command {cmd:?} failed: {e}\n--- tail of {} ---\n{}",
                self.workdir.join("crossbar.log").display(),
                self.log_tail(60)
            );
        }
    }
}

fn send_command(io: &mut RouterIo, cmd: &str, timeout: Duration) -> Result<(), String> {
    let stdin = io
        .stdin
        .as_mut()
        .ok_or_else(|| "the router wrapper is gone".to_string())?;
    writeln!(stdin, "{cmd}")
        .and_then(|()| stdin.flush())
        .map_err(|e| format!("cannot write to the router wrapper: {e}"))?;
    let line = next_line(&io.lines, timeout)?;
    match line.as_str() {
        "OK" => Ok(()),
        other => Err(other.to_string()),
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let io = self.io.get_mut().unwrap_or_else(PoisonError::into_inner);
        let _ = send_command(io, "quit", Duration::from_secs(30));
        io.stdin = None; // EOF: the wrapper kills the router even if "quit" got lost
        reap(&mut io.child, Duration::from_secs(15));
        let ports = (self.ws_port, self.rs_port);
        lock(router_ports()).retain(|p| *p != ports);
        if !thread::panicking() {
            let _ = fs::remove_dir_all(&self.workdir);
        }
    }
}

/// The router shared by all tests of this test binary, started on first use.
///
/// It is never dropped: when the test process exits, the wrapper sees EOF on
/// its stdin and kills the router. Do not kill, restart or freeze it; use a
/// dedicated [`Router::start`] for that.
pub fn shared_router() -> &'static Router {
    static SHARED: OnceLock<Result<Router, String>> = OnceLock::new();
    match SHARED.get_or_init(Router::try_start) {
        Ok(router) => router,
        Err(e) => panic!("shared router unavailable: {e}"),
    }
}

/// The router made by [`Router::start_tls`] shared by all tests of this test
/// binary, started on first use; like [`shared_router`], never killed.
pub fn shared_tls_router() -> &'static Router {
    static SHARED: OnceLock<Result<Router, String>> = OnceLock::new();
    match SHARED.get_or_init(Router::try_start_tls) {
        Ok(router) => router,
        Err(e) => panic!("shared TLS router unavailable: {e}"),
    }
}

/// An autobahn-python peer (`tests/peers/interop_peer.py`) joined to realm
/// `izaber` anonymously, offering `interop.peer.echo`, `.fail`, `.call`,
/// `.publish`, `.subscribe`, `.received` and `.session`.
///
/// Dropping it kills the peer; it also exits by itself when the router goes
/// away or the test process dies (its stdin closes).
pub struct Peer {
    child: Mutex<Child>,
    _stdin: ChildStdin,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    // Declared last: released only after Drop has killed the peer.
    _slot: PeerSlot,
}

impl Peer {
    /// Starts a peer on `url` (`ws://...`, or `rs://host:port` for `RawSocket`)
    /// with `serializer` `json`, `msgpack` or `cbor`; waits for it to join.
    ///
    /// Only one peer per router and prefix can be registered at a time, so
    /// this first waits (up to 5 minutes) until no `Peer` started by another
    /// thread (test) of this process uses the same router and prefix:
    /// tests sharing [`shared_router`] take turns instead of failing. Peers of
    /// the calling thread do not block; a still-running one makes the new
    /// peer fail to register (a dead one, e.g. after `Router::kill`, is fine).
    pub fn start(url: &str, serializer: &str) -> Peer {
        Peer::start_with_prefix(url, serializer, "interop.peer")
    }

    /// Like [`Peer::start`], with the procedures registered under `prefix`
    /// instead of `interop.peer` (lets several peers share a router).
    pub fn start_with_prefix(url: &str, serializer: &str, prefix: &str) -> Peer {
        Peer::start_with_args(url, serializer, prefix, &[])
    }

    /// A peer that also stands in for the Nexus procedures under `uri_base`, each
    /// answering `{"procedure", "args", "caller_authid"}` (see `interop_peer.py`).
    pub fn start_nexus_stub(url: &str, uri_base: &str) -> Peer {
        let prefix = format!("nexus.stub.{}", uri_base.replace('.', "_"));
        Peer::start_with_args(url, "json", &prefix, &["--nexus-base", uri_base])
    }

    fn start_with_args(url: &str, serializer: &str, prefix: &str, extra: &[&str]) -> Peer {
        let slot = PeerSlot::claim(url, prefix);
        let python = venv_python();
        let script = repo_root().join("tests/peers/interop_peer.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args([
                "--url",
                url,
                "--realm",
                "izaber",
                "--serializer",
                serializer,
            ])
            .args(["--prefix", prefix])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = line_channel(child.stdout.take().expect("piped stdout"));
        let stderr = collect_tail(child.stderr.take().expect("piped stderr"), 64 * 1024);

        let deadline = Instant::now() + PEER_START_TIMEOUT;
        let outcome = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match next_line(&lines, left) {
                Ok(line) if line.trim() == "READY" => break Ok(()),
                Ok(_) => {} // not ours; autobahn logs to stderr
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = outcome {
            let _ = child.kill();
            let _ = child.wait();
            thread::sleep(Duration::from_millis(100)); // let the stderr reader finish
            let err = String::from_utf8_lossy(&lock(&stderr).iter().copied().collect::<Vec<u8>>())
                .into_owned();
            panic!(
                "interop peer ({url}, {serializer}) did not get READY: {e}\n--- peer stderr ---\n{err}"
            );
        }
        // Keep draining stdout so the peer can never block on a full pipe.
        thread::spawn(move || for _ in &lines {});
        Peer {
            child: Mutex::new(child),
            _stdin: stdin,
            stderr,
            _slot: slot,
        }
    }

    /// What the peer wrote to stderr so far (last 64 KiB).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stderr).iter().copied().collect::<Vec<u8>>())
            .into_owned()
    }

    /// True while the peer process runs.
    pub fn is_running(&self) -> bool {
        matches!(lock(&self.child).try_wait(), Ok(None))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// How long `Peer::start` waits for another peer with the same URL and prefix.
const PEER_SLOT_TIMEOUT: Duration = Duration::from_secs(300);

/// (WebSocket port, `RawSocket` port) of every router this process started.
fn router_ports() -> &'static Mutex<Vec<(u16, u16)>> {
    static PORTS: OnceLock<Mutex<Vec<(u16, u16)>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Names the router behind `url`, so its `ws://` and `rs://` URLs match.
fn router_identity(url: &str) -> String {
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok());
    if let Some(port) = port {
        if let Some((ws, _)) = lock(router_ports())
            .iter()
            .find(|(ws, rs)| *ws == port || *rs == port)
        {
            return format!("router:{ws}");
        }
    }
    url.to_string()
}

/// A claim on (router, procedure prefix) for one [`Peer`].
///
/// Claims of other threads make `claim` wait; the claiming thread's own are
/// ignored, so a test can replace a peer that died with its router.
struct PeerSlot {
    id: usize,
}

struct SlotEntry {
    id: usize,
    key: (String, String),
    thread: ThreadId,
}

fn peer_slots() -> &'static (Mutex<Vec<SlotEntry>>, Condvar) {
    static SLOTS: OnceLock<(Mutex<Vec<SlotEntry>>, Condvar)> = OnceLock::new();
    SLOTS.get_or_init(|| (Mutex::new(Vec::new()), Condvar::new()))
}

impl PeerSlot {
    fn claim(url: &str, prefix: &str) -> PeerSlot {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        let key = (router_identity(url), prefix.to_string());
        let me = thread::current().id();
        let (slots, changed) = peer_slots();
        let deadline = Instant::now() + PEER_SLOT_TIMEOUT;
        let mut slots = lock(slots);
        while slots.iter().any(|e| e.key == key && e.thread != me) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "another test's Peer with prefix {prefix:?} on the router of {url} stayed alive for \
                 {PEER_SLOT_TIMEOUT:?}; use Peer::start_with_prefix or a dedicated Router"
            );
            slots = changed
                .wait_timeout(slots, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        slots.push(SlotEntry {
            id,
            key,
            thread: me,
        });
        PeerSlot { id }
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let (slots, changed) = peer_slots();
        lock(slots).retain(|e| e.id != self.id);
        changed.notify_all();
    }
}

/// Drains a pipe on a thread, keeping its last `cap` bytes.
fn collect_tail(mut pipe: impl Read + Send + 'static, cap: usize) -> Arc<Mutex<VecDeque<u8>>> {
    let buf = Arc::new(Mutex::new(VecDeque::new()));
    let sink = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut b = lock(&sink);
                    b.extend(&chunk[..n]);
                    let excess = b.len().saturating_sub(cap);
                    b.drain(..excess);
                }
            }
        }
    });
    buf
}
