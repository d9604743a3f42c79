//! JSON lines: one JSON object per line (OpenPhish's commercial feed, many vendor exports), with
//! the same field options as the CSV format, fields named by key (`a.b` reaches into nested
//! objects). A line that is not a JSON object is rejected; parsing goes on.

use std::borrow::Cow;
use std::io::BufRead;

use serde_json::Value;

use super::csv::mapping::{Field, MAPPING_KEYS, Mapping, Row};
use super::{Format, FormatError, FormatOptions, FormatSpecError, Rejection, Sink};

const NAME: &str = "jsonl";

/// JSON lines with a field mapping.
#[derive(Debug, Clone)]
pub struct JsonLinesFormat {
    mapping: Mapping<Field>,
}

impl JsonLinesFormat {
    pub fn from_options(options: &FormatOptions) -> Result<JsonLinesFormat, FormatSpecError> {
        let bad = |reason: String| FormatSpecError::BadOption {
            format: NAME,
            reason,
        };
        if let Some(unknown) = options
            .keys()
            .find(|key| !MAPPING_KEYS.contains(&key.as_str()))
        {
            return Err(bad(format!(
                "unknown option {unknown:?} (known: {})",
                MAPPING_KEYS.join(", ")
            )));
        }
        let mapping = Mapping::from_options(NAME, options)?
            .by_key()
            .map_err(bad)?;
        Ok(JsonLinesFormat { mapping })
    }
}

impl Format for JsonLinesFormat {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        let mut line = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            number += 1;
            let text = String::from_utf8_lossy(&line);
            let trimmed = text.trim_start_matches('\u{feff}').trim();
            if trimmed.is_empty() {
                continue;
            }
            let reference = format!("line {number}");
            match serde_json::from_str::<Value>(trimmed) {
                Ok(Value::Object(object)) => {
                    self.mapping
                        .emit(&JsonRow(&Value::Object(object)), &reference, sink)
                }
                Ok(_) => sink.reject(Rejection::new(reference, "not a JSON object")),
                Err(err) => sink.reject(Rejection::new(
                    reference,
                    format!("column {}: {err}", err.column()),
                )),
            }
        }
    }
}

/// A JSON object, read by (dotted) key. Scalars read as text, arrays as comma lists.
struct JsonRow<'a>(&'a Value);

impl Row for JsonRow<'_> {
    fn get(&self, field: &Field) -> Option<Cow<'_, str>> {
        let Field::Key(key) = field else { return None };
        let value = match self.0.get(key) {
            Some(value) => value,
            None => key
                .split('.')
                .try_fold(self.0, |value, part| value.get(part))?,
        };
        Some(text(value))
    }
}

fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text.trim()),
        Value::Null => Cow::Borrowed(""),
        Value::Array(items) => {
            let parts: Vec<Cow<'_, str>> = items
                .iter()
                .map(text)
                .filter(|part| !part.is_empty())
                .collect();
            Cow::Owned(parts.join(","))
        }
        other => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::CollectSink;

    #[test]
    fn reads_objects_and_rejects_other_lines() {
        let options: FormatOptions = [
            ("value", "url"),
            ("first_seen", "isotime"),
            ("labels", "tags,meta.kind"),
            ("kind", "url"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let format = JsonLinesFormat::from_options(&options).unwrap();
        let input = br#"{"url": "http://evil.example/a", "isotime": "2018-02-06T15:16:06Z", "tags": ["x", "y"], "meta": {"kind": "kit"}}

[1, 2]
{"url": null}
{"url": "http://evil.example/b"
"#;
        let mut sink = CollectSink::default();
        format.parse(&mut &input[..], &mut sink).unwrap();
        assert_eq!(sink.observations.len(), 1);
        assert_eq!(sink.observations[0].labels, ["x", "y", "kit"]);
        let references: Vec<&str> = sink
            .rejections
            .iter()
            .map(|r| r.reference.as_str())
            .collect();
        assert_eq!(references, ["line 3", "line 4", "line 5"]);
    }

    #[test]
    fn column_numbers_are_refused() {
        let options: FormatOptions = [("value".to_string(), "0".to_string())].into();
        assert!(JsonLinesFormat::from_options(&options).is_err());
    }
}
