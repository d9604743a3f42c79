//! Plain text lists: one value per line, kinds guessed, `#`/`;`/`//` comments and blank lines
//! skipped, trailing comments after whitespace dropped.

use std::io::BufRead;

use rampart_model::{Indicator, IndicatorKind, Observation};

use super::{Format, FormatError, FormatOptions, FormatSpecError, Rejection, Sink};

/// A plain list of values.
#[derive(Debug, Clone, Default)]
pub struct TextFormat {
    /// Parse every value as this kind instead of guessing.
    kind: Option<IndicatorKind>,
}

impl TextFormat {
    pub fn from_options(options: &FormatOptions) -> Result<TextFormat, FormatSpecError> {
        let mut format = TextFormat::default();
        for (key, value) in options {
            match key.as_str() {
                "kind" => {
                    format.kind =
                        Some(value.parse().map_err(|err: rampart_model::UnknownKind| {
                            FormatSpecError::BadOption {
                                format: "text",
                                reason: err.to_string(),
                            }
                        })?)
                }
                other => {
                    return Err(FormatSpecError::BadOption {
                        format: "text",
                        reason: format!("unknown option {other:?} (known: kind)"),
                    });
                }
            }
        }
        Ok(format)
    }
}

impl Format for TextFormat {
    fn name(&self) -> &'static str {
        "text"
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
            let value = strip_comment(&text);
            if value.is_empty() {
                continue;
            }
            let reference = format!("line {number}");
            let parsed = match self.kind {
                Some(kind) => Indicator::parse(kind, value),
                None => Indicator::guess(value),
            };
            match parsed {
                Ok(indicator) => sink.observation(Observation::new(indicator, reference)),
                Err(err) => sink.reject(Rejection::new(reference, format!("{value:?}: {err}"))),
            }
        }
    }
}

/// The value on a line without comments: whole-line `#`, `;` and `//` comments, and
/// anything after the first whitespace (`1.2.3.4 # scanner`, `evil.example ; SBL123`).
pub(crate) fn strip_comment(line: &str) -> &str {
    let trimmed = line.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.starts_with("//") {
        return "";
    }
    trimmed.split_whitespace().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::CollectSink;

    #[test]
    fn reads_values_and_reports_bad_lines_by_number() {
        let input = "# header\n\n203.0.113.7 ; scanner\nhxxp://evil[.]example/x\nnot a value\n";
        let mut sink = CollectSink::default();
        TextFormat::default()
            .parse(&mut input.as_bytes(), &mut sink)
            .unwrap();
        let values: Vec<_> = sink
            .observations
            .iter()
            .map(|o| o.indicator.value().to_owned())
            .collect();
        assert_eq!(values, ["203.0.113.7", "http://evil.example/x"]);
        assert_eq!(sink.rejections.len(), 1);
        assert_eq!(sink.rejections[0].reference, "line 5");
    }
}
