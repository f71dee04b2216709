//! The examples, run as programs against a real router with their connection in
//! `IZABER_YAML`, the way a user runs them.
#![cfg(feature = "websocket")]

mod common;

use common::scenarios::wait_until;
use common::{shared_router, Peer, Router};
use izaber_wamp::{Client, ClientConfig, Dict, PublishOptions, ReconnectPolicy, Serializer, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The example binary, built by `cargo test` next to the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    dir.join("examples").join(name)
}

fn izaber_yaml(url: &str) -> String {
    format!(
        "default:\n  wamp:\n    connection:\n      url: {url}\n      realm: izaber\n      username: test-user\n      password: test-pass\n      serializer: {}\n      timeout: 10\n      connect_timeout: 10\n      reconnect_initial_delay: 0.2\n      reconnect_max_delay: 1\n",
        common::serializer_or_json(Serializer::Cbor)
    )
}

fn command(name: &str, url: &str) -> Command {
    let mut command = Command::new(example(name));
    command
        .env("IZABER_YAML", izaber_yaml(url))
        .env_remove("IZABER_ENVIRONMENT");
    // Run where no izaber.yaml can be found, so IZABER_YAML is what counts.
    command
        .current_dir(std::env::temp_dir())
        .env("HOME", std::env::temp_dir());
    command
}

fn client(url: &str) -> Client {
    Client::connect(ClientConfig::new(url, "izaber").with_ticket("other-user", "other-pass"))
        .expect("client")
}

/// A long-running example; its stdout lines arrive on a channel. Killed on drop.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(name: &str, url: &str) -> Running {
        Running::start_with(name, url, &[])
    }

    fn start_with(name: &str, url: &str, args: &[&str]) -> Running {
        let mut child = command(name, url)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running { child, lines }
    }

    /// Waits for the next stdout line and checks it is `expected`.
    fn expect_line(&self, expected: &str) {
        let line = self.lines.recv_timeout(Duration::from_secs(20));
        assert_eq!(line.as_deref(), Ok(expected));
    }

    /// Sends `signal` and waits for the exit status.
    fn stop(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the example ignored {signal}"
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

fn sessions_of(observer: &Client, authid: &str) -> usize {
    let ids: Vec<u64> = observer
        .call("wamp.session.list", ())
        .expect("list")
        .arg(0)
        .expect("ids");
    ids.into_iter()
        .filter_map(|id| observer.call("wamp.session.get", (id,)).ok())
        .filter(|r| r.args[0].as_dict().and_then(|d| d.get("authid")) == Some(&Value::from(authid)))
        .count()
}

#[test]
fn call_prints_whoami_as_json_and_fails_cleanly_without_a_router() {
    let url = shared_router().ws_url();
    let _stub = Peer::start_nexus_stub(&url, "com.izaber.wamp");
    let output: Output = command("call", &url).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(json["args"][0]["procedure"], "auth.whoami");
    assert_eq!(json["args"][0]["caller_authid"], "test-user");

    let port = common::closed_port();
    let mut failing = command("call", &format!("ws://127.0.0.1:{port}"));
    failing.env(
        "IZABER_YAML",
        izaber_yaml(&format!("ws://127.0.0.1:{port}"))
            .replace("connect_timeout: 10", "connect_timeout: 1"),
    );
    let output = failing.output().expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
}

#[test]
fn register_greets_callers_answers_prefix_calls_and_leaves_on_ctrl_c() {
    let url = shared_router().ws_url();
    let service = Running::start("register", &url);
    let caller = client(&url);
    assert!(wait_until(Duration::from_secs(20), || caller
        .call("com.izaber.wamp.example.hello", ())
        .is_ok()));
    let greeting: String = caller
        .call("com.izaber.wamp.example.hello", ())
        .expect("call")
        .arg(0)
        .expect("text");
    assert_eq!(greeting, "Hello other-user (role: user)!");
    let concrete: String = caller
        .call("com.izaber.wamp.example.prefix.any.thing", ())
        .expect("call")
        .arg(0)
        .expect("text");
    assert_eq!(concrete, "com.izaber.wamp.example.prefix.any.thing");
    let status = service.stop("-INT");
    assert!(status.success(), "{status}");
    let err = caller
        .call("com.izaber.wamp.example.hello", ())
        .expect_err("gone");
    assert_eq!(err.wamp_uri(), Some("wamp.error.no_such_procedure"));
}

#[test]
fn subscribe_prints_each_event_as_a_json_line() {
    let url = shared_router().ws_url();
    let listener = Running::start("subscribe", &url);
    let publisher = client(&url);
    let ack = PublishOptions::new().acknowledge(true);
    let kwargs = Dict::from([("k".to_string(), Value::from("v"))]);
    // Publish until the listener has subscribed and printed the first event.
    let line = (0..200).find_map(|_| {
        publisher
            .publish_with("com.izaber.wamp.test.sub", (1, "two"), &kwargs, &ack)
            .expect("publish");
        listener.lines.recv_timeout(Duration::from_millis(100)).ok()
    });
    let json: serde_json::Value =
        serde_json::from_str(&line.expect("an event line")).expect("JSON line");
    assert_eq!(
        json,
        serde_json::json!({"args": [1, "two"], "kwargs": {"k": "v"}})
    );
    assert!(listener.stop("-INT").success());
}

#[test]
fn publish_sends_its_arguments_and_prints_the_publication_id() {
    let url = shared_router().ws_url();
    let subscriber = client(&url);
    let (tx, rx) = mpsc::channel();
    subscriber
        .subscribe("com.izaber.wamp.test.sub", move |e| {
            drop(tx.send((e.args.clone(), e.details.publication)))
        })
        .expect("subscribe");
    let output = command("publish", &url)
        .args(["hello", "world"])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("publication id");
    let (args, publication) = rx.recv_timeout(Duration::from_secs(5)).expect("event");
    assert_eq!(args, vec![Value::from("hello"), Value::from("world")]);
    assert_eq!(publication.get(), printed);
}

#[test]
fn service_survives_a_router_restart_and_leaves_cleanly_on_sigterm() {
    let router = Router::start();
    let url = router.ws_url();
    let service = Running::start("service", &url);
    let caller = Client::connect(
        ClientConfig::new(&url, "izaber")
            .with_ticket("other-user", "other-pass")
            .with_reconnect(
                ReconnectPolicy::default().with_initial_delay(Duration::from_millis(200)),
            ),
    )
    .expect("caller");
    let echo = |c: &Client| {
        c.call_kw(
            "com.izaber.wamp.test.call",
            (1,),
            Dict::from([("k".to_string(), Value::Int(2))]),
        )
    };
    assert!(
        wait_until(Duration::from_secs(20), || echo(&caller).is_ok()),
        "the service never registered"
    );
    let result = echo(&caller).expect("call");
    assert_eq!(result.args, vec![Value::Int(1)]);
    assert_eq!(result.kwargs.get("k"), Some(&Value::Int(2)));

    router.kill();
    router.restart();
    assert!(
        wait_until(Duration::from_secs(15), || echo(&caller).is_ok()),
        "the service did not come back"
    );
    assert_eq!(sessions_of(&caller, "test-user"), 1);
    let status = service.stop("-TERM");
    assert!(status.success(), "{status}");
    assert!(
        wait_until(Duration::from_secs(2), || sessions_of(&caller, "test-user")
            == 0),
        "the service left a zombie session"
    );
}

/// Runs an example to completion and returns its stdout lines, failing with its stderr.
fn run_to_end(name: &str, url: &str, args: &[&str]) -> Vec<String> {
    let output = command(name, url).args(args).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn progress_streams_results_from_one_example_to_another() {
    let url = shared_router().ws_url();
    let uri = "com.izaber.wamp.example.countdown";
    let service = Running::start_with("progress", &url, &["serve", uri]);
    service.expect_line(&format!("serving {uri}"));
    assert_eq!(
        run_to_end("progress", &url, &["call", uri, "3"]),
        [
            "progress [1]",
            "progress [2]",
            "progress [3]",
            "result [\"done\"]"
        ]
    );
    assert!(service.stop("-INT").success());
}

#[test]
fn cancel_reaches_the_handler_of_the_other_example() {
    let url = shared_router().ws_url();
    let uri = "com.izaber.wamp.example.waiter";
    let service = Running::start_with("cancel", &url, &["serve", uri]);
    service.expect_line(&format!("serving {uri}"));
    assert_eq!(
        run_to_end("cancel", &url, &["call", uri, "kill"]),
        ["error wamp.error.canceled"]
    );
    service.expect_line("interrupted");
    assert!(service.stop("-INT").success());
}
