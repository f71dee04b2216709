//! What the event loop shows of the connection to the layers above, without its lock.

use crate::error::Error;
use crate::proto::value::Dict;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the connection is in its life.
///
/// ```no_run
/// use izaber_wamp::{Client, ClientConfig, ConnectionState};
///
/// let config = ClientConfig::new("ws://127.0.0.1:8080", "izaber");
/// config.hooks.on_state_change(|_client, state| {
///     if state == ConnectionState::Reconnecting {
///         eprintln!("connection lost, reconnecting");
///     }
/// });
/// let client = Client::connect(config)?;
/// if client.state() == ConnectionState::Joined {
///     println!("joined as session {:?}", client.session_id());
/// }
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Connecting or joining for the first time.
    Connecting,
    /// The session is joined; requests go straight out.
    Joined,
    /// The connection was lost and is being re-established.
    Reconnecting,
    /// Closed for good (by the user, or because reconnecting is off or gave up).
    Closed,
}

/// The joined session: its ID and the router's WELCOME details.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Joined {
    pub session_id: u64,
    pub details: Dict,
}

/// The connection's state, counters and end, shared with the client handle.
#[derive(Debug)]
pub(crate) struct Status {
    pub session: Mutex<Option<Joined>>,
    pub state: Mutex<ConnectionState>,
    /// Why the loop stopped, once it has.
    pub ended: Mutex<Option<Error>>,
    pub counters: Counters,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            session: Mutex::new(None),
            state: Mutex::new(ConnectionState::Connecting),
            ended: Mutex::new(None),
            counters: Counters::default(),
        }
    }
}

/// Message and request counters, updated by the event loop.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub messages_sent: AtomicU64,
    pub messages_received: AtomicU64,
    /// Of `messages_received`, those read by a caller waiting for its answer.
    pub read_by_callers: AtomicU64,
    pub calls: AtomicU64,
    pub invocations: AtomicU64,
    pub publications: AtomicU64,
    pub events: AtomicU64,
    pub errors: AtomicU64,
    pub reconnections: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value of `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
