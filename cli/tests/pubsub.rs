//! `wamp publish` and `wamp subscribe` against a real Crossbar.io router, with
//! autobahn-python as a second publisher; a router restart; Ctrl-C.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use common::{shared_router, Peer, Router};
use serde_json::json;
use std::time::Duration;
use support::{run, wait_subscribed, Running, Scratch, PATIENCE};

#[test]
fn publish_reaches_subscribe_which_exits_after_count_events() {
    let url = shared_router().ws_url();
    let _peer = Peer::start_with_prefix(&url, "msgpack", "cli.ps.peer");
    let observer = support::client(&url);
    let scratch = Scratch::new();
    let mut subscriber =
        Running::start(
            scratch
                .wamp_at(&url)
                .args(["subscribe", "cli.ps.count", "--count", "2"]),
        );
    wait_subscribed(&observer, "cli.ps.count", "exact");

    let published = run(scratch.wamp_at(&url).args([
        "publish",
        "cli.ps.count",
        "1",
        "two",
        "-k",
        "k={\"v\":true}",
        "--acknowledge",
    ]));
    let id: u64 = published.ok().trim().parse().expect("a publication ID");
    assert!(id > 0);
    let first = subscriber.json_line();
    assert_eq!(first["topic"], "cli.ps.count");
    assert_eq!(first["args"], json!([1, "two"]));
    assert_eq!(first["kwargs"], json!({"k": {"v": true}}));
    assert!(first["publisher"].is_u64(), "{first}");
    assert_eq!(first["publisher_authrole"], "anonymous");

    // autobahn-python publishes the second one (the peer's `publish` procedure).
    observer
        .call_kw(
            "cli.ps.peer.publish",
            ("cli.ps.count", "from python"),
            json!({"n": 2}),
        )
        .expect("the peer publishes");
    let second = subscriber.json_line();
    assert_eq!(second["args"], json!(["from python"]));
    assert_eq!(second["kwargs"], json!({"n": 2}));
    let status = subscriber.exit(PATIENCE);
    assert!(status.success(), "{status}; {}", subscriber.stderr());
    assert_eq!(subscriber.line(Duration::from_millis(100)), None);
}

#[test]
fn a_prefix_subscription_shows_each_concrete_topic_until_its_duration_ends() {
    let url = shared_router().ws_url();
    let observer = support::client(&url);
    let scratch = Scratch::new();
    let mut subscriber = Running::start(scratch.wamp_at(&url).args([
        "subscribe",
        "cli.ps.prefix",
        "--match",
        "prefix",
        "--duration",
        "4",
    ]));
    wait_subscribed(&observer, "cli.ps.prefix", "prefix");
    let ran = run(scratch.wamp_at(&url).args([
        "publish",
        "cli.ps.prefix.a.b",
        "x",
        "--repeat",
        "3",
        "--interval",
        "0.05",
    ]));
    assert_eq!(ran.ok(), "", "nothing printed without --acknowledge");
    for _ in 0..3 {
        let line = subscriber.json_line();
        assert_eq!(line["topic"], "cli.ps.prefix.a.b");
        assert_eq!(line["args"], json!(["x"]));
    }
    let status = subscriber.exit(PATIENCE);
    assert!(status.success(), "{status}; {}", subscriber.stderr());
}

#[test]
fn a_retained_event_reaches_a_later_subscriber() {
    let url = shared_router().ws_url();
    let scratch = Scratch::new();
    run(scratch.wamp_at(&url).args([
        "publish",
        "cli.ps.retained",
        "kept",
        "--retain",
        "--acknowledge",
        "--exclude-me",
        "false",
    ]))
    .ok();
    let ran = run(scratch.wamp_at(&url).args([
        "subscribe",
        "cli.ps.retained",
        "--get-retained",
        "--count",
        "1",
    ]));
    let line: serde_json::Value = serde_json::from_str(ran.ok()).expect("one JSON line");
    assert_eq!(line["args"], json!(["kept"]));
    assert_eq!(line["retained"], true);
}

#[test]
fn ctrl_c_leaves_with_a_goodbye_and_exits_0() {
    let url = shared_router().ws_url();
    let observer = support::client(&url);
    let scratch = Scratch::new();
    let mut subscriber =
        Running::start(
            scratch
                .wamp_at(&url)
                .args(["-v", "subscribe", "cli.ps.interrupted"]),
        );
    wait_subscribed(&observer, "cli.ps.interrupted", "exact");
    subscriber.signal("-INT");
    let status = subscriber.exit(PATIENCE);
    assert!(status.success(), "{status}");
    // The library logs (at -v) that the router answered our GOODBYE.
    assert!(
        subscriber
            .stderr()
            .contains("session closed: the client said goodbye"),
        "{}",
        subscriber.stderr()
    );
}

#[test]
fn subscribe_survives_a_router_restart_unless_reconnecting_is_off() {
    let router = Router::start();
    let url = router.ws_url();
    let scratch = Scratch::new();
    scratch.write(
        "izaber.yaml",
        &format!(
            "default:\n  wamp:\n    connection:\n      url: {url}\n      realm: izaber\n      \
             reconnect_initial_delay: 0.2\n      reconnect_max_delay: 1\n\
             once:\n  wamp:\n    connection:\n      auto_reconnect: false\n"
        ),
    );
    let survivor = Running::start(scratch.wamp().args(["subscribe", "cli.ps.restart"]));
    let mut quitter =
        Running::start(
            scratch
                .wamp()
                .args(["-e", "once", "subscribe", "cli.ps.other"]),
        );
    let observer = support::client(&url);
    wait_subscribed(&observer, "cli.ps.restart", "exact");
    wait_subscribed(&observer, "cli.ps.other", "exact");
    drop(observer);

    router.kill();
    let status = quitter.exit(PATIENCE);
    assert_eq!(status.code(), Some(3), "{}", quitter.stderr());
    assert!(
        quitter.stderr().contains("is closed for good"),
        "{}",
        quitter.stderr()
    );

    router.restart();
    assert!(
        survivor.wait_for_stderr("rejoined as session", PATIENCE),
        "{}",
        survivor.stderr()
    );
    let stderr = survivor.stderr();
    assert!(stderr.contains("wamp: reconnecting to"), "{stderr}");
    let observer = support::client(&url);
    wait_subscribed(&observer, "cli.ps.restart", "exact");
    observer
        .publish("cli.ps.restart", ("after the restart",))
        .expect("publish");
    assert_eq!(survivor.json_line()["args"], json!(["after the restart"]));
}
