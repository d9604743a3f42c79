//! JSON lines of any schema (ECS, flat Windows exports, cloud audit logs): one object per line,
//! kept as is, format `jsonl` (`jsonl.windows` for flat Windows events). The event time is
//! taken from the first common timestamp field present.

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde_json::{Map, Value};

use super::lines::decode_lines;
use super::{DecodeError, Decoder, Head, Input, Sink};

pub(crate) struct JsonLines;

/// Timestamp fields in the order they are trusted: ECS, then common exporter names.
const TIME_FIELDS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "EventTime",
    "TimeCreated",
    "time",
    "ts",
];

impl Decoder for JsonLines {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        if head.first_line().trim_start().starts_with('{') {
            5
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        decode_lines(input, "jsonl", sink, |line, event| {
            event.fields = parse_object(line)?;
            event.time = find_time(&event.fields);
            if is_flat_windows(&event.fields) {
                event.format = "jsonl.windows".into();
            }
            Ok(())
        })
    }
}

/// Windows events exported flat (Security-Datasets, NXLog, Winlogbeat without ECS): an
/// `EventID` beside a `Channel` or `SourceName`. Their format, `jsonl.windows`, selects the
/// Windows field mapping instead of ECS.
fn is_flat_windows(fields: &Map<String, Value>) -> bool {
    fields.contains_key("EventID")
        && (fields.contains_key("Channel") || fields.contains_key("SourceName"))
}

/// Parses one line as a JSON object.
pub(crate) fn parse_object(line: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(other) => Err(format!("expected a JSON object, found {}", kind(&other))),
        Err(error) => Err(format!("invalid JSON: {error}")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The event time from the usual timestamp fields, if one parses.
pub(crate) fn find_time(fields: &Map<String, Value>) -> Option<Timestamp> {
    TIME_FIELDS
        .iter()
        .filter_map(|name| fields.get(*name))
        .find_map(parse_time_value)
}

/// A timestamp written as RFC 3339, as `YYYY-MM-DD HH:MM:SS[.fff]` (taken as UTC), with a
/// `+hhmm` offset (Suricata), or as seconds since the epoch.
pub(crate) fn parse_time_value(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(number) => epoch_seconds(number.as_f64()?),
        Value::String(text) => parse_time_text(text),
        _ => None,
    }
}

pub(crate) fn parse_time_text(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    if let Ok(zoned) = jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text)
        .and_then(|parsed| parsed.to_timestamp())
    {
        return Some(zoned);
    }
    if let Ok(civil) = text.parse::<DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(civil).ok();
    }
    None
}

/// Seconds since the epoch with a fraction (Zeek `ts`), to the microsecond.
pub(crate) fn epoch_seconds(seconds: f64) -> Option<Timestamp> {
    if !seconds.is_finite() {
        return None;
    }
    let micros = (seconds * 1_000_000.0).round();
    if micros.abs() > 1e17 {
        return None;
    }
    Timestamp::from_microsecond(micros as i64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_shapes_exporters_write() {
        let expected: Timestamp = "2020-10-18T10:56:18.799Z".parse().unwrap();
        assert_eq!(parse_time_text("2020-10-18 10:56:18.799"), Some(expected));
        assert_eq!(parse_time_text("2020-10-18T10:56:18.799Z"), Some(expected));
        assert_eq!(
            parse_time_text("2020-10-18T12:56:18.799+0200"),
            Some(expected)
        );
        assert_eq!(parse_time_text("yesterday"), None);
        let zeek = epoch_seconds(1692161622.036086).unwrap();
        assert_eq!(zeek.to_string(), "2023-08-16T04:53:42.036086Z");
        assert_eq!(epoch_seconds(f64::NAN), None);
        assert_eq!(epoch_seconds(1e300), None);
    }

    #[test]
    fn non_objects_are_errors_that_say_what_was_found() {
        assert!(parse_object("[1,2]").unwrap_err().contains("an array"));
        assert!(
            parse_object("{\"a\":")
                .unwrap_err()
                .starts_with("invalid JSON")
        );
        assert_eq!(parse_object("{\"a\":1}").unwrap()["a"], 1);
    }
}
