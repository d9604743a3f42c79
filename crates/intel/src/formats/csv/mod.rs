//! Delimited feeds (CSV, TSV, pipe- or semicolon-separated) with a configurable column mapping.
//!
//! Feeds put their header in many places: a plain first line, a commented line inside a block
//! of prose (abuse.ch: `# id,dateadded,url,...`), or nowhere. The reader first walks the
//! preamble line by line to find the header, then streams the rest record by record through the
//! `csv` crate, so quoted fields and embedded delimiters are handled and memory stays flat.
//!
//! Options (all strings, see [`CsvFormat::from_options`]):
//!
//! | option | meaning |
//! |---|---|
//! | `delimiter` | `,` (default), `\t` or `tab`, `\|`, `;`, or another single ASCII symbol |
//! | `comment` | lines starting with this character are skipped (default `#`; `none` to disable) |
//! | `quote` | quote character (default `"`; `none` to read quotes literally) |
//! | `header` | `true`: the first non-comment line is a header |
//! | `header_in_comment` | `true`: the header is the last comment line before the data that looks like one |
//! | `skip_header_lines` | skip this many lines first, whatever they hold |
//! | `value` | column(s) holding the indicator, by name or 0-based number (negative counts from the end); a comma list gives one observation per non-empty column |
//! | `kind` | the kind of every value (else guessed per value) |
//! | `kind_column` | a column naming the kind (`ip-dst`, `domain`, `url`, `md5`, …) |
//! | `prefix_length` | a column with a prefix length to append (`value/bits`), for start-address/bits lists |
//! | `first_seen`, `last_seen`, `valid_until` | time columns: RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC, or epoch seconds |
//! | `confidence` | a 0–100 column |
//! | `threat` | a column naming the malware or actor |
//! | `port` | a port column |
//! | `labels` | comma list of columns whose (comma-separated) values become labels |
//!
//! Column names compare case-insensitively, ignoring spaces, punctuation and parenthesised
//! remarks; a name ending in `?` may be missing from the header.

pub(crate) mod mapping;
pub(crate) mod time;

use std::borrow::Cow;
use std::io::{BufRead, Read};

use ::csv::{ByteRecord, ReaderBuilder, Trim};
use mapping::{Column, Field, MAPPING_KEYS, Mapping, Row};

use super::{Format, FormatError, FormatOptions, FormatSpecError, Sink};

const NAME: &str = "csv";

/// Options of the CSV reader itself, apart from the column mapping.
const READER_KEYS: &[&str] = &[
    "delimiter",
    "comment",
    "quote",
    "header",
    "header_in_comment",
    "skip_header_lines",
];

/// A delimited feed with its column mapping.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    delimiter: u8,
    comment: Option<u8>,
    quote: Option<u8>,
    header: bool,
    header_in_comment: bool,
    skip_header_lines: usize,
    mapping: Mapping<Column>,
}

impl CsvFormat {
    pub fn from_options(options: &FormatOptions) -> Result<CsvFormat, FormatSpecError> {
        let bad = |reason: String| FormatSpecError::BadOption {
            format: NAME,
            reason,
        };
        if let Some(unknown) = options.keys().find(|key| {
            !READER_KEYS.contains(&key.as_str()) && !MAPPING_KEYS.contains(&key.as_str())
        }) {
            let known: Vec<&str> = READER_KEYS.iter().chain(MAPPING_KEYS).copied().collect();
            return Err(bad(format!(
                "unknown option {unknown:?} (known: {})",
                known.join(", ")
            )));
        }
        let flag = |key: &str| -> Result<bool, FormatSpecError> {
            match options.get(key).map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(false),
                Some(v) if matches!(v.as_str(), "true" | "yes" | "1") => Ok(true),
                Some(v) if matches!(v.as_str(), "false" | "no" | "0" | "") => Ok(false),
                Some(v) => Err(bad(format!(
                    "option {key} must be true or false, not {v:?}"
                ))),
            }
        };
        let delimiter = match options.get("delimiter") {
            None => b',',
            Some(text) => symbol(text)
                .ok_or_else(|| bad(format!("delimiter {text:?} is not a single ASCII symbol")))?,
        };
        let comment = match options.get("comment").map(String::as_str) {
            None => Some(b'#'),
            Some("" | "none") => None,
            Some(text) => Some(
                symbol(text)
                    .ok_or_else(|| bad(format!("comment {text:?} is not a single ASCII symbol")))?,
            ),
        };
        let quote = match options.get("quote").map(String::as_str) {
            None => Some(b'"'),
            Some("" | "none") => None,
            Some(text) => Some(
                symbol(text)
                    .ok_or_else(|| bad(format!("quote {text:?} is not a single ASCII symbol")))?,
            ),
        };
        let skip_header_lines = match options.get("skip_header_lines") {
            None => 0,
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| bad(format!("skip_header_lines {text:?} is not a number")))?,
        };
        Ok(CsvFormat {
            delimiter,
            comment,
            quote,
            header: flag("header")?,
            header_in_comment: flag("header_in_comment")?,
            skip_header_lines,
            mapping: Mapping::from_options(NAME, options)?,
        })
    }

    fn reader_builder(&self) -> ReaderBuilder {
        let mut builder = ReaderBuilder::new();
        builder
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .trim(Trim::All)
            .comment(self.comment)
            .quoting(self.quote.is_some())
            .quote(self.quote.unwrap_or(b'"'));
        builder
    }

    /// Splits one line as the reader would (for header lines found in the preamble).
    fn split_line(&self, line: &[u8]) -> Vec<String> {
        let mut builder = self.reader_builder();
        builder.comment(None);
        let mut reader = builder.from_reader(line);
        let mut record = ByteRecord::new();
        match reader.read_byte_record(&mut record) {
            Ok(true) => record
                .iter()
                .map(|field| String::from_utf8_lossy(field).into_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether a comment line (without its comment marks) is the header: at least two columns,
    /// and every required named column among them.
    fn looks_like_header(&self, fields: &[String]) -> bool {
        if fields.iter().filter(|field| !field.is_empty()).count() < 2 {
            return false;
        }
        let keys: Vec<String> = fields
            .iter()
            .map(|field| mapping::column_key(field))
            .collect();
        self.mapping
            .required_keys()
            .all(|required| keys.iter().any(|key| key == required))
    }

    /// Reads lines up to the first data record. Returns the header (if any), the first data
    /// line (to be parsed with the rest) and its 1-based line number.
    fn preamble(&self, input: &mut dyn BufRead) -> Result<Preamble, FormatError> {
        let mut number = 0usize;
        let mut header = None;
        let mut header_line = 0;
        let mut line = Vec::new();
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(Preamble {
                    header,
                    header_line,
                    first: Vec::new(),
                    first_line: number + 1,
                });
            }
            number += 1;
            if number <= self.skip_header_lines {
                continue;
            }
            let content = strip_bom(trim_line_end(&line));
            if content.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if let Some(comment) = self.comment
                && content.first() == Some(&comment)
            {
                if self.header_in_comment {
                    let text = trim_leading(content, comment).trim_ascii();
                    let fields = self.split_line(text);
                    if self.looks_like_header(&fields) {
                        header = Some(fields);
                        header_line = number;
                    }
                }
                continue;
            }
            if self.header && header.is_none() {
                header = Some(self.split_line(content));
                header_line = number;
                continue;
            }
            let first = if number == 1 {
                strip_bom(&line).to_vec()
            } else {
                std::mem::take(&mut line)
            };
            return Ok(Preamble {
                header,
                header_line,
                first,
                first_line: number,
            });
        }
    }
}

struct Preamble {
    header: Option<Vec<String>>,
    header_line: usize,
    first: Vec<u8>,
    first_line: usize,
}

impl Format for CsvFormat {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        let preamble = self.preamble(input)?;
        let header_line = preamble.header_line;
        if preamble.first.is_empty() {
            // No data: still report a mapping that cannot work with the header we saw.
            if let Some(header) = &preamble.header {
                self.mapping.resolve(Some(header)).map_err(|reason| {
                    FormatError::Invalid(format!("line {header_line}: {reason}"))
                })?;
            }
            return Ok(());
        }
        if (self.header || self.header_in_comment)
            && preamble.header.is_none()
            && self.mapping.uses_names()
        {
            return Err(FormatError::Invalid(format!(
                "no header line found before the first record (line {})",
                preamble.first_line
            )));
        }
        let mapping = self
            .mapping
            .resolve(preamble.header.as_deref())
            .map_err(|reason| match preamble.header {
                Some(_) => FormatError::Invalid(format!("line {header_line}: {reason}")),
                None => FormatError::Invalid(reason),
            })?;
        let rest = std::io::Cursor::new(preamble.first).chain(input);
        let mut reader = self.reader_builder().from_reader(rest);
        let mut record = ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(err) => {
                    let line =
                        err.position().map_or(0, |p| p.line() as usize) + preamble.first_line - 1;
                    let message = err.to_string();
                    return Err(match err.into_kind() {
                        ::csv::ErrorKind::Io(io) => FormatError::Io(io),
                        _ => FormatError::Invalid(format!("line {line}: {message}")),
                    });
                }
            }
            if record.iter().all(<[u8]>::is_empty) {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line() as usize) + preamble.first_line - 1;
            let reference = format!("line {line}");
            mapping.emit(&CsvRow(&record), &reference, sink);
        }
    }
}

/// A record, read by position; negative positions count from the end.
struct CsvRow<'a>(&'a ByteRecord);

impl Row for CsvRow<'_> {
    fn get(&self, field: &Field) -> Option<Cow<'_, str>> {
        let Field::Index(index) = field else {
            return None;
        };
        let position = if *index < 0 {
            self.0.len().checked_sub(index.unsigned_abs())?
        } else {
            *index as usize
        };
        self.0.get(position).map(String::from_utf8_lossy)
    }
}

/// A single ASCII symbol given as itself or by name (`tab`, `\t`).
fn symbol(text: &str) -> Option<u8> {
    match text {
        "\\t" | "tab" | "\t" => Some(b'\t'),
        "space" | " " => Some(b' '),
        _ => match text.as_bytes() {
            [byte] if byte.is_ascii_punctuation() => Some(*byte),
            _ => None,
        },
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn strip_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line)
}

fn trim_leading(line: &[u8], mark: u8) -> &[u8] {
    let start = line.iter().position(|b| *b != mark).unwrap_or(line.len());
    &line[start..]
}

#[cfg(test)]
mod tests;
