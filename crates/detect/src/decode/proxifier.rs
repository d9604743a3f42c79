//! Proxifier client logs: `[MM.DD hh:mm:ss] program - target:port action …`, e.g.
//! `[10.30 16:49:06] chrome.exe - www.example:443 open through proxy proxy.example:5070 HTTPS`.
//! Fields: `program`, `target_host`, `target_port`, `action` (`open`, `close`, `error`),
//! `proxy_host`, `proxy_port`, `proxy_protocol`, `sent_bytes`, `received_bytes`, `message`.
//! The year comes from [`Options::reference_time`].

use serde_json::{Map, Value};

use super::lines::decode_lines;
use super::syslog::year_less;
use super::{DecodeError, Decoder, Head, Input, Options, Sink};
use crate::event::Event;

pub(crate) struct Proxifier;

impl Decoder for Proxifier {
    fn name(&self) -> &'static str {
        "proxifier"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        let mut event = super::lines::line_event("sniff", 1, "proxifier");
        if parse_line(&head.first_line(), &Options::default(), &mut event).is_ok() {
            6
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        let options = input.options;
        decode_lines(input, "proxifier", sink, |line, event| {
            parse_line(line, options, event)
        })
    }
}

fn parse_line(line: &str, options: &Options, event: &mut Event) -> Result<(), String> {
    let rest = line
        .strip_prefix('[')
        .ok_or("no '[' before the timestamp")?;
    let (stamp, rest) = rest
        .split_once("] ")
        .ok_or("timestamp is not closed by ']'")?;
    event.time = Some(
        parse_stamp(stamp, options)
            .ok_or_else(|| format!("timestamp {stamp:?} is not MM.DD hh:mm:ss"))?,
    );
    let (program, rest) = rest.split_once(" - ").ok_or("no ' - ' after the program")?;
    let (target, rest) = rest.split_once(' ').ok_or("no action after the target")?;
    let fields = &mut event.fields;
    fields.insert("program".into(), Value::from(program));
    host_port(target, "target", fields);
    let rest = rest.trim_end();
    fields.insert("message".into(), Value::from(rest));
    if let Some(proxy) = rest.strip_prefix("open through proxy ") {
        fields.insert("action".into(), Value::from("open"));
        let (address, protocol) = proxy.split_once(' ').unwrap_or((proxy, ""));
        host_port(address, "proxy", fields);
        if !protocol.is_empty() {
            fields.insert("proxy_protocol".into(), Value::from(protocol));
        }
    } else if let Some(counts) = rest.strip_prefix("close, ") {
        fields.insert("action".into(), Value::from("close"));
        // `1581 bytes (1.54 KB) sent, 0 bytes received, lifetime 00:01`
        for part in counts.split(", ") {
            let number = part
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok());
            let direction = part.split_whitespace().last();
            match (direction, number) {
                (Some("sent"), Some(number)) => {
                    fields.insert("sent_bytes".into(), Value::from(number))
                }
                (Some("received"), Some(number)) => {
                    fields.insert("received_bytes".into(), Value::from(number))
                }
                _ => None,
            };
        }
    } else if let Some(error) = rest.strip_prefix("error : ") {
        fields.insert("action".into(), Value::from("error"));
        for marker in ["connect to proxy ", "connect through proxy "] {
            if let Some(at) = error.find(marker) {
                let address = error[at + marker.len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default();
                host_port(address, "proxy", fields);
            }
        }
    } else {
        return Err(format!("unknown proxifier action in {rest:?}"));
    }
    Ok(())
}

fn host_port(text: &str, prefix: &str, fields: &mut Map<String, Value>) {
    match text.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => {
            fields.insert(format!("{prefix}_host"), Value::from(host));
            if let Ok(port) = port.parse::<u16>() {
                fields.insert(format!("{prefix}_port"), Value::from(port));
            }
        }
        _ => {
            fields.insert(format!("{prefix}_host"), Value::from(text));
        }
    }
}

fn parse_stamp(stamp: &str, options: &Options) -> Option<jiff::Timestamp> {
    let (date, time) = stamp.split_once(' ')?;
    let (month, day) = date.split_once('.')?;
    let mut clock = time.split(':').map(|part| part.parse::<i8>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    year_less(
        month.parse().ok()?,
        day.parse().ok()?,
        hour,
        minute,
        second,
        options,
    )
}
