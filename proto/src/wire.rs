//! What the MessagePack and CBOR decoders share: a cursor over one frame that checks
//! every length and count read from the frame against what the rest of the frame can
//! hold before anything is allocated for it, limits nesting, and reports each error
//! with the byte offset where it was found.
//!
//! A count is checked against the bytes left *after* what the enclosing lists and
//! dicts still owe: every item takes at least one byte, so a list that claims more
//! items than there are bytes left for them is refused at its header. Otherwise each
//! of a hundred nested lists could reserve room for the whole rest of the frame.
//! With that rule the item slots reserved at any time add up to no more than the
//! frame's length.

use crate::value::{Dict, Value};
use std::fmt;

/// Deepest nesting of lists and dicts accepted, as for JSON.
pub(crate) const MAX_DEPTH: usize = 128;

/// Why a frame does not decode, and where.
#[derive(Debug)]
pub(crate) struct DecodeError {
    /// The byte offset in the frame where the problem was found.
    pub offset: usize,
    /// What was expected and what was found.
    pub detail: String,
}

pub(crate) type Result<T> = std::result::Result<T, DecodeError>;

/// Reads one value of a format from the cursor.
pub(crate) type ReadValue<'a> = fn(&mut Cursor<'a>) -> Result<Value>;

/// A position in one frame.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
    /// The least number of bytes the items still to come in the open lists and
    /// dicts need (one per item, two per dict entry), not counting the item being
    /// read.
    owed: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor {
            bytes,
            position: 0,
            owed: 0,
            depth: 0,
        }
    }

    /// The offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.position
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    /// An error at `offset`.
    pub(crate) fn error<T>(offset: usize, detail: impl Into<String>) -> Result<T> {
        Err(DecodeError {
            offset,
            detail: detail.into(),
        })
    }

    /// The next `n` bytes, which hold `what`.
    pub(crate) fn take(&mut self, n: usize, what: impl fmt::Display) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Self::error(
                self.position,
                format!(
                    "truncated: expected {what} of {n} bytes, found only {} more bytes",
                    self.remaining()
                ),
            );
        }
        let taken = &self.bytes[self.position..self.position + n];
        self.position += n;
        Ok(taken)
    }

    /// The next `N` bytes, which hold `what`.
    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// The next byte, which starts `what`.
    pub(crate) fn byte(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// The next byte, without moving past it.
    #[cfg(feature = "cbor")]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    /// `n` bytes of UTF-8 text, for the string whose header is at `at`.
    pub(crate) fn text(&mut self, at: usize, n: usize) -> Result<String> {
        let start = self.position;
        let bytes = self.take(n, format_args!("the string at byte {at}"))?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(e) => Self::error(
                start + e.valid_up_to(),
                format!("expected UTF-8 text in the string at byte {at}, found invalid UTF-8"),
            ),
        }
    }

    /// Opens a list or dict at `at` that claims `count` items of at least
    /// `item_size` bytes each.
    fn open(&mut self, at: usize, what: &str, count: usize, item_size: usize) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Self::error(at, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let room = self.remaining().saturating_sub(self.owed) / item_size;
        if count > room {
            return Self::error(
                at,
                format!(
                    "truncated: the {what} at byte {at} claims {count} items, but the rest of \
                     the frame has room for at most {room}"
                ),
            );
        }
        self.depth += 1;
        self.owed += count * item_size;
        Ok(())
    }

    /// A list at `at` of `count` items, each read by `item`.
    pub(crate) fn list(&mut self, at: usize, count: usize, item: ReadValue<'a>) -> Result<Value> {
        self.open(at, "list", count, 1)?;
        // `open` checked that the frame has a byte for each item.
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            self.owed -= 1;
            items.push(item(self)?);
        }
        self.depth -= 1;
        Ok(Value::List(items))
    }

    /// A dict at `at` of `count` entries, keys and values each read by `item`.
    pub(crate) fn dict(&mut self, at: usize, count: usize, item: ReadValue<'a>) -> Result<Value> {
        self.open(at, "dict", count, 2)?;
        let mut dict = Dict::new();
        for _ in 0..count {
            self.owed -= 1;
            let key = self.key(item)?;
            self.owed -= 1;
            dict.insert(key, item(self)?);
        }
        self.depth -= 1;
        Ok(Value::Dict(dict))
    }

    #[cfg(feature = "cbor")]
    /// A list at `at` of items up to the byte `end` (CBOR's indefinite length).
    pub(crate) fn list_until(&mut self, at: usize, end: u8, item: ReadValue<'a>) -> Result<Value> {
        self.open(at, "list", 0, 1)?;
        let mut items = Vec::new();
        while !self.at_end_marker(at, "list", end)? {
            items.push(item(self)?);
        }
        self.depth -= 1;
        Ok(Value::List(items))
    }

    #[cfg(feature = "cbor")]
    /// A dict at `at` of entries up to the byte `end` (CBOR's indefinite length).
    pub(crate) fn dict_until(&mut self, at: usize, end: u8, item: ReadValue<'a>) -> Result<Value> {
        self.open(at, "dict", 0, 2)?;
        let mut dict = Dict::new();
        while !self.at_end_marker(at, "dict", end)? {
            let key = self.key(item)?;
            dict.insert(key, item(self)?);
        }
        self.depth -= 1;
        Ok(Value::Dict(dict))
    }

    #[cfg(feature = "cbor")]
    /// Moves past `end` if it is next; an error if the frame ends first.
    fn at_end_marker(&mut self, at: usize, what: &str, end: u8) -> Result<bool> {
        match self.peek() {
            Some(byte) if byte == end => {
                self.position += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Self::error(
                self.position,
                format!(
                    "truncated: expected an item or the end of the {what} at byte {at}, found \
                     the end of the frame"
                ),
            ),
        }
    }

    /// A dict key: WAMP keys are strings.
    fn key(&mut self, item: ReadValue<'a>) -> Result<String> {
        let at = self.position;
        match item(self)? {
            Value::String(key) => Ok(key),
            other => Self::error(
                at,
                format!(
                    "dictionary keys must be strings: expected a string key, found {} {}",
                    article(other.type_name()),
                    other.type_name()
                ),
            ),
        }
    }

    /// The value read, if it fills the whole frame.
    pub(crate) fn finish(self, value: Value) -> Result<Value> {
        match self.remaining() {
            0 => Ok(value),
            extra => Self::error(self.position, format!("{extra} bytes after the message")),
        }
    }
}

/// "a" or "an" for a type name.
fn article(name: &str) -> &'static str {
    match name.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}
