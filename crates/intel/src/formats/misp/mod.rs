//! MISP core format (events and attributes as JSON) into observations and context objects.
//!
//! Every attribute, at event level or inside an `Object`, ends in exactly one of three ways:
//! it carries an indicator of one of Rampart's kinds (one or, for `domain|ip`, two
//! observations), its type carries none (`text`, `link`, `regkey`… — skipped and counted, not
//! rejected), or its value is bad and it is rejected with the attribute's uuid as reference.
//! [`MispStats`] keeps those counts so callers and tests can check nothing went missing.
//!
//! The event itself becomes a `misp-event` [`ContextObject`] kept whole (sightings included).
//! Mapping of types: [`types`]; of tags and galaxies: [`tags`]; of confidence and time: [`event`].
//!
//! ```
//! use rampart_intel::formats::{self, CollectSink};
//! let doc = r#"{"Event": {"uuid": "5a3c2fcd-0000-4000-8000-000000000001", "info": "demo",
//!   "Tag": [{"name": "tlp:amber"}],
//!   "Attribute": [{"type": "ip-dst|port", "value": "198.51.100.7|8443"},
//!                 {"type": "text", "value": "just words"}]}}"#;
//! let format = formats::by_name("misp", &Default::default()).unwrap();
//! let mut sink = CollectSink::default();
//! format.parse(&mut doc.as_bytes(), &mut sink).unwrap();
//! assert_eq!(sink.observations[0].indicator.value(), "198.51.100.7");
//! assert_eq!(sink.observations[0].port, Some(8443));
//! assert_eq!(sink.objects[0].object_type, "misp-event");
//! ```

mod event;
mod stream;
mod tags;
pub(crate) mod types;

use std::io::BufRead;

use serde::de::DeserializeSeed;

use super::{Format, FormatError, FormatOptions, FormatSpecError, Rejection, Sink};

pub use event::{NOT_FOR_IDS_CONFIDENCE, NOT_FOR_IDS_LABEL};

/// The MISP JSON format. It takes no options.
#[derive(Debug, Clone, Default)]
pub struct MispFormat;

/// What one parse saw. `attributes == indicator_attributes + skipped + rejected` always holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MispStats {
    pub events: u64,
    /// Attributes read, at event level, in objects, and stand-alone.
    pub attributes: u64,
    /// Attributes that gave at least one observation.
    pub indicator_attributes: u64,
    /// Attributes whose type carries no indicator (or whose value holds none: an `uri` that is
    /// only a path, a `malware-sample` that is only a file name).
    pub skipped: u64,
    /// Attributes rejected for a bad value.
    pub rejected: u64,
    /// Observations sent (a `domain|ip` attribute sends two).
    pub observations: u64,
    /// Attributes that came without an event (attribute restSearch output).
    pub standalone: u64,
    /// Elements of a top-level list that were read.
    pub elements: u64,
    /// List elements or events that were not MISP objects at all (rejected too).
    pub rejected_documents: u64,
}

impl MispFormat {
    pub fn from_options(options: &FormatOptions) -> Result<MispFormat, FormatSpecError> {
        match options.keys().next() {
            None => Ok(MispFormat),
            Some(other) => Err(FormatSpecError::BadOption {
                format: "misp",
                reason: format!("unknown option {other:?} (the misp format takes none)"),
            }),
        }
    }

    /// Parses like [`Format::parse`] and also returns the counts.
    pub fn parse_counted(
        &self,
        input: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<MispStats, FormatError> {
        let mut walker = event::Walker {
            sink,
            stats: MispStats::default(),
        };
        let mut invalid = None;
        let mut deserializer = serde_json::Deserializer::from_reader(input);
        let document = stream::Document {
            walker: &mut walker,
            invalid: &mut invalid,
        };
        let parsed = document
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end());
        if let Some(reason) = invalid {
            return Err(FormatError::Invalid(reason));
        }
        parsed.map_err(|err| FormatError::from_json(&err))?;
        Ok(walker.stats)
    }
}

impl Format for MispFormat {
    fn name(&self) -> &'static str {
        "misp"
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        self.parse_counted(input, sink).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
