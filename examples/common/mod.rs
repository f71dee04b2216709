//! Shared by the examples: logging and waiting for Ctrl-C or SIGTERM.

// Each example uses only part of this module.
#![allow(dead_code)]

use std::sync::mpsc;

/// Logs to stderr at the level in `RUST_LOG` (default: warnings).
fn init_logging() {
    let env = env_logger::Env::default().default_filter_or("warn");
    env_logger::Builder::from_env(env).init();
}

/// Blocks until the process gets Ctrl-C (SIGINT) or SIGTERM.
pub fn wait_for_shutdown() -> izaber_wamp::Result<()> {
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| izaber_wamp::Error::Config(format!("cannot install the Ctrl-C handler: {e}")))?;
    let _ = rx.recv();
    eprintln!("shutting down");
    Ok(())
}

/// The command line's arguments after the program name.
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// Registers `uri` (taking it over from any other session), says so on stdout and
/// serves it until Ctrl-C or SIGTERM.
pub fn serve(
    client: &izaber_wamp::Client,
    uri: &str,
    handler: impl Fn(izaber_wamp::Invocation) -> izaber_wamp::HandlerResult + Send + Sync + 'static,
) -> izaber_wamp::Result<()> {
    let options = izaber_wamp::RegisterOptions::new().force_reregister(true);
    client.register_with(uri, &options, handler)?;
    println!("serving {uri}");
    wait_for_shutdown()
}

/// Sets up logging and runs `body`; on failure prints the error and exits with status 1.
pub fn main(body: fn() -> izaber_wamp::Result<()>) {
    init_logging();
    if let Err(error) = body() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
