//! `wamp session`: join, print who we are as the router sees it, leave.

use super::Context;
use crate::failure::Failure;
use crate::stop::Outcome;
use crate::{json, output};
use izaber_wamp::{Error, SessionId, SessionInfo, Value};
use serde::Serialize;

/// The session as printed.
#[derive(Serialize)]
struct SessionLine<'s> {
    session: SessionId,
    realm: &'s str,
    authid: Option<&'s str>,
    authrole: Option<&'s str>,
    authmethod: Option<&'s str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authprovider: Option<&'s str>,
    /// The router's roles and their features, as WELCOME announced them.
    roles: serde_json::Value,
}

impl<'s> SessionLine<'s> {
    fn new(info: &'s SessionInfo) -> Self {
        SessionLine {
            session: info.session_id,
            realm: &info.realm,
            authid: info.authid.as_deref(),
            authrole: info.authrole.as_deref(),
            authmethod: info.authmethod.as_deref(),
            authprovider: info.details.get("authprovider").and_then(Value::as_str),
            roles: info
                .details
                .get("roles")
                .map_or(serde_json::Value::Null, json::value),
        }
    }
}

pub fn run(context: &Context) -> Result<Outcome, Failure> {
    let client = context.connect()?;
    // Connecting returns once joined; the session ends only if the router ends it.
    let info = client.session_info().ok_or_else(|| {
        Failure::connecting(Error::ConnectionLost(
            "the session ended right after joining".into(),
        ))
    })?;
    output::written(output::line(
        &mut std::io::stdout().lock(),
        &SessionLine::new(&info),
    ))?;
    Ok(Outcome::Done)
}
