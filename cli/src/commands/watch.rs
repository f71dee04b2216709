//! For the long-running commands: the connection's ups and downs on stderr, and the
//! end of the command when the connection is gone for good.
//!
//! The library reconnects and restores registrations and subscriptions by itself;
//! this only tells the user, and ends the command (exit 3) once reconnecting is off
//! or has given up.

use crate::failure::Failure;
use crate::stop::Stopper;
use izaber_wamp::{ClientConfig, ConnectionState, Error};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Adds the hooks to `config`, before connecting, so they see every join.
pub fn watch(config: &mut ClientConfig, stopper: Stopper) {
    let url = config.url.clone();
    let joins = AtomicU64::new(0);
    config.hooks.on_join(move |_, session| {
        if joins.fetch_add(1, Ordering::Relaxed) > 0 {
            eprintln!(
                "wamp: rejoined as session {}; registrations and subscriptions restored",
                session.session_id
            );
        }
    });
    let last_loss = Arc::new(Mutex::new(None::<String>));
    let loss = Arc::clone(&last_loss);
    config.hooks.on_leave(move |_, why| {
        if !matches!(why, Error::Closed) {
            eprintln!("wamp: session ended: {why}");
            *loss.lock().unwrap_or_else(PoisonError::into_inner) = Some(why.to_string());
        }
    });
    config.hooks.on_state_change(move |_, state| match state {
        ConnectionState::Reconnecting => eprintln!("wamp: reconnecting to {url}"),
        ConnectionState::Closed => {
            let why = last_loss
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or_else(|| "reconnecting is off or gave up".into());
            // When we close it ourselves, the command has already ended.
            stopper.end(Err(Failure::ConnectionEnded(format!(
                "the connection to {url} is closed for good: {why}"
            ))));
        }
        _ => {}
    });
}
