//! Apache (and nginx) access logs in the combined and common formats:
//! `host ident user [time] "request" status bytes ["referer" "user-agent"]`.
//! Fields use the names of the well-known `COMBINEDAPACHELOG` pattern: `clientip`, `ident`,
//! `auth`, `verb`, `request` (the path and query as sent), `httpversion`, `response`,
//! `bytes`, `referrer`, `agent`; `-` values are left out.

use serde_json::Value;

use super::lines::decode_lines;
use super::syslog::month_number;
use super::{DecodeError, Decoder, Head, Input, Sink};
use crate::event::Event;

pub(crate) struct Apache;

impl Decoder for Apache {
    fn name(&self) -> &'static str {
        "apache"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        let mut event = super::lines::line_event("sniff", 1, "apache");
        if parse_line(&head.first_line(), &mut event).is_ok() {
            6
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        decode_lines(input, "apache", sink, parse_line)
    }
}

fn parse_line(line: &str, event: &mut Event) -> Result<(), String> {
    let (clientip, rest) = word(line).ok_or("no client address")?;
    let (ident, rest) = word(rest).ok_or("line ends after the client address")?;
    let (auth, rest) = word(rest).ok_or("line ends after the ident field")?;
    let rest = rest
        .strip_prefix('[')
        .ok_or("no '[' before the timestamp")?;
    let (time, rest) = rest
        .split_once("] ")
        .ok_or("timestamp is not closed by ']'")?;
    let (request, rest) = quoted(rest).ok_or("request is not a quoted string")?;
    let (status, rest) = word(rest).ok_or("no status code")?;
    let status: u16 = status
        .parse()
        .map_err(|_| format!("status {status:?} is not a number"))?;
    let (bytes, rest) = word(rest).map_or((rest.trim(), ""), |(bytes, rest)| (bytes, rest));
    let fields = &mut event.fields;
    event.time = Some(
        access_time(time)
            .ok_or_else(|| format!("timestamp {time:?} is not dd/Mon/yyyy:hh:mm:ss +zzzz"))?,
    );
    fields.insert("clientip".into(), Value::from(clientip));
    for (name, value) in [("ident", ident), ("auth", auth)] {
        if value != "-" {
            fields.insert(name.into(), Value::from(value));
        }
    }
    fields.insert("timestamp".into(), Value::from(time));
    let mut parts = request.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(verb), Some(target), Some(version), None) if version.starts_with("HTTP/") => {
            fields.insert("verb".into(), Value::from(verb));
            fields.insert("request".into(), Value::from(target));
            let version = version.trim_start_matches("HTTP/");
            fields.insert("httpversion".into(), Value::from(version));
        }
        _ => {
            // Scanners send junk request lines; keep them whole.
            fields.insert("rawrequest".into(), Value::from(request));
        }
    }
    fields.insert("response".into(), Value::from(status));
    if let Ok(bytes) = bytes.parse::<u64>() {
        fields.insert("bytes".into(), Value::from(bytes));
    } else if bytes != "-" && !bytes.is_empty() {
        return Err(format!("byte count {bytes:?} is not a number"));
    }
    let rest = rest.trim_start();
    if !rest.is_empty() {
        let (referrer, rest) = quoted(rest).ok_or("referer is not a quoted string")?;
        let rest = rest.trim_start();
        // Truncated logs cut the last field: keep what is there rather than lose the request.
        let agent = match quoted(rest) {
            Some((agent, _)) => agent,
            None => rest
                .strip_prefix('"')
                .ok_or("user agent is not a quoted string")?,
        };
        if referrer != "-" {
            fields.insert("referrer".into(), Value::from(referrer));
        }
        if agent != "-" {
            fields.insert("agent".into(), Value::from(agent));
        }
    }
    Ok(())
}

/// `17/May/2015:10:05:03 +0000`, by hand: a generic strptime was most of the decode time.
fn access_time(text: &str) -> Option<jiff::Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() != 26 || bytes[2] != b'/' || bytes[6] != b'/' || bytes[11] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i32> { text.get(range)?.parse().ok() };
    let month = month_number(text.get(3..6)?)?;
    let date = jiff::civil::Date::new(
        i16::try_from(number(7..11)?).ok()?,
        month,
        i8::try_from(number(0..2)?).ok()?,
    )
    .ok()?;
    let clock = jiff::civil::Time::new(
        i8::try_from(number(12..14)?).ok()?,
        i8::try_from(number(15..17)?).ok()?,
        i8::try_from(number(18..20)?).ok()?,
        0,
    )
    .ok()?;
    let sign = match bytes[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset_seconds = sign * (number(22..24)? * 3600 + number(24..26)? * 60);
    let offset = jiff::tz::Offset::from_seconds(offset_seconds).ok()?;
    offset
        .to_timestamp(jiff::civil::DateTime::from_parts(date, clock))
        .ok()
}

fn word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(' ');
    let end = text.find(' ')?;
    (end > 0).then(|| (&text[..end], &text[end + 1..]))
}

/// A `"…"` string with Apache's `\"` escapes (left escaped, as logged), and the text after it.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let inner = text.trim_start_matches(' ').strip_prefix('"')?;
    let bytes = inner.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some((&inner[..index], &inner[index + 1..])),
            _ => index += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::lines::line_event;

    fn decode(line: &str) -> Result<Event, String> {
        let mut event = line_event("access.log", 1, "apache");
        parse_line(line, &mut event).map(|()| event)
    }

    #[test]
    fn combined_and_common_lines() {
        let combined = decode(r#"192.0.2.4 - bob [17/May/2015:10:05:03 +0200] "GET /a?b=c HTTP/1.1" 200 2048 "http://ref.example/" "agent \"x\"""#).unwrap();
        assert_eq!(combined.get_str("clientip"), Some("192.0.2.4"));
        assert_eq!(combined.get_str("auth"), Some("bob"));
        assert_eq!(combined.get_str("request"), Some("/a?b=c"));
        assert_eq!(combined.get("response"), Some(&Value::from(200)));
        assert_eq!(combined.get_str("agent"), Some(r#"agent \"x\""#));
        assert_eq!(combined.time.unwrap().to_string(), "2015-05-17T08:05:03Z");
        let common =
            decode(r#"2001:db8::1 - - [01/Jan/2024:00:00:00 +0000] "\x16\x03" 400 -"#).unwrap();
        assert_eq!(common.get_str("rawrequest"), Some(r"\x16\x03"));
        assert_eq!(common.get("bytes"), None);
        assert!(decode("192.0.2.4 - - [bad] \"GET / HTTP/1.1\" 200 1").is_err());
        assert!(
            decode(r#"192.0.2.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" abc 1"#).is_err()
        );
    }
}
