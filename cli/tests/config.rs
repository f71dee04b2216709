//! Where `wamp` gets its connection: izaber.yaml found as the library finds it,
//! environments, flags over the file, and secrets from the file, the environment or
//! nowhere else; no secret is ever printed.

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use common::keys::CS_SEED;
use common::shared_router;
use std::process::Command;
use support::{run, Ran, Scratch};

/// A file whose `default:` points at a closed port and whose `dev:` works.
fn two_environments(url: &str, password: &str) -> String {
    format!(
        "default:\n  wamp:\n    connection:\n      url: ws://127.0.0.1:{}\n      \
         connect_timeout: 1\n      username: test-user\n      password: {password}\n\
         dev:\n  wamp:\n    connection:\n      url: {url}\n      connect_timeout: 20\n",
        common::closed_port()
    )
}

/// The authid the router gave the session `wamp session` joined.
fn authid(ran: &Ran) -> String {
    ran.json()["authid"].as_str().unwrap_or_default().to_owned()
}

fn session(command: &mut Command) -> Ran {
    run(command.arg("session"))
}

#[test]
fn the_environment_comes_from_the_flag_or_izaber_environment() {
    let url = shared_router().ws_url();
    let scratch = Scratch::new();
    scratch.write("izaber.yaml", &two_environments(&url, "test-pass"));

    let default = session(&mut scratch.wamp());
    assert!(default
        .failed_with(3)
        .contains("cannot connect to ws://127.0.0.1:"));
    assert_eq!(
        authid(&session(scratch.wamp().args(["-e", "dev"]))),
        "test-user"
    );
    let mut by_variable = scratch.wamp();
    by_variable.env("IZABER_ENVIRONMENT", "dev");
    assert_eq!(authid(&session(&mut by_variable)), "test-user");
    // The flag wins over the variable.
    let mut both = scratch.wamp();
    both.env("IZABER_ENVIRONMENT", "dev")
        .args(["--environment", "missing"]);
    let stderr = session(&mut both).failed_with(2).to_owned();
    assert!(
        stderr.contains("environment \"missing\" not found"),
        "{stderr}"
    );
}

#[test]
fn izaber_yaml_is_found_in_home_in_izaber_yaml_or_where_config_says() {
    let url = shared_router().ws_url();
    let yaml = format!(
        "default:\n  wamp:\n    connection:\n      url: {url}\n      username: test-user\n      \
         password: test-pass\n"
    );
    // ~/izaber.yaml (the scratch directory is both home and working directory, so
    // run from a subdirectory).
    let home = Scratch::new();
    home.write("izaber.yaml", &yaml);
    std::fs::create_dir_all(home.path().join("work")).expect("dir");
    let mut from_home = home.wamp();
    from_home.current_dir(home.path().join("work"));
    assert_eq!(authid(&session(&mut from_home)), "test-user");

    let empty = Scratch::new();
    let mut from_variable = empty.wamp();
    from_variable.env("IZABER_YAML", &yaml);
    assert_eq!(authid(&session(&mut from_variable)), "test-user");

    let elsewhere = Scratch::new();
    let file = elsewhere.write("connection.yaml", &yaml);
    let from_flag = session(empty.wamp().arg("--config").arg(&file));
    assert_eq!(authid(&from_flag), "test-user");
}

#[test]
fn flags_override_the_file() {
    let url = shared_router().ws_url();
    let scratch = Scratch::new();
    scratch.write("izaber.yaml", &two_environments(&url, "test-pass"));
    let ran = session(
        scratch
            .wamp()
            .args(["--url", &url, "--connect-timeout", "20"]),
    );
    assert_eq!(authid(&ran), "test-user");
    let ran = session(
        scratch
            .wamp()
            .args(["-e", "dev", "--realm", "nonexistent-realm"]),
    );
    assert_eq!(ran.code, 3, "{ran:?}");
}

#[test]
fn passwords_come_from_the_file_or_wamp_password_and_are_never_printed() {
    let url = shared_router().ws_url();
    let scratch = Scratch::new();
    let secret = "wrong-secret-5150";
    scratch.write("izaber.yaml", &two_environments(&url, secret));

    // The file's (wrong) password: refused, and not shown even with -vv.
    let refused = session(scratch.wamp().args(["-vv", "-e", "dev"]));
    let stderr = refused.failed_with(3);
    assert!(stderr.contains("wamp.error.not_authorized"), "{stderr}");
    assert!(stderr.contains("password set"), "{stderr}");
    assert!(
        !stderr.contains(secret) && !refused.stdout.contains(secret),
        "{refused:?}"
    );

    // WAMP_PASSWORD wins over the file.
    let mut from_variable = scratch.wamp();
    from_variable
        .args(["-v", "-e", "dev"])
        .env("WAMP_PASSWORD", "test-pass");
    let ran = session(&mut from_variable);
    assert_eq!(authid(&ran), "test-user");
    assert!(!ran.stderr.contains("test-pass"), "{ran:?}");

    // Another user does not get the file's password; with no terminal to ask, the
    // error says where a password may come from.
    let other = session(scratch.wamp().args(["-e", "dev", "--user", "other-user"]));
    assert!(other.failed_with(2).contains("WAMP_PASSWORD"), "{other:?}");
    let mut other = scratch.wamp();
    other
        .args(["-e", "dev", "--user", "other-user"])
        .env("WAMP_PASSWORD", "other-pass");
    assert_eq!(authid(&session(&mut other)), "other-user");

    // WAMP-CRA, chosen by flag.
    let mut cra = scratch.wamp();
    cra.args(["-e", "dev", "--user", "cra-user", "--authmethod", "wampcra"])
        .env("WAMP_PASSWORD", "cra-secret");
    let ran = session(&mut cra);
    assert_eq!(ran.json()["authmethod"], "wampcra");
}

#[test]
fn cryptosign_keys_come_from_a_file_flag_or_wamp_private_key() {
    let url = shared_router().ws_url();
    let scratch = Scratch::new();
    let key = scratch.write("cs.key", CS_SEED);
    let ran = session(
        scratch
            .wamp_at(&url)
            .arg("--private-key-file")
            .arg(&key)
            .args(["--authid", "cs-user"]),
    );
    assert_eq!(ran.json()["authmethod"], "cryptosign");
    assert_eq!(authid(&ran), "cs-user");

    let mut from_variable = scratch.wamp_at(&url);
    from_variable
        .args(["-vv", "--authmethod", "cryptosign"])
        .env("WAMP_PRIVATE_KEY", CS_SEED);
    let ran = session(&mut from_variable);
    assert_eq!(
        authid(&ran),
        "cs-user",
        "the router finds the principal by its key"
    );
    assert!(!ran.stderr.contains(CS_SEED) && !ran.stdout.contains(CS_SEED));
}
