//! Callbacks for session life-cycle events.

use super::session_info::SessionInfo;
use super::Client;
use crate::error::Error;
use crate::event_loop::ConnectionState;
use parking_lot::RwLock;
use std::fmt;
use std::sync::Arc;

type JoinHook = Arc<dyn Fn(&Client, &SessionInfo) + Send + Sync>;
type LeaveHook = Arc<dyn Fn(&Client, &Error) + Send + Sync>;
type DisconnectHook = Arc<dyn Fn(&Client) + Send + Sync>;
type StateHook = Arc<dyn Fn(&Client, ConnectionState) + Send + Sync>;

#[derive(Default)]
struct HookLists {
    join: Vec<JoinHook>,
    leave: Vec<LeaveHook>,
    disconnect: Vec<DisconnectHook>,
    state: Vec<StateHook>,
}

/// A set of life-cycle callbacks, shared by every clone (cloning shares the set).
///
/// Hooks run on a handler thread, never on the I/O thread, so they may use the client.
/// Join hooks run after every join and rejoin, once the client has restored its
/// registrations and subscriptions.
///
/// ```
/// use izaber_wamp::ClientConfig;
/// let config = ClientConfig::new("ws://127.0.0.1:8080", "izaber");
/// config.hooks.on_join(|_client, session| println!("joined as session {}", session.session_id));
/// ```
#[derive(Clone, Default)]
pub struct Hooks {
    lists: Arc<RwLock<HookLists>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lists = self.lists.read();
        f.debug_struct("Hooks")
            .field("join", &lists.join.len())
            .field("leave", &lists.leave.len())
            .field("disconnect", &lists.disconnect.len())
            .field("state", &lists.state.len())
            .finish()
    }
}

impl Hooks {
    /// Runs `hook` after every join and rejoin, with the session's details.
    pub fn on_join(&self, hook: impl Fn(&Client, &SessionInfo) + Send + Sync + 'static) {
        self.lists.write().join.push(Arc::new(hook));
    }

    /// Runs `hook` when a joined session ends, with the reason.
    pub fn on_leave(&self, hook: impl Fn(&Client, &Error) + Send + Sync + 'static) {
        self.lists.write().leave.push(Arc::new(hook));
    }

    /// Runs `hook` when the connection to the router is gone.
    pub fn on_disconnect(&self, hook: impl Fn(&Client) + Send + Sync + 'static) {
        self.lists.write().disconnect.push(Arc::new(hook));
    }

    /// Runs `hook` on every change of [`ConnectionState`].
    pub fn on_state_change(&self, hook: impl Fn(&Client, ConnectionState) + Send + Sync + 'static) {
        self.lists.write().state.push(Arc::new(hook));
    }

    /// A job that runs the hooks for `event`, in the order they were added.
    pub(crate) fn job(&self, event: HookEvent) -> impl FnOnce(&Client) + Send + 'static {
        let lists = self.lists.read();
        let join = lists.join.clone();
        let leave = lists.leave.clone();
        let disconnect = lists.disconnect.clone();
        let state = lists.state.clone();
        move |client: &Client| {
            let guarded = |name: &str, run: &dyn Fn()| {
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err() {
                    log::error!("a {name} hook panicked");
                }
            };
            match &event {
                HookEvent::Join(info) => join
                    .iter()
                    .for_each(|h| guarded("join", &|| h(client, info))),
                HookEvent::Leave(why) => leave
                    .iter()
                    .for_each(|h| guarded("leave", &|| h(client, why))),
                HookEvent::Disconnect => disconnect
                    .iter()
                    .for_each(|h| guarded("disconnect", &|| h(client))),
                HookEvent::State(s) => state
                    .iter()
                    .for_each(|h| guarded("state", &|| h(client, *s))),
            }
        }
    }
}

/// A life-cycle event to report to hooks.
#[derive(Debug, Clone)]
pub(crate) enum HookEvent {
    Join(SessionInfo),
    Leave(Error),
    Disconnect,
    State(ConnectionState),
}
