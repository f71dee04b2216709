//! What `wamp` does without a router: help, completions, keygen, and the usage and
//! configuration errors (exit 2) found before connecting.

mod support;

use support::{run, Scratch};

const SUBCOMMANDS: [&str; 7] = [
    "call",
    "publish",
    "subscribe",
    "register",
    "session",
    "keygen",
    "completions",
];

#[test]
fn every_subcommands_help_has_an_example_and_the_exit_codes_are_documented() {
    let scratch = Scratch::new();
    for name in SUBCOMMANDS {
        let help = run(scratch.wamp().args([name, "--help"]));
        let text = help.ok();
        assert!(
            text.contains("Examples:\n  wamp "),
            "`wamp {name} --help` has no example:\n{text}"
        );
    }
    let top = run(scratch.wamp().arg("--help"));
    for code in [
        "0 success",
        "1 the router or callee",
        "2 usage",
        "3 could not connect",
        "4 timeout",
    ] {
        assert!(
            top.ok().contains(code),
            "{code:?} missing from:\n{}",
            top.stdout
        );
    }
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    let scratch = Scratch::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef wamp"),
        ("fish", "complete -c wamp"),
    ] {
        let script = run(scratch.wamp().args(["completions", shell]));
        assert!(script.ok().contains(marker), "{shell}: {}", script.stdout);
        assert!(script.stdout.contains("subscribe"), "{shell}");
    }
}

#[test]
fn keygen_writes_a_new_key_and_shows_an_existing_one() {
    let scratch = Scratch::new();
    let made = run(scratch.wamp().args(["keygen", "me.key", "--authid", "bob"]));
    let printed = made.ok();
    let seed = std::fs::read_to_string(scratch.path().join("me.key")).expect("key file");
    assert_eq!(seed.trim().len(), 64);
    assert!(
        !printed.contains(seed.trim()),
        "the private key was printed"
    );
    let public = printed
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .expect("public key line")
        .to_owned();
    assert!(printed.contains("authid: bob") && printed.contains("private_key_file: me.key"));

    let shown = run(scratch.wamp().args(["keygen", "--show", "me.key"]));
    assert!(shown.ok().contains(&format!("Public key: {public}")));
    let again = run(scratch.wamp().args(["keygen", "me.key"]));
    assert!(again.failed_with(2).contains("exists; not overwriting it"));
}

#[test]
fn usage_errors_exit_with_2_before_connecting() {
    let scratch = Scratch::new();
    // Nothing listens here, and nothing is tried: each fails on its arguments first.
    let url = "ws://127.0.0.1:9";
    let cases: [&[&str]; 9] = [
        &["call"],
        &["--url", "http://127.0.0.1:9", "session"],
        &["--url", url, "--authmethod", "cryptosign", "session"],
        &["frobnicate"],
        &["--url", url, "call", "x", "--output", "xml"],
        &["--url", url, "call", "x", "-k", "novalue"],
        &["--url", url, "call", "x", "@missing.json"],
        &["--url", url, "--timeout", "soon", "call", "x"],
        &["--url", url, "register", "x", "--", "no-such-program-xyz"],
    ];
    for args in cases {
        let ran = run(scratch.wamp().args(args));
        assert_eq!(ran.code, 2, "wamp {args:?}: {ran:?}");
        assert!(!ran.stderr.is_empty(), "wamp {args:?} said nothing");
    }
}

#[test]
fn without_izaber_yaml_or_url_the_error_says_where_it_looked() {
    let scratch = Scratch::new();
    let ran = run(scratch.wamp().arg("session"));
    let stderr = ran.failed_with(2);
    assert!(stderr.contains("no izaber.yaml found"), "{stderr}");
    assert!(stderr.contains("give --url"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_broken_izaber_yaml_is_a_configuration_error_naming_the_key() {
    let scratch = Scratch::new();
    scratch.write(
        "izaber.yaml",
        "default:\n  wamp:\n    connection:\n      url: ws://127.0.0.1:9\n      timeout: soon\n",
    );
    let ran = run(scratch.wamp().arg("session"));
    let stderr = ran.failed_with(2);
    assert!(stderr.contains("wamp.connection.timeout"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
