//! Publishes its command-line arguments as the event's args to `test.sub` (under
//! `uri_base`), acknowledged, and prints the publication ID.
//!
//! ```text
//! cargo run --example publish -- hello world
//! ```

mod common;

use izaber_wamp::PublishOptions;

fn main() {
    common::main(run);
}

fn run() -> izaber_wamp::Result<()> {
    izaber_wamp::initialize()?;
    let wamp = izaber_wamp::wamp()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let acknowledged = PublishOptions::new().acknowledge(true);
    let publication = wamp.publish_with("test.sub", args, (), &acknowledged)?;
    if let Some(id) = publication {
        println!("{id}");
    }
    wamp.close()
}
