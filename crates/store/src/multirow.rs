//! Multi-row statements built from `.sql` templates, so that a batch is written with a few
//! statements of hundreds of rows instead of one statement per row.
//!
//! A template is an ordinary `.sql` file with a `{rows}` placeholder and a comment line
//! `-- row: (…)` giving one row; `{index}` in the row becomes the row's position in the chunk.
//! A template may offer variants of the row (`-- row plain: (…)`) with literals in place of
//! parameters that are usually NULL, so that the common rows bind fewer values.
//! Chunks are full (`max_rows`) or a power of two, so each template has a handful of texts and
//! each stays prepared in the connection's statement cache.

use std::sync::OnceLock;

/// One multi-row statement template and its generated texts.
pub(crate) struct MultiRow {
    template: &'static str,
    /// The row line's label: `row` or `row NAME`.
    row: &'static str,
    max_rows: usize,
    texts: OnceLock<Vec<String>>,
}

impl MultiRow {
    /// `max_rows` must be a power of two; rows × parameters per row must stay within the
    /// backend's bind limit (32766 on SQLite, 65535 on PostgreSQL).
    pub(crate) const fn new(template: &'static str, max_rows: usize) -> MultiRow {
        MultiRow::variant(template, "row", max_rows)
    }

    /// The template with its `-- {row}:` line as the row, e.g. `row plain`.
    pub(crate) const fn variant(
        template: &'static str,
        row: &'static str,
        max_rows: usize,
    ) -> MultiRow {
        assert!(max_rows.is_power_of_two());
        MultiRow {
            template,
            row,
            max_rows,
            texts: OnceLock::new(),
        }
    }

    /// Chunk sizes covering `count` rows: full chunks, then decreasing powers of two.
    pub(crate) fn chunks(&self, count: usize) -> impl Iterator<Item = usize> + use<> {
        let max_rows = self.max_rows;
        let full = count / max_rows;
        let rest = count % max_rows;
        let powers = (0..usize::BITS)
            .rev()
            .map(|bit| 1usize << bit)
            .filter(move |size| rest & size != 0);
        std::iter::repeat_n(max_rows, full).chain(powers)
    }

    /// The statement for a chunk of `rows` rows, one of the sizes [`chunks`](Self::chunks) yields.
    pub(crate) fn sql(&'static self, rows: usize) -> &'static str {
        let texts = self.texts.get_or_init(|| self.expand_all());
        let slot = rows.trailing_zeros() as usize;
        // Sizes come from `chunks`, so a missing slot is a programming error; the largest
        // statement is still correct SQL for fewer rows only if bound fully, hence the assert.
        debug_assert!(rows.is_power_of_two() && rows <= self.max_rows);
        texts.get(slot).map_or("", String::as_str)
    }

    fn expand_all(&self) -> Vec<String> {
        let row = self
            .template
            .lines()
            .find_map(|line| {
                let label = line.trim_start().strip_prefix("-- ")?;
                label.strip_prefix(self.row)?.strip_prefix(':')
            })
            .map_or("", str::trim);
        // Row lines would put their placeholders in a comment of every statement: drop them.
        let template: String = self
            .template
            .lines()
            .filter(|line| !line.trim_start().starts_with("-- row"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut texts = Vec::new();
        let mut size = 1;
        while size <= self.max_rows {
            let mut rows = String::with_capacity((row.len() + 2) * size);
            for index in 0..size {
                if index > 0 {
                    rows.push_str(",\n");
                }
                rows.push_str(&row.replace("{index}", &index.to_string()));
            }
            texts.push(template.replacen("{rows}", &rows, 1));
            size *= 2;
        }
        texts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEMPLATE: MultiRow = MultiRow::new(
        "-- row: ({index}, ?)\n-- row plain: ({index}, 0)\nSELECT * FROM (VALUES {rows})",
        8,
    );
    static PLAIN: MultiRow = MultiRow::variant(TEMPLATE.template, "row plain", 8);

    #[test]
    fn chunks_cover_the_count_with_few_sizes() {
        assert_eq!(TEMPLATE.chunks(21).collect::<Vec<_>>(), [8, 8, 4, 1]);
        assert_eq!(TEMPLATE.chunks(0).count(), 0);
        assert_eq!(TEMPLATE.chunks(7).collect::<Vec<_>>(), [4, 2, 1]);
    }

    #[test]
    fn rows_are_numbered() {
        assert!(TEMPLATE.sql(2).ends_with("(VALUES (0, ?),\n(1, ?))"));
        assert_eq!(TEMPLATE.sql(8).matches('?').count(), 8);
        assert_eq!(PLAIN.sql(2), "SELECT * FROM (VALUES (0, 0),\n(1, 0))");
    }
}
