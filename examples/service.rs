//! A long-running service: once joined it registers `test.call` (answers with its own
//! args and kwargs) and subscribes to `test.sub` (logs each event). It survives router
//! restarts: the client reconnects and restores both by itself, so the join hook only
//! sets them up on the first join. It leaves cleanly on Ctrl-C or SIGTERM.
//!
//! ```text
//! RUST_LOG=info cargo run --example service   # connection from izaber.yaml or IZABER_YAML
//! ```

mod common;

use izaber_wamp::{CallResult, Wamp};
use std::sync::Once;

fn main() {
    common::main(run);
}

fn set_up(wamp: &Wamp) -> izaber_wamp::Result<()> {
    wamp.register("test.call", |inv| {
        Ok(CallResult::from_values(inv.args, inv.kwargs))
    })?;
    wamp.subscribe("test.sub", |event| {
        log::info!("event on test.sub: {:?} {:?}", event.args, event.kwargs)
    })?;
    Ok(())
}

fn run() -> izaber_wamp::Result<()> {
    static SET_UP: Once = Once::new();
    izaber_wamp::on_join(|wamp, session| {
        eprintln!(
            "joined as session {} ({:?})",
            session.session_id, session.authid
        );
        SET_UP.call_once(|| {
            if let Err(e) = set_up(wamp) {
                log::error!("setting up the service failed: {e}");
            }
        });
    });
    izaber_wamp::on_leave(|_, why| eprintln!("left the session: {why}"));
    izaber_wamp::initialize()?;
    common::wait_for_shutdown()?;
    izaber_wamp::wamp()?.close()
}
