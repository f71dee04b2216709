//! Subscribes to `test.sub` (under `uri_base`) and prints each event's args and
//! kwargs as one JSON line; runs until Ctrl-C.
//!
//! ```text
//! cargo run --example subscribe       # connection from izaber.yaml or IZABER_YAML
//! ```

mod common;

fn main() {
    common::main(run);
}

fn run() -> izaber_wamp::Result<()> {
    izaber_wamp::initialize()?;
    let wamp = izaber_wamp::wamp()?;
    wamp.subscribe("test.sub", |event| {
        println!(
            "{}",
            serde_json::json!({ "args": event.args, "kwargs": event.kwargs })
        );
    })?;
    eprintln!("listening on {}", wamp.full_uri("test.sub"));
    common::wait_for_shutdown()?;
    wamp.close()
}
