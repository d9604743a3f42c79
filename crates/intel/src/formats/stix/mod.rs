//! STIX 2.1 bundles: indicators with their patterns, cyber-observables, and every other
//! object kept whole as context. An indicator object is kept as context too unless its
//! statements hold all it says (a pattern enforced as written and only standard properties).
//!
//! The document is streamed: the `frame` module walks the top-level `objects` array one
//! element at a time and each element is parsed on its own, so a bundle of a million
//! indicators never sits in memory as one tree. Accepted shapes are a bundle, a TAXII 2.1
//! envelope (`{"objects": [...], "more": …}`), a bare STIX object, and a plain array of STIX
//! objects (as ATT&CK ships samples).
//!
//! ```
//! use rampart_intel::formats::{CollectSink, Format, stix::StixFormat};
//! let bundle = r#"{"type": "bundle", "id": "bundle--1", "objects": [{
//!     "type": "indicator", "spec_version": "2.1", "id": "indicator--1",
//!     "created": "2024-01-01T00:00:00Z", "modified": "2024-01-02T00:00:00Z",
//!     "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
//!     "valid_from": "2024-01-01T00:00:00Z", "x_acme_case": "IR-7"}]}"#;
//! let mut sink = CollectSink::default();
//! StixFormat.parse(&mut bundle.as_bytes(), &mut sink).unwrap();
//! assert_eq!(sink.observations[0].indicator.value(), "203.0.113.7");
//! assert_eq!(sink.objects[0].body["x_acme_case"], "IR-7");
//! ```

mod frame;
mod objects;
pub mod pattern;
#[cfg(test)]
mod tests;
mod time;

use std::io::BufRead;

use serde_json::Value;

use super::{Format, FormatError, FormatOptions, FormatSpecError, Sink};
use frame::Shape;
use objects::ObjectReader;

/// The STIX 2.1 extension that defines the TLP 2.0 marking definitions.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// STIX 2.1 bundles, TAXII envelopes and bare objects.
#[derive(Debug, Clone, Copy, Default)]
pub struct StixFormat;

/// Counts of one parsed document, beyond what the sink sees.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StixStats {
    /// Elements read, rejected ones included.
    pub objects: u64,
    /// Objects sent to the sink as context.
    pub context_objects: u64,
    pub observations: u64,
    pub indicators: u64,
    /// Indicators whose pattern type is not `stix` (sigma, snort, yara, …): context only.
    pub other_pattern_types: u64,
    /// STIX-pattern indicators that name nothing matchable: context only, not rejected.
    pub patterns_without_values: u64,
    /// STIX-pattern indicators whose values are not what the pattern means as a whole.
    pub patterns_unenforced: u64,
    /// Objects skipped entirely (no id or type, unparsable pattern, not an object).
    pub rejected_objects: u64,
    /// Values dropped from objects that were kept (a domain with a space in it).
    pub rejected_values: u64,
}

impl StixFormat {
    pub fn from_options(options: &FormatOptions) -> Result<StixFormat, FormatSpecError> {
        match options.keys().next() {
            None => Ok(StixFormat),
            Some(other) => Err(FormatSpecError::BadOption {
                format: "stix",
                reason: format!("unknown option {other:?} (the stix format takes none)"),
            }),
        }
    }

    /// Parses like [`Format::parse`] and returns the counts.
    pub fn parse_counted(
        &self,
        input: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<StixStats, FormatError> {
        let mut objects = ObjectReader::new(sink);
        let shape = frame::read_document(input, &mut |value| objects.object(value))?;
        match shape {
            Shape::Array => {}
            Shape::Scalar(value) => {
                return Err(FormatError::Invalid(format!(
                    "not a STIX document: expected a bundle, an object or an array of objects, found {}",
                    describe(&value)
                )));
            }
            Shape::Map {
                rest,
                streamed: true,
            } => match rest.get("type") {
                None => {}
                Some(Value::String(kind)) if kind == "bundle" => {}
                Some(other) => {
                    return Err(FormatError::Invalid(format!(
                        "top-level object of type {other} has an objects array; expected a bundle"
                    )));
                }
            },
            Shape::Map {
                rest,
                streamed: false,
            } => match rest.get("type") {
                Some(Value::String(kind)) if kind == "bundle" => {}
                Some(Value::String(_)) => objects.object(Value::Object(rest)),
                Some(other) => {
                    return Err(FormatError::Invalid(format!(
                        "type must be a string, found {other}"
                    )));
                }
                None if rest.keys().all(|key| key == "more" || key == "next") => {}
                None => {
                    return Err(FormatError::Invalid(
                        "not a STIX bundle, object or TAXII envelope: no type and no objects array"
                            .into(),
                    ));
                }
            },
        }
        Ok(objects.stats)
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Format for StixFormat {
    fn name(&self) -> &'static str {
        "stix"
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        let stats = self.parse_counted(input, sink)?;
        tracing::debug!(
            objects = stats.objects,
            observations = stats.observations,
            indicators = stats.indicators,
            without_values = stats.patterns_without_values,
            unenforced = stats.patterns_unenforced,
            other_pattern_types = stats.other_pattern_types,
            rejected_objects = stats.rejected_objects,
            rejected_values = stats.rejected_values,
            "parsed stix document"
        );
        Ok(())
    }
}
