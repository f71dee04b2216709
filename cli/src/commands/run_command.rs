//! Answering an invocation by running a command, as autobahn's `wamp register` does.
//!
//! The command gets the invocation as JSON on stdin and the arguments in the
//! environment (`WAMP_ARGS`, `WAMP_KWARGS` as JSON, their `_JSON` twins under
//! autobahn's names, and `WAMP_PROCEDURE`). Its stdout is the result: JSON when it
//! parses, else the text without trailing newlines, else (not UTF-8) bytes; nothing
//! when empty. A non-zero exit, or death by a signal, answers with an ERROR carrying
//! its stderr.

use crate::failure::Failure;
use crate::{input, json};
use izaber_wamp::{
    CallResult, Dict, HandlerError, HandlerResult, Invocation, SessionId, Value, WampError,
};
use serde::Serialize;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// A command to run per invocation.
#[derive(Debug)]
pub struct CommandLine {
    program: String,
    args: Vec<String>,
    /// The URI of the ERROR a failed run answers with.
    error_uri: String,
}

/// The invocation as the command reads it on stdin.
#[derive(Serialize)]
struct InvocationJson<'i> {
    procedure: &'i str,
    args: serde_json::Value,
    kwargs: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller: Option<SessionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_authid: Option<&'i str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_authrole: Option<&'i str>,
}

impl CommandLine {
    /// The command line after `--`; `None` when there is none. A program that cannot
    /// be found is a usage error now rather than an ERROR for every caller later.
    pub fn new(mut words: Vec<String>, error_uri: String) -> Result<Option<Self>, Failure> {
        if words.is_empty() {
            return Ok(None);
        }
        let program = words.remove(0);
        if !can_be_found(&program) {
            return Err(Failure::usage(format!(
                "command {program:?} not found (neither a file nor on PATH)"
            )));
        }
        Ok(Some(CommandLine {
            program,
            args: words,
            error_uri,
        }))
    }

    /// Runs the command for `invocation` and makes its answer.
    pub fn answer(&self, invocation: &Invocation) -> HandlerResult {
        let details = &invocation.details;
        // Only a router sending a malformed procedure leaves it unknown.
        let procedure = details.procedure.as_deref().unwrap_or_default();
        let args = json::list(&invocation.args);
        let kwargs = json::dict(&invocation.kwargs);
        let stdin = serde_json::to_vec(&InvocationJson {
            procedure,
            args: args.clone(),
            kwargs: kwargs.clone(),
            caller: details.caller,
            caller_authid: details.caller_authid.as_deref(),
            caller_authrole: details.caller_authrole.as_deref(),
        })
        .map_err(HandlerError::failed)?;
        let (args, kwargs) = (args.to_string(), kwargs.to_string());
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .env("WAMP_ARGS", &args)
            .env("WAMP_KWARGS", &kwargs)
            .env("WAMP_ARGS_JSON", &args)
            .env("WAMP_KWARGS_JSON", &kwargs)
            .env("WAMP_PROCEDURE", procedure)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.failed(format!("cannot run {}: {e}", self.program), Dict::new()))?;
        if let Some(mut pipe) = child.stdin.take() {
            // On its own thread: a command may write a lot before it reads, or never read.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&stdin);
            });
        }
        let output = child
            .wait_with_output()
            .map_err(|e| self.failed(format!("{} failed: {e}", self.program), Dict::new()))?;
        self.result(procedure, output)
    }

    /// The answer for the command's output.
    fn result(&self, procedure: &str, output: Output) -> HandlerResult {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            // What the command says on stderr is the operator's, not the caller's.
            eprint!("{stderr}");
            if output.stdout.iter().all(u8::is_ascii_whitespace) {
                return Ok(CallResult::empty());
            }
            let value = input::content(output.stdout);
            return Ok(CallResult::from_values(vec![value], Default::default()));
        }
        let (key, number) = exit_of(&output.status);
        eprintln!(
            "wamp: {} answered {procedure} with an error ({key} {number})",
            self.program
        );
        let kwargs = Dict::from([(key.to_string(), Value::Int(number))]);
        Err(self.failed(stderr.trim_end().to_owned(), kwargs))
    }

    fn failed(&self, message: String, kwargs: Dict) -> HandlerError {
        HandlerError::Wamp(
            WampError::new(self.error_uri.clone())
                .with_args(vec![Value::from(message)])
                .with_kwargs(kwargs),
        )
    }
}

/// `("exit_code", N)`, or `("signal", N)` for a command killed by a signal.
fn exit_of(status: &std::process::ExitStatus) -> (&'static str, i64) {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ("signal", i64::from(signal));
        }
    }
    ("exit_code", i64::from(status.code().unwrap_or(-1)))
}

/// Whether `program` names a file, or a file on `PATH`.
fn can_be_found(program: &str) -> bool {
    let path = std::path::Path::new(program);
    if path.components().count() > 1 {
        return path.is_file();
    }
    if cfg!(not(unix)) {
        return true; // PATHEXT and friends: let the spawn tell
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &[&str]) -> CommandLine {
        CommandLine::new(
            words.iter().map(|s| s.to_string()).collect(),
            "com.example.failed".into(),
        )
        .expect("found")
        .expect("a command")
    }

    #[test]
    fn a_missing_program_is_a_usage_error_and_no_program_means_echo() {
        let missing = CommandLine::new(vec!["no-such-program-xyz".into()], String::new())
            .expect_err("missing");
        assert_eq!(missing.exit_code(), 2);
        assert!(CommandLine::new(vec![], String::new())
            .expect("fine")
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn stdout_is_the_result_and_a_failure_is_an_error_with_stderr() {
        use std::os::unix::process::ExitStatusExt;
        let sh = command(&["sh"]);
        let ok = |stdout: &[u8]| Output {
            status: std::process::ExitStatus::from_raw(0),
            stdout: stdout.to_vec(),
            stderr: Vec::new(),
        };
        let result = sh.result("p", ok(b"{\"n\": 1}\n")).expect("ok");
        let expected = Dict::from([("n".to_string(), Value::Int(1))]);
        assert_eq!(result.args, vec![Value::Dict(expected)]);
        let result = sh.result("p", ok(b"plain text\n")).expect("ok");
        assert_eq!(result.args, vec![Value::from("plain text")]);
        assert_eq!(sh.result("p", ok(b"\n")).expect("ok"), CallResult::empty());

        let failed = Output {
            status: std::process::ExitStatus::from_raw(3 << 8),
            stdout: b"ignored".to_vec(),
            stderr: b"it broke\n".to_vec(),
        };
        let Err(HandlerError::Wamp(error)) = sh.result("p", failed) else {
            panic!("not a WAMP error")
        };
        assert_eq!(error.uri, "com.example.failed");
        assert_eq!(error.args, vec![Value::from("it broke")]);
        assert_eq!(error.kwargs.get("exit_code"), Some(&Value::Int(3)));
    }
}
