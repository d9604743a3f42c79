//! Feed formats. Each format is one module implementing [`Format`], registered in [`by_name`].

mod csv;
mod jsonl;
pub mod misp;
pub mod presets;
pub mod stix;
mod text;

pub use presets::{PresetDefaults, preset_defaults};

use std::collections::BTreeMap;
use std::io::BufRead;

use rampart_model::{ContextObject, Observation};

/// Options a format takes from the source configuration (`[sources.NAME.options]` in TOML, or
/// `--option key=value` on the CLI), e.g. the column mapping of a CSV feed.
pub type FormatOptions = BTreeMap<String, String>;

/// A feed format: reads one document and reports what it finds.
pub trait Format: Send + Sync {
    /// The stable name used in configuration and on the CLI (`stix`, `misp`, `csv`, …).
    fn name(&self) -> &'static str;

    /// Whether a successful pull of this format is the source's whole list (values missing from
    /// it are withdrawn for the source). Presets for full-list feeds say yes.
    fn full_list(&self) -> bool {
        false
    }

    /// Parses `input`, sending every indicator statement and context object to `sink`.
    ///
    /// Objects that are wrong on their own are reported with [`Sink::reject`] and parsing goes
    /// on. `Err` means the document as a whole is unusable (not JSON, wrong type, truncated),
    /// and the import it belongs to is discarded.
    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError>;
}

/// Where a format sends what it finds.
pub trait Sink {
    fn observation(&mut self, observation: Observation);
    fn object(&mut self, object: ContextObject);
    fn reject(&mut self, rejection: Rejection);
}

/// One object or line that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// An object id or `line N`.
    pub reference: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(reference: impl Into<String>, reason: impl Into<String>) -> Rejection {
        Rejection {
            reference: reference.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reference, self.reason)
    }
}

/// A document that cannot be used as a whole.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Malformed syntax at a position (1-based line and column).
    #[error("line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    /// Well-formed but not this format (e.g. a JSON document that is not a STIX bundle).
    #[error("{0}")]
    Invalid(String),
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

impl FormatError {
    /// Converts a serde_json error, keeping its position.
    pub fn from_json(err: &serde_json::Error) -> FormatError {
        if err.is_io() {
            return FormatError::Invalid(format!("read failed: {err}"));
        }
        FormatError::Syntax {
            line: err.line(),
            column: err.column(),
            reason: strip_json_position(err),
        }
    }
}

fn strip_json_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Options given to a format that does not know them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FormatSpecError {
    #[error("unknown format {0:?}; known formats: {known}", known = names().join(", "))]
    Unknown(String),
    #[error("format {format}: {reason}")]
    BadOption {
        format: &'static str,
        reason: String,
    },
}

/// The formats Rampart reads, by name. Adding a format is one module and one line here.
pub fn by_name(name: &str, options: &FormatOptions) -> Result<Box<dyn Format>, FormatSpecError> {
    match name {
        "text" => text::TextFormat::from_options(options).map(|f| Box::new(f) as Box<dyn Format>),
        "stix" => stix::StixFormat::from_options(options).map(|f| Box::new(f) as Box<dyn Format>),
        "misp" => misp::MispFormat::from_options(options).map(|f| Box::new(f) as Box<dyn Format>),
        "csv" => csv::CsvFormat::from_options(options).map(|f| Box::new(f) as Box<dyn Format>),
        "jsonl" => {
            jsonl::JsonLinesFormat::from_options(options).map(|f| Box::new(f) as Box<dyn Format>)
        }
        _ => presets::by_name(name, options)
            .unwrap_or_else(|| Err(FormatSpecError::Unknown(name.to_owned()))),
    }
}

/// Names accepted by [`by_name`].
pub fn names() -> Vec<&'static str> {
    let mut names = vec!["text", "misp", "csv", "jsonl", "stix"];
    names.extend(presets::names());
    names
}

/// A sink that keeps everything in memory, for tests and small documents.
#[derive(Debug, Default)]
pub struct CollectSink {
    pub observations: Vec<Observation>,
    pub objects: Vec<ContextObject>,
    pub rejections: Vec<Rejection>,
}

impl Sink for CollectSink {
    fn observation(&mut self, observation: Observation) {
        self.observations.push(observation);
    }
    fn object(&mut self, object: ContextObject) {
        self.objects.push(object);
    }
    fn reject(&mut self, rejection: Rejection) {
        self.rejections.push(rejection);
    }
}
