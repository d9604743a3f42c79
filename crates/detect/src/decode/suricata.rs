//! Suricata `eve.json`: JSON lines with a known layout, one object per alert, DNS query, HTTP
//! request, TLS handshake, flow, file… The event's format is `suricata.<event_type>`
//! (`suricata.alert`, `suricata.dns`, …) so mappings and rules can tell them apart; the time
//! is the `timestamp` field (`2024-01-15T10:00:00.123456+0000`).

use serde_json::Value;

use super::jsonl::{parse_object, parse_time_value};
use super::lines::decode_lines;
use super::{DecodeError, Decoder, Head, Input, Sink};

pub(crate) struct Suricata;

impl Decoder for Suricata {
    fn name(&self) -> &'static str {
        "suricata"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        // Substrings rather than a parse: the sniffed head may cut a long alert line short.
        let line = head.first_line();
        let json = line.trim_start().starts_with('{');
        if json && line.contains("\"event_type\"") && line.contains("\"timestamp\"") {
            8
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        decode_lines(input, "suricata", sink, |line, event| {
            let fields = parse_object(line)?;
            let event_type = fields
                .get("event_type")
                .and_then(Value::as_str)
                .ok_or("eve record without a string event_type")?;
            event.format = format!("suricata.{event_type}");
            event.time = fields.get("timestamp").and_then(parse_time_value);
            event.fields = fields;
            Ok(())
        })
    }
}
