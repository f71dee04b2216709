//! Writing to stdout: call results in the `--output` formats, and the JSON lines of
//! the long-running commands, each flushed at once.

use crate::args::OutputFormat;
use crate::failure::Failure;
use crate::json;
use izaber_wamp::{CallResult, Value};
use std::io::{self, Write};

/// Writes a call's result in `format`.
///
/// * `json`: a single positional result (and no keyword results) alone, else
///   `{"args": [...], "kwargs": {...}}`.
/// * `raw`: as `json`, but a single string result as its text and a single binary
///   result as its bytes.
/// * `lines`: each positional result on a line (a single list result: each item), then
///   each keyword result as `KEY=VALUE`; strings as text, the rest as JSON.
pub fn call_result(
    out: &mut impl Write,
    result: &CallResult,
    format: OutputFormat,
) -> io::Result<()> {
    let single = match (&result.args[..], result.kwargs.is_empty()) {
        ([only], true) => Some(only),
        _ => None,
    };
    match (format, single) {
        (OutputFormat::Raw, Some(Value::String(text))) => writeln!(out, "{text}")?,
        (OutputFormat::Raw, Some(Value::Bytes(bytes))) => out.write_all(bytes)?,
        (OutputFormat::Json | OutputFormat::Raw, Some(only)) => {
            writeln!(out, "{}", json::value(only))?;
        }
        (OutputFormat::Json | OutputFormat::Raw, None) => {
            let both = serde_json::json!({
                "args": json::list(&result.args),
                "kwargs": json::dict(&result.kwargs),
            });
            writeln!(out, "{both}")?;
        }
        (OutputFormat::Lines, _) => {
            let items = match &result.args[..] {
                [Value::List(items)] => items.as_slice(),
                all => all,
            };
            for item in items {
                writeln!(out, "{}", json::text(item))?;
            }
            for (key, value) in &result.kwargs {
                writeln!(out, "{key}={}", json::text(value))?;
            }
        }
    }
    out.flush()
}

/// Writes one JSON line and flushes it, so a pipe sees each line as it happens.
pub fn line(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Whether a write failed only because the reader went away (`wamp ... | head -1`):
/// that ends the command quietly, with success.
pub fn reader_gone(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// A write error as the command's result: a gone reader is no failure.
pub fn written(result: io::Result<()>) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if reader_gone(&e) => Ok(()),
        Err(e) => Err(Failure::Local(format!("cannot write to stdout: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use izaber_wamp::Dict;

    fn printed(args: Vec<Value>, kwargs: &[(&str, Value)], format: OutputFormat) -> String {
        let kwargs: Dict = kwargs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let result = CallResult::from_values(args, kwargs);
        let mut out = Vec::new();
        call_result(&mut out, &result, format).expect("write");
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn json_prints_a_single_result_alone_and_anything_else_in_full() {
        use OutputFormat::Json;
        assert_eq!(printed(vec![Value::Int(5)], &[], Json), "5\n");
        assert_eq!(printed(vec![Value::from("hi")], &[], Json), "\"hi\"\n");
        assert_eq!(printed(vec![], &[], Json), "{\"args\":[],\"kwargs\":{}}\n");
        assert_eq!(
            printed(vec![Value::Int(1), Value::Int(2)], &[], Json),
            "{\"args\":[1,2],\"kwargs\":{}}\n"
        );
        assert_eq!(
            printed(vec![Value::Int(1)], &[("k", Value::from("v"))], Json),
            "{\"args\":[1],\"kwargs\":{\"k\":\"v\"}}\n"
        );
    }

    #[test]
    fn raw_prints_text_and_bytes_as_they_are() {
        use OutputFormat::Raw;
        assert_eq!(printed(vec![Value::from("a \"q\"")], &[], Raw), "a \"q\"\n");
        assert_eq!(
            printed(vec![Value::bytes(b"\x01bin".to_vec())], &[], Raw),
            "\x01bin"
        );
        assert_eq!(printed(vec![Value::Int(7)], &[], Raw), "7\n");
        assert_eq!(
            printed(vec![Value::from("a"), Value::from("b")], &[], Raw),
            "{\"args\":[\"a\",\"b\"],\"kwargs\":{}}\n"
        );
    }

    #[test]
    fn lines_prints_one_result_per_line_then_the_keywords() {
        use OutputFormat::Lines;
        let list = Value::List(vec![Value::from("x"), Value::Int(2), Value::List(vec![])]);
        assert_eq!(printed(vec![list], &[], Lines), "x\n2\n[]\n");
        assert_eq!(
            printed(
                vec![Value::from("a"), Value::Int(1)],
                &[("k", Value::from("v")), ("n", Value::Null)],
                Lines
            ),
            "a\n1\nk=v\nn=null\n"
        );
    }
}
