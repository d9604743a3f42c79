//! Export formats. Each is one module implementing [`Exporter`], registered in [`by_name`].
//!
//! Exports stream: the caller pages through the store and hands each indicator to the
//! exporter, so a million indicators never sit in memory at once.

mod csv;
pub mod misp;
pub mod stix;
mod text;

use std::io::Write;

use rampart_store::StoredIndicator;

/// One indicator to export, with its computed score.
#[derive(Debug, Clone)]
pub struct ExportItem {
    pub indicator: StoredIndicator,
    pub score: u8,
}

/// Writes indicators in one format.
pub trait Exporter: Send {
    fn name(&self) -> &'static str;
    /// The media type to serve this export with.
    fn media_type(&self) -> &'static str;
    fn begin(&mut self, out: &mut dyn Write) -> std::io::Result<()>;
    fn item(&mut self, item: &ExportItem, out: &mut dyn Write) -> std::io::Result<()>;
    fn end(&mut self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// The exporters Rampart writes, by name.
pub fn by_name(name: &str) -> Option<Box<dyn Exporter>> {
    match name {
        "csv" => Some(Box::new(csv::CsvExporter)),
        "text" => Some(Box::new(text::TextExporter)),
        "misp" => Some(Box::new(misp::MispExporter::default())),
        "stix" => Some(Box::new(stix::StixExporter::default())),
        _ => None,
    }
}

/// Names accepted by [`by_name`].
pub fn names() -> Vec<&'static str> {
    vec!["csv", "text", "misp", "stix"]
}
