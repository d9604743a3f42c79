//! Human tables and JSON output.

use std::io::Write;

/// A plain text table with aligned columns. Cells are shown as given; control characters
/// (attacker-controlled values can hold escape sequences) are replaced so a terminal cannot be
/// driven by feed content.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: Vec<&'static str>) -> Table {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|cell| printable(&cell)).collect());
    }

    pub fn print(&self) {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (index, cell) in row.iter().enumerate() {
                if let Some(width) = widths.get_mut(index) {
                    *width = (*width).max(cell.chars().count().min(80));
                }
            }
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let line = |out: &mut dyn Write, cells: &[String]| {
            let mut text = String::new();
            for (index, cell) in cells.iter().enumerate() {
                let width = widths.get(index).copied().unwrap_or(0);
                if index + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(
            &mut out,
            &self
                .headers
                .iter()
                .map(|h| h.to_uppercase())
                .collect::<Vec<_>>(),
        );
        for row in &self.rows {
            line(&mut out, row);
        }
    }
}

/// Replaces control characters so terminal escape sequences in intel values are inert.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Prints a value as pretty JSON.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A timestamp for tables: seconds precision.
pub fn when(at: Option<jiff::Timestamp>) -> String {
    at.map(|t| {
        t.round(jiff::Unit::Second)
            .map(|t| t.to_string())
            .unwrap_or_default()
    })
    .unwrap_or_else(|| "-".into())
}
