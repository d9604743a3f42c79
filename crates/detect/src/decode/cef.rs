//! ArcSight Common Event Format: `CEF:0|vendor|product|version|class id|name|severity|ext`,
//! alone or after a syslog header. Header fields become `cefVersion`, `deviceVendor`,
//! `deviceProduct`, `deviceVersion`, `deviceEventClassId`, `name`, `severity`; extension keys
//! (`src`, `dst`, `shost`, `request`, `fileHash`, …) become fields of their own name. Escapes:
//! `\|` and `\\` in the header; `\=`, `\\`, `\n`, `\r` in extension values. The event time is
//! the `rt` extension (epoch milliseconds or `MMM dd yyyy HH:mm:ss`), else the syslog time.

use std::borrow::Cow;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::lines::decode_lines;
use super::syslog::parse_header;
use super::{DecodeError, Decoder, Head, Input, Options, Sink};
use crate::event::Event;

pub(crate) struct Cef;

const HEADER_NAMES: [&str; 7] = [
    "cefVersion",
    "deviceVendor",
    "deviceProduct",
    "deviceVersion",
    "deviceEventClassId",
    "name",
    "severity",
];

impl Decoder for Cef {
    fn name(&self) -> &'static str {
        "cef"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        if head.first_line().contains("CEF:") {
            8
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        let options = input.options;
        decode_lines(input, "cef", sink, |line, event| {
            parse_line(line, options, event)
        })
    }
}

fn parse_line(line: &str, options: &Options, event: &mut Event) -> Result<(), String> {
    let start = line.find("CEF:").ok_or("no 'CEF:' in line")?;
    // The trailing space stays so the syslog parser sees the host as a finished token.
    let prefix = line[..start].trim_start();
    if !prefix.trim_end().is_empty() {
        let header =
            parse_header(prefix, options).map_err(|error| format!("syslog header: {error}"))?;
        event.time = header.time;
        if let Some(host) = header.host.or(header.program) {
            event.fields.insert("host".into(), Value::from(host));
        }
    }
    let body = &line[start + 4..];
    let (header, extension) = split_header(body)?;
    for (name, value) in HEADER_NAMES.iter().zip(header) {
        event.fields.insert((*name).into(), Value::String(value));
    }
    parse_extension(extension, &mut event.fields);
    if let Some(time) = event
        .fields
        .get("rt")
        .and_then(Value::as_str)
        .and_then(receipt_time)
    {
        event.time = Some(time);
    }
    Ok(())
}

/// The seven header fields (unescaped) and the extension text after them.
fn split_header(body: &str) -> Result<(Vec<String>, &str), String> {
    let mut fields = Vec::with_capacity(7);
    let mut current = String::new();
    let mut chars = body.char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some((_, escaped @ ('|' | '\\'))) => current.push(escaped),
                Some((_, other)) => {
                    current.push('\\');
                    current.push(other);
                }
                None => current.push('\\'),
            },
            '|' => {
                fields.push(std::mem::take(&mut current));
                if fields.len() == 7 {
                    return Ok((fields, &body[at + 1..]));
                }
            }
            other => current.push(other),
        }
    }
    if fields.len() == 6 {
        // A CEF line may end right after the severity, without the last `|`.
        fields.push(current);
        return Ok((fields, ""));
    }
    Err(format!(
        "cef header has {} of 7 '|'-separated fields",
        fields.len() + 1
    ))
}

/// `key=value key2=value with spaces`: a key is the word before an unescaped `=`; its value
/// runs to the space before the next key.
fn parse_extension(text: &str, fields: &mut Map<String, Value>) {
    let bytes = text.as_bytes();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 1,
            b'=' => {
                let key_start = text[..index].rfind(' ').map_or(0, |space| space + 1);
                let key = &text[key_start..index];
                let after_previous = keys.last().is_none_or(|(_, eq)| key_start > *eq);
                if !key.is_empty() && after_previous && key.bytes().all(is_key_byte) {
                    keys.push((key_start, index));
                }
            }
            _ => {}
        }
        index += 1;
    }
    for (position, (key_start, equals)) in keys.iter().enumerate() {
        let value_end = keys
            .get(position + 1)
            .map_or(text.len(), |(next_start, _)| *next_start);
        let value = text[equals + 1..value_end].trim_end_matches(' ');
        let key = &text[*key_start..*equals];
        fields.insert(
            key.to_owned(),
            Value::from(unescape_value(value).into_owned()),
        );
    }
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'[' | b']')
}

fn unescape_value(value: &str) -> Cow<'_, str> {
    if !value.contains('\\') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(escaped @ ('=' | '\\' | '|')) => out.push(escaped),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// `rt`: milliseconds since the epoch, or `MMM dd yyyy HH:mm:ss` (taken as UTC).
fn receipt_time(text: &str) -> Option<Timestamp> {
    if let Ok(millis) = text.parse::<i64>() {
        return Timestamp::from_millisecond(millis).ok();
    }
    jiff::fmt::strtime::parse("%b %d %Y %H:%M:%S", text)
        .and_then(|parsed| parsed.to_datetime())
        .and_then(|civil| jiff::tz::TimeZone::UTC.to_timestamp(civil))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::lines::line_event;

    fn decode(line: &str) -> Result<Event, String> {
        let mut event = line_event("t.cef", 1, "cef");
        parse_line(line, &Options::default(), &mut event).map(|()| event)
    }

    #[test]
    fn header_and_extension_with_every_escape() {
        let event = decode(
            r"CEF:0|Example\|Corp|Gate\\way|1.0|100|Blocked url|7|src=192.0.2.10 dst=198.51.100.20 request=http://evil.example/a?b\=c msg=line one\nline two spt=443 cs1Label=note cs1=a \\ b",
        )
        .unwrap();
        assert_eq!(event.get_str("deviceVendor"), Some("Example|Corp"));
        assert_eq!(event.get_str("deviceProduct"), Some(r"Gate\way"));
        assert_eq!(event.get_str("severity"), Some("7"));
        assert_eq!(event.get_str("src"), Some("192.0.2.10"));
        assert_eq!(event.get_str("request"), Some("http://evil.example/a?b=c"));
        assert_eq!(event.get_str("msg"), Some("line one\nline two"));
        assert_eq!(event.get_str("cs1"), Some(r"a \ b"));
        assert_eq!(event.get_str("spt"), Some("443"));
    }

    #[test]
    fn syslog_header_gives_host_and_time_and_rt_overrides_it() {
        let event = decode(
            "<134>Jan 15 10:00:00 fw01 CEF:0|V|P|1|2|n|3|rt=1705312800123 suser=bob@mail.example",
        )
        .unwrap();
        assert_eq!(event.get_str("host"), Some("fw01"));
        assert_eq!(event.time.unwrap().as_millisecond(), 1705312800123);
        assert_eq!(event.get_str("suser"), Some("bob@mail.example"));
    }

    #[test]
    fn short_headers_are_errors() {
        assert!(decode("CEF:0|only|three").unwrap_err().contains("3 of 7"));
        let no_extension = decode("CEF:0|V|P|1|2|name|5").unwrap();
        assert_eq!(no_extension.get_str("name"), Some("name"));
    }
}
