//! Line-at-a-time reading shared by the text decoders, and `text`, the fallback decoder that
//! keeps each line whole as `message` so any text log can still be searched.

use std::borrow::Cow;
use std::io::BufRead;

use serde_json::{Map, Value};

use super::{DecodeError, Decoder, Head, Input, Sink};
use crate::event::{Event, EventRef, Locator};

/// Longer lines are hostile or not logs; they are reported, not buffered without bound.
pub(crate) const MAX_LINE: usize = 1024 * 1024;

/// One line handed to a line decoder.
pub(crate) struct Line<'a> {
    pub number: u64,
    pub text: Cow<'a, str>,
}

/// Calls `each` for every non-blank line (1-based numbers count blank lines too; `\r\n` and
/// invalid UTF-8 are tolerated). A line over [`MAX_LINE`] becomes an error for that line.
pub(crate) fn for_each_line(
    input: &mut Input<'_>,
    decoder: &'static str,
    sink: &mut dyn Sink,
    mut each: impl FnMut(Line<'_>, &mut dyn Sink),
) -> Result<(), DecodeError> {
    let mut buffer = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        buffer.clear();
        let (read, overlong) = read_line(input.reader, &mut buffer)
            .map_err(|error| DecodeError::io(input.name, error))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if overlong {
            sink.error(DecodeError::record(
                input.name,
                Locator::Line(number),
                decoder,
                format!("line longer than {MAX_LINE} bytes"),
            ));
            continue;
        }
        let mut end = buffer.len();
        while end > 0 && matches!(buffer[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        let bytes = &buffer[..end];
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        each(Line { number, text }, sink);
    }
}

/// Reads up to and including the next `\n`, keeping at most [`MAX_LINE`] bytes. Returns the
/// bytes consumed and whether the line was cut.
fn read_line(reader: &mut dyn BufRead, buffer: &mut Vec<u8>) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut overlong = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok((consumed, overlong));
        }
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..=at], true),
            None => (available, false),
        };
        let room = MAX_LINE.saturating_sub(buffer.len());
        if chunk.len() > room {
            overlong = true;
        }
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let length = chunk.len();
        reader.consume(length);
        consumed += length;
        if done {
            return Ok((consumed, overlong));
        }
    }
}

/// A new event for line `number` of `input`.
pub(crate) fn line_event(input: &str, number: u64, format: impl Into<String>) -> Event {
    Event {
        reference: EventRef {
            source: input.to_owned(),
            locator: Locator::Line(number),
        },
        format: format.into(),
        time: None,
        fields: Map::new(),
    }
}

/// Runs a line parser over the input: `Ok` lines become events, `Err` messages errors.
pub(crate) fn decode_lines(
    mut input: Input<'_>,
    decoder: &'static str,
    sink: &mut dyn Sink,
    mut parse: impl FnMut(&str, &mut Event) -> Result<(), String>,
) -> Result<(), DecodeError> {
    let name = input.name;
    for_each_line(&mut input, decoder, sink, |line, sink| {
        let mut event = line_event(name, line.number, decoder);
        match parse(&line.text, &mut event) {
            Ok(()) => sink.event(event),
            Err(message) => sink.error(DecodeError::record(
                name,
                Locator::Line(line.number),
                decoder,
                message,
            )),
        }
    })
}

/// Whether the start of an input looks like text rather than binary data.
pub(crate) fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    // Non-UTF-8 text (Latin-1 syslog) is still text; control bytes other than whitespace are
    // what binary formats are made of.
    !bytes
        .iter()
        .any(|byte| *byte < 0x20 && !matches!(byte, b'\n' | b'\r' | b'\t'))
}

/// The fallback: each line as `message`.
pub(crate) struct Lines;

impl Decoder for Lines {
    fn name(&self) -> &'static str {
        "text"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        u8::from(looks_like_text(head.bytes))
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        decode_lines(input, "text", sink, |line, event| {
            event
                .fields
                .insert("message".into(), Value::String(line.to_owned()));
            Ok(())
        })
    }
}
