//! `izaber.yaml` loading: sources and their precedence, environments, merging,
//! defaults, aliases, warnings, errors and the mapping to `ClientConfig`.
//! No router needed.

use izaber_wamp::config::{
    load, load_from, ConnectionSettings, IzaberConfig, LoadOptions, ProcessEnv, Secret,
};
use izaber_wamp::{Dict, Error, Serializer, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Helpers

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "izaber-wamp-config-test-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Creates `dir/sub` and returns it.
    fn subdir(&self, sub: &str) -> PathBuf {
        let d = self.0.join(sub);
        fs::create_dir_all(&d).expect("create subdir");
        d
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Writes an izaber.yaml into `dir` whose url names `tag`, and returns its path.
fn write_tagged(dir: &Path, tag: &str) -> PathBuf {
    let path = dir.join("izaber.yaml");
    fs::write(
        &path,
        format!("default:\n  wamp:\n    connection:\n      url: ws://{tag}\n"),
    )
    .expect("write izaber.yaml");
    path
}

/// An environment with nothing in it: no directories, no variables.
fn empty_env() -> ProcessEnv {
    ProcessEnv::default()
}

/// Loads YAML text in the given environment (`None` = no IZABER_ENVIRONMENT).
fn load_text(yaml: &str) -> IzaberConfig {
    match load_from(&LoadOptions::yaml(yaml), &empty_env()) {
        Ok(c) => c,
        Err(e) => panic!("loading failed: {e}"),
    }
}

fn load_text_err(yaml: &str) -> String {
    match load_from(&LoadOptions::yaml(yaml), &empty_env()) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(Error::Config(message)) => format!("configuration error: {message}"),
        Err(other) => panic!("expected Error::Config, got {other:?}"),
    }
}

/// YAML text with `body` (indented by the caller to 6 spaces) under wamp.connection.
fn connection_yaml(body: &str) -> String {
    format!("default:\n  wamp:\n    connection:\n{body}")
}

fn connection(body: &str) -> ConnectionSettings {
    load_text(&connection_yaml(body)).wamp.connection
}

fn connection_err(body: &str) -> String {
    load_text_err(&connection_yaml(body))
}

fn config_error(result: Result<IzaberConfig, Error>) -> String {
    match result {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e @ Error::Config(_)) => e.to_string(),
        Err(other) => panic!("expected Error::Config, got {other:?}"),
    }
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("izaber.yaml.example")
}

// ---------------------------------------------------------------------------
// Sources and their precedence

#[test]
fn yaml_text_wins_over_file_and_search() {
    let tmp = TempDir::new("text-wins");
    let cwd = tmp.subdir("cwd");
    write_tagged(&cwd, "cwd");
    let file = write_tagged(&tmp.subdir("file"), "file");
    let mut options = LoadOptions::yaml("default: {wamp: {connection: {url: 'ws://text'}}}");
    options.file = Some(file);
    let env = ProcessEnv {
        cwd: Some(cwd),
        izaber_yaml: Some("default: {wamp: {connection: {url: 'ws://env'}}}".into()),
        ..empty_env()
    };
    let config = load_from(&options, &env).expect("load");
    assert_eq!(config.source, "YAML text");
    assert_eq!(config.wamp.connection.url, "ws://text");
}

#[test]
fn file_option_wins_over_search_and_env_var() {
    let tmp = TempDir::new("file-wins");
    let cwd = tmp.subdir("cwd");
    write_tagged(&cwd, "cwd");
    let file = write_tagged(&tmp.subdir("file"), "file");
    let env = ProcessEnv {
        cwd: Some(cwd),
        izaber_yaml: Some("default: {wamp: {connection: {url: 'ws://env'}}}".into()),
        ..empty_env()
    };
    let config = load_from(&LoadOptions::file(&file), &env).expect("load");
    assert_eq!(config.source, file.display().to_string());
    assert_eq!(config.wamp.connection.url, "ws://file");
}

#[test]
fn relative_file_option_is_resolved_against_the_working_directory() {
    let tmp = TempDir::new("file-relative");
    let cwd = tmp.subdir("cwd");
    let sub = tmp.subdir("cwd/conf");
    let path = write_tagged(&sub, "relative");
    let env = ProcessEnv {
        cwd: Some(cwd),
        ..empty_env()
    };
    let config = load_from(&LoadOptions::file("conf/izaber.yaml"), &env).expect("load");
    assert_eq!(config.wamp.connection.url, "ws://relative");
    assert_eq!(config.source, path.display().to_string());
}

#[test]
fn missing_file_option_is_an_error_naming_it() {
    let tmp = TempDir::new("file-missing");
    let missing = tmp.path().join("nope.yaml");
    // Even with IZABER_YAML set and a file in cwd: an explicit file must exist.
    write_tagged(tmp.path(), "cwd");
    let env = ProcessEnv {
        cwd: Some(tmp.path().to_path_buf()),
        izaber_yaml: Some("default: {}".into()),
        ..empty_env()
    };
    let message = config_error(load_from(&LoadOptions::file(&missing), &env));
    assert_eq!(
        message,
        format!(
            "configuration error: the configuration file {} does not exist",
            missing.display()
        )
    );
}

#[test]
fn search_order_is_cwd_home_data_dir_then_env_var() {
    let tmp = TempDir::new("search-order");
    let cwd = tmp.subdir("cwd");
    let home = tmp.subdir("home");
    let data = tmp.subdir("data/ZaberConfig");
    let cwd_file = write_tagged(&cwd, "cwd");
    let home_file = write_tagged(&home, "home");
    let data_file = write_tagged(&data, "data");
    let env = ProcessEnv {
        cwd: Some(cwd),
        home: Some(home),
        data_dir: Some(data),
        izaber_yaml: Some("default: {wamp: {connection: {url: 'ws://env'}}}".into()),
        izaber_environment: None,
    };
    let options = LoadOptions::default();

    let config = load_from(&options, &env).expect("cwd");
    assert_eq!(config.wamp.connection.url, "ws://cwd");
    assert_eq!(config.source, cwd_file.display().to_string());

    fs::remove_file(&cwd_file).expect("remove");
    let config = load_from(&options, &env).expect("home");
    assert_eq!(config.wamp.connection.url, "ws://home");
    assert_eq!(config.source, home_file.display().to_string());

    fs::remove_file(&home_file).expect("remove");
    let config = load_from(&options, &env).expect("data dir");
    assert_eq!(config.wamp.connection.url, "ws://data");
    assert_eq!(config.source, data_file.display().to_string());

    fs::remove_file(&data_file).expect("remove");
    let config = load_from(&options, &env).expect("env var");
    assert_eq!(config.wamp.connection.url, "ws://env");
    assert_eq!(config.source, "IZABER_YAML");
}

#[test]
fn nothing_found_lists_where_it_looked_and_creates_nothing() {
    let tmp = TempDir::new("nothing");
    let cwd = tmp.subdir("cwd");
    let home = tmp.subdir("home");
    let data = tmp.path().join("data/ZaberConfig"); // does not exist
    let env = ProcessEnv {
        cwd: Some(cwd.clone()),
        home: Some(home.clone()),
        data_dir: Some(data.clone()),
        izaber_yaml: None,
        izaber_environment: None,
    };
    let message = config_error(load_from(&LoadOptions::default(), &env));
    assert_eq!(
        message,
        format!(
            "configuration error: no izaber.yaml found (looked in: {}, {}, {}; IZABER_YAML is not set)",
            cwd.join("izaber.yaml").display(),
            home.join("izaber.yaml").display(),
            data.join("izaber.yaml").display()
        )
    );
    // Python creates the first search directory; we do not.
    assert!(!data.exists());
    assert!(!tmp.path().join("data").exists());

    let env = ProcessEnv {
        izaber_yaml: Some("  \n".into()),
        ..env
    };
    let message = config_error(load_from(&LoadOptions::default(), &env));
    assert!(message.ends_with("; IZABER_YAML is empty)"), "{message}");
}

#[test]
fn the_public_load_reads_text_and_files() {
    let config = load(&LoadOptions::yaml("default: {wamp: {run: false}}").environment("default"))
        .expect("load text");
    assert!(!config.wamp.run);
    assert_eq!(config.source, "YAML text");

    let tmp = TempDir::new("public-load");
    let file = write_tagged(tmp.path(), "public");
    let config = load(&LoadOptions::file(&file).environment("default")).expect("load file");
    assert_eq!(config.wamp.connection.url, "ws://public");

    let missing = tmp.path().join("missing.yaml");
    let message = config_error(load(&LoadOptions::file(&missing)));
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
}

#[test]
fn empty_file_is_an_error() {
    let tmp = TempDir::new("empty-file");
    let file = tmp.path().join("izaber.yaml");
    fs::write(&file, "# nothing here\n").expect("write");
    let message = config_error(load_from(&LoadOptions::file(&file), &empty_env()));
    assert_eq!(
        message,
        format!(
            "configuration error: {}: the configuration is empty (expected a map of environments, e.g. `default:`)",
            file.display()
        )
    );
}

// ---------------------------------------------------------------------------
// Environments and merging

const ENVIRONMENTS: &str = "
default:
  wamp:
    connection:
      url: ws://default
      realm: base
dev:
  wamp:
    connection:
      url: ws://dev
prod:
  wamp:
    connection:
      url: ws://prod
";

#[test]
fn environment_argument_beats_variable_beats_default() {
    let with_var = ProcessEnv {
        izaber_environment: Some("prod".into()),
        ..empty_env()
    };

    let config = load_from(&LoadOptions::yaml(ENVIRONMENTS), &empty_env()).expect("default");
    assert_eq!(config.environment, "default");
    assert_eq!(config.wamp.connection.url, "ws://default");

    let config = load_from(&LoadOptions::yaml(ENVIRONMENTS), &with_var).expect("variable");
    assert_eq!(config.environment, "prod");
    assert_eq!(config.wamp.connection.url, "ws://prod");
    assert_eq!(config.wamp.connection.realm, "base");

    let options = LoadOptions::yaml(ENVIRONMENTS).environment("dev");
    let config = load_from(&options, &with_var).expect("argument");
    assert_eq!(config.environment, "dev");
    assert_eq!(config.wamp.connection.url, "ws://dev");

    // An empty IZABER_ENVIRONMENT counts as unset.
    let empty_var = ProcessEnv {
        izaber_environment: Some(String::new()),
        ..empty_env()
    };
    let config = load_from(&LoadOptions::yaml(ENVIRONMENTS), &empty_var).expect("empty var");
    assert_eq!(config.environment, "default");
}

#[test]
fn missing_environment_names_it_the_source_and_the_environments() {
    let options = LoadOptions::yaml(ENVIRONMENTS).environment("staging");
    let message = config_error(load_from(&options, &empty_env()));
    assert_eq!(
        message,
        "configuration error: YAML text: environment \"staging\" not found (selected by the \
         caller; environments in the file: default, dev, prod)"
    );

    let env = ProcessEnv {
        izaber_environment: Some("qa".into()),
        ..empty_env()
    };
    let message = config_error(load_from(&LoadOptions::yaml(ENVIRONMENTS), &env));
    assert!(
        message.contains("\"qa\" not found (selected by IZABER_ENVIRONMENT"),
        "{message}"
    );

    let message = config_error(load_from(
        &LoadOptions::yaml("dev: {wamp: {}}"),
        &empty_env(),
    ));
    assert_eq!(
        message,
        "configuration error: YAML text: environment \"default\" not found (the default \
         environment; environments in the file: dev)"
    );
}

#[test]
fn missing_default_is_fine_when_the_environment_exists() {
    let options =
        LoadOptions::yaml("dev: {wamp: {connection: {url: 'ws://only-dev'}}}").environment("dev");
    let config = load_from(&options, &empty_env()).expect("load");
    assert_eq!(config.wamp.connection.url, "ws://only-dev");
    assert_eq!(config.wamp.connection.realm, "izaber");
}

#[test]
fn empty_sections_mean_all_defaults() {
    let config = load_text("default:\n");
    assert_eq!(
        format!("{:?}", config.wamp.connection),
        format!("{:?}", ConnectionSettings::default())
    );
    let config = load_text("default:\n  wamp:\n");
    assert!(config.wamp.run);
    // An empty environment section is the default one.
    let options = LoadOptions::yaml("default: {wamp: {connection: {url: 'ws://d'}}}\ndev:\n")
        .environment("dev");
    let config = load_from(&options, &empty_env()).expect("load");
    assert_eq!(config.wamp.connection.url, "ws://d");
}

#[test]
fn deep_merge_merges_maps_and_replaces_lists_and_scalars() {
    let yaml = "
default:
  wamp:
    run: true
    connection:
      url: ws://default
      username: alice
      password: pw
      authmethods: [ticket, anonymous]
      serializers: [json, msgpack]
      authextra:
        a: 1
        nested: {x: 1, y: 2}
        list: [1, 2, 3]
dev:
  wamp:
    run: false
    connection:
      url: ws://dev
      password: ~
      authmethods: [anonymous]
      serializers: [cbor]
      authextra:
        b: 2
        nested: {y: 20, z: 30}
        list: [9]
";
    let options = LoadOptions::yaml(yaml).environment("dev");
    let config = load_from(&options, &empty_env()).expect("load");
    let c = &config.wamp.connection;
    assert!(!config.wamp.run);
    assert_eq!(c.url, "ws://dev");
    assert_eq!(c.username.as_deref(), Some("alice"));
    assert_eq!(c.password, None, "a null scalar in the overlay unsets it");
    assert_eq!(c.authmethods, ["anonymous"]);
    assert_eq!(c.serializers, [Serializer::Cbor]);
    let mut nested = Dict::new();
    nested.insert("x".into(), Value::Int(1));
    nested.insert("y".into(), Value::Int(20));
    nested.insert("z".into(), Value::Int(30));
    let mut expected = Dict::new();
    expected.insert("a".into(), Value::Int(1));
    expected.insert("b".into(), Value::Int(2));
    expected.insert("nested".into(), Value::Dict(nested));
    expected.insert("list".into(), Value::List(vec![Value::Int(9)]));
    assert_eq!(c.authextra, expected);
}

#[test]
fn an_empty_section_in_the_overlay_does_not_wipe_the_base() {
    let yaml = "
default:
  wamp:
    connection:
      url: ws://kept
dev:
  wamp:
";
    let options = LoadOptions::yaml(yaml).environment("dev");
    let config = load_from(&options, &empty_env()).expect("load");
    assert_eq!(config.wamp.connection.url, "ws://kept");
}

#[test]
fn yaml_anchors_and_merge_keys_work() {
    let yaml = "
default:
  wamp:
    connection: &base
      url: ws://anchored
      realm: r1
dev:
  wamp:
    connection:
      <<: *base
      realm: r2
";
    let options = LoadOptions::yaml(yaml).environment("dev");
    let config = load_from(&options, &empty_env()).expect("load");
    assert_eq!(config.wamp.connection.url, "ws://anchored");
    assert_eq!(config.wamp.connection.realm, "r2");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

// ---------------------------------------------------------------------------
// Values, defaults and aliases

#[test]
fn every_default() {
    let config = load_text("default: {}");
    assert!(config.wamp.run);
    assert!(config.warnings.is_empty());
    assert_eq!(config.environment, "default");
    let c = &config.wamp.connection;
    assert_eq!(c.url, "wss://nexus.izaber.com/ws");
    assert_eq!(c.realm, "izaber");
    assert_eq!(c.username, None);
    assert_eq!(c.authid, None);
    assert_eq!(c.password, None);
    assert_eq!(c.authmethods, ["ticket"]);
    assert_eq!(c.authextra, Dict::new());
    assert_eq!(c.private_key, None);
    assert_eq!(c.private_key_file, None);
    assert_eq!(
        c.serializers,
        [Serializer::Cbor, Serializer::MsgPack, Serializer::Json]
    );
    assert_eq!(c.uri_base, "com.izaber.wamp");
    assert_eq!(c.timeout, Duration::from_secs(300));
    assert_eq!(c.connect_timeout, Duration::from_secs(30));
    assert!(c.auto_reconnect);
    assert_eq!(c.reconnect_initial_delay, Duration::from_secs(1));
    assert_eq!(c.reconnect_max_delay, Duration::from_secs(30));
    assert_eq!(c.reconnect_multiplier, 2.0);
    assert_eq!(c.reconnect_max_attempts, None);
    assert_eq!(c.ping_interval, Some(Duration::from_secs(3)));
    assert_eq!(c.pong_timeout, Duration::from_secs(10));
    assert!(c.wait_while_reconnecting);
    assert_eq!(c.offline_publish_buffer, 0);
    assert_eq!(c.max_payload_size, 16 * 1024 * 1024);
    assert_eq!(c.agent, None);
    assert_eq!(c.ca_file, None);
    assert_eq!(c.client_cert, None);
    assert_eq!(c.client_key, None);
    assert!(c.verify_tls);
    assert_eq!(
        format!("{c:?}"),
        format!("{:?}", ConnectionSettings::default())
    );
}

#[test]
fn every_key_is_read() {
    let c = connection(
        "      url: ws://host:1234/ws
      realm: r
      username: bob
      authid: bob-id
      password: pw
      authmethods: [anonymous, ticket]
      authextra: {k: v, n: [1, 2.5, true, null]}
      private_key: 00ff
      private_key_file: /keys/bob.key
      serializers: [json]
      uri_base: ''
      timeout: 1.5
      connect_timeout: 7
      auto_reconnect: false
      reconnect_initial_delay: 0.25
      reconnect_max_delay: 60
      reconnect_multiplier: 1.5
      reconnect_max_attempts: 12
      ping_interval: 0.5
      pong_timeout: 4
      wait_while_reconnecting: false
      offline_publish_buffer: 100
      max_payload_size: 1024
      agent: my-agent
      ca_file: /tls/ca.pem
      client_cert: /tls/cert.pem
      client_key: /tls/key.pem
      verify_tls: false
",
    );
    assert_eq!(c.url, "ws://host:1234/ws");
    assert_eq!(c.realm, "r");
    assert_eq!(c.username.as_deref(), Some("bob"));
    assert_eq!(c.authid.as_deref(), Some("bob-id"));
    assert_eq!(c.password.as_ref().map(Secret::expose), Some("pw"));
    assert_eq!(c.authmethods, ["anonymous", "ticket"]);
    let mut extra = Dict::new();
    extra.insert("k".into(), Value::from("v"));
    extra.insert(
        "n".into(),
        Value::List(vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::Bool(true),
            Value::Null,
        ]),
    );
    assert_eq!(c.authextra, extra);
    assert_eq!(c.private_key.as_ref().map(Secret::expose), Some("00ff"));
    assert_eq!(c.private_key_file, Some(PathBuf::from("/keys/bob.key")));
    assert_eq!(c.serializers, [Serializer::Json]);
    assert_eq!(c.uri_base, "");
    assert_eq!(c.timeout, Duration::from_millis(1500));
    assert_eq!(c.connect_timeout, Duration::from_secs(7));
    assert!(!c.auto_reconnect);
    assert_eq!(c.reconnect_initial_delay, Duration::from_millis(250));
    assert_eq!(c.reconnect_max_delay, Duration::from_secs(60));
    assert_eq!(c.reconnect_multiplier, 1.5);
    assert_eq!(c.reconnect_max_attempts, Some(12));
    assert_eq!(c.ping_interval, Some(Duration::from_millis(500)));
    assert_eq!(c.pong_timeout, Duration::from_secs(4));
    assert!(!c.wait_while_reconnecting);
    assert_eq!(c.offline_publish_buffer, 100);
    assert_eq!(c.max_payload_size, 1024);
    assert_eq!(c.agent.as_deref(), Some("my-agent"));
    assert_eq!(c.ca_file, Some(PathBuf::from("/tls/ca.pem")));
    assert_eq!(c.client_cert, Some(PathBuf::from("/tls/cert.pem")));
    assert_eq!(c.client_key, Some(PathBuf::from("/tls/key.pem")));
    assert!(!c.verify_tls);
}

#[test]
fn authid_defaults_to_username() {
    let c = connection("      username: carol\n");
    assert_eq!(c.authid.as_deref(), Some("carol"));
    let c = connection("      username: carol\n      authid: other\n");
    assert_eq!(c.authid.as_deref(), Some("other"));
}

#[test]
fn aliases_secret_serializer_heartbeat_timeout() {
    let c = connection("      secret: s3\n      serializer: json\n      heartbeat_timeout: 5\n");
    assert_eq!(c.password.as_ref().map(Secret::expose), Some("s3"));
    assert_eq!(c.serializers, [Serializer::Json]);
    assert_eq!(c.pong_timeout, Duration::from_secs(5));

    // Case and surrounding space of serializer names do not matter.
    let c = connection("      serializers: [MsgPack, ' cbor ']\n");
    assert_eq!(c.serializers, [Serializer::MsgPack, Serializer::Cbor]);
}

#[test]
fn alias_and_key_together_is_an_error() {
    let message = connection_err("      password: a\n      secret: b\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.password and wamp.connection.secret \
         are both set (they are the same setting); keep one"
    );
    let message = connection_err("      serializer: json\n      serializers: [cbor]\n");
    assert!(message.contains("wamp.connection.serializers and wamp.connection.serializer"));
    let message = connection_err("      heartbeat_timeout: 1\n      pong_timeout: 2\n");
    assert!(message.contains("wamp.connection.pong_timeout and wamp.connection.heartbeat_timeout"));
}

#[test]
fn auto_reconnect_accepts_bool_or_int() {
    for (text, expected) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("5", true),
        ("-1", true),
        ("yes", true),
        ("no", false),
        ("'on'", true),
        ("Off", false),
    ] {
        let c = connection(&format!("      auto_reconnect: {text}\n"));
        assert_eq!(c.auto_reconnect, expected, "auto_reconnect: {text}");
    }
    let message = connection_err("      auto_reconnect: maybe\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.auto_reconnect: expected true, \
         false or an integer, found \"maybe\""
    );
    // Other booleans take no integers.
    let message = connection_err("      verify_tls: 0\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.verify_tls: expected true or false, found 0"
    );
    let config = load_text("default: {wamp: {run: 0}}");
    assert!(!config.wamp.run);
}

#[test]
fn ping_interval_zero_or_false_disables_pings() {
    assert_eq!(connection("      ping_interval: 0\n").ping_interval, None);
    assert_eq!(connection("      ping_interval: 0.0\n").ping_interval, None);
    assert_eq!(
        connection("      ping_interval: false\n").ping_interval,
        None
    );
    assert_eq!(
        connection("      ping_interval: 2\n").ping_interval,
        Some(Duration::from_secs(2))
    );
    // null means "not set": the default.
    assert_eq!(
        connection("      ping_interval: ~\n").ping_interval,
        Some(Duration::from_secs(3))
    );
}

#[test]
fn yaml_1_1_style_numbers_and_lists() {
    let c = connection("      max_payload_size: 50_000_000\n      authmethods: anonymous\n");
    assert_eq!(c.max_payload_size, 50_000_000);
    assert_eq!(c.authmethods, ["anonymous"]);
}

#[test]
fn reconnect_max_delay_follows_a_larger_initial_delay() {
    let c = connection("      reconnect_initial_delay: 45\n");
    assert_eq!(c.reconnect_max_delay, Duration::from_secs(45));
    let message =
        connection_err("      reconnect_initial_delay: 10\n      reconnect_max_delay: 5\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.reconnect_max_delay: must not be \
         shorter than reconnect_initial_delay (10s)"
    );
}

// ---------------------------------------------------------------------------
// Warnings

#[test]
fn unknown_keys_are_warnings_naming_the_full_key_path() {
    let tmp = TempDir::new("warnings");
    let file = tmp.path().join("izaber.yaml");
    fs::write(
        &file,
        "default:
  logging: {level: debug}
  myapp: {anything: goes}
  wamp:
    colour: blue
    connection:
      colour: red
      pasword: hunter2
      loop_timeout: 5
      sslopt: {cert_reqs: 0}
      concurrency_class: MyQueue
      7: seven
",
    )
    .expect("write");
    let config = load_from(&LoadOptions::file(&file), &empty_env()).expect("load");
    let f = file.display();
    assert_eq!(
        config.warnings,
        [
            format!("unknown key wamp.colour in {f} (ignored)"),
            format!("unknown key wamp.connection.colour in {f} (ignored)"),
            format!("unknown key wamp.connection.pasword in {f} (ignored; did you mean password?)"),
            format!("key wamp.connection.loop_timeout in {f} is not used by izaber-wamp (ignored)"),
            format!(
                "key wamp.connection.sslopt in {f} is not used by izaber-wamp (ignored; use \
                 verify_tls, ca_file, client_cert and client_key)"
            ),
            format!(
                "key wamp.connection.concurrency_class in {f} is not used by izaber-wamp (ignored)"
            ),
            format!("unknown key wamp.connection.7 in {f} (ignored)"),
        ]
    );
    assert!(!format!("{:?}", config.warnings).contains("hunter2"));
}

#[test]
fn warnings_come_from_the_merged_environment() {
    let yaml = "
default:
  wamp:
    connection:
      old_key: 1
dev:
  wamp:
    connection:
      new_key: 2
";
    let options = LoadOptions::yaml(yaml).environment("dev");
    let config = load_from(&options, &empty_env()).expect("load");
    assert_eq!(
        config.warnings,
        [
            "unknown key wamp.connection.old_key in YAML text (ignored)",
            "unknown key wamp.connection.new_key in YAML text (ignored)",
        ]
    );
}

// ---------------------------------------------------------------------------
// Errors

#[test]
fn bad_yaml_names_the_source_and_the_line() {
    let tmp = TempDir::new("bad-yaml");
    let file = tmp.path().join("izaber.yaml");
    fs::write(
        &file,
        "default:\n  wamp:\n    connection:\n      url: [ws://x\n      realm: y\n",
    )
    .expect("write");
    let message = config_error(load_from(&LoadOptions::file(&file), &empty_env()));
    let prefix = format!("configuration error: {}: invalid YAML: ", file.display());
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.contains("at line 5 column 12"), "{message}");

    let message = load_text_err("default:\n  wamp: a: b\n");
    assert!(
        message.starts_with("configuration error: YAML text: invalid YAML: "),
        "{message}"
    );
    assert!(message.contains("line 2"), "{message}");

    let message = load_text_err("default:\n  wamp:\n    run: true\n    run: false\n");
    assert!(message.contains("duplicate"), "{message}");
    assert!(message.contains("line 3"), "{message}");
}

#[test]
fn bad_yaml_in_the_env_var_names_it() {
    let env = ProcessEnv {
        izaber_yaml: Some("default:\n\t- x\n".into()),
        ..empty_env()
    };
    let message = config_error(load_from(&LoadOptions::default(), &env));
    assert!(
        message.starts_with("configuration error: IZABER_YAML: invalid YAML: "),
        "{message}"
    );
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn wrong_type_names_the_file_and_the_key_path() {
    let tmp = TempDir::new("wrong-type");
    let file = tmp.path().join("izaber.yaml");
    fs::write(
        &file,
        "default:\n  wamp:\n    connection:\n      timeout: soon\n",
    )
    .expect("write");
    let message = config_error(load_from(&LoadOptions::file(&file), &empty_env()));
    assert_eq!(
        message,
        format!(
            "configuration error: {}: wamp.connection.timeout: expected a number of seconds, found \"soon\"",
            file.display()
        )
    );
}

#[test]
fn value_errors() {
    let cases = [
        (
            "      url: []\n",
            "wamp.connection.url: expected at least one URL",
        ),
        (
            "      url: [ws://a, '']\n",
            "wamp.connection.url: must not be empty",
        ),
        ("      url: ''\n", "wamp.connection.url: must not be empty"),
        (
            "      username: 1234\n",
            "wamp.connection.username: expected a string, found 1234 (put it in quotes)",
        ),
        (
            "      timeout: -1\n",
            "wamp.connection.timeout: expected a number of seconds, found -1 (negative)",
        ),
        (
            "      timeout: 0\n",
            "wamp.connection.timeout: must be greater than 0 seconds",
        ),
        (
            "      timeout: .inf\n",
            "wamp.connection.timeout: expected a number of seconds, found .inf",
        ),
        (
            "      connect_timeout: true\n",
            "wamp.connection.connect_timeout: expected a number of seconds, found true",
        ),
        (
            "      max_payload_size: 1.5\n",
            "wamp.connection.max_payload_size: expected a whole number (0 or more), found 1.5",
        ),
        (
            "      max_payload_size: 0\n",
            "wamp.connection.max_payload_size: must be greater than 0",
        ),
        (
            "      offline_publish_buffer: -3\n",
            "wamp.connection.offline_publish_buffer: expected a whole number (0 or more), found -3",
        ),
        (
            "      reconnect_max_attempts: 99999999999\n",
            "wamp.connection.reconnect_max_attempts: expected at most 4294967295, found 99999999999",
        ),
        (
            "      reconnect_multiplier: 0.5\n",
            "wamp.connection.reconnect_multiplier: expected a number from 1 to 1000, found 0.5",
        ),
        (
            "      authmethods: [ticket, 3]\n",
            "wamp.connection.authmethods[1]: expected a string, found 3",
        ),
        (
            "      authextra: [1]\n",
            "wamp.connection.authextra: expected a map, found a list",
        ),
        (
            "      authextra: {a: {1: x}}\n",
            "wamp.connection.authextra.a: expected string keys, found the key 1",
        ),
        (
            "      ca_file: ''\n",
            "wamp.connection.ca_file: expected a file path, found an empty string",
        ),
        (
            "      serializers: []\n",
            "wamp.connection.serializers: expected at least one serializer",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            connection_err(body),
            format!("configuration error: YAML text: {expected}"),
            "for {body:?}"
        );
    }
}

#[test]
fn unknown_serializer_is_named() {
    let message = connection_err("      serializers: [cbor, yaml]\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.serializers: unknown serializer \
         \"yaml\" (expected json, msgpack or cbor)"
    );
    let message = connection_err("      serializer: ubjson\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.serializer: unknown serializer \
         \"ubjson\" (expected json, msgpack or cbor)"
    );
}

#[test]
fn structural_errors() {
    assert_eq!(
        load_text_err("- default\n"),
        "configuration error: YAML text: expected a map of environments (e.g. `default:`) at \
         the top level, found a list"
    );
    assert_eq!(
        load_text_err("default: 3\n"),
        "configuration error: YAML text: default: expected a map (an environment), found 3"
    );
    assert_eq!(
        load_text_err("default: {wamp: [1]}\n"),
        "configuration error: YAML text: wamp: expected a map, found a list"
    );
    assert_eq!(
        load_text_err("default: {wamp: {connection: on}}\n"),
        "configuration error: YAML text: wamp.connection: expected a map, found \"on\""
    );
}

// ---------------------------------------------------------------------------
// Secrets

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let c = connection(
        "      username: dave\n      password: hunter2-password\n      private_key: deadbeef-key\n",
    );
    let debug = format!("{c:?}");
    assert!(!debug.contains("hunter2-password"), "{debug}");
    assert!(!debug.contains("deadbeef-key"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    let config = load_text(&connection_yaml("      password: hunter2-password\n"));
    assert!(!format!("{config:?}").contains("hunter2-password"));

    let secret = Secret::new("s3cr3t");
    assert_eq!(format!("{secret:?}"), "<redacted>");
    assert_eq!(secret.to_string(), "<redacted>");
    assert_eq!(secret.expose(), "s3cr3t");
    assert_eq!(secret, Secret::new("s3cr3t"));

    // A secret of the wrong type: the error says what kind it is, not its value.
    let message = connection_err("      password: 8675309\n");
    assert_eq!(
        message,
        "configuration error: YAML text: wamp.connection.password: expected a string, found a \
         number (put it in quotes)"
    );
    let message = connection_err("      private_key: [abc-secret-list]\n");
    assert!(!message.contains("abc-secret-list"), "{message}");

    // The client configuration built from it does not show it either.
    let client = c.to_client_config().expect("client config");
    assert!(!format!("{client:?}").contains("hunter2-password"));
}

// ---------------------------------------------------------------------------
// to_client_config

#[test]
fn to_client_config_maps_the_settings() {
    let c = connection(
        "      url: ws://127.0.0.1:18080
      realm: test-realm
      username: eve
      password: pw
      serializers: [msgpack, json]
      timeout: 12
      connect_timeout: 3
      max_payload_size: 4096
      agent: test-agent/1
",
    );
    let config = c.to_client_config().expect("client config");
    assert_eq!(config.url, "ws://127.0.0.1:18080");
    assert_eq!(config.realm, "test-realm");
    assert_eq!(config.serializers, [Serializer::MsgPack, Serializer::Json]);
    assert_eq!(config.timeout, Duration::from_secs(12));
    assert_eq!(config.connect_timeout, Duration::from_secs(3));
    assert_eq!(config.max_message_size, 4096);
    assert_eq!(config.agent, "test-agent/1");
    assert_eq!(config.auth.len(), 1);
    assert_eq!(config.auth[0].method(), "ticket");
    assert_eq!(config.auth[0].authid(), Some("eve"));
    let (signature, _) = config.auth[0]
        .authenticate(&Dict::new())
        .expect("ticket answer");
    assert_eq!(signature, "pw");

    // The agent defaults to the library's own.
    let config = connection("").to_client_config().expect("client config");
    assert!(
        config.agent.starts_with("izaber-wamp-rust/"),
        "{}",
        config.agent
    );
}

#[test]
fn ticket_uses_the_authid_when_set() {
    let c = connection("      username: eve\n      authid: eve-id\n      password: pw\n");
    let config = c.to_client_config().expect("client config");
    assert_eq!(config.auth[0].authid(), Some("eve-id"));
}

#[test]
fn default_ticket_without_credentials_logs_in_anonymously() {
    let config = connection("").to_client_config().expect("client config");
    let methods: Vec<&str> = config.auth.iter().map(|a| a.method()).collect();
    assert_eq!(methods, ["anonymous"]);
}

#[test]
fn authmethods_are_offered_in_order() {
    let c = connection(
        "      username: u\n      password: p\n      authmethods: [anonymous, ticket]\n",
    );
    let config = c.to_client_config().expect("client config");
    let methods: Vec<&str> = config.auth.iter().map(|a| a.method()).collect();
    assert_eq!(methods, ["anonymous", "ticket"]);

    let c = connection("      authmethods: [anonymous]\n");
    let config = c.to_client_config().expect("client config");
    let methods: Vec<&str> = config.auth.iter().map(|a| a.method()).collect();
    assert_eq!(methods, ["anonymous"]);
}

#[test]
fn to_client_config_maps_the_resilience_settings() {
    let c = connection(
        "      auto_reconnect: 0
      reconnect_initial_delay: 0.5
      reconnect_max_delay: 4
      reconnect_multiplier: 3
      reconnect_max_attempts: 7
      ping_interval: 0
      pong_timeout: 2
      wait_while_reconnecting: false
      offline_publish_buffer: 9
",
    );
    let config = c.to_client_config().expect("client config");
    assert!(!config.reconnect.enabled);
    assert_eq!(config.reconnect.initial_delay, Duration::from_millis(500));
    assert_eq!(config.reconnect.max_delay, Duration::from_secs(4));
    assert_eq!(config.reconnect.multiplier, 3.0);
    assert_eq!(config.reconnect.max_attempts, Some(7));
    assert_eq!(config.ping_interval, None);
    assert_eq!(config.pong_timeout, Duration::from_secs(2));
    assert!(!config.wait_while_reconnecting);
    assert_eq!(config.offline_publish_buffer, 9);
}

#[test]
fn to_client_config_errors() {
    let err = |body: &str| match connection(body).to_client_config() {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e @ Error::Config(_)) => e.to_string(),
        Err(other) => panic!("expected Error::Config, got {other:?}"),
    };
    assert_eq!(
        err("      username: u\n"),
        "configuration error: authmethod ticket needs wamp.connection.password"
    );
    assert_eq!(
        err("      password: secret-pw\n"),
        "configuration error: authmethod ticket needs wamp.connection.username (or authid)"
    );
    // Explicitly asking for ticket (alongside another method) needs credentials too.
    assert_eq!(
        err("      authmethods: [ticket, anonymous]\n"),
        "configuration error: authmethod ticket needs wamp.connection.username (or authid)"
    );
    assert_eq!(
        err("      authmethods: [scram]\n      username: u\n      password: p\n"),
        "configuration error: authmethod scram is not supported (use ticket, wampcra, \
         cryptosign or anonymous)"
    );
    assert!(!err("      password: secret-pw\n").contains("secret-pw"));
}

// ---------------------------------------------------------------------------
// to_client_config: WAMP-CRA, cryptosign and authextra

#[path = "common/keys.rs"]
mod keys;
use keys::{CS_OPENSSH as SEED_OPENSSH, CS_PUBKEY as PUBKEY, CS_SEED as SEED};

fn methods(config: &izaber_wamp::ClientConfig) -> Vec<&str> {
    config.auth.iter().map(|a| a.method()).collect()
}

fn challenge(entries: &[(&str, &str)]) -> Dict {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect()
}

#[test]
fn wampcra_uses_the_authid_and_password() {
    let c = connection(
        "      username: peter\n      password: L3L1YUE8Txlw\n      authmethods: [wampcra, ticket]\n",
    );
    let config = c.to_client_config().expect("client config");
    assert_eq!(methods(&config), ["wampcra", "ticket"]);
    assert_eq!(config.auth[0].authid(), Some("peter"));
    // The autobahn test vector: HMAC-SHA256 of the challenge with the secret.
    let (signature, _) = config.auth[0]
        .authenticate(&challenge(&[("challenge", "[1, 2, 3]")]))
        .expect("wampcra answer");
    assert_eq!(signature, "1njQtmmeYO41N5EWEzD2kAjjEKRZ5kPZt/TzpYXOzR0=");
    assert!(!format!("{config:?}").contains("L3L1YUE8Txlw"));

    let c = connection(
        "      username: u\n      authid: cra-id\n      secret: s\n      authmethods: wampcra\n",
    );
    let config = c.to_client_config().expect("client config");
    assert_eq!(config.auth[0].authid(), Some("cra-id"));
}

#[test]
fn cryptosign_from_a_hex_private_key() {
    let c = connection(&format!(
        "      authmethods: [cryptosign]\n      private_key: \"{SEED}\"\n"
    ));
    let config = c.to_client_config().expect("client config");
    assert_eq!(methods(&config), ["cryptosign"]);
    // No authid: the router finds the principal by the public key.
    assert_eq!(config.auth[0].authid(), None);
    assert_eq!(
        config.auth[0].authextra().get("pubkey"),
        Some(&Value::from(PUBKEY))
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains(SEED), "{debug}");
    assert!(debug.contains(PUBKEY), "{debug}");

    // With a username, it is the authid.
    let c = connection(&format!(
        "      authmethods: [cryptosign, anonymous]\n      username: cs-user\n      private_key: {SEED}\n"
    ));
    let config = c.to_client_config().expect("client config");
    assert_eq!(methods(&config), ["cryptosign", "anonymous"]);
    assert_eq!(config.auth[0].authid(), Some("cs-user"));
}

#[test]
fn cryptosign_from_key_files() {
    let dir = TempDir::new("keys");
    for (name, text) in [
        ("seed.hex", format!("{SEED}\n")),
        ("id_ed25519", SEED_OPENSSH.to_string()),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, text).expect("write key file");
        let c = connection(&format!(
            "      authmethods: [cryptosign]\n      private_key_file: {}\n",
            path.display()
        ));
        let config = c.to_client_config().expect("client config");
        assert_eq!(
            config.auth[0].authextra().get("pubkey"),
            Some(&Value::from(PUBKEY)),
            "{name}"
        );
        assert!(!format!("{config:?}").contains(SEED));
    }
}

#[test]
fn authextra_reaches_the_client_config() {
    let c = connection(
        "      username: u\n      password: p\n      authextra: {client: tests, n: 3}\n",
    );
    let config = c.to_client_config().expect("client config");
    let expected: Dict = [
        ("client".to_string(), Value::from("tests")),
        ("n".to_string(), Value::Int(3)),
    ]
    .into_iter()
    .collect();
    assert_eq!(config.authextra, expected);
    // Also for anonymous login.
    let config = connection("      authextra: {client: tests, n: 3}\n")
        .to_client_config()
        .expect("client config");
    assert_eq!(methods(&config), ["anonymous"]);
    assert_eq!(config.authextra, expected);
    // And empty by default.
    let config = connection("").to_client_config().expect("client config");
    assert!(config.authextra.is_empty());
}

#[test]
fn wampcra_and_cryptosign_errors_name_the_key_but_not_the_secret() {
    let err = |body: &str| match connection(body).to_client_config() {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e @ Error::Config(_)) => e.to_string(),
        Err(other) => panic!("expected Error::Config, got {other:?}"),
    };
    assert_eq!(
        err("      authmethods: [wampcra]\n      password: cra-secret-pw\n"),
        "configuration error: authmethod wampcra needs wamp.connection.username (or authid)"
    );
    assert_eq!(
        err("      authmethods: [wampcra]\n      username: u\n"),
        "configuration error: authmethod wampcra needs wamp.connection.password"
    );
    assert_eq!(
        err("      authmethods: [cryptosign]\n      username: u\n"),
        "configuration error: authmethod cryptosign needs wamp.connection.private_key or \
         private_key_file"
    );
    assert_eq!(
        err(&format!(
            "      authmethods: [cryptosign]\n      private_key: {SEED}\n      private_key_file: /k\n"
        )),
        "configuration error: set only one of wamp.connection.private_key and private_key_file"
    );
    let short = &SEED[..40];
    let message = err(&format!(
        "      authmethods: [cryptosign]\n      private_key: {short}\n"
    ));
    assert_eq!(
        message,
        "configuration error: wamp.connection.private_key: cryptosign private key must be 64 \
         hex characters (a 32-byte Ed25519 seed), found 40 characters"
    );
    let bad = format!("{}xy", &SEED[..62]);
    let message = err(&format!(
        "      authmethods: [cryptosign]\n      private_key: {bad}\n"
    ));
    assert!(!message.contains(&SEED[..20]), "{message}");
    assert!(message.contains("position 63"), "{message}");

    let dir = TempDir::new("bad-keys");
    let missing = dir.path().join("missing.key");
    let message = err(&format!(
        "      authmethods: [cryptosign]\n      private_key_file: {}\n",
        missing.display()
    ));
    assert!(
        message.starts_with(&format!(
            "configuration error: cannot read cryptosign key file {}: ",
            missing.display()
        )),
        "{message}"
    );
    let garbage = dir.path().join("garbage.key");
    fs::write(&garbage, "hunter2-not-a-key\n").expect("write");
    let message = err(&format!(
        "      authmethods: [cryptosign]\n      private_key_file: {}\n",
        garbage.display()
    ));
    assert_eq!(
        message,
        format!(
            "configuration error: cryptosign key file {}: hex seed must be 64 hex characters \
             (a 32-byte Ed25519 seed), found 17 characters",
            garbage.display()
        )
    );
    let encrypted = dir.path().join("encrypted.key");
    // `ssh-keygen -t ed25519 -N pass-phrase`
    fs::write(
        &encrypted,
        "\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAucgpkmR
hf7aZZ3DX7DnMLAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPHT9H48EZEIsobi
raqz2AUlC+bTl5yiTBNhJn7AlrphAAAAkHqy2gF+ps+XGmsdYsDALjVnF2uJYirLRp0HNP
n2/VR53fy5BHCxv8klm1vGA9CWiv/XYcc4Wk1FJ3QiGGlsmdjDnvnV6Vuv3Qb8E3qI81fu
xCckrvMmAj7wyev1n4/1BcA0RUrPFYfmNoLikwvnVGp0BYqbMhrwSbKeZs59XKgMUc/Eg/
dU3BMEq8XoG8/F2g==
-----END OPENSSH PRIVATE KEY-----
",
    )
    .expect("write");
    let message = err(&format!(
        "      authmethods: [cryptosign]\n      private_key_file: {}\n",
        encrypted.display()
    ));
    assert!(
        message.contains("the OpenSSH key is encrypted (cipher aes256-ctr)"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------
// The example file

#[test]
fn the_example_file_loads_with_every_default() {
    let config = load_from(&LoadOptions::file(example_path()), &empty_env()).expect("example");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert!(config.wamp.run);
    assert_eq!(
        format!("{:?}", config.wamp.connection),
        format!("{:?}", ConnectionSettings::default())
    );

    let options = LoadOptions::file(example_path()).environment("dev");
    let config = load_from(&options, &empty_env()).expect("example dev");
    assert_eq!(config.wamp.connection.url, "ws://127.0.0.1:18080");
    assert_eq!(config.wamp.connection.realm, "izaber");
}

#[test]
fn the_example_file_loads_through_the_public_load() {
    // Relative to the package root, where cargo runs tests.
    let config = load(&LoadOptions::file("izaber.yaml.example").environment("default"))
        .expect("example via load");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert!(config.source.ends_with("izaber.yaml.example"));
}

#[test]
fn the_example_file_shows_every_key() {
    let text = fs::read_to_string(example_path()).expect("read example");
    for key in [
        "run",
        "url",
        "realm",
        "username",
        "authid",
        "password",
        "secret",
        "authmethods",
        "authextra",
        "private_key",
        "private_key_file",
        "serializers",
        "serializer",
        "uri_base",
        "timeout",
        "connect_timeout",
        "auto_reconnect",
        "reconnect_initial_delay",
        "reconnect_max_delay",
        "reconnect_multiplier",
        "reconnect_max_attempts",
        "ping_interval",
        "pong_timeout",
        "heartbeat_timeout",
        "wait_while_reconnecting",
        "offline_publish_buffer",
        "max_payload_size",
        "agent",
        "ca_file",
        "client_cert",
        "client_key",
        "verify_tls",
    ] {
        assert!(
            text.contains(&format!(" {key}: ")),
            "izaber.yaml.example lacks {key}"
        );
    }
}

// ---------------------------------------------------------------------------
// Several routers, and izaber's concurrency queues

#[test]
fn url_may_list_the_routers_of_a_cluster() {
    let c = connection("      url: [ws://a:8080/ws, ws://b:8080/ws, ws://c:8080/ws]\n");
    assert_eq!(c.url, "ws://a:8080/ws");
    assert_eq!(c.failover_urls, ["ws://b:8080/ws", "ws://c:8080/ws"]);
    let config = c.to_client_config().expect("client config");
    assert_eq!(config.url, "ws://a:8080/ws");
    assert_eq!(config.failover_urls, ["ws://b:8080/ws", "ws://c:8080/ws"]);
    // One URL, as before: no failover.
    assert!(connection("      url: ws://a:8080/ws\n")
        .failover_urls
        .is_empty());
}

#[test]
fn concurrency_keys_become_the_queues_limits() {
    use izaber_wamp::QueueLimits;
    let c = connection(
        "      concurrency_max: 8
      concurrency_queue_max: 1_000
      concurrency_strict_naming: no
      concurrency_configs:
        default: {concurrency_max: 4}
        db: {concurrency_max: 2, queue_max: 100}
        bare:
",
    );
    let q = &c.concurrency;
    assert!(!q.strict_naming);
    assert_eq!(q.limits("default"), Some(QueueLimits::new(4, Some(1_000))));
    assert_eq!(q.limits("db"), Some(QueueLimits::new(2, Some(100))));
    assert_eq!(q.limits("bare"), Some(QueueLimits::new(4, Some(1_000))));
    assert_eq!(q.limits("unlisted"), Some(QueueLimits::new(4, Some(1_000))));
    assert_eq!(q.limits("unlimited"), Some(QueueLimits::unlimited()));
    assert_eq!(
        c.to_client_config().expect("config").concurrency,
        c.concurrency
    );
    // Nothing set: no limits, strict naming, as in Python izaber.
    let plain = connection("      url: ws://a\n").concurrency;
    assert!(plain.strict_naming);
    assert_eq!(plain.limits("default"), Some(QueueLimits::unlimited()));
    assert_eq!(plain.limits("db"), None);
    assert_eq!(
        connection_err("      concurrency_configs: {db: {queue_max: -1}}\n"),
        "configuration error: YAML text: wamp.connection.concurrency_configs.db.queue_max: \
         expected a whole number (0 or more), found -1"
    );
}
