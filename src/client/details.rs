//! What handlers learn from INVOCATION and EVENT details, type-checked.

use crate::proto::id::{PublicationId, SessionId};
use crate::proto::value::{Dict, Value};

/// Details of an invocation, from INVOCATION.Details, type-checked: a value of the
/// wrong type is logged and left out (`None`), never replaced by another. `raw` keeps
/// everything as received.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// use izaber_wamp::{CallResult, MatchPolicy, RegisterOptions};
///
/// let prefix = RegisterOptions::new().match_policy(MatchPolicy::Prefix);
/// client.register_with("com.example.files.", &prefix, |inv| {
///     // e.g. com.example.files.read
///     let procedure = inv.details.procedure.clone().unwrap_or_default();
///     let caller = inv.details.caller_authid.as_deref().unwrap_or("(not disclosed)");
///     Ok(CallResult::value(format!("{caller} called {procedure}"))?)
/// })?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InvocationDetails {
    /// The concrete procedure called: differs from the registered URI for prefix and
    /// wildcard registrations (the registered URI when the router does not say; `None`
    /// only when the router sent something that is not a string).
    pub procedure: Option<String>,
    /// The caller's session ID, when the router discloses it.
    pub caller: Option<SessionId>,
    /// The caller's authid, when disclosed.
    pub caller_authid: Option<String>,
    /// The caller's authrole, when disclosed.
    pub caller_authrole: Option<String>,
    /// All details as received.
    pub raw: Dict,
}

impl InvocationDetails {
    pub(crate) fn from_raw(raw: Dict, registered: &str) -> Self {
        let field = Details::new(&raw, "INVOCATION");
        InvocationDetails {
            procedure: field.string_or("procedure", registered),
            caller: field.id("caller"),
            caller_authid: field.string("caller_authid"),
            caller_authrole: field.string("caller_authrole"),
            raw,
        }
    }
}

/// Reads typed fields of a details dict, logging (not replacing) malformed ones.
struct Details<'a> {
    raw: &'a Dict,
    message: &'static str,
}

impl<'a> Details<'a> {
    fn new(raw: &'a Dict, message: &'static str) -> Self {
        Details { raw, message }
    }

    fn typed<T>(&self, key: &str, what: &str, read: impl Fn(&Value) -> Option<T>) -> Option<T> {
        let value = self.raw.get(key)?;
        let read = read(value);
        if read.is_none() {
            log::warn!(
                "{} detail {key} is {value}, not {what}: left out",
                self.message
            );
        }
        read
    }

    fn string(&self, key: &str) -> Option<String> {
        self.typed(key, "a string", |v| v.as_str().map(str::to_owned))
    }

    /// The string `key`, or `absent` when the router did not send it.
    fn string_or(&self, key: &str, absent: &str) -> Option<String> {
        match self.raw.get(key) {
            None => Some(absent.to_owned()),
            Some(_) => self.string(key),
        }
    }

    fn id(&self, key: &str) -> Option<SessionId> {
        self.typed(key, "a session ID", |v| {
            v.as_u64()
                .filter(|&id| crate::proto::id::is_valid_id(id))
                .map(SessionId::new)
        })
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.typed(key, "true or false", |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }
}

/// Details of an event, from EVENT.Details, type-checked: a value of the wrong type
/// is logged and left out (`None`), never replaced by another. `raw` keeps everything
/// as received.
///
/// ```no_run
/// # let client: izaber_wamp::Client = unimplemented!();
/// use izaber_wamp::{MatchPolicy, SubscribeOptions};
///
/// let wildcard = SubscribeOptions::new().match_policy(MatchPolicy::Wildcard);
/// client.subscribe_with("com.example..status", &wildcard, |event| {
///     let details = &event.details;
///     println!(
///         "{:?} (publication {}, retained: {:?})",
///         details.topic, details.publication, details.retained
///     );
/// })?;
/// # Ok::<(), izaber_wamp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventDetails {
    /// The publication ID (the same for every copy of one publication).
    pub publication: PublicationId,
    /// The concrete topic: differs from the subscribed URI for pattern subscriptions
    /// (the subscribed URI when the router does not say; `None` only when the router
    /// sent something that is not a string).
    pub topic: Option<String>,
    /// The publisher's session ID, when the router discloses it.
    pub publisher: Option<SessionId>,
    /// The publisher's authid, when disclosed.
    pub publisher_authid: Option<String>,
    /// The publisher's authrole, when disclosed.
    pub publisher_authrole: Option<String>,
    /// `Some(true)` for a retained event delivered on subscribe; `None` when the
    /// router did not say.
    pub retained: Option<bool>,
    /// All details as received.
    pub raw: Dict,
}

impl EventDetails {
    pub(crate) fn from_raw(raw: Dict, publication: u64, subscribed: &str) -> Self {
        let field = Details::new(&raw, "EVENT");
        EventDetails {
            publication: PublicationId::new(publication),
            topic: field.string_or("topic", subscribed),
            publisher: field.id("publisher"),
            publisher_authid: field.string("publisher_authid"),
            publisher_authrole: field.string("publisher_authrole"),
            retained: field.flag("retained"),
            raw,
        }
    }
}
