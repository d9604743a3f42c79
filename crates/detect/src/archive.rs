//! The event archive: every event that passed detection, kept as gzip-compressed JSON-lines
//! segments for a retention period, so that intel arriving later can be checked against what
//! already happened ("was anyone hit before we knew?").
//!
//! A segment is written as `events-<first µs>.jsonl.gz.part` and renamed to
//! `events-<first µs>-<last µs>.jsonl.gz` when it is closed, so retention and time-bounded
//! sweeps decide from file names alone. A `.part` left by a crash is closed on the next open;
//! its last, truncated gzip member is read up to the damage and the loss is counted.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::event::Event;

/// Where and how long events are kept (`[detect.archive]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// Directory of the segments; created if missing.
    pub dir: PathBuf,
    /// How long events are kept, e.g. `"30d"` (friendly or ISO 8601 duration).
    #[serde(with = "friendly_duration")]
    pub retention: SignedDuration,
    /// A segment is closed after this many events…
    pub segment_events: u64,
    /// …or once its first event is this old, so sweeps see recent events soon.
    #[serde(with = "friendly_duration")]
    pub segment_age: SignedDuration,
}

impl Default for ArchiveConfig {
    fn default() -> ArchiveConfig {
        ArchiveConfig {
            dir: PathBuf::from("rampart-archive"),
            retention: SignedDuration::from_hours(24 * 30),
            segment_events: 200_000,
            segment_age: SignedDuration::from_mins(10),
        }
    }
}

pub(crate) mod friendly_duration {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &SignedDuration, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(&format!("{value:#}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<SignedDuration, D::Error> {
        let text = String::deserialize(input)?;
        // Through a span so that days are accepted (`"30d"`), each counted as 24 hours.
        text.parse::<jiff::Span>()
            .and_then(|span| span.to_duration(jiff::SpanRelativeTo::days_are_24_hours()))
            .map_err(|error| serde::de::Error::custom(format!("bad duration {text:?}: {error}")))
    }
}

/// What went wrong in the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("event archive {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("event archive: cannot encode event {reference}: {source}")]
    Encode {
        reference: String,
        source: serde_json::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A closed segment, as named on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub path: PathBuf,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// What a sweep read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepStats {
    pub segments: u64,
    pub events: u64,
    /// Lines that were not valid events, and truncated segment tails.
    pub damaged: u64,
}

struct OpenSegment {
    part: PathBuf,
    writer: GzEncoder<BufWriter<File>>,
    first: Timestamp,
    last: Timestamp,
    events: u64,
}

/// The archive: appends to one open segment, and reads closed ones.
pub struct Archive {
    config: ArchiveConfig,
    open: Option<OpenSegment>,
    /// Events appended since the archive was opened.
    pub appended: u64,
}

impl Archive {
    /// Opens (creating) the archive directory and closes any segment a crash left open.
    pub fn open(config: ArchiveConfig) -> Result<Archive, ArchiveError> {
        fs::create_dir_all(&config.dir).map_err(io_error(&config.dir))?;
        for entry in fs::read_dir(&config.dir).map_err(io_error(&config.dir))? {
            let path = entry.map_err(io_error(&config.dir))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(first) = name
                .strip_prefix("events-")
                .and_then(|rest| rest.strip_suffix(".jsonl.gz.part"))
                .and_then(|micros| micros.parse::<i64>().ok())
            {
                let modified = fs::metadata(&path)
                    .and_then(|meta| meta.modified())
                    .ok()
                    .and_then(|time| Timestamp::try_from(time).ok())
                    .unwrap_or_else(Timestamp::now);
                let closed = config.dir.join(format!(
                    "events-{first}-{}.jsonl.gz",
                    modified.as_microsecond().max(first)
                ));
                fs::rename(&path, &closed).map_err(io_error(&path))?;
            }
        }
        Ok(Archive {
            config,
            open: None,
            appended: 0,
        })
    }

    /// Opens the archive for sweeps only, beside a writer that owns the open segment: no
    /// recovery of `.part` files, nothing written.
    pub fn open_readonly(config: ArchiveConfig) -> Result<Archive, ArchiveError> {
        fs::create_dir_all(&config.dir).map_err(io_error(&config.dir))?;
        Ok(Archive {
            config,
            open: None,
            appended: 0,
        })
    }

    pub fn config(&self) -> &ArchiveConfig {
        &self.config
    }

    /// Appends one event, closing the open segment first when it is full or old.
    pub fn append(&mut self, event: &Event) -> Result<(), ArchiveError> {
        let time = event.time.unwrap_or_else(Timestamp::now);
        if let Some(open) = &self.open
            && (open.events >= self.config.segment_events
                || time.duration_since(open.first) >= self.config.segment_age)
        {
            self.close()?;
        }
        if self.open.is_none() {
            self.open = Some(self.start(time)?);
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let line = serde_json::to_vec(event).map_err(|source| ArchiveError::Encode {
            reference: event.reference.to_string(),
            source,
        })?;
        open.writer
            .write_all(&line)
            .and_then(|()| open.writer.write_all(b"\n"))
            .map_err(io_error(&open.part))?;
        open.first = open.first.min(time);
        open.last = open.last.max(time);
        open.events += 1;
        self.appended += 1;
        Ok(())
    }

    fn start(&self, time: Timestamp) -> Result<OpenSegment, ArchiveError> {
        // Two segments may start in the same microsecond (replayed files): a segment's start
        // time is its identity, so move it forward past every start already taken.
        let taken: std::collections::HashSet<i64> = self
            .segments()?
            .iter()
            .map(|segment| segment.first.as_microsecond())
            .collect();
        let mut micros = time.as_microsecond();
        let part = loop {
            let candidate = self
                .config
                .dir
                .join(format!("events-{micros}.jsonl.gz.part"));
            if !taken.contains(&micros) && !candidate.exists() {
                break candidate;
            }
            micros += 1;
        };
        let file = File::create(&part).map_err(io_error(&part))?;
        Ok(OpenSegment {
            part,
            writer: GzEncoder::new(BufWriter::new(file), Compression::fast()),
            first: time,
            last: time,
            events: 0,
        })
    }

    /// Closes the open segment, making its events visible to sweeps.
    pub fn close(&mut self) -> Result<(), ArchiveError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let part = open.part.clone();
        let mut inner = open.writer.finish().map_err(io_error(&part))?;
        inner.flush().map_err(io_error(&part))?;
        let first = file_micros(&part).unwrap_or(open.first.as_microsecond());
        let closed = self.config.dir.join(format!(
            "events-{first}-{}.jsonl.gz",
            open.last.as_microsecond().max(first)
        ));
        fs::rename(&part, &closed).map_err(io_error(&part))?;
        Ok(())
    }

    /// The closed segments, oldest first.
    pub fn segments(&self) -> Result<Vec<Segment>, ArchiveError> {
        let mut segments = Vec::new();
        for entry in fs::read_dir(&self.config.dir).map_err(io_error(&self.config.dir))? {
            let path = entry.map_err(io_error(&self.config.dir))?.path();
            let Some((first, last)) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(parse_closed_name)
            else {
                continue;
            };
            let (Ok(first), Ok(last)) = (
                Timestamp::from_microsecond(first),
                Timestamp::from_microsecond(last),
            ) else {
                continue;
            };
            segments.push(Segment { path, first, last });
        }
        segments.sort_by(|a, b| (a.first, &a.path).cmp(&(b.first, &b.path)));
        Ok(segments)
    }

    /// Deletes closed segments whose newest event is older than the retention period.
    pub fn prune(&self, now: Timestamp) -> Result<usize, ArchiveError> {
        let mut removed = 0;
        for segment in self.segments()? {
            if now.duration_since(segment.last) > self.config.retention {
                fs::remove_file(&segment.path).map_err(io_error(&segment.path))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Reads every closed segment once, in time order, handing each event to `visit`.
    /// Damaged lines and truncated tails are counted, not fatal.
    pub fn sweep(&self, mut visit: impl FnMut(Event)) -> Result<SweepStats, ArchiveError> {
        let mut stats = SweepStats::default();
        for segment in self.segments()? {
            stats.segments += 1;
            let file = File::open(&segment.path).map_err(io_error(&segment.path))?;
            let mut reader = BufReader::new(MultiGzDecoder::new(BufReader::new(file)));
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => match serde_json::from_slice::<Event>(&line) {
                        Ok(event) => {
                            stats.events += 1;
                            visit(event);
                        }
                        Err(_) => stats.damaged += 1,
                    },
                    Err(_) => {
                        stats.damaged += 1;
                        break;
                    }
                }
            }
        }
        Ok(stats)
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        // Best effort: a segment not closed here is closed by the next `open`.
        let _ = self.close();
    }
}

fn file_micros(part: &Path) -> Option<i64> {
    part.file_name()?
        .to_str()?
        .strip_prefix("events-")?
        .strip_suffix(".jsonl.gz.part")?
        .parse()
        .ok()
}

fn parse_closed_name(name: &str) -> Option<(i64, i64)> {
    let (first, last) = name
        .strip_prefix("events-")?
        .strip_suffix(".jsonl.gz")?
        .split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventRef;
    use serde_json::json;

    fn event(line: u64, at: &str) -> Event {
        Event {
            reference: EventRef::line("proxy.jsonl", line),
            format: "jsonl".into(),
            time: Some(at.parse().expect("fixture time")),
            fields: json!({"url": {"domain": format!("host{line}.example")}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn config(dir: &Path) -> ArchiveConfig {
        ArchiveConfig {
            dir: dir.to_path_buf(),
            retention: SignedDuration::from_hours(24),
            segment_events: 3,
            segment_age: SignedDuration::from_mins(10),
        }
    }

    #[test]
    fn config_durations_read_and_write_in_friendly_form() {
        let config: ArchiveConfig =
            serde_json::from_str(r#"{"dir": "a", "retention": "7d", "segment_age": "PT5M"}"#)
                .expect("parse");
        assert_eq!(config.retention, SignedDuration::from_hours(7 * 24));
        assert_eq!(config.segment_age, SignedDuration::from_mins(5));
        let text = serde_json::to_string(&config).expect("write");
        let back: ArchiveConfig = serde_json::from_str(&text).expect("reparse");
        assert_eq!(back, config);
        let bad = serde_json::from_str::<ArchiveConfig>(r#"{"retention": "soon"}"#);
        assert!(bad.is_err_and(|e| e.to_string().contains("soon")));
    }

    #[test]
    fn events_round_trip_through_rotated_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut archive = Archive::open(config(dir.path())).expect("open");
        for line in 1..=7 {
            archive
                .append(&event(line, "2026-03-01T10:00:00Z"))
                .expect("append");
        }
        // 7 events, 3 per segment: two closed, one open and not yet visible.
        assert_eq!(archive.segments().expect("list").len(), 2);
        archive.close().expect("close");
        let mut seen = Vec::new();
        let stats = archive.sweep(|e| seen.push(e)).expect("sweep");
        assert_eq!(stats.segments, 3);
        assert_eq!(stats.events, 7);
        assert_eq!(stats.damaged, 0);
        assert_eq!(seen[6], event(7, "2026-03-01T10:00:00Z"));
    }

    #[test]
    fn old_segments_are_pruned_and_a_crashed_part_is_recovered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut archive = Archive::open(config(dir.path())).expect("open");
        archive
            .append(&event(1, "2026-03-01T10:00:00Z"))
            .expect("append");
        // A segment is closed when its first event is older than segment_age.
        archive
            .append(&event(2, "2026-03-02T12:00:00Z"))
            .expect("append");
        archive.close().expect("close");
        let removed = archive
            .prune("2026-03-02T13:00:00Z".parse().expect("time"))
            .expect("prune");
        assert_eq!(removed, 1);
        assert_eq!(archive.segments().expect("list").len(), 1);

        // Simulate a crash: write into a segment and forget the archive without closing it.
        let mut crashed = Archive::open(config(dir.path())).expect("open");
        crashed
            .append(&event(3, "2026-03-02T12:30:00Z"))
            .expect("append");
        if let Some(open) = crashed.open.as_mut() {
            open.writer.flush().expect("flush");
        }
        std::mem::forget(crashed);
        let reopened = Archive::open(config(dir.path())).expect("reopen");
        let mut lines = Vec::new();
        let stats = reopened
            .sweep(|e| lines.push(e.reference.to_string()))
            .expect("sweep");
        assert_eq!(stats.segments, 2);
        assert_eq!(lines, ["proxy.jsonl:2", "proxy.jsonl:3"]);
        assert_eq!(stats.damaged, 1, "the unfinished gzip tail is counted");
    }
}
