//! Registers `example.hello`, which greets its caller, and a prefix registration on
//! `example.prefix` that answers with the procedure actually called; runs until Ctrl-C.
//!
//! ```text
//! cargo run --example register        # connection from izaber.yaml or IZABER_YAML
//! ```

mod common;

use izaber_wamp::{CallResult, MatchPolicy, RegisterOptions};

fn main() {
    common::main(run);
}

fn run() -> izaber_wamp::Result<()> {
    izaber_wamp::initialize()?;
    let wamp = izaber_wamp::wamp()?;
    let force = RegisterOptions::new().force_reregister(true);
    wamp.register_with("example.hello", &force, |inv| {
        let who = inv.details.caller_authid.as_deref().unwrap_or("stranger");
        let role = inv.details.caller_authrole.as_deref().unwrap_or("unknown");
        Ok(CallResult::value(format!("Hello {who} (role: {role})!"))?)
    })?;
    let prefix = RegisterOptions::new()
        .match_policy(MatchPolicy::Prefix)
        .force_reregister(true);
    wamp.register_with("example.prefix", &prefix, |inv| {
        Ok(CallResult::value(&inv.details.procedure)?)
    })?;
    println!(
        "registered {} and {} (prefix)",
        wamp.full_uri("example.hello"),
        wamp.full_uri("example.prefix")
    );
    common::wait_for_shutdown()?;
    wamp.close()
}
