//! Why a command failed, the exit code scripts see for it, and the one line on stderr
//! that explains it.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the router or the callee answered with an error (and any failure not below) |
//! | 2 | usage or configuration error: flags, izaber.yaml, arguments, files, secrets |
//! | 3 | could not connect or authenticate, or the connection was lost for good |
//! | 4 | a request timed out |
//! | 130 | interrupted (Ctrl-C, SIGTERM) during a one-shot command |

use crate::json;
use izaber_wamp::{Error, WampError};
use std::fmt;

/// Exit code: the router or callee answered with an error.
pub const EXIT_ERROR_REPLY: u8 = 1;
/// Exit code: usage or configuration error (clap's own code for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: could not connect or authenticate.
pub const EXIT_CONNECT: u8 = 3;
/// Exit code: timeout.
pub const EXIT_TIMEOUT: u8 = 4;
/// Exit code: interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Where in its life the command was when the library failed: the same error means
/// "could not connect" while connecting and something else afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connecting and joining.
    Connect,
    /// A request on the joined session.
    Request,
}

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// Usage or configuration: the invocation itself is wrong; retrying cannot help.
    Usage(String),
    /// The library failed.
    Wamp {
        /// What was being done, e.g. `call com.example.add`.
        doing: String,
        error: Error,
        phase: Phase,
    },
    /// The connection ended for good (reconnecting is off or gave up).
    ConnectionEnded(String),
    /// Something local failed, e.g. writing stdout.
    Local(String),
}

impl Failure {
    /// A usage or configuration failure.
    pub fn usage(message: impl fmt::Display) -> Failure {
        Failure::Usage(message.to_string())
    }

    /// A library failure while connecting.
    pub fn connecting(error: Error) -> Failure {
        Failure::Wamp {
            doing: String::new(),
            error,
            phase: Phase::Connect,
        }
    }

    /// A library failure while doing `doing` on the joined session.
    pub fn request(doing: impl Into<String>, error: Error) -> Failure {
        Failure::Wamp {
            doing: doing.into(),
            error,
            phase: Phase::Request,
        }
    }

    /// The process's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Wamp { error, phase, .. } => error_exit_code(error, *phase),
            Failure::ConnectionEnded(_) => EXIT_CONNECT,
            Failure::Local(_) => EXIT_ERROR_REPLY,
        }
    }

    /// The one line for stderr (without the `wamp: ` in front). A WAMP error shows
    /// its URI, then its args and kwargs as JSON.
    pub fn message(&self) -> String {
        match self {
            Failure::Usage(m) | Failure::ConnectionEnded(m) | Failure::Local(m) => m.clone(),
            Failure::Wamp {
                error: Error::Wamp(wamp),
                ..
            } => error_reply_line(wamp),
            Failure::Wamp { doing, error, .. } if doing.is_empty() => error.to_string(),
            Failure::Wamp { doing, error, .. } => match error {
                // The library's message already names the operation.
                Error::Timeout { .. } => error.to_string(),
                _ => format!("{doing}: {error}"),
            },
        }
    }

    /// More detail for `-v`: the error as the library describes it, field by field.
    /// The library keeps secrets out of its errors, `Debug` included.
    pub fn detail(&self) -> Option<String> {
        match self {
            Failure::Wamp { error, .. } => Some(format!("{error:?}")),
            _ => None,
        }
    }
}

/// `URI ARGS KWARGS`, the payload as compact JSON.
fn error_reply_line(error: &WampError) -> String {
    format!(
        "{} {} {}",
        error.uri,
        json::list(&error.args),
        json::dict(&error.kwargs)
    )
}

/// The exit code of a library error in `phase`.
///
/// While connecting, everything but a configuration this build or these settings
/// cannot use means "could not connect or authenticate" (3), a connect timeout
/// included: a script asks "is the router there?" and "did the call take too long?"
/// separately.
fn error_exit_code(error: &Error, phase: Phase) -> u8 {
    match error {
        Error::Config(_)
        | Error::FeatureDisabled { .. }
        | Error::InvalidUri(_)
        | Error::InvalidOption { .. }
        | Error::Serialization(_)
        | Error::PayloadTooLarge { .. } => EXIT_USAGE,
        _ if phase == Phase::Connect => EXIT_CONNECT,
        Error::Wamp(_) => EXIT_ERROR_REPLY,
        Error::Timeout { .. } => EXIT_TIMEOUT,
        Error::Connect { .. }
        | Error::Abort { .. }
        | Error::ClientAbort { .. }
        | Error::ConnectionLost(_)
        | Error::Closed
        | Error::NotConnected(_)
        | Error::ProtocolViolation(_) => EXIT_CONNECT,
        _ => EXIT_ERROR_REPLY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use izaber_wamp::Value;
    use std::time::Duration;

    fn timeout() -> Error {
        Error::Timeout {
            operation: "call com.example.slow".into(),
            after: Duration::from_secs(1),
        }
    }

    #[test]
    fn library_errors_map_to_the_documented_exit_codes() {
        let wamp = Error::Wamp(WampError::new("com.example.error"));
        let abort = Error::Abort {
            reason: "wamp.error.not_authorized".into(),
            message: None,
        };
        let connect = Error::Connect {
            url: "ws://127.0.0.1:1".into(),
            detail: "refused".into(),
            kind: izaber_wamp::ConnectFailure::Refused,
            io_kind: Some(std::io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(Failure::request("call", wamp).exit_code(), 1);
        assert_eq!(Failure::request("call", timeout()).exit_code(), 4);
        assert_eq!(Failure::connecting(timeout()).exit_code(), 3);
        assert_eq!(Failure::connecting(abort).exit_code(), 3);
        assert_eq!(Failure::connecting(connect).exit_code(), 3);
        let lost = Error::ConnectionLost("gone".into());
        assert_eq!(Failure::request("call", lost).exit_code(), 3);
        let config = Error::Config("bad".into());
        assert_eq!(Failure::connecting(config).exit_code(), 2);
        assert_eq!(Failure::usage("no").exit_code(), 2);
    }

    #[test]
    fn an_error_reply_shows_its_uri_then_args_and_kwargs_as_json() {
        let error = WampError::new("com.example.error")
            .with_args(vec![Value::from("bad thing"), Value::Int(42)])
            .with_kwargs([("detail".to_string(), Value::from("x"))].into());
        let failure = Failure::request("call com.example.fail", Error::Wamp(error));
        assert_eq!(
            failure.message(),
            r#"com.example.error ["bad thing",42] {"detail":"x"}"#
        );
    }

    #[test]
    fn other_errors_say_what_was_being_done() {
        let failure = Failure::request("publish com.example.x", Error::Closed);
        assert_eq!(
            failure.message(),
            "publish com.example.x: the client is closed"
        );
        assert_eq!(
            Failure::request("call com.example.slow", timeout()).message(),
            "call com.example.slow timed out after 1s"
        );
    }
}
