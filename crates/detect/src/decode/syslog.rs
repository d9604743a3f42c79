//! Syslog: RFC 5424, RFC 3164 with or without a priority, and the RFC 3339 timestamps rsyslog
//! writes instead of the 3164 ones. Year-less 3164 timestamps take their year from
//! [`Options::reference_time`].
//!
//! Fields: `host`, `program`, `pid`, `message`, and when present `priority`, `facility`,
//! `severity`, `msgid`, `structured_data` (`{sd-id: {param: value}}`). Messages of programs
//! Rampart understands are decoded further and change the event's `format`: `sshd` (see
//! [`super::sshd`]), `postfix`, and `rpz.bind` / `rpz.unbound` for DNS firewall hits.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use serde_json::{Map, Value};

use super::lines::{decode_lines, looks_like_text};
use super::{DecodeError, Decoder, Head, Input, Options, Sink, postfix, rpz, sshd};
use crate::event::{Event, EventRef};

pub(crate) struct Syslog;

impl Decoder for Syslog {
    fn name(&self) -> &'static str {
        "syslog"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        if !looks_like_text(head.bytes) {
            return 0;
        }
        let line = head.first_line();
        let options = Options::default();
        match parse_header(&line, &options) {
            Ok(header) if header.time.is_some() => 4,
            _ => 0,
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        let options = input.options;
        decode_lines(input, "syslog", sink, |line, event| {
            fill_event(line, options, event)
        })
    }
}

/// Decodes one syslog message (a line, a UDP datagram, a framed TCP message) into an event.
pub fn parse_syslog(text: &str, reference: EventRef, options: &Options) -> Result<Event, String> {
    let mut event = Event {
        reference,
        format: "syslog".into(),
        time: None,
        fields: Map::new(),
    };
    fill_event(text, options, &mut event)?;
    Ok(event)
}

/// The parts of a syslog line before the message.
#[derive(Debug, Default)]
pub(crate) struct Header<'a> {
    pub priority: Option<u8>,
    pub time: Option<Timestamp>,
    pub host: Option<&'a str>,
    pub program: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub structured_data: Option<Map<String, Value>>,
    pub message: &'a str,
}

pub(crate) fn fill_event(line: &str, options: &Options, event: &mut Event) -> Result<(), String> {
    let header = parse_header(line, options)?;
    event.time = header.time;
    let fields = &mut event.fields;
    if let Some(priority) = header.priority {
        fields.insert("priority".into(), Value::from(priority));
        let facility = FACILITIES.get(usize::from(priority / 8)).copied();
        fields.insert(
            "facility".into(),
            Value::from(facility.unwrap_or("unknown")),
        );
        let severity = SEVERITIES[usize::from(priority % 8)];
        fields.insert("severity".into(), Value::from(severity));
    }
    put(fields, "host", header.host);
    put(fields, "program", header.program);
    put(fields, "pid", header.pid);
    put(fields, "msgid", header.msgid);
    if let Some(structured) = header.structured_data {
        fields.insert("structured_data".into(), Value::Object(structured));
    }
    fields.insert("message".into(), Value::from(header.message));
    let program = header.program.unwrap_or_default();
    if program == "sshd" {
        event.format = "sshd".into();
        sshd::parse(header.message, &mut event.fields);
    } else if program.starts_with("postfix") {
        event.format = "postfix".into();
        postfix::parse(program, header.message, &mut event.fields);
    } else if program == "named" && rpz::parse_bind(header.message, &mut event.fields) {
        event.format = "rpz.bind".into();
    } else if program == "unbound" && rpz::parse_unbound(header.message, &mut event.fields) {
        event.format = "rpz.unbound".into();
    }
    Ok(())
}

fn put(fields: &mut Map<String, Value>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        fields.insert(name.into(), Value::from(value));
    }
}

/// Splits a syslog line into its header and message.
pub(crate) fn parse_header<'a>(line: &'a str, options: &Options) -> Result<Header<'a>, String> {
    let mut header = Header::default();
    let mut rest = line.trim_start_matches('\u{feff}');
    if let Some(after) = rest.strip_prefix('<') {
        let close = after
            .find('>')
            .filter(|close| (1..=3).contains(close))
            .ok_or("priority '<' is not closed by '>' within 3 digits")?;
        let priority: u8 = after[..close]
            .parse()
            .ok()
            .filter(|priority| *priority <= 191)
            .ok_or_else(|| {
                format!(
                    "priority {:?} is not a number from 0 to 191",
                    &after[..close]
                )
            })?;
        header.priority = Some(priority);
        rest = &after[close + 1..];
        if let Some(after_version) = rest.strip_prefix("1 ") {
            return parse_5424(after_version, header, line);
        }
    }
    parse_3164(rest, header, options)
}

fn parse_5424<'a>(rest: &'a str, mut header: Header<'a>, line: &str) -> Result<Header<'a>, String> {
    let (time, rest) = split_token(rest).ok_or("rfc 5424 header ends before the timestamp")?;
    if time != "-" {
        header.time = Some(
            time.parse::<Timestamp>()
                .map_err(|_| format!("rfc 5424 timestamp {time:?} is not RFC 3339"))?,
        );
    }
    let (host, rest) = split_token(rest).ok_or("rfc 5424 header ends before the hostname")?;
    let (app, rest) = split_token(rest).ok_or("rfc 5424 header ends before the app-name")?;
    let (pid, rest) = split_token(rest).ok_or("rfc 5424 header ends before the procid")?;
    let (msgid, rest) = match split_token(rest) {
        Some(parts) => parts,
        None if !rest.is_empty() => (rest, ""),
        None => return Err("rfc 5424 header ends before the msgid".into()),
    };
    header.host = nil(host);
    // Senders such as util-linux `logger -t 'sshd[42]'` put the pid into the app-name.
    let (program, tag_pid) = match nil(app) {
        Some(app) => {
            let (program, tag_pid) = split_tag(app);
            (Some(program), tag_pid)
        }
        None => (None, None),
    };
    header.program = program;
    header.pid = nil(pid).or(tag_pid);
    header.msgid = nil(msgid);
    let message = if let Some(after_nil) = rest.strip_prefix('-') {
        after_nil
    } else if rest.starts_with('[') {
        let (structured, after) = parse_structured_data(rest)
            .map_err(|error| format!("rfc 5424 structured data: {error} in {line:?}"))?;
        header.structured_data = Some(structured);
        after
    } else if rest.is_empty() {
        ""
    } else {
        return Err("rfc 5424 structured data is neither '-' nor '['".into());
    };
    header.message = message
        .strip_prefix(' ')
        .unwrap_or(message)
        .trim_start_matches('\u{feff}');
    Ok(header)
}

fn nil(token: &str) -> Option<&str> {
    (token != "-").then_some(token)
}

fn split_token(text: &str) -> Option<(&str, &str)> {
    let space = text.find(' ')?;
    Some((&text[..space], &text[space + 1..]))
}

/// `[id name="value" …][id2 …]`, with `\"`, `\\` and `\]` escapes in values.
fn parse_structured_data(text: &str) -> Result<(Map<String, Value>, &str), String> {
    let mut elements = Map::new();
    let mut rest = text;
    while let Some(element) = rest.strip_prefix('[') {
        let id_end = element
            .find([' ', ']'])
            .ok_or("element is not closed by ']'")?;
        let id = &element[..id_end];
        let mut params = Map::new();
        let mut cursor = &element[id_end..];
        loop {
            cursor = cursor.trim_start_matches(' ');
            if let Some(after) = cursor.strip_prefix(']') {
                rest = after;
                break;
            }
            let equals = cursor.find('=').ok_or("parameter without '='")?;
            let name = &cursor[..equals];
            let quoted = cursor[equals + 1..]
                .strip_prefix('"')
                .ok_or("parameter value is not quoted")?;
            let (value, after) = unescape_param(quoted)?;
            params.insert(name.to_owned(), Value::String(value));
            cursor = after;
        }
        elements.insert(id.to_owned(), Value::Object(params));
    }
    Ok((elements, rest))
}

fn unescape_param(text: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '"' => return Ok((value, &text[at + 1..])),
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\' | ']'))) => value.push(escaped),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => break,
            },
            other => value.push(other),
        }
    }
    Err("parameter value is not closed by '\"'".into())
}

fn parse_3164<'a>(
    rest: &'a str,
    mut header: Header<'a>,
    options: &Options,
) -> Result<Header<'a>, String> {
    let (time, after_time) = parse_3164_time(rest, options)?;
    header.time = time;
    let mut rest = after_time.trim_start_matches(' ');
    // The host is absent when the first token is already the tag (`sshd[1]:`), and a line
    // without a timestamp is all message.
    if header.time.is_some()
        && let Some((first, after)) = split_token(rest)
        && !is_tag(first)
    {
        header.host = Some(first);
        rest = after.trim_start_matches(' ');
    }
    match split_token(rest) {
        Some((tag, message)) if is_tag(tag) => {
            let (program, pid) = split_tag(&tag[..tag.len() - 1]);
            header.program = Some(program);
            header.pid = pid;
            header.message = message;
        }
        _ if is_tag(rest) => {
            header.program = Some(rest.trim_end_matches(':'));
            header.message = "";
        }
        _ => header.message = rest,
    }
    Ok(header)
}

fn is_tag(token: &str) -> bool {
    token.len() > 1 && token.ends_with(':') && !token.contains('=')
}

/// `Mmm dd hh:mm:ss` (day space-padded) or an RFC 3339 timestamp; `None` when the line has
/// neither, as 3164 allows.
fn parse_3164_time<'a>(
    text: &'a str,
    options: &Options,
) -> Result<(Option<Timestamp>, &'a str), String> {
    if let Some((token, rest)) = split_token(text)
        && token.len() >= 19
        && token.as_bytes()[4] == b'-'
    {
        let time = token
            .parse::<Timestamp>()
            .map_err(|_| format!("timestamp {token:?} is not RFC 3339"))?;
        return Ok((Some(time), rest));
    }
    let bytes = text.as_bytes();
    if bytes.len() < 15 || bytes[3] != b' ' || bytes[9] != b':' || bytes[12] != b':' {
        return Ok((None, text));
    }
    let Some(month) = text.get(..3).and_then(month_number) else {
        return Ok((None, text));
    };
    let day_text = text.get(4..6).unwrap_or_default();
    let day: i8 = day_text
        .trim_start()
        .parse()
        .map_err(|_| format!("day {day_text:?} is not a number"))?;
    let number = |range: std::ops::Range<usize>| -> Result<i8, String> {
        text.get(range.clone())
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| format!("time {:?} is not hh:mm:ss", text.get(7..15).unwrap_or(text)))
    };
    let (hour, minute, second) = (number(7..9)?, number(10..12)?, number(13..15)?);
    let time = year_less(month, day, hour, minute, second, options)
        .ok_or_else(|| format!("no valid date for {:?}", text.get(..15).unwrap_or(text)))?;
    Ok((Some(time), text.get(15..).unwrap_or_default()))
}

pub(crate) fn month_number(name: &str) -> Option<i8> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS
        .iter()
        .position(|month| month.eq_ignore_ascii_case(name))
        .and_then(|index| i8::try_from(index + 1).ok())
}

/// The latest year that puts the date at most 31 days after the reference time (so a log
/// read in early January still lands in December, and Feb 29 finds a leap year).
pub(crate) fn year_less(
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
    second: i8,
    options: &Options,
) -> Option<Timestamp> {
    let zone = &options.local_zone;
    let reference = options.reference_time;
    let limit = reference
        .checked_add(jiff::SignedDuration::from_hours(31 * 24))
        .ok()?;
    let year = reference.to_zoned_datetime(zone.clone()).year();
    let time = Time::new(hour, minute, second, 0).ok()?;
    (year - 8..=year + 1).rev().find_map(|candidate| {
        let date = Date::new(candidate, month, day).ok()?;
        let timestamp = zone.to_timestamp(DateTime::from_parts(date, time)).ok()?;
        (timestamp <= limit).then_some(timestamp)
    })
}

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

#[cfg(test)]
#[path = "syslog_tests.rs"]
mod tests;

/// `name[pid]` as a program and its pid; any other tag is the program alone.
fn split_tag(tag: &str) -> (&str, Option<&str>) {
    match tag.find('[') {
        Some(open) if tag.ends_with(']') => (&tag[..open], Some(&tag[open + 1..tag.len() - 1])),
        _ => (tag, None),
    }
}
