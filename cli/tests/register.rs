//! `wamp register` against a real Crossbar.io router, answering autobahn-python
//! callers by running a command: results, errors, echo, `--times`, `--concurrency`.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use common::{shared_router, Peer};
use izaber_wamp::{Client, Error, Value};
use serde_json::json;
use support::{wait_registered, Running, Scratch, PATIENCE};

/// Calls `procedure` through the autobahn-python peer under `peer`: the peer is the
/// caller, and hands back `{"args", "kwargs"}` or the callee's ERROR unchanged.
fn python_calls(
    client: &Client,
    peer: &str,
    procedure: &str,
    args: serde_json::Value,
    kwargs: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let mut all = vec![json!(procedure)];
    all.extend(args.as_array().cloned().unwrap_or_default());
    let result = client.call_kw(&format!("{peer}.call"), all, kwargs)?;
    Ok(serde_json::to_value(&result.args[0]).expect("JSON"))
}

#[test]
fn a_command_answers_a_python_caller_with_its_stdout() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "json", "cli.reg.peer1");
    let client = support::client(&url);
    let scratch = Scratch::new();
    // Prints what it was given: the invocation on stdin and the environment.
    let script = r#"printf '{"stdin": %s, "args": %s, "kwargs": %s, "procedure": "%s"}' "$(cat)" "$WAMP_ARGS" "$WAMP_KWARGS" "$WAMP_PROCEDURE""#;
    let _callee = Running::start(scratch.wamp_at(&url).args([
        "register",
        "cli.reg.cmd",
        "--",
        "sh",
        "-c",
        script,
    ]));
    wait_registered(&client, "cli.reg.cmd");

    let answer = python_calls(
        &client,
        "cli.reg.peer1",
        "cli.reg.cmd",
        json!([1, "two"]),
        json!({"k": [3]}),
    )
    .expect("an answer");
    let result = &answer["args"][0];
    assert_eq!(result["args"], json!([1, "two"]));
    assert_eq!(result["kwargs"], json!({"k": [3]}));
    assert_eq!(result["procedure"], "cli.reg.cmd");
    let stdin = &result["stdin"];
    assert_eq!(stdin["procedure"], "cli.reg.cmd");
    assert_eq!(stdin["args"], json!([1, "two"]));
    assert_eq!(stdin["kwargs"], json!({"k": [3]}));
    assert_eq!(
        stdin["caller_authrole"], "anonymous",
        "the Python peer is anonymous"
    );

    // Plain text is a string result.
    let _text = Running::start(scratch.wamp_at(&url).args([
        "register",
        "cli.reg.text",
        "--",
        "echo",
        "plain words",
    ]));
    wait_registered(&client, "cli.reg.text");
    let answer = python_calls(
        &client,
        "cli.reg.peer1",
        "cli.reg.text",
        json!([]),
        json!({}),
    )
    .expect("an answer");
    assert_eq!(answer, json!({"args": ["plain words"], "kwargs": {}}));
}

#[test]
fn a_failing_command_answers_with_an_error_carrying_its_stderr() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "cbor", "cli.reg.peer2");
    let client = support::client(&url);
    let scratch = Scratch::new();
    let mut callee = Running::start(scratch.wamp_at(&url).args([
        "register",
        "cli.reg.fails",
        "--error-uri",
        "com.example.failed",
        "--",
        "sh",
        "-c",
        "echo 'no good' >&2; exit 3",
    ]));
    wait_registered(&client, "cli.reg.fails");
    let error = python_calls(
        &client,
        "cli.reg.peer2",
        "cli.reg.fails",
        json!([]),
        json!({}),
    )
    .expect_err("an error");
    let Error::Wamp(error) = error else {
        panic!("not an error reply: {error}")
    };
    assert_eq!(error.uri, "com.example.failed");
    assert_eq!(error.args, vec![Value::from("no good")]);
    assert_eq!(error.kwargs.get("exit_code"), Some(&Value::Int(3)));
    assert!(callee.wait_for_stderr(
        "answered cli.reg.fails with an error (exit_code 3)",
        PATIENCE
    ));
    callee.signal("-TERM");
    assert!(callee.exit(PATIENCE).success());
}

#[test]
fn without_a_command_it_echoes_and_times_ends_it_after_the_last_answer() {
    let url = shared_router().ws_url();
    let client = support::client(&url);
    let scratch = Scratch::new();
    let mut callee =
        Running::start(
            scratch
                .wamp_at(&url)
                .args(["register", "cli.reg.echo", "--times", "2"]),
        );
    wait_registered(&client, "cli.reg.echo");
    for n in 0..2 {
        let result = client
            .call_kw("cli.reg.echo", (n, "x"), json!({"k": n}))
            .expect("echo");
        assert_eq!(result.args, vec![Value::Int(n), Value::from("x")]);
        assert_eq!(result.kwargs.get("k"), Some(&Value::Int(n)));
    }
    let status = callee.exit(PATIENCE);
    assert!(status.success(), "{status}; {}", callee.stderr());
    let gone = client.call("cli.reg.echo", ()).expect_err("no callee");
    assert_eq!(gone.wamp_uri(), Some("wamp.error.no_such_procedure"));
}

#[test]
fn no_more_commands_run_at_once_than_concurrency_allows() {
    let url = shared_router().ws_url();
    let client = support::client(&url);
    let scratch = Scratch::new();
    let log = scratch.path().join("log");
    let script = format!(
        "echo start >> {0}; sleep 0.3; echo end >> {0}",
        log.display()
    );
    let _callee = Running::start(scratch.wamp_at(&url).args([
        "register",
        "cli.reg.slow",
        "--concurrency",
        "2",
        "--",
        "sh",
        "-c",
        &script,
    ]));
    wait_registered(&client, "cli.reg.slow");
    let callers: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client.call("cli.reg.slow", ()).map(drop))
        })
        .collect();
    for caller in callers {
        caller.join().expect("thread").expect("call");
    }
    let (mut running, mut most) = (0, 0);
    for line in std::fs::read_to_string(&log).expect("log").lines() {
        running += if line == "start" { 1 } else { -1 };
        most = most.max(running);
    }
    assert_eq!(running, 0);
    assert_eq!(most, 2, "six calls at once, two commands at a time");
}
