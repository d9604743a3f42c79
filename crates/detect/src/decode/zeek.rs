//! Zeek logs, TSV (with `#separator`, `#fields`, `#types` headers; gzip is handled by the
//! caller) and JSON lines; events get the format `zeek.<path>` (from `#path`, the `_path` or
//! `@stream` field, else the file name).
//!
//! Both forms give the same field names: TSV columns as declared (`id.orig_h`), and JSON keys
//! of the json-streaming-logs package, which writes `id_orig_h` and `certificate_subject`,
//! renamed back to Zeek's dotted names. TSV values are typed like Zeek's own JSON writer
//! would: `count`/`int`/`port` as integers, `double`/`interval`/`time` as numbers, `bool` as
//! booleans, `set[…]`/`vector[…]` as arrays; unset (`-`) fields are left out and `(empty)`
//! is an empty array (or empty string). `\xHH` escapes are decoded.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use super::jsonl::{epoch_seconds, parse_object, parse_time_value};
use super::lines::{decode_lines, for_each_line, line_event};
use super::{DecodeError, Decoder, Head, Input, Sink};
use crate::event::Locator;

pub(crate) struct Zeek;

/// Record fields that json-streaming-logs flattens with `_` instead of `.`.
const FLATTENED_RECORDS: [&str; 4] = ["id_", "certificate_", "basic_constraints_", "san_"];

impl Decoder for Zeek {
    fn name(&self) -> &'static str {
        "zeek"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        let line = head.first_line();
        if line.starts_with("#separator") {
            return 9;
        }
        // Substrings rather than a parse: the sniffed head may cut a long line short.
        if !line.trim_start().starts_with('{') {
            return 0;
        }
        let zeek_stream = line.contains("\"@proc\":\"zeek\"");
        let has_path = line.contains("\"_path\":");
        let connection = line.contains("\"uid\":")
            && (line.contains("\"id.orig_h\":") || line.contains("\"id_orig_h\":"));
        if zeek_stream || has_path || connection {
            7
        } else {
            0
        }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        let tsv = input
            .reader
            .fill_buf()
            .map_err(|error| DecodeError::io(input.name, error))?
            .starts_with(b"#");
        if tsv {
            decode_tsv(input, sink)
        } else {
            decode_json(input, sink)
        }
    }
}

fn decode_json(input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    let from_name = input
        .file_name
        .and_then(|name| name.split('.').next())
        .unwrap_or("unknown")
        .to_owned();
    decode_lines(input, "zeek", sink, |line, event| {
        let raw = parse_object(line)?;
        let mut fields = Map::with_capacity(raw.len());
        for (key, value) in raw {
            fields.insert(unflatten(key), value);
        }
        let path = fields
            .get("_path")
            .or_else(|| fields.get("@stream"))
            .and_then(Value::as_str)
            .unwrap_or(&from_name);
        event.format = format!("zeek.{path}");
        event.time = fields.get("ts").and_then(parse_time_value);
        event.fields = fields;
        Ok(())
    })
}

fn unflatten(key: String) -> String {
    match FLATTENED_RECORDS
        .iter()
        .find(|prefix| key.starts_with(**prefix))
    {
        Some(prefix) => format!("{}.{}", &prefix[..prefix.len() - 1], &key[prefix.len()..]),
        None => key,
    }
}

/// The header state of a TSV log; a file may hold several logs one after another.
struct Header {
    separator: String,
    set_separator: String,
    empty: String,
    unset: String,
    path: String,
    fields: Vec<String>,
    types: Vec<String>,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: "unknown".into(),
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

fn decode_tsv(mut input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    let name = input.name;
    let mut header = Header::default();
    let mut format = String::from("zeek.unknown");
    for_each_line(&mut input, "zeek", sink, |line, sink| {
        let text = line.text.as_ref();
        if let Some(directive) = text.strip_prefix('#') {
            read_directive(directive, &mut header);
            format = format!("zeek.{}", header.path);
            return;
        }
        let mut event = line_event(name, line.number, format.as_str());
        match fill_row(text, &header, &mut event.fields) {
            Ok(time) => {
                event.time = time;
                sink.event(event);
            }
            Err(message) => sink.error(DecodeError::record(
                name,
                Locator::Line(line.number),
                "zeek",
                message,
            )),
        }
    })
}

fn read_directive(directive: &str, header: &mut Header) {
    if let Some(value) = directive.strip_prefix("separator ") {
        header.separator = unescape(value).into_owned();
        return;
    }
    let Some((key, value)) = directive.split_once(header.separator.as_str()) else {
        return;
    };
    let value = unescape(value);
    match key {
        "set_separator" => header.set_separator = value.into_owned(),
        "empty_field" => header.empty = value.into_owned(),
        "unset_field" => header.unset = value.into_owned(),
        "path" => header.path = value.into_owned(),
        "fields" => {
            header.fields = value
                .split(header.separator.as_str())
                .map(str::to_owned)
                .collect()
        }
        "types" => {
            header.types = value
                .split(header.separator.as_str())
                .map(str::to_owned)
                .collect()
        }
        _ => {}
    }
}

/// Fills `fields` from one data row; returns the `ts` time.
fn fill_row(
    row: &str,
    header: &Header,
    fields: &mut Map<String, Value>,
) -> Result<Option<jiff::Timestamp>, String> {
    if header.fields.is_empty() {
        return Err("data line before any #fields header".into());
    }
    let values: Vec<&str> = row.split(header.separator.as_str()).collect();
    if values.len() != header.fields.len() {
        return Err(format!(
            "{} values for {} #fields",
            values.len(),
            header.fields.len()
        ));
    }
    let mut time = None;
    for (index, raw) in values.into_iter().enumerate() {
        if raw == header.unset {
            continue;
        }
        let name = &header.fields[index];
        let kind = header.types.get(index).map_or("string", String::as_str);
        let value = typed(raw, kind, header).map_err(|error| format!("field {name}: {error}"))?;
        if name == "ts" {
            time = value.as_f64().and_then(epoch_seconds);
        }
        fields.insert(name.clone(), value);
    }
    Ok(time)
}

fn typed(raw: &str, kind: &str, header: &Header) -> Result<Value, String> {
    let inner = kind
        .strip_prefix("set[")
        .or_else(|| kind.strip_prefix("vector["))
        .and_then(|rest| rest.strip_suffix(']'));
    if let Some(inner) = inner {
        if raw == header.empty {
            return Ok(Value::Array(Vec::new()));
        }
        return raw
            .split(header.set_separator.as_str())
            .map(|item| scalar(item, inner))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if raw == header.empty {
        return Ok(Value::String(String::new()));
    }
    scalar(raw, kind)
}

fn scalar(raw: &str, kind: &str) -> Result<Value, String> {
    let value = match kind {
        "count" | "port" => Value::from(
            raw.parse::<u64>()
                .map_err(|_| format!("{raw:?} is not a {kind}"))?,
        ),
        "int" => Value::from(
            raw.parse::<i64>()
                .map_err(|_| format!("{raw:?} is not an int"))?,
        ),
        "double" | "interval" | "time" => {
            let number = raw
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| format!("{raw:?} is not a {kind}"))?;
            Value::Number(number)
        }
        "bool" => match raw {
            "T" => Value::Bool(true),
            "F" => Value::Bool(false),
            _ => return Err(format!("{raw:?} is not a bool (T or F)")),
        },
        _ => Value::String(unescape(raw).into_owned()),
    };
    Ok(value)
}

/// Decodes Zeek's `\xHH` escapes (bytes that are not valid UTF-8 stay escaped).
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains("\\x") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\'
            && bytes.get(index + 1) == Some(&b'x')
            && let Some(byte) = text
                .get(index + 2..index + 4)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 4;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    match String::from_utf8(out) {
        Ok(decoded) => Cow::Owned(decoded),
        Err(_) => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Collect, Options, decode_reader};

    const LOG: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.resp_p\thost\turi\ttags\tproxied\tok\n#types\ttime\tstring\taddr\tport\tstring\tstring\tset[enum]\tset[string]\tbool\n1700000000.5\tCabc\t192.0.2.1\t80\tevil.example\t/a\\x09b\t(empty)\tx,y\tT\n1700000001.0\tCdef\t192.0.2.2\t-\t-\t-\t-\t-\tF\nbroken\trow\n";

    #[test]
    fn tsv_types_escapes_unset_and_empty() {
        let mut sink = Collect::default();
        decode_reader(
            "zeek",
            "http.log",
            &mut LOG.as_bytes(),
            &Options::default(),
            &mut sink,
        )
        .unwrap();
        assert_eq!(sink.events.len(), 2);
        let first = &sink.events[0];
        assert_eq!(first.format, "zeek.http");
        assert_eq!(first.get_str("id.orig_h"), Some("192.0.2.1"));
        assert_eq!(first.get("id.resp_p"), Some(&Value::from(80)));
        assert_eq!(first.get_str("uri"), Some("/a\tb"));
        assert_eq!(first.get("tags"), Some(&Value::Array(vec![])));
        assert_eq!(first.get("proxied"), Some(&serde_json::json!(["x", "y"])));
        assert_eq!(first.get("ok"), Some(&Value::Bool(true)));
        assert_eq!(first.time.unwrap().to_string(), "2023-11-14T22:13:20.5Z");
        assert_eq!(sink.events[1].get("host"), None);
        assert_eq!(sink.errors.len(), 1);
        assert_eq!(
            sink.errors[0].reference().unwrap().locator,
            Locator::Line(10)
        );
        assert!(
            sink.errors[0]
                .to_string()
                .contains("2 values for 9 #fields")
        );
    }

    #[test]
    fn json_keys_are_renamed_to_the_dotted_names() {
        let line = "{\"@stream\":\"conn\",\"@proc\":\"zeek\",\"ts\":1588205198.89971,\"id_orig_h\":\"10.0.1.4\",\"certificate_subject\":\"CN=x\"}\n";
        let mut sink = Collect::default();
        decode_reader(
            "zeek",
            "x.log",
            &mut line.as_bytes(),
            &Options::default(),
            &mut sink,
        )
        .unwrap();
        let event = &sink.events[0];
        assert_eq!(event.format, "zeek.conn");
        assert_eq!(event.get_str("id.orig_h"), Some("10.0.1.4"));
        assert_eq!(event.get_str("certificate.subject"), Some("CN=x"));
        assert!(event.time.is_some());
    }
}
