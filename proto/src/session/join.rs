//! Joining: HELLO with our roles and authentication methods, the CHALLENGE answer, and
//! WELCOME.

use super::{CloseReason, Output, Session, State};
use crate::auth::add_hello_details;
use crate::message::Message;
use crate::value::{Dict, Value};

/// The features we announce per role in HELLO. Payload transparency goes by two
/// names: the spec's `payload_passthru_mode`, and `payload_transparency`, which
/// Crossbar.io and autobahn use.
const ROLES: [(&str, &[&str]); 4] = [
    (
        "caller",
        &[
            "call_canceling",
            "caller_identification",
            "progressive_call_results",
            "progressive_call_invocations",
            "payload_passthru_mode",
            "payload_transparency",
        ],
    ),
    (
        "callee",
        &[
            "call_canceling",
            "caller_identification",
            "pattern_based_registration",
            "shared_registration",
            "registration_revocation",
            "progressive_call_results",
            "progressive_call_invocations",
            "payload_passthru_mode",
            "payload_transparency",
        ],
    ),
    (
        "publisher",
        &[
            "publisher_exclusion",
            "publisher_identification",
            "subscriber_blackwhite_listing",
            "payload_passthru_mode",
            "payload_transparency",
        ],
    ),
    (
        "subscriber",
        &[
            "pattern_based_subscription",
            "publisher_identification",
            "subscription_revocation",
            "payload_passthru_mode",
            "payload_transparency",
        ],
    ),
];

impl<C: Clone> Session<C> {
    /// Queues HELLO; a HELLO that cannot be encoded ends the session at once.
    pub(super) fn hello(&mut self) {
        let hello = Message::Hello {
            realm: self.config.realm.clone(),
            details: self.hello_details(),
        };
        if let Err(e) = self.send(hello) {
            self.close(CloseReason::ClientAbort {
                reason: "wamp.error.invalid_argument".into(),
                message: format!("cannot send HELLO: {e}"),
            });
        }
    }

    fn hello_details(&self) -> Dict {
        let roles: Dict = ROLES
            .iter()
            .map(|(role, names)| {
                let flags: Dict = names
                    .iter()
                    .map(|n| (n.to_string(), Value::Bool(true)))
                    .collect();
                let features = Dict::from([("features".to_string(), Value::Dict(flags))]);
                (role.to_string(), Value::Dict(features))
            })
            .collect();
        let mut details = Dict::from([
            ("roles".to_string(), Value::Dict(roles)),
            ("agent".to_string(), Value::from(self.config.agent.as_str())),
        ]);
        add_hello_details(&mut details, &self.config.auth, &self.config.authextra);
        details
    }

    pub(super) fn joined(&mut self, session: u64, details: Dict) {
        self.state = State::Established;
        self.session_id = Some(session);
        self.router_roles = details
            .get("roles")
            .and_then(Value::as_dict)
            .cloned()
            .unwrap_or_default();
        self.outputs.push_back(Output::Joined { session, details });
    }

    /// Answers a CHALLENGE with the authenticator whose method the router picked.
    pub(super) fn challenged(&mut self, method: &str, extra: &Dict) {
        let answer = match self.config.auth.iter().find(|a| a.method() == method) {
            Some(auth) => auth.authenticate(extra),
            None => Err(format!(
                "the router asked for {method:?} authentication, which was not offered"
            )),
        };
        match answer {
            Ok((signature, extra)) => {
                if let Err(e) = self.send(Message::Authenticate {
                    signature: signature.into(),
                    extra,
                }) {
                    self.abort_join(format!("cannot send AUTHENTICATE: {e}"));
                }
            }
            Err(why) => self.abort_join(why),
        }
    }

    fn abort_join(&mut self, why: String) {
        let reason = "wamp.error.authentication_failed";
        self.abort(
            reason,
            &why.clone(),
            CloseReason::ClientAbort {
                reason: reason.into(),
                message: why,
            },
        );
    }
}
