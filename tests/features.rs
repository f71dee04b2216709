//! Builds without some Cargo features: the API stays the same, and whatever was left
//! out fails where it is used, at once, with `Error::FeatureDisabled` naming the
//! feature. No router needed: nothing here gets as far as a socket.
//!
//! Most tests are for builds that lack a feature, so each feature run of
//! `scripts/check features` tests its own error paths.

use izaber_wamp::config::{load, LoadOptions};
use izaber_wamp::{Client, ClientConfig, Error, Serializer};
#[cfg(not(all(feature = "websocket", feature = "rawsocket", feature = "tls")))]
use std::time::{Duration, Instant};

/// `Client::connect(config)`, which must fail.
fn connect_err(config: ClientConfig) -> Error {
    match Client::connect(config) {
        Ok(_) => panic!("connected, but the build should lack what was asked for"),
        Err(e) => e,
    }
}

#[test]
fn izaber_yaml_accepts_every_scheme_and_serializer_in_every_build() {
    for url in [
        "ws://127.0.0.1:1",
        "wss://127.0.0.1:1",
        "tcpip://127.0.0.1:1",
        "rs://127.0.0.1:1",
        "tcpips://127.0.0.1:1",
        "rss://127.0.0.1:1",
        "unix:///tmp/router.sock",
    ] {
        let yaml = format!(
            "default: {{wamp: {{connection: {{url: '{url}', serializers: [cbor, msgpack, json], \
             ca_file: /etc/ca.pem, verify_tls: false}}}}}}"
        );
        let config = load(&LoadOptions::yaml(yaml)).expect("valid YAML");
        let connection = &config.wamp.connection;
        assert_eq!(connection.serializers, Serializer::ALL);
        let client_config = connection.to_client_config().expect("client config");
        assert_eq!(client_config.url, url);
        assert!(!client_config.tls.verify_tls);
    }
}

#[test]
fn an_unknown_scheme_is_a_configuration_error_in_every_build() {
    match connect_err(ClientConfig::new("http://127.0.0.1:1", "izaber")) {
        Error::Config(why) => assert!(why.contains("\"http\""), "{why}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn json_is_always_compiled_in() {
    assert!(Serializer::Json.is_compiled_in());
    assert_eq!(Serializer::Json.cargo_feature(), None);
    assert_eq!(Serializer::MsgPack.cargo_feature(), Some("msgpack"));
    assert_eq!(Serializer::Cbor.cargo_feature(), Some("cbor"));
}

/// Asserts that connecting to `url` fails at once (no connect retries) naming `feature`.
#[cfg(not(all(feature = "websocket", feature = "rawsocket", feature = "tls")))]
fn assert_needs(url: &str, feature: &str) {
    let start = Instant::now();
    let config = ClientConfig::new(url, "izaber").with_serializers(&[Serializer::Json]);
    let err = connect_err(config);
    assert!(start.elapsed() < Duration::from_secs(5), "{url}: retried");
    match &err {
        Error::FeatureDisabled { feature: named, .. } => assert_eq!(*named, feature, "{url}"),
        other => panic!("{url}: expected FeatureDisabled, got {other:?}"),
    }
    let scheme = url.split("://").next().unwrap_or_default();
    assert_eq!(
        err.to_string(),
        format!("{scheme}:// needs the `{feature}` feature of izaber-wamp")
    );
}

#[cfg(not(feature = "websocket"))]
#[test]
fn websocket_urls_need_the_websocket_feature() {
    assert_needs("ws://127.0.0.1:1", "websocket");
    // The transport is missing before TLS is: enabling `websocket` is the first step.
    assert_needs("wss://127.0.0.1:1", "websocket");
}

#[cfg(all(feature = "websocket", not(feature = "tls")))]
#[test]
fn wss_urls_need_the_tls_feature() {
    assert_needs("wss://127.0.0.1:1", "tls");
}

#[cfg(not(feature = "rawsocket"))]
#[test]
fn rawsocket_urls_need_the_rawsocket_feature() {
    assert_needs("tcpip://127.0.0.1:1", "rawsocket");
    assert_needs("rs://127.0.0.1:1", "rawsocket");
    assert_needs("tcpips://127.0.0.1:1", "rawsocket");
    assert_needs("unix:///tmp/no-such-router.sock", "rawsocket");
}

#[cfg(all(feature = "rawsocket", not(feature = "tls")))]
#[test]
fn tcpips_urls_need_the_tls_feature() {
    assert_needs("tcpips://127.0.0.1:1", "tls");
    assert_needs("rss://127.0.0.1:1", "tls");
}

/// Asserts that encoding and decoding with `serializer` fail, naming `feature`.
#[cfg(not(all(feature = "msgpack", feature = "cbor")))]
fn assert_codec_needs(serializer: Serializer, feature: &str) {
    use izaber_wamp_proto::codec::CodecError;
    use izaber_wamp_proto::message::Message;

    assert!(!serializer.is_compiled_in());
    let goodbye = Message::Goodbye {
        details: Default::default(),
        reason: "wamp.close.normal".into(),
    };
    let err = serializer.encode(goodbye).expect_err("not compiled in");
    assert_eq!(
        err,
        CodecError::FeatureDisabled {
            serializer,
            feature: serializer.cargo_feature().expect("an optional serializer"),
        }
    );
    assert!(matches!(
        serializer.decode(&[0x80]),
        Err(CodecError::FeatureDisabled { .. })
    ));
    let message = format!("serializer {serializer} needs the `{feature}` feature of izaber-wamp");
    assert_eq!(err.to_string(), message);
    assert_eq!(Error::from(err).to_string(), message);

    // Offered alone, the client refuses it at once, before any transport is tried.
    let config = ClientConfig::new("ws://127.0.0.1:1", "izaber").with_serializers(&[serializer]);
    let err = connect_err(config);
    assert_eq!(err.to_string(), message);
}

#[cfg(not(feature = "msgpack"))]
#[test]
fn msgpack_needs_the_msgpack_feature() {
    assert_codec_needs(Serializer::MsgPack, "msgpack");
}

#[cfg(not(feature = "cbor"))]
#[test]
fn cbor_needs_the_cbor_feature() {
    assert_codec_needs(Serializer::Cbor, "cbor");
}

#[cfg(not(any(feature = "msgpack", feature = "cbor")))]
#[test]
fn a_list_of_serializers_none_compiled_in_names_the_most_preferred_one() {
    let config = ClientConfig::new("ws://127.0.0.1:1", "izaber")
        .with_serializers(&[Serializer::MsgPack, Serializer::Cbor]);
    match connect_err(config) {
        Error::FeatureDisabled { feature, what } => {
            assert_eq!(feature, "msgpack");
            assert!(what.contains("(msgpack, cbor)"), "{what}");
        }
        other => panic!("expected FeatureDisabled, got {other:?}"),
    }
}
