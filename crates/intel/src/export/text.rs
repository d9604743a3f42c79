//! Plain text export: one canonical value per line, the form block lists and EDLs read.

use std::io::Write;

use super::{ExportItem, Exporter};

/// One value per line.
pub struct TextExporter;

impl Exporter for TextExporter {
    fn name(&self) -> &'static str {
        "text"
    }
    fn media_type(&self) -> &'static str {
        "text/plain; charset=utf-8"
    }
    fn begin(&mut self, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
    fn item(&mut self, item: &ExportItem, out: &mut dyn Write) -> std::io::Result<()> {
        // Canonical values never contain line breaks (the model rejects whitespace in every
        // kind, and URLs are percent-encoded), so one line per value cannot be broken.
        writeln!(out, "{}", item.indicator.indicator.value())
    }
    fn end(&mut self, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
}
