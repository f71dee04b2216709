//! Calls `auth.whoami` (under `uri_base`) and prints the result as JSON.
//!
//! The connection comes from `izaber.yaml` (or the `IZABER_YAML` variable):
//! ```text
//! IZABER_YAML="$(cat izaber.yaml)" cargo run --example call
//! ```

mod common;

fn main() {
    common::main(run);
}

fn run() -> izaber_wamp::Result<()> {
    izaber_wamp::initialize()?;
    let wamp = izaber_wamp::wamp()?;
    let result = wamp.call("auth.whoami", ())?;
    let json = serde_json::json!({ "args": result.args, "kwargs": result.kwargs });
    println!("{json}");
    wamp.close()
}
