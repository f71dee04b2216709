//! Running the built `wamp` binary in tests, the way a script runs it: a clean
//! environment (no `IZABER_*` nor `WAMP_*` variables), a working and home directory
//! without izaber.yaml unless the test writes one, stdin closed (so never a prompt).

#![allow(dead_code)] // each test file uses part of this

use izaber_wamp::{Client, ClientConfig, Dict, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Generous on a busy 2-core machine: routers and Python peers start slowly there.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A directory of its own for one test, removed on drop (kept if the test failed).
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let target = Path::new(env!("CARGO_BIN_EXE_wamp"))
            .ancestors()
            .nth(2)
            .expect("target dir")
            .to_path_buf();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = target
            .join("cli-tests")
            .join(format!("{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `content` to `name` in the directory; returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, content).expect("write scratch file");
        path
    }

    /// `wamp` run in this directory, which is also its home.
    pub fn wamp(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wamp"));
        for name in [
            "IZABER_YAML",
            "IZABER_ENVIRONMENT",
            "WAMP_PASSWORD",
            "WAMP_PRIVATE_KEY",
            "XDG_DATA_HOME",
        ] {
            command.env_remove(name);
        }
        command
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .stdin(Stdio::null());
        command
    }

    /// `wamp --url URL` with patient timeouts.
    pub fn wamp_at(&self, url: &str) -> Command {
        let mut command = self.wamp();
        command.args(["--url", url, "--realm", "izaber"]);
        command.args(["--connect-timeout", "20", "--timeout", "20"]);
        command
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A finished run.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// stdout, after checking that the run succeeded.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "wamp failed: {self:?}");
        &self.stdout
    }

    /// stderr, after checking the exit code.
    pub fn failed_with(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "unexpected exit code: {self:?}");
        &self.stderr
    }

    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// Runs `command` to its end, with `input` on stdin.
pub fn run_with_input(command: &mut Command, input: &[u8]) -> Ran {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wamp");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for wamp");
    let _ = writer.join();
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `command` to its end, stdin closed.
pub fn run(command: &mut Command) -> Ran {
    run_with_input(command, b"")
}

/// A long-running `wamp` (subscribe, register): stdout line by line, stderr as a
/// whole. Killed on drop.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    pub fn start(command: &mut Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wamp");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                let text = String::from_utf8_lossy(&chunk[..n]).into_owned();
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&text);
            }
        });
        Running {
            child,
            lines,
            stderr,
        }
    }

    /// The next stdout line, if one comes within `timeout`.
    pub fn line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// The next stdout line as JSON.
    pub fn json_line(&self) -> serde_json::Value {
        let line = self
            .line(PATIENCE)
            .unwrap_or_else(|| panic!("no line from wamp; stderr: {}", self.stderr()));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until stderr contains `text`.
    pub fn wait_for_stderr(&self, text: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.stderr().contains(text))
    }

    /// Sends a signal (`-INT`, `-TERM`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the exit; panics after `timeout`.
    pub fn exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the readers take the last output.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "wamp did not exit within {timeout:?}; stderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// A library client, to watch the router and to play caller or publisher.
pub fn client(url: &str) -> Client {
    Client::connect(
        ClientConfig::new(url, "izaber")
            .with_ticket("other-user", "other-pass")
            .with_connect_timeout(PATIENCE),
    )
    .expect("library client")
}

/// Waits until the router has a registration of `procedure` (exact match).
pub fn wait_registered(observer: &Client, procedure: &str) {
    let found = wait_until(PATIENCE, || {
        observer
            .call("wamp.registration.lookup", (procedure,))
            .is_ok_and(|r| r.args.first().is_some_and(|id| *id != Value::Null))
    });
    assert!(found, "{procedure} was never registered");
}

/// Waits until the router has a subscription to `topic` with match policy `policy`.
pub fn wait_subscribed(observer: &Client, topic: &str, policy: &str) {
    let options = Dict::from([("match".to_string(), Value::from(policy))]);
    let found = wait_until(PATIENCE, || {
        observer
            .call("wamp.subscription.lookup", (topic, &options))
            .is_ok_and(|r| r.args.first().is_some_and(|id| *id != Value::Null))
    });
    assert!(found, "{topic} ({policy}) was never subscribed");
}
