//! Authentication: what goes into HELLO and how a CHALLENGE is answered.
//!
//! Each method is an [`Authenticator`]; a session offers the methods of all the
//! authenticators it was given, in order, and answers a CHALLENGE with the one whose
//! method the router picked. New methods plug in by implementing the trait.

use crate::value::{Dict, Value};
use std::fmt;

/// One authentication method.
///
/// Implementations must keep secrets out of their `Debug` output.
pub trait Authenticator: fmt::Debug + Send + Sync {
    /// The method name sent in `HELLO.Details.authmethods`, e.g. `"ticket"`.
    fn method(&self) -> &str;

    /// The `authid` to announce, if this method has one.
    fn authid(&self) -> Option<&str> {
        None
    }

    /// Entries this method adds to `HELLO.Details.authextra`.
    fn authextra(&self) -> Dict {
        Dict::new()
    }

    /// Answers `CHALLENGE.Extra` with the AUTHENTICATE signature and extra dict.
    fn authenticate(&self, challenge: &Dict) -> Result<(String, Dict), String>;
}

/// Anonymous login: no credentials; the router assigns an authid.
#[derive(Debug, Clone, Default)]
pub struct Anonymous;

impl Authenticator for Anonymous {
    fn method(&self) -> &str {
        "anonymous"
    }

    fn authenticate(&self, _challenge: &Dict) -> Result<(String, Dict), String> {
        Err("the router sent a challenge for anonymous login".into())
    }
}

/// Ticket login: sends the ticket (password) in clear text, so use it over TLS.
#[derive(Clone)]
pub struct Ticket {
    authid: String,
    ticket: String,
}

impl Ticket {
    /// Ticket credentials for `authid`.
    pub fn new(authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        Ticket {
            authid: authid.into(),
            ticket: ticket.into(),
        }
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("authid", &self.authid)
            .field("ticket", &"<redacted>")
            .finish()
    }
}

impl Authenticator for Ticket {
    fn method(&self) -> &str {
        "ticket"
    }

    fn authid(&self) -> Option<&str> {
        Some(&self.authid)
    }

    fn authenticate(&self, _challenge: &Dict) -> Result<(String, Dict), String> {
        Ok((self.ticket.clone(), Dict::new()))
    }
}

/// Adds `authmethods`, `authid` and `authextra` for the given authenticators to HELLO details.
pub(crate) fn add_hello_details(details: &mut Dict, auth: &[std::sync::Arc<dyn Authenticator>]) {
    if auth.is_empty() {
        return;
    }
    let methods = auth.iter().map(|a| Value::from(a.method())).collect();
    details.insert("authmethods".into(), Value::List(methods));
    if let Some(authid) = auth.iter().find_map(|a| a.authid()) {
        details.insert("authid".into(), Value::from(authid));
    }
    let mut extra = Dict::new();
    for a in auth {
        extra.extend(a.authextra());
    }
    if !extra.is_empty() {
        details.insert("authextra".into(), Value::Dict(extra));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn ticket_answers_with_the_ticket_and_hides_it_in_debug() {
        let t = Ticket::new("joe", "s3cret");
        assert_eq!(t.authenticate(&Dict::new()).unwrap().0, "s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn hello_lists_methods_in_order_with_the_authid() {
        let auth: Vec<Arc<dyn Authenticator>> =
            vec![Arc::new(Ticket::new("joe", "x")), Arc::new(Anonymous)];
        let mut details = Dict::new();
        add_hello_details(&mut details, &auth);
        assert_eq!(
            details.get("authmethods"),
            Some(&Value::List(vec!["ticket".into(), "anonymous".into()]))
        );
        assert_eq!(details.get("authid"), Some(&Value::from("joe")));
        assert!(!details.contains_key("authextra"));
    }
}
