//! The joined session, as the router described it.

use crate::proto::id::SessionId;
use crate::proto::value::{Dict, Value};

/// The joined session, as the router described it in WELCOME.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// if let Some(session) = client.session_info() {
///     println!("session {} as {:?}", session.session_id, session.authid);
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session ID.
    pub session_id: SessionId,
    /// The realm joined.
    pub realm: String,
    /// The authid the router assigned.
    pub authid: Option<String>,
    /// The authrole the router assigned.
    pub authrole: Option<String>,
    /// The authentication method used.
    pub authmethod: Option<String>,
    /// All WELCOME details.
    pub details: Dict,
}

impl SessionInfo {
    pub(crate) fn from_welcome(session_id: u64, details: Dict) -> Self {
        let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
        SessionInfo {
            session_id: SessionId::new(session_id),
            realm: text("realm").unwrap_or_default(),
            authid: text("authid"),
            authrole: text("authrole"),
            authmethod: text("authmethod"),
            details: details.clone(),
        }
    }
}
