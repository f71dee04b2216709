//! `wamp call` against a real Crossbar.io router, with autobahn-python as the callee:
//! argument parsing, every output format, and the exit codes of each failure.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use common::{shared_router, Peer};
use izaber_wamp::CallResult;
use serde_json::json;
use std::time::Duration;
use support::{run, run_with_input, Running, Scratch, PATIENCE};

#[test]
fn arguments_are_json_when_they_parse_else_strings() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "json", "cli.call.args");
    let scratch = Scratch::new();
    let echo = |args: &[&str]| {
        run(scratch
            .wamp_at(&url)
            .arg("call")
            .arg("cli.call.args.echo")
            .args(args))
    };

    assert_eq!(
        echo(&["2", "3"]).json(),
        json!({"args": [2, 3], "kwargs": {}})
    );
    // A single positional result is printed alone.
    assert_eq!(echo(&["Ada"]).json(), json!("Ada"));
    assert_eq!(echo(&["-1.5"]).json(), json!(-1.5));
    assert_eq!(echo(&[r#""2""#]).json(), json!("2"));
    assert_eq!(
        echo(&[
            "1",
            "-k",
            "name=Ada",
            "-k",
            "n=2",
            "--keyword",
            r#"obj={"a":[1,null]}"#
        ])
        .json(),
        json!({"args": [1], "kwargs": {"name": "Ada", "n": 2, "obj": {"a": [1, null]}}})
    );

    scratch.write("value.json", "{\"from\": \"file\"}\n");
    let ran = run_with_input(
        scratch
            .wamp_at(&url)
            .args(["call", "cli.call.args.echo", "@value.json", "-"]),
        b"from stdin\n",
    );
    assert_eq!(
        ran.json(),
        json!({"args": [{"from": "file"}, "from stdin"], "kwargs": {}})
    );
}

#[test]
fn each_output_format_and_serializer() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "cbor", "cli.call.output");
    let scratch = Scratch::new();
    let call = |output: &str, args: &[&str]| {
        run(scratch
            .wamp_at(&url)
            .args(["call", "cli.call.output.echo", "--output", output])
            .args(args))
    };
    assert_eq!(call("json", &["a b"]).ok(), "\"a b\"\n");
    assert_eq!(call("raw", &["a b"]).ok(), "a b\n");
    assert_eq!(call("raw", &["[1]"]).ok(), "[1]\n");
    assert_eq!(
        call("raw", &["x", "y"]).ok(),
        "{\"args\":[\"x\",\"y\"],\"kwargs\":{}}\n"
    );
    assert_eq!(
        call("lines", &[r#"["x",2,{"k":1}]"#]).ok(),
        "x\n2\n{\"k\":1}\n"
    );
    assert_eq!(call("lines", &["x", "-k", "a=1"]).ok(), "x\na=1\n");

    for serializer in ["json", "msgpack", "cbor"] {
        let ran = run(scratch.wamp_at(&url).args([
            "--serializer",
            serializer,
            "call",
            "cli.call.output.echo",
            "[1.5,\"é\"]",
        ]));
        assert_eq!(ran.json(), json!([1.5, "é"]), "{serializer}");
    }
}

#[test]
fn an_error_reply_exits_with_1_showing_uri_args_and_kwargs() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "json", "cli.call.error");
    let scratch = Scratch::new();
    let ran = run(scratch.wamp_at(&url).args(["call", "cli.call.error.fail"]));
    assert_eq!(
        ran.failed_with(1),
        "wamp: error: interop.error.custom [\"bad thing\",42] {\"detail\":\"x\"}\n"
    );
    assert_eq!(ran.stdout, "");

    let missing = run(scratch
        .wamp_at(&url)
        .args(["call", "cli.call.error.missing"]));
    assert!(missing
        .failed_with(1)
        .starts_with("wamp: error: wamp.error.no_such_procedure "));
}

#[test]
fn a_call_that_takes_too_long_exits_with_4_and_ctrl_c_with_130() {
    let url = shared_router().ws_url();
    let callee = support::client(&url);
    callee
        .register("cli.call.slow", |_| {
            std::thread::sleep(Duration::from_secs(3));
            Ok(CallResult::empty())
        })
        .expect("register");
    let scratch = Scratch::new();
    let ran = run(scratch
        .wamp_at(&url)
        .args(["--timeout", "0.5", "call", "cli.call.slow"]));
    assert_eq!(
        ran.failed_with(4),
        "wamp: error: call cli.call.slow timed out after 500ms\n"
    );

    // Ctrl-C while waiting: a GOODBYE (logged at -v), then 130 as shells report it.
    let mut interrupted =
        Running::start(scratch.wamp_at(&url).args(["-v", "call", "cli.call.slow"]));
    assert!(interrupted.wait_for_stderr("joined", PATIENCE));
    interrupted.signal("-INT");
    assert_eq!(interrupted.exit(PATIENCE).code(), Some(130));
    assert!(
        interrupted
            .stderr()
            .contains("session closed: the client said goodbye"),
        "{}",
        interrupted.stderr()
    );
}

#[test]
fn no_router_or_a_refused_login_exits_with_3_without_showing_the_password() {
    let scratch = Scratch::new();
    let port = common::closed_port();
    let ran = run(scratch.wamp().args([
        "--url",
        &format!("ws://127.0.0.1:{port}"),
        "--connect-timeout",
        "1",
        "call",
        "x",
    ]));
    let stderr = ran.failed_with(3);
    assert!(
        stderr.starts_with(&format!(
            "wamp: error: cannot connect to ws://127.0.0.1:{port}"
        )),
        "{stderr}"
    );

    let url = shared_router().ws_url();
    let mut wrong = scratch.wamp_at(&url);
    wrong
        .args(["-v", "--user", "test-user", "session"])
        .env("WAMP_PASSWORD", "not-the-password-1234");
    let ran = run(&mut wrong);
    let stderr = ran.failed_with(3);
    assert!(stderr.contains("wamp.error.not_authorized"), "{stderr}");
    assert!(!stderr.contains("not-the-password-1234"), "{stderr}");
}

#[test]
fn prefix_puts_the_uri_base_in_front() {
    let url = shared_router().ws_url();
    let _stub = Peer::start_nexus_stub(&url, "com.izaber.wamp");
    let scratch = Scratch::new();
    let mut whoami = scratch.wamp_at(&url);
    whoami
        .args(["--user", "test-user", "--prefix", "call", "auth.whoami"])
        .env("WAMP_PASSWORD", "test-pass");
    assert_eq!(
        run(&mut whoami).json(),
        json!({"procedure": "auth.whoami", "args": [], "caller_authid": "test-user"})
    );
    // Without --prefix the URI is taken as given.
    let ran = run(scratch.wamp_at(&url).args(["call", "auth.whoami"]));
    assert!(ran.failed_with(1).contains("wamp.error.no_such_procedure"));
}

#[test]
fn progress_prints_each_progressive_result_as_it_arrives_then_the_result() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "json", "cli.call.progress");
    let scratch = Scratch::new();
    let ran =
        run(scratch
            .wamp_at(&url)
            .args(["call", "cli.call.progress.countdown", "3", "--progress"]));
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.stdout, "1\n2\n3\n\"done\"\n");
    // Without --progress only the final result is printed.
    let plain = run(scratch
        .wamp_at(&url)
        .args(["call", "cli.call.progress.countdown", "3"]));
    assert_eq!(plain.stdout, "\"done\"\n");
}
