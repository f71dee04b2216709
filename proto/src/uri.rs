//! Client-side URI checks (the spec's loose rules).
//!
//! Crossbar drops the whole connection, not just the request, when a CALL carries a
//! malformed URI, so every URI is checked before it leaves the client.

use std::fmt;

/// How a registration or subscription URI is matched by the router.
///
/// ```
/// use izaber_wamp_proto::uri::validate;
/// use izaber_wamp_proto::MatchPolicy;
///
/// assert_eq!(MatchPolicy::default(), MatchPolicy::Exact);
/// assert_eq!(MatchPolicy::Wildcard.as_str(), "wildcard");
/// // Empty components are a wildcard's holes, and an error otherwise.
/// assert!(validate("com..update", MatchPolicy::Wildcard).is_ok());
/// assert!(validate("com..update", MatchPolicy::Exact).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum MatchPolicy {
    /// The URI must equal the procedure or topic (the default).
    #[default]
    Exact,
    /// The URI is a prefix of the procedure or topic.
    Prefix,
    /// Empty URI components match any component.
    Wildcard,
}

impl MatchPolicy {
    /// The value of the `match` option on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchPolicy::Exact => "exact",
            MatchPolicy::Prefix => "prefix",
            MatchPolicy::Wildcard => "wildcard",
        }
    }
}

/// Why a URI was refused.
///
/// ```
/// use izaber_wamp_proto::uri::validate;
/// use izaber_wamp_proto::MatchPolicy;
///
/// let err = validate("com.example.#1", MatchPolicy::Exact).unwrap_err();
/// assert_eq!(err.uri, "com.example.#1");
/// assert_eq!(err.reason, "it contains '#'");
/// assert_eq!(err.to_string(), r#"invalid URI "com.example.#1": it contains '#'"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriError {
    /// The URI as given.
    pub uri: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid URI {:?}: {}", self.uri, self.reason)
    }
}

impl std::error::Error for UriError {}

/// Checks a URI under the loose rules: components are separated by `.` and contain
/// no whitespace or `#`; components may be empty only with `match: wildcard`, and a
/// prefix pattern may end with a dot.
///
/// # Errors
///
/// A [`UriError`] naming the URI and the rule it breaks: it is empty (allowed only
/// as a prefix), contains whitespace or `#`, or has an empty component without
/// `match: wildcard`.
///
/// ```
/// use izaber_wamp_proto::uri::validate;
/// use izaber_wamp_proto::MatchPolicy;
///
/// assert!(validate("com.example.add", MatchPolicy::Exact).is_ok());
/// assert!(validate("com.example.", MatchPolicy::Prefix).is_ok());
/// assert!(validate("com.example.", MatchPolicy::Exact).is_err());
/// assert!(validate("com.example add", MatchPolicy::Exact).is_err());
/// ```
pub fn validate(uri: &str, policy: MatchPolicy) -> Result<(), UriError> {
    let fail = |reason| {
        Err(UriError {
            uri: uri.to_owned(),
            reason,
        })
    };
    if uri.is_empty() && policy != MatchPolicy::Prefix {
        return fail("it is empty");
    }
    let scan = Scan::of(uri);
    if scan.whitespace || (!uri.is_ascii() && uri.chars().any(char::is_whitespace)) {
        return fail("it contains whitespace");
    }
    if scan.hash {
        return fail("it contains '#'");
    }
    // A prefix may end with an empty component ("com.example."), nothing else may.
    let empty_last = scan.ends_after_dot && policy != MatchPolicy::Prefix;
    if (scan.empty_inner || empty_last) && policy != MatchPolicy::Wildcard {
        return fail("it has an empty component (allowed only with match: wildcard)");
    }
    Ok(())
}

/// What one pass over a URI's bytes finds. URIs are checked before every request, so
/// this is one loop rather than a split per rule.
struct Scan {
    /// ASCII whitespace (what `char::is_whitespace` accepts below 128).
    whitespace: bool,
    hash: bool,
    /// An empty component before the last: a leading dot or two dots in a row.
    empty_inner: bool,
    /// The last component is empty: the URI is empty or ends with a dot.
    ends_after_dot: bool,
}

impl Scan {
    fn of(uri: &str) -> Scan {
        let mut scan = Scan {
            whitespace: false,
            hash: false,
            empty_inner: false,
            ends_after_dot: true,
        };
        for &byte in uri.as_bytes() {
            match byte {
                b'.' => {
                    scan.empty_inner |= scan.ends_after_dot;
                    scan.ends_after_dot = true;
                    continue;
                }
                b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => scan.whitespace = true,
                b'#' => scan.hash = true,
                _ => {}
            }
            scan.ends_after_dot = false;
        }
        scan
    }
}

/// True when the URI is in the `wamp.` namespace, which routers reserve for themselves:
/// a user may call such procedures but not register or publish them.
pub fn is_reserved(uri: &str) -> bool {
    uri == "wamp" || uri.starts_with("wamp.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_uris() {
        for uri in ["com.example.add", "a", "Com.Example-dash.x", "x.y_z.1"] {
            assert_eq!(validate(uri, MatchPolicy::Exact), Ok(()), "{uri}");
        }
    }

    #[test]
    fn rejects_whitespace_hash_and_empty_components() {
        for uri in [
            "",
            "com. example",
            "com.exa#mple",
            "com..x",
            ".com",
            "com.",
            "a\tb",
        ] {
            assert!(validate(uri, MatchPolicy::Exact).is_err(), "{uri:?}");
        }
    }

    #[test]
    fn wildcard_allows_empty_components() {
        assert_eq!(validate("com..event", MatchPolicy::Wildcard), Ok(()));
        assert_eq!(validate(".x.", MatchPolicy::Wildcard), Ok(()));
        assert!(validate("com. .event", MatchPolicy::Wildcard).is_err());
    }

    #[test]
    fn prefix_allows_a_trailing_dot_only() {
        assert_eq!(validate("com.example.", MatchPolicy::Prefix), Ok(()));
        assert!(validate("com..example", MatchPolicy::Prefix).is_err());
    }

    #[test]
    fn error_names_the_uri_and_the_reason() {
        let err = validate("bad uri", MatchPolicy::Exact).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid URI \"bad uri\": it contains whitespace"
        );
    }

    /// The rules as first written, one pass per rule: the single-pass `validate` must
    /// agree with it on every short string over the characters that matter.
    fn validate_rule_by_rule(uri: &str, policy: MatchPolicy) -> Result<(), &'static str> {
        if uri.is_empty() && policy != MatchPolicy::Prefix {
            return Err("it is empty");
        }
        if uri.chars().any(char::is_whitespace) {
            return Err("it contains whitespace");
        }
        if uri.contains('#') {
            return Err("it contains '#'");
        }
        let components: Vec<&str> = uri.split('.').collect();
        let has_empty = components.iter().enumerate().any(|(i, component)| {
            let last = i + 1 == components.len();
            component.is_empty() && !(policy == MatchPolicy::Prefix && last)
        });
        if has_empty && policy != MatchPolicy::Wildcard {
            return Err("it has an empty component (allowed only with match: wildcard)");
        }
        Ok(())
    }

    #[test]
    fn single_pass_agrees_with_the_rules_one_by_one() {
        let alphabet = ["a", ".", " ", "#", "\u{a0}", "\u{b}", "\u{2003}"];
        let mut uris = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = uris
                .iter()
                .flat_map(|uri| alphabet.iter().map(move |c| format!("{uri}{c}")))
                .collect();
            uris.extend(longer);
        }
        uris.dedup();
        for uri in &uris {
            for policy in [
                MatchPolicy::Exact,
                MatchPolicy::Prefix,
                MatchPolicy::Wildcard,
            ] {
                assert_eq!(
                    validate(uri, policy).map_err(|e| e.reason),
                    validate_rule_by_rule(uri, policy),
                    "{uri:?} {policy:?}"
                );
            }
        }
    }

    #[test]
    fn wamp_namespace_is_reserved() {
        assert!(is_reserved("wamp.session.count"));
        assert!(!is_reserved("wampish.x"));
    }
}
