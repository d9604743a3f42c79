//! Alert deduplication and output.
//!
//! Both kinds of detection raise [`Alert`]s; an [`AlertBook`] folds repeats of the same key
//! within a suppression window into one alert with a count, and the writers print alerts as
//! JSON lines, CSV or an aligned table. Alert values are attacker-controlled text: the table
//! writer escapes control characters so that an event cannot rewrite the analyst's terminal.

use std::collections::HashMap;
use std::io::{self, Write};

use jiff::{SignedDuration, Timestamp};
use rampart_model::Alert;

/// What recording an alert did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The first alert with its key in the window: report it.
    New(Box<Alert>),
    /// A repeat folded into the open alert with that key, now seen `count` times.
    Repeat { key: String, count: u64 },
}

/// Open alerts by key, each kept for `window` after it was last seen.
#[derive(Debug)]
pub struct AlertBook {
    window: SignedDuration,
    capacity: usize,
    open: HashMap<String, Alert>,
    /// Alerts that were pushed out because the book was full (they were reported when new;
    /// only their later repeats become new alerts again).
    pub evicted: u64,
    /// Alerts closed by a new alert with their key after the window, or by eviction, with
    /// their final counts; see [`AlertBook::take_closed`].
    closed: Vec<Alert>,
}

impl AlertBook {
    /// A book that suppresses repeats for `window` and keeps at most `capacity` open alerts.
    pub fn new(window: SignedDuration, capacity: usize) -> AlertBook {
        AlertBook {
            window,
            capacity: capacity.max(1),
            open: HashMap::new(),
            evicted: 0,
            closed: Vec::new(),
        }
    }

    /// Records one alert; repeats of an open key within the window only raise its count.
    pub fn record(&mut self, alert: Alert) -> Recorded {
        if let Some(open) = self.open.get_mut(&alert.key)
            && alert.first_seen.duration_since(open.last_seen) <= self.window
        {
            open.count += alert.count;
            // `first_seen` stays the time of the event that raised the alert: it identifies
            // the alert in the store, so a repeat arriving out of order must not move it.
            open.last_seen = open.last_seen.max(alert.last_seen);
            return Recorded::Repeat {
                key: open.key.clone(),
                count: open.count,
            };
        }
        if self.open.len() >= self.capacity && !self.open.contains_key(&alert.key) {
            self.evict_oldest();
        }
        if let Some(previous) = self.open.insert(alert.key.clone(), alert.clone()) {
            self.closed.push(previous);
        }
        Recorded::New(Box::new(alert))
    }

    /// Closes every alert not seen within the window before `now`, returning them with their
    /// final counts (so a store can update them).
    pub fn expire(&mut self, now: Timestamp) -> Vec<Alert> {
        let window = self.window;
        let closed: Vec<String> = self
            .open
            .iter()
            .filter(|(_, alert)| now.duration_since(alert.last_seen) > window)
            .map(|(key, _)| key.clone())
            .collect();
        closed
            .into_iter()
            .filter_map(|key| self.open.remove(&key))
            .collect()
    }

    /// Alerts closed since the last call because a later alert took their key or the book
    /// was full, with their final counts.
    pub fn take_closed(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.closed)
    }

    /// The open alerts with their current counts, most recently seen first.
    pub fn open(&self) -> Vec<&Alert> {
        let mut alerts: Vec<&Alert> = self.open.values().collect();
        alerts.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.key.cmp(&b.key)));
        alerts
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .open
            .values()
            .min_by_key(|alert| alert.last_seen)
            .map(|alert| alert.key.clone());
        if let Some(alert) = oldest.and_then(|key| self.open.remove(&key)) {
            self.closed.push(alert);
            self.evicted += 1;
        }
    }
}

/// How alerts are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Csv,
    Table,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<OutputFormat, String> {
        match text {
            "jsonl" | "json" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            "table" => Ok(OutputFormat::Table),
            other => Err(format!(
                "unknown alert output {other:?} (expected jsonl, csv or table)"
            )),
        }
    }
}

/// Writes alerts one at a time.
pub struct AlertWriter<W: Write> {
    format: OutputFormat,
    out: W,
    header_written: bool,
}

const COLUMNS: [&str; 9] = [
    "last_seen",
    "severity",
    "count",
    "detection",
    "techniques",
    "matched",
    "event",
    "retro",
    "key",
];

impl<W: Write> AlertWriter<W> {
    pub fn new(format: OutputFormat, out: W) -> AlertWriter<W> {
        AlertWriter {
            format,
            out,
            header_written: false,
        }
    }

    pub fn write(&mut self, alert: &Alert) -> io::Result<()> {
        match self.format {
            OutputFormat::Jsonl => {
                serde_json::to_writer(&mut self.out, alert)?;
                self.out.write_all(b"\n")
            }
            OutputFormat::Csv => {
                if !self.header_written {
                    self.out.write_all(COLUMNS.join(",").as_bytes())?;
                    self.out.write_all(b"\n")?;
                    self.header_written = true;
                }
                let row: Vec<String> = columns(alert).iter().map(|c| csv_field(c)).collect();
                self.out.write_all(row.join(",").as_bytes())?;
                self.out.write_all(b"\n")
            }
            OutputFormat::Table => {
                let cells = columns(alert);
                writeln!(
                    self.out,
                    "{}  {:<13} {:>5}  {}  [{}]  {}  {}{}",
                    cells[0],
                    cells[1],
                    cells[2],
                    terminal_safe(&cells[3]),
                    cells[4],
                    terminal_safe(&cells[5]),
                    terminal_safe(&cells[6]),
                    if alert.retro { "  (retro-hunt)" } else { "" },
                )
            }
        }
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn columns(alert: &Alert) -> [String; 9] {
    let techniques: Vec<&str> = alert.techniques.iter().map(|t| t.as_str()).collect();
    let matched: Vec<String> = alert
        .matched
        .iter()
        .map(|m| format!("{}={}", m.field, m.value))
        .collect();
    [
        alert.last_seen.to_string(),
        alert.severity.to_string(),
        alert.count.to_string(),
        alert.detection.label(),
        techniques.join(" "),
        matched.join("; "),
        alert.event.to_string(),
        alert.retro.to_string(),
        alert.key.clone(),
    ]
}

/// RFC 4180 quoting, plus a leading quote for cells a spreadsheet would run as a formula.
fn csv_field(cell: &str) -> String {
    let formula = cell.starts_with(['=', '+', '-', '@']);
    let cell = if formula {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// Replaces control characters (escape sequences included) with their `\u{…}` form.
fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_control() {
            out.push_str(&ch.escape_unicode().to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::{Detection, EventRef, MatchedField, Severity};

    fn alert(title: &str, value: &str, at: &str) -> Alert {
        let detection = Detection::Sigma {
            rule_id: format!("id-{title}"),
            title: title.into(),
        };
        let matched = vec![MatchedField {
            field: "CommandLine".into(),
            value: value.into(),
        }];
        let time: Timestamp = at.parse().expect("fixture time");
        Alert {
            key: Alert::key_for(&detection, &matched),
            detection,
            severity: Severity::High,
            techniques: vec!["T1059.001".parse().expect("fixture id")],
            matched,
            event: EventRef::line("x.jsonl", 1),
            first_seen: time,
            last_seen: time,
            count: 1,
            retro: false,
        }
    }

    #[test]
    fn repeats_within_the_window_are_folded_and_later_ones_are_new() {
        let mut book = AlertBook::new(SignedDuration::from_mins(10), 100);
        assert!(matches!(
            book.record(alert("a", "x", "2026-01-01T00:00:00Z")),
            Recorded::New(_)
        ));
        assert_eq!(
            book.record(alert("a", "x", "2026-01-01T00:09:00Z")),
            Recorded::Repeat {
                key: alert("a", "x", "2026-01-01T00:00:00Z").key,
                count: 2
            }
        );
        // Another value is another alert.
        assert!(matches!(
            book.record(alert("a", "y", "2026-01-01T00:09:30Z")),
            Recorded::New(_)
        ));
        // 10 minutes after the last repeat (00:09) the window has passed.
        assert!(matches!(
            book.record(alert("a", "x", "2026-01-01T00:19:01Z")),
            Recorded::New(_)
        ));
        // The first "x" alert was closed by the second, with its final count.
        let replaced = book.take_closed();
        assert_eq!(replaced.len(), 1);
        assert_eq!(replaced[0].count, 2);
        let closed = book.expire("2026-01-01T01:00:00Z".parse().expect("time"));
        assert_eq!(closed.len(), 2);
        assert!(book.open().is_empty());
    }

    #[test]
    fn an_older_repeat_arriving_late_is_counted_without_moving_first_seen() {
        let mut book = AlertBook::new(SignedDuration::from_mins(10), 100);
        book.record(alert("a", "x", "2026-01-01T00:00:03Z"));
        let late = book.record(alert("a", "x", "2026-01-01T00:00:01Z"));
        assert!(matches!(late, Recorded::Repeat { count: 2, .. }));
        let open = book.open();
        assert_eq!(open[0].first_seen.to_string(), "2026-01-01T00:00:03Z");
        assert_eq!(open[0].count, 2);
    }

    #[test]
    fn a_full_book_evicts_the_oldest_and_counts_it() {
        let mut book = AlertBook::new(SignedDuration::from_hours(1), 2);
        book.record(alert("a", "1", "2026-01-01T00:00:00Z"));
        book.record(alert("a", "2", "2026-01-01T00:01:00Z"));
        book.record(alert("a", "3", "2026-01-01T00:02:00Z"));
        assert_eq!(book.evicted, 1);
        let open: Vec<&str> = book
            .open()
            .iter()
            .map(|a| a.matched[0].value.as_str())
            .collect();
        assert_eq!(open, ["3", "2"]);
        let evicted = book.take_closed();
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].matched[0].value, "1");
    }

    #[test]
    fn writers_escape_hostile_values() {
        let hostile = alert("t", "=cmd|'/c calc'!A1,\u{1b}[2J", "2026-01-01T00:00:00Z");
        let mut csv = AlertWriter::new(OutputFormat::Csv, Vec::new());
        csv.write(&hostile).expect("write");
        let text = String::from_utf8(csv.into_inner()).expect("utf8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(COLUMNS.join(",").as_str()));
        let row = lines.next().expect("row");
        assert!(
            row.contains("\"CommandLine==cmd|'/c calc'!A1,\u{1b}[2J\""),
            "{row}"
        );

        let mut table = AlertWriter::new(OutputFormat::Table, Vec::new());
        table.write(&hostile).expect("write");
        let text = String::from_utf8(table.into_inner()).expect("utf8");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("\\u{1b}[2J"), "{text}");

        let mut jsonl = AlertWriter::new(OutputFormat::Jsonl, Vec::new());
        jsonl.write(&hostile).expect("write");
        let text = String::from_utf8(jsonl.into_inner()).expect("utf8");
        let back: Alert = serde_json::from_str(text.trim_end()).expect("round trip");
        assert_eq!(back, hostile);
    }
}
