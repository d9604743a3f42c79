//! CSV export: one row per indicator with its score, TLP, sources and context.

use std::io::Write;

use super::{ExportItem, Exporter};

/// `kind,value,score,tlp,first_seen,last_seen,sources,labels,techniques,threats,suppressed`.
#[derive(Default)]
pub struct CsvExporter;

const HEADER: [&str; 11] = [
    "kind",
    "value",
    "score",
    "tlp",
    "first_seen",
    "last_seen",
    "sources",
    "labels",
    "techniques",
    "threats",
    "suppressed",
];

impl Exporter for CsvExporter {
    fn name(&self) -> &'static str {
        "csv"
    }
    fn media_type(&self) -> &'static str {
        "text/csv; charset=utf-8"
    }
    fn begin(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(HEADER)?;
        writer.flush()
    }
    fn item(&mut self, item: &ExportItem, out: &mut dyn Write) -> std::io::Result<()> {
        let stored = &item.indicator;
        let join = |values: Vec<String>| {
            let mut values = values;
            values.sort();
            values.dedup();
            values.join(";")
        };
        let last_seen = stored
            .sources
            .iter()
            .map(|s| s.last_seen)
            .max()
            .unwrap_or(stored.first_seen);
        let record = [
            stored.indicator.kind().as_str().to_owned(),
            stored.indicator.value().to_owned(),
            item.score.to_string(),
            stored.tlp().label().to_owned(),
            stored.first_seen.to_string(),
            last_seen.to_string(),
            join(stored.sources.iter().map(|s| s.source.clone()).collect()),
            join(
                stored
                    .sources
                    .iter()
                    .flat_map(|s| s.labels.clone())
                    .collect(),
            ),
            join(
                stored
                    .sources
                    .iter()
                    .flat_map(|s| s.techniques.iter().map(|t| t.to_string()))
                    .collect(),
            ),
            join(
                stored
                    .sources
                    .iter()
                    .flat_map(|s| s.threats.clone())
                    .collect(),
            ),
            stored.suppressed.clone().unwrap_or_default(),
        ];
        // The csv writer quotes fields with separators, quotes or line breaks, so
        // attacker-written labels cannot add columns or rows.
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(&record)?;
        writer.flush()
    }
    fn end(&mut self, _out: &mut dyn Write) -> std::io::Result<()> {
        Ok(())
    }
}
