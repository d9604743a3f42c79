//! Splits a JSON document's top level into members and array elements, so that each STIX
//! object is parsed on its own from a byte slice.
//!
//! serde_json's reader-based deserializer pulls input one byte at a time through `io::Read`,
//! which measured at about 4 ns per byte here — more than half the cost of a whole indicator.
//! This scanner only tracks strings and bracket depth to find where each value ends, copies
//! its bytes into a reused buffer and hands them to `serde_json::from_slice`, which validates
//! them fully. Memory stays at one object at a time, whatever the document size.
//!
//! Positions in errors are the document's (1-based line and column), including errors that
//! serde_json finds inside an object.

use std::io::{BufRead, ErrorKind};

use serde_json::{Map, Value};

use crate::formats::FormatError;

/// The largest single value accepted (the biggest ATT&CK objects are a few hundred KiB).
pub const MAX_VALUE_BYTES: usize = 64 * 1024 * 1024;

/// What the top level turned out to be once its objects were streamed.
pub(super) enum Shape {
    /// A JSON array: its elements were streamed.
    Array,
    /// A JSON object: every member but a streamed `objects` array is kept in `rest`.
    Map {
        rest: Map<String, Value>,
        streamed: bool,
    },
    /// A string, number, boolean or null.
    Scalar(Value),
}

/// Reads one document, calling `element` for each element of a top-level array or of the
/// top-level object's `objects` array.
pub(super) fn read_document(
    input: &mut dyn BufRead,
    element: &mut dyn FnMut(Value),
) -> Result<Shape, FormatError> {
    let mut scanner = Scanner {
        input,
        line: 1,
        column: 1,
        buffer: Vec::with_capacity(4096),
    };
    scanner.skip_whitespace()?;
    let shape = match scanner.peek()? {
        None => return Err(scanner.eof_error("EOF while parsing a value")),
        Some(b'[') => {
            scanner.bump(1);
            scanner.elements(element)?;
            Shape::Array
        }
        Some(b'{') => {
            scanner.bump(1);
            scanner.members(element)?
        }
        Some(_) => Shape::Scalar(scanner.value()?),
    };
    scanner.skip_whitespace()?;
    if scanner.peek()?.is_some() {
        return Err(scanner.syntax_error("trailing characters"));
    }
    Ok(shape)
}

struct Scanner<'r> {
    input: &'r mut dyn BufRead,
    /// Position of the next unread byte.
    line: usize,
    column: usize,
    /// The bytes of the value being read, reused from one value to the next.
    buffer: Vec<u8>,
}

impl Scanner<'_> {
    fn fill(&mut self) -> Result<&[u8], FormatError> {
        loop {
            match self.input.fill_buf() {
                Ok(_) => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(FormatError::Io(err)),
            }
        }
        // Buffered now; asking again returns the same bytes without reading.
        self.input.fill_buf().map_err(FormatError::Io)
    }

    fn peek(&mut self) -> Result<Option<u8>, FormatError> {
        Ok(self.fill()?.first().copied())
    }

    /// Consumes `count` bytes of the current buffer, keeping the position.
    fn bump(&mut self, count: usize) {
        if let Ok(bytes) = self.input.fill_buf() {
            let taken = &bytes[..count.min(bytes.len())];
            advance_position(&mut self.line, &mut self.column, taken);
        }
        self.input.consume(count);
    }

    fn syntax_error(&self, reason: &str) -> FormatError {
        FormatError::Syntax {
            line: self.line,
            column: self.column,
            reason: reason.to_owned(),
        }
    }

    /// Like serde_json, an early end is reported at the last byte read.
    fn eof_error(&self, reason: &str) -> FormatError {
        FormatError::Syntax {
            line: self.line,
            column: self.column.saturating_sub(1),
            reason: reason.to_owned(),
        }
    }

    fn skip_whitespace(&mut self) -> Result<(), FormatError> {
        loop {
            let bytes = self.fill()?;
            if bytes.is_empty() {
                return Ok(());
            }
            let blank = bytes
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .count();
            let reached_content = blank < bytes.len();
            self.bump(blank);
            if reached_content {
                return Ok(());
            }
        }
    }

    /// Array elements after the `[`, up to and including the `]`.
    fn elements(&mut self, element: &mut dyn FnMut(Value)) -> Result<(), FormatError> {
        self.skip_whitespace()?;
        if self.peek()? == Some(b']') {
            self.bump(1);
            return Ok(());
        }
        loop {
            self.skip_whitespace()?;
            let value = self.value()?;
            element(value);
            self.skip_whitespace()?;
            match self.peek()? {
                Some(b',') => {
                    self.bump(1);
                    self.skip_whitespace()?;
                    if self.peek()? == Some(b']') {
                        return Err(self.syntax_error("trailing comma"));
                    }
                }
                Some(b']') => {
                    self.bump(1);
                    return Ok(());
                }
                Some(_) => return Err(self.syntax_error("expected `,` or `]`")),
                None => return Err(self.eof_error("EOF while parsing a list")),
            }
        }
    }

    /// Object members after the `{`, up to and including the `}`.
    fn members(&mut self, element: &mut dyn FnMut(Value)) -> Result<Shape, FormatError> {
        let mut rest = Map::new();
        let mut streamed = false;
        self.skip_whitespace()?;
        if self.peek()? == Some(b'}') {
            self.bump(1);
            return Ok(Shape::Map { rest, streamed });
        }
        loop {
            self.skip_whitespace()?;
            match self.peek()? {
                Some(b'"') => {}
                Some(_) => return Err(self.syntax_error("key must be a string")),
                None => return Err(self.eof_error("EOF while parsing an object")),
            }
            let key = match self.value()? {
                Value::String(key) => key,
                _ => return Err(self.syntax_error("key must be a string")),
            };
            self.skip_whitespace()?;
            match self.peek()? {
                Some(b':') => self.bump(1),
                Some(_) => return Err(self.syntax_error("expected `:`")),
                None => return Err(self.eof_error("EOF while parsing an object")),
            }
            self.skip_whitespace()?;
            if key == "objects" && self.peek()? == Some(b'[') {
                self.bump(1);
                self.elements(element)?;
                streamed = true;
            } else {
                let value = self.value()?;
                rest.insert(key, value);
            }
            self.skip_whitespace()?;
            match self.peek()? {
                Some(b',') => {
                    self.bump(1);
                    self.skip_whitespace()?;
                    if self.peek()? == Some(b'}') {
                        return Err(self.syntax_error("trailing comma"));
                    }
                }
                Some(b'}') => {
                    self.bump(1);
                    return Ok(Shape::Map { rest, streamed });
                }
                Some(_) => return Err(self.syntax_error("expected `,` or `}`")),
                None => return Err(self.eof_error("EOF while parsing an object")),
            }
        }
    }

    /// Reads one value starting at the next byte and parses it.
    fn value(&mut self) -> Result<Value, FormatError> {
        let start = (self.line, self.column);
        if self
            .fill()?
            .first()
            .is_some_and(|b| matches!(b, b'{' | b'[' | b'"'))
        {
            // Usually the whole value is in the reader's buffer: parse it in place.
            let bytes = self.input.fill_buf().map_err(FormatError::Io)?;
            let mut end = ValueEnd::starting_with(bytes[0]);
            if let Some(length) = end.scan(bytes) {
                let parsed = serde_json::from_slice(&bytes[..length]);
                advance_position(&mut self.line, &mut self.column, &bytes[..length]);
                self.input.consume(length);
                return parsed.map_err(|err| document_error(&err, start));
            }
        }
        self.buffer.clear();
        let mut end = ValueEnd::default();
        let mut first = true;
        loop {
            let bytes = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(FormatError::Io(err)),
            };
            if bytes.is_empty() {
                // Unbalanced: serde_json below names the first error, which may well be
                // before the end (a missing quote sends the scan to the end of input).
                break;
            }
            if first {
                end = ValueEnd::starting_with(bytes[0]);
                first = false;
            }
            let found = end.scan(bytes);
            let taken = found.unwrap_or(bytes.len());
            if self.buffer.len() + taken > MAX_VALUE_BYTES {
                return Err(FormatError::Invalid(format!(
                    "value at line {}, column {} is larger than {} MiB",
                    start.0,
                    start.1,
                    MAX_VALUE_BYTES >> 20
                )));
            }
            self.buffer.extend_from_slice(&bytes[..taken]);
            advance_position(&mut self.line, &mut self.column, &bytes[..taken]);
            self.input.consume(taken);
            if found.is_some() {
                break;
            }
        }
        if self.buffer.is_empty() {
            return Err(FormatError::Syntax {
                line: start.0,
                column: start.1,
                reason: "expected value".into(),
            });
        }
        let delimiter = if end.scalar { self.peek()? } else { None };
        serde_json::from_slice(&self.buffer).map_err(|err| match delimiter {
            Some(delimiter) if err.is_eof() => {
                // A scalar cut short by a delimiter (`-,`, `tru]`): serde_json reports the
                // delimiter, having read it (a newline moves it to column 0 of the next line).
                let reason = if matches!(self.buffer[0], b'-' | b'0'..=b'9') {
                    "invalid number"
                } else {
                    "expected ident"
                };
                let (line, column) = if delimiter == b'\n' {
                    (self.line + 1, 0)
                } else {
                    (self.line, self.column)
                };
                FormatError::Syntax {
                    line,
                    column,
                    reason: reason.into(),
                }
            }
            _ => document_error(&err, start),
        })
    }
}

/// A serde_json error in a value that starts at `start` (line, column), placed in the document.
fn document_error(err: &serde_json::Error, start: (usize, usize)) -> FormatError {
    if err.is_io() || err.is_data() {
        return FormatError::Invalid(err.to_string());
    }
    let FormatError::Syntax {
        line,
        column,
        reason,
    } = FormatError::from_json(err)
    else {
        return FormatError::from_json(err);
    };
    // serde_json counts from the start of this value; make it the document's.
    let (line, column) = if line <= 1 {
        (start.0, start.1 + column.saturating_sub(1))
    } else {
        (start.0 + line - 1, column)
    };
    FormatError::Syntax {
        line,
        column,
        reason,
    }
}

fn advance_position(line: &mut usize, column: &mut usize, bytes: &[u8]) {
    match memchr::memrchr(b'\n', bytes) {
        Some(last) => {
            *line += memchr::memchr_iter(b'\n', &bytes[..=last]).count();
            *column = bytes.len() - last;
        }
        None => *column += bytes.len(),
    }
}

/// Where a JSON value ends: tracks strings, escapes and bracket depth, and nothing else.
#[derive(Default)]
struct ValueEnd {
    depth: u32,
    in_string: bool,
    escaped: bool,
    scalar: bool,
    /// The first byte has been seen (it decides the kind).
    started: bool,
}

impl ValueEnd {
    fn starting_with(first: u8) -> ValueEnd {
        ValueEnd {
            scalar: !matches!(first, b'{' | b'[' | b'"'),
            ..ValueEnd::default()
        }
    }

    /// The index just past the value's end in `bytes`, or `None` if it goes on.
    fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        if self.scalar {
            return bytes.iter().position(|b| {
                matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' | b':')
            });
        }
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            if !self.started {
                self.started = true;
                match byte {
                    b'"' => self.in_string = true,
                    _ => self.depth = 1,
                }
                index += 1;
                continue;
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    index += 1;
                    continue;
                }
                // Most of a STIX object is string content: jump to the next quote or
                // backslash instead of stepping through it.
                index += memchr::memchr2(b'"', b'\\', &bytes[index..])?;
                if bytes[index] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(index + 1);
                    }
                }
                index += 1;
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Some(index + 1);
                    }
                }
                _ => {}
            }
            index += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    /// Reads `document` through a tiny buffer so that values straddle buffer boundaries.
    fn read(document: &str, capacity: usize) -> Result<(Vec<Value>, Shape), FormatError> {
        let mut input = BufReader::with_capacity(capacity, document.as_bytes());
        let mut elements = Vec::new();
        let shape = read_document(&mut input, &mut |value| elements.push(value))?;
        Ok((elements, shape))
    }

    #[test]
    fn streams_elements_of_arrays_and_of_objects_members() {
        let document = r#" { "type" : "bundle", "objects": [ {"a": "x\"]}"}, [1, {"b": []}], "s\\", 12.5e3, null ],
            "id": "bundle--1" } "#;
        for capacity in [1, 2, 3, 7, 64, 8192] {
            let (elements, shape) = read(document, capacity).unwrap();
            assert_eq!(
                elements,
                [
                    serde_json::json!({"a": "x\"]}"}),
                    serde_json::json!([1, {"b": []}]),
                    serde_json::json!("s\\"),
                    serde_json::json!(12.5e3),
                    Value::Null
                ],
                "capacity {capacity}"
            );
            let Shape::Map { rest, streamed } = shape else {
                panic!("expected an object")
            };
            assert!(streamed);
            assert_eq!(
                Value::Object(rest),
                serde_json::json!({"type": "bundle", "id": "bundle--1"})
            );
        }
        let (elements, shape) = read("[]", 1).unwrap();
        assert!(elements.is_empty() && matches!(shape, Shape::Array));
        let (_, shape) = read(r#"{"objects": {"0": {}}}"#, 4).unwrap();
        assert!(matches!(
            shape,
            Shape::Map {
                streamed: false,
                ..
            }
        ));
        let (_, shape) = read(" 42 ", 4).unwrap();
        assert!(matches!(shape, Shape::Scalar(Value::Number(_))));
    }

    #[test]
    fn errors_carry_document_positions() {
        let cases = [
            ("", 1, 0),
            ("[1 2]", 1, 4),
            ("{\"a\": 1 \"b\": 2}", 1, 9),
            ("{\"objects\": [\n  {\"type\": \"x\",, }]}", 2, 16),
            ("[1,]", 1, 4),
            ("[,1]", 1, 2),
            ("[\n {\"a\":\n   tru }]", 3, 7),
            ("[{\"a\": 1}", 1, 9),
            ("{\"a\" 1}", 1, 6),
            ("{1: 2}", 1, 2),
            ("[1] x", 1, 5),
            ("[\"abc", 1, 5),
            ("{\"a\": 1,}", 1, 9),
        ];
        for (document, line, column) in cases {
            let whole = serde_json::from_str::<Value>(document).unwrap_err();
            assert_eq!(
                (whole.line(), whole.column()),
                (line, column),
                "{document:?}: serde_json says {whole}"
            );
            for capacity in [1, 3, 8192] {
                match read(document, capacity) {
                    Err(FormatError::Syntax {
                        line: l,
                        column: c,
                        reason,
                    }) => {
                        assert_eq!(
                            (l, c),
                            (line, column),
                            "{document:?} (capacity {capacity}): {reason}"
                        )
                    }
                    Err(other) => panic!("{document:?}: {other}"),
                    Ok(_) => panic!("{document:?}: parsed"),
                }
            }
        }
    }

    /// Mutated documents are accepted or refused exactly as serde_json refuses the whole
    /// document, at the same position.
    #[test]
    fn agrees_with_serde_json_on_mutated_documents() {
        let seed = r#"{"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "indicator", "id": "indicator--1", "pattern": "[url:value = 'http://a.example/\"x']", "labels": ["a", "b"]},
  {"type": "x-custom", "id": "x-custom--1", "nested": {"list": [1, -2.5e3, true, null, {}], "s": "\u00e9\n"}}
]}"#;
        let alphabet = [
            b'{', b'}', b'[', b']', b'"', b'\\', b',', b':', b' ', b'\n', b'1', b'e', b'-', b'x',
            0xc3,
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut agreed_errors = 0;
        for _ in 0..5_000 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                    _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let whole = serde_json::from_slice::<Value>(&bytes);
            let capacity = if next() % 2 == 0 {
                1 + (next() as usize) % 64
            } else {
                8192
            };
            let mut input = BufReader::with_capacity(capacity, bytes.as_slice());
            let framed = read_document(&mut input, &mut |_| {});
            match (whole, framed) {
                (Ok(_), Ok(_)) => {}
                (
                    Err(expected),
                    Err(FormatError::Syntax {
                        line,
                        column,
                        reason,
                    }),
                ) => {
                    let text = String::from_utf8_lossy(&bytes);
                    assert_eq!(
                        (line, column),
                        (expected.line(), expected.column()),
                        "{text}\n{reason} vs {expected}"
                    );
                    agreed_errors += 1;
                }
                (whole, framed) => {
                    panic!(
                        "{}\nserde_json: {whole:?}\nframed: {:?}",
                        String::from_utf8_lossy(&bytes),
                        framed.err()
                    )
                }
            }
        }
        assert!(agreed_errors > 1000, "{agreed_errors}");
    }
}
