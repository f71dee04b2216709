//! Registers a procedure, calls it, subscribes to a topic and publishes to it, printing
//! what happens. Run against a local router:
//!
//! ```text
//! cargo run --example hello -- ws://127.0.0.1:18080
//! ```
//! The URL may also come from `IZABER_WAMP_URL`; the realm from `IZABER_WAMP_REALM`
//! (default `izaber`).

use izaber_wamp::{CallResult, Client, ClientConfig, PublishOptions};
use std::sync::mpsc;
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("hello: {e}");
        std::process::exit(1);
    }
}

fn run() -> izaber_wamp::Result<()> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("IZABER_WAMP_URL").ok())
        .unwrap_or_else(|| "ws://127.0.0.1:18080".into());
    let realm = std::env::var("IZABER_WAMP_REALM").unwrap_or_else(|_| "izaber".into());
    let config = ClientConfig::new(&url, &realm).with_timeout(Duration::from_secs(10));
    let client = Client::connect(config)?;
    let info = client.session_info();
    println!(
        "joined {realm} at {url} as session {:?}",
        info.map(|i| i.session_id)
    );

    client.register("com.example.hello", |invocation| {
        let name: String = invocation.arg(0)?;
        let caller = invocation.details.caller_authid.clone().unwrap_or_default();
        CallResult::value(format!("Hello {name} (called by {caller})")).map_err(Into::into)
    })?;
    println!("registered com.example.hello");

    let greeting: String = client.call("com.example.hello", ("world",))?.arg(0)?;
    println!("called com.example.hello -> {greeting:?}");

    let (events, received) = mpsc::channel();
    client.subscribe("com.example.news", move |event| {
        let _ = events.send((event.args.clone(), event.kwargs.clone()));
    })?;
    println!("subscribed to com.example.news");

    let options = PublishOptions::new().acknowledge(true).exclude_me(false);
    let publication = client.publish_with("com.example.news", ("extra!",), (), &options)?;
    println!("published to com.example.news, publication id {publication:?}");

    match received.recv_timeout(Duration::from_secs(5)) {
        Ok((args, kwargs)) => println!("received event: args {args:?} kwargs {kwargs:?}"),
        Err(_) => {
            return Err(izaber_wamp::Error::Timeout {
                operation: "receive our own event".into(),
                after: Duration::from_secs(5),
            })
        }
    }

    client.close()?;
    println!("closed");
    Ok(())
}
