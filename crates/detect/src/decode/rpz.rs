//! DNS firewall (RPZ) hits from BIND and Unbound, so blocked lookups can be counted and tied
//! to the indicator that caused them. Lines arrive through syslog (`named[…]:`, `unbound:`) or
//! from the servers' own log files, which this decoder (`rpz`) reads:
//!
//! * BIND: `15-Jan-2024 10:00:00.123 rpz: info: client @0x7f… 192.0.2.1#53211 (evil.example):
//!   rpz QNAME NXDOMAIN rewrite evil.example/A/IN via evil.example.rpz.local`
//! * Unbound: `[1705312800] unbound[1234:0] info: rpz: applied [rpz.local] evil.example.
//!   nxdomain 192.0.2.1@53211 evil.example. A IN`
//!
//! Both give an `rpz` object: `server`, `client_ip`, `client_port`, `qname`, `qtype`,
//! `qclass`, `action` (lowercase: `nxdomain`, `nodata`, `passthru`, `local-data`, …), `rule`
//! (the policy record that matched), and `policy` (BIND: `QNAME`, `IP`, `NSDNAME`, …) or
//! `zone` (Unbound's zone name).

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde_json::{Map, Value};

use super::lines::{decode_lines, looks_like_text};
use super::syslog::{fill_event, month_number};
use super::{DecodeError, Decoder, Head, Input, Options, Sink};
use crate::event::Event;

pub(crate) struct Rpz;

impl Decoder for Rpz {
    fn name(&self) -> &'static str {
        "rpz"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        let line = head.first_line();
        let bind = line.contains("client ") && line.contains(": rpz ");
        if looks_like_text(head.bytes) && (bind || line.contains("rpz: applied ")) {
            7
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        let options = input.options;
        decode_lines(input, "rpz", sink, |line, event| {
            parse_line(line, options, event)
        })
    }
}

fn parse_line(line: &str, options: &Options, event: &mut Event) -> Result<(), String> {
    if let Some(rest) = line.strip_prefix('[') {
        // Unbound's own log file: `[epoch] unbound[pid:thread] level: message`.
        let (epoch, rest) = rest.split_once("] ").ok_or("unbound line without '] '")?;
        event.time = epoch
            .parse::<i64>()
            .ok()
            .and_then(|seconds| Timestamp::from_second(seconds).ok());
        event.fields.insert("message".into(), Value::from(rest));
        if !parse_unbound(rest, &mut event.fields) {
            return Err("not an unbound rpz line".into());
        }
        event.format = "rpz.unbound".into();
        return Ok(());
    }
    if let Some((time, rest)) = bind_time(line, options) {
        event.time = Some(time);
        event.fields.insert("message".into(), Value::from(rest));
        if !parse_bind(rest, &mut event.fields) {
            return Err("not a bind rpz line".into());
        }
        event.format = "rpz.bind".into();
        return Ok(());
    }
    fill_event(line, options, event)?;
    if event.format.starts_with("rpz.") {
        Ok(())
    } else {
        Err("neither a bind nor an unbound rpz line".into())
    }
}

/// BIND's `dd-Mon-yyyy hh:mm:ss.fff` prefix, in the local zone.
fn bind_time<'a>(line: &'a str, options: &Options) -> Option<(Timestamp, &'a str)> {
    let (date, rest) = line.split_once(' ')?;
    let (time, rest) = rest.split_once(' ')?;
    let mut parts = date.split('-');
    let day: i8 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year: i16 = parts.next()?.parse().ok()?;
    let civil: DateTime = format!("{year:04}-{month:02}-{day:02}T{time}")
        .parse()
        .ok()?;
    Some((options.local_zone.to_timestamp(civil).ok()?, rest))
}

/// `… client @0x… IP#PORT (QNAME): [view V: ]rpz POLICY ACTION rewrite NAME[/TYPE/CLASS] via RULE`
pub(crate) fn parse_bind(message: &str, fields: &mut Map<String, Value>) -> bool {
    let Some(at) = message.find("client ") else {
        return false;
    };
    let mut rest = &message[at + "client ".len()..];
    if rest.starts_with('@') {
        rest = rest
            .split_once(' ')
            .map(|(_, after)| after)
            .unwrap_or_default();
    }
    let Some((client, rest)) = rest.split_once(' ') else {
        return false;
    };
    let Some(rpz_at) = rest.find("rpz ") else {
        return false;
    };
    let mut words = rest[rpz_at + 4..].split_whitespace();
    let (Some(policy), Some(action), Some("rewrite"), Some(name)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    let mut out = Map::new();
    set(&mut out, "server", "bind");
    let (ip, port) = client.rsplit_once('#').unwrap_or((client, ""));
    set(&mut out, "client_ip", ip);
    if let Ok(port) = port.parse::<u16>() {
        out.insert("client_port".into(), Value::from(port));
    }
    let mut name_parts = name.split('/');
    set(&mut out, "qname", name_parts.next().unwrap_or_default());
    if let (Some(qtype), Some(qclass)) = (name_parts.next(), name_parts.next()) {
        set(&mut out, "qtype", qtype);
        set(&mut out, "qclass", qclass);
    }
    set(&mut out, "policy", policy);
    set(&mut out, "action", &action.to_ascii_lowercase());
    if words.next() == Some("via")
        && let Some(rule) = words.next()
    {
        set(&mut out, "rule", rule);
    }
    fields.insert("rpz".into(), Value::Object(out));
    true
}

/// `… rpz: applied [ZONE] TRIGGER ACTION IP@PORT QNAME TYPE CLASS`
pub(crate) fn parse_unbound(message: &str, fields: &mut Map<String, Value>) -> bool {
    let Some(at) = message.find("rpz: applied ") else {
        return false;
    };
    let mut rest = &message[at + "rpz: applied ".len()..];
    let mut out = Map::new();
    set(&mut out, "server", "unbound");
    if let Some(zoned) = rest.strip_prefix('[') {
        let Some((zone, after)) = zoned.split_once("] ") else {
            return false;
        };
        set(&mut out, "zone", zone);
        rest = after;
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [rule, action, client, qname, qtype, qclass] = words.as_slice() else {
        return false;
    };
    set(&mut out, "rule", rule);
    set(
        &mut out,
        "action",
        &action.to_ascii_lowercase().replace('_', "-"),
    );
    let (ip, port) = client.rsplit_once('@').unwrap_or((client, ""));
    set(&mut out, "client_ip", ip);
    if let Ok(port) = port.parse::<u16>() {
        out.insert("client_port".into(), Value::from(port));
    }
    set(&mut out, "qname", qname);
    set(&mut out, "qtype", qtype);
    set(&mut out, "qclass", qclass);
    fields.insert("rpz".into(), Value::Object(out));
    true
}

fn set(out: &mut Map<String, Value>, name: &str, value: &str) {
    out.insert(name.into(), Value::from(value));
}
