//! Arguments from the command line: `ARG` and `-k KEY=VALUE` become WAMP values.
//!
//! Each text is JSON when it parses as JSON, else a string, so `2` is a number, `Ada`
//! a string and `'"2"'` the string `2`. `@FILE` reads the value from a file and `-`
//! from stdin (once), with the same rule; content that is not UTF-8 is sent as binary.
//! Text read from a file or stdin loses its trailing newlines when it is taken as a
//! string, as `$(...)` does in a shell.

use crate::args::PayloadArgs;
use crate::failure::Failure;
use izaber_wamp::{Dict, Value};
use std::io::Read;

/// Positional and keyword arguments, ready to send.
#[derive(Debug, Default, PartialEq)]
pub struct Payload {
    pub args: Vec<Value>,
    pub kwargs: Dict,
}

/// Reads the payload given on the command line; `stdin` is read at most once.
pub fn payload(given: &PayloadArgs, stdin: &mut impl Read) -> Result<Payload, Failure> {
    let mut reader = Reader {
        stdin,
        stdin_used: false,
    };
    let args = given
        .args
        .iter()
        .map(|text| reader.value(text))
        .collect::<Result<_, _>>()?;
    let mut kwargs = Dict::new();
    for pair in &given.kwargs {
        let Some((key, text)) = pair.split_once('=') else {
            return Err(Failure::usage(format!(
                "keyword argument {pair:?} is not KEY=VALUE"
            )));
        };
        if key.is_empty() {
            return Err(Failure::usage(format!(
                "keyword argument {pair:?} has no name"
            )));
        }
        kwargs.insert(key.to_owned(), reader.value(text)?);
    }
    Ok(Payload { args, kwargs })
}

struct Reader<'s, R> {
    stdin: &'s mut R,
    stdin_used: bool,
}

impl<R: Read> Reader<'_, R> {
    /// One argument: `-`, `@FILE`, or the text itself.
    fn value(&mut self, text: &str) -> Result<Value, Failure> {
        if text == "-" {
            if std::mem::replace(&mut self.stdin_used, true) {
                return Err(Failure::usage("stdin (-) can be given only once"));
            }
            let mut bytes = Vec::new();
            self.stdin
                .read_to_end(&mut bytes)
                .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
            return Ok(content(bytes));
        }
        if let Some(path) = text.strip_prefix('@') {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::usage(format!("cannot read {path}: {e}")))?;
            return Ok(content(bytes));
        }
        Ok(parse(text))
    }
}

/// Text given on the command line: JSON, else a string.
pub fn parse(text: &str) -> Value {
    match serde_json::from_str::<serde_json::Value>(text) {
        // JSON numbers, strings, lists and objects all have a WAMP value.
        Ok(json) => izaber_wamp::to_value(&json).unwrap_or_else(|_| Value::from(text)),
        Err(_) => Value::from(text),
    }
}

/// The content of a file, stdin or a command's stdout: JSON, else a string without its trailing
/// newlines, else (not UTF-8) binary.
pub fn content(bytes: Vec<u8>) -> Value {
    match String::from_utf8(bytes) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(_) => parse(&text),
            Err(_) => Value::from(text.trim_end_matches(['\n', '\r'])),
        },
        Err(not_text) => Value::bytes(not_text.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(args: &[&str], kwargs: &[&str]) -> PayloadArgs {
        PayloadArgs {
            args: args.iter().map(|s| s.to_string()).collect(),
            kwargs: kwargs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn read(args: &[&str], kwargs: &[&str], stdin: &str) -> Result<Payload, Failure> {
        payload(&given(args, kwargs), &mut stdin.as_bytes())
    }

    #[test]
    fn json_when_it_parses_else_a_string() {
        let p = read(
            &[
                "2",
                "3.5",
                "Ada",
                r#""2""#,
                "[1,\"x\"]",
                "null",
                "true",
                "{\"a\":1}",
            ],
            &[],
            "",
        )
        .expect("payload");
        let object = Value::Dict(Dict::from([("a".to_string(), Value::Int(1))]));
        assert_eq!(
            p.args,
            vec![
                Value::Int(2),
                Value::Float(3.5),
                Value::from("Ada"),
                Value::from("2"),
                Value::List(vec![Value::Int(1), Value::from("x")]),
                Value::Null,
                Value::Bool(true),
                object,
            ]
        );
    }

    #[test]
    fn keywords_split_at_the_first_equals_sign() {
        let p = read(&[], &["greeting=Hi", "n=2", "eq=a=b"], "").expect("payload");
        assert_eq!(p.kwargs.get("greeting"), Some(&Value::from("Hi")));
        assert_eq!(p.kwargs.get("n"), Some(&Value::Int(2)));
        assert_eq!(p.kwargs.get("eq"), Some(&Value::from("a=b")));
        assert!(read(&[], &["novalue"], "").is_err());
        assert!(read(&[], &["=1"], "").is_err());
    }

    #[test]
    fn stdin_is_read_once_and_text_loses_its_trailing_newline() {
        let p = read(&["-"], &[], "hello\n").expect("payload");
        assert_eq!(p.args, vec![Value::from("hello")]);
        let p = read(&[], &["doc=-"], "{\"x\": [1]}\n").expect("payload");
        let expected = Dict::from([("x".to_string(), Value::List(vec![Value::Int(1)]))]);
        assert_eq!(p.kwargs.get("doc"), Some(&Value::Dict(expected)));
        let twice = read(&["-", "-"], &[], "1").expect_err("twice");
        assert_eq!(twice.message(), "stdin (-) can be given only once");
    }

    #[test]
    fn files_give_json_text_or_bytes() {
        let dir = std::env::temp_dir().join(format!("wamp-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let json = dir.join("v.json");
        let text = dir.join("v.txt");
        let binary = dir.join("v.bin");
        std::fs::write(&json, "[1, 2]\n").expect("write");
        std::fs::write(&text, "line one\nline two\n").expect("write");
        std::fs::write(&binary, [0xff, 0x00, 0x01]).expect("write");
        let at = |p: &std::path::Path| format!("@{}", p.display());
        let p = read(&[&at(&json), &at(&text), &at(&binary)], &[], "").expect("payload");
        assert_eq!(
            p.args,
            vec![
                Value::List(vec![Value::Int(1), Value::Int(2)]),
                Value::from("line one\nline two"),
                Value::bytes(vec![0xff, 0x00, 0x01]),
            ]
        );
        let missing = read(&["@/nonexistent/file"], &[], "").expect_err("missing");
        assert!(missing
            .message()
            .starts_with("cannot read /nonexistent/file"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
