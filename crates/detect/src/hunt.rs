//! Hunting over files: decode every event of the given paths, run the detector over each, and
//! fold the alerts into a summary an analyst reads first — which rules and indicators fired,
//! at which level, how often.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use rampart_model::{Alert, Detection, Severity};
use serde::Serialize;

use crate::alert::AlertBook;
use crate::decode::{self, DecodeError, Options, Sink};
use crate::detector::{Detector, DetectorStats};
use crate::event::Event;

/// One line of the summary: a detection and how much it fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionSummary {
    /// `sigma`, `correlation` or `indicator`.
    pub kind: &'static str,
    /// Rule id, or `kind:value` of the indicator.
    pub id: String,
    pub label: String,
    pub severity: Severity,
    /// Distinct alerts (different matched values).
    pub alerts: u64,
    /// Events behind them.
    pub events: u64,
}

/// What a hunt found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HuntSummary {
    pub events: u64,
    pub decode_errors: u64,
    /// The first decode errors, with their references (the count above has them all).
    pub first_errors: Vec<String>,
    pub alerts: u64,
    pub by_severity: BTreeMap<Severity, u64>,
    pub by_detection: Vec<DetectionSummary>,
    pub detector: DetectorStats,
    pub elapsed: Duration,
    pub events_per_second: f64,
}

const KEPT_ERRORS: usize = 20;

/// A hunt in progress.
pub struct Hunt {
    detector: Detector,
    book: AlertBook,
    events: u64,
    errors: u64,
    first_errors: Vec<String>,
    started: Instant,
    progress: Box<dyn FnMut(u64) + Send>,
}

impl Hunt {
    /// A hunt with `detector`; repeats of an alert within `window` (in event time) are
    /// counted on the first. `progress` is called with the event count every 10,000 events.
    pub fn new(
        detector: Detector,
        window: SignedDuration,
        progress: Box<dyn FnMut(u64) + Send>,
    ) -> Hunt {
        Hunt {
            detector,
            // A hunt keeps every alert it raised: the book must never evict.
            book: AlertBook::new(window, usize::MAX),
            events: 0,
            errors: 0,
            first_errors: Vec::new(),
            started: Instant::now(),
            progress,
        }
    }

    /// Decodes and hunts through a file, a folder (recursively) or `-` for standard input.
    pub fn run_path(&mut self, path: &Path, options: &Options) -> Result<(), DecodeError> {
        decode::decode_path(path, options, self).map(|_| ())
    }

    /// Decodes and hunts through one input with a named decoder (`auto` sniffs).
    pub fn run_reader(
        &mut self,
        decoder: &str,
        name: &str,
        reader: &mut dyn std::io::BufRead,
        options: &Options,
    ) -> Result<(), DecodeError> {
        decode::decode_reader(decoder, name, reader, options, self).map(|_| ())
    }

    /// The alerts, most severe first, then by first sighting; and the summary.
    pub fn finish(mut self) -> (Vec<Alert>, HuntSummary) {
        let elapsed = self.started.elapsed();
        let mut alerts = self.book.take_closed();
        alerts.extend(self.book.expire(jiff::Timestamp::MAX));
        alerts.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.first_seen.cmp(&b.first_seen))
        });
        let mut by_severity = BTreeMap::new();
        let mut by_detection: BTreeMap<(String, &'static str), DetectionSummary> = BTreeMap::new();
        for alert in &alerts {
            *by_severity.entry(alert.severity).or_insert(0) += 1;
            let (kind, id) = match &alert.detection {
                Detection::Sigma { rule_id, .. } => ("sigma", rule_id.clone()),
                Detection::Correlation { rule_id, .. } => ("correlation", rule_id.clone()),
                Detection::Indicator { kind, value, .. } => {
                    ("indicator", format!("{}:{value}", kind.as_str()))
                }
                Detection::External {
                    source, source_ref, ..
                } => ("external", format!("{source}:{source_ref}")),
            };
            let line = by_detection
                .entry((id.clone(), kind))
                .or_insert_with(|| DetectionSummary {
                    kind,
                    id,
                    label: alert.detection.label(),
                    severity: alert.severity,
                    alerts: 0,
                    events: 0,
                });
            line.alerts += 1;
            line.events += alert.count;
        }
        let mut by_detection: Vec<DetectionSummary> = by_detection.into_values().collect();
        by_detection.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(b.events.cmp(&a.events))
                .then(a.id.cmp(&b.id))
        });
        let seconds = elapsed.as_secs_f64();
        let summary = HuntSummary {
            events: self.events,
            decode_errors: self.errors,
            first_errors: self.first_errors,
            alerts: alerts.len() as u64,
            by_severity,
            by_detection,
            detector: self.detector.stats,
            elapsed,
            events_per_second: if seconds > 0.0 {
                self.events as f64 / seconds
            } else {
                0.0
            },
        };
        (alerts, summary)
    }
}

impl Sink for Hunt {
    fn event(&mut self, event: Event) {
        self.events += 1;
        if self.events.is_multiple_of(10_000) {
            (self.progress)(self.events);
        }
        let book = &mut self.book;
        self.detector.process(&event, &mut |alert| {
            book.record(alert);
        });
    }

    fn error(&mut self, error: DecodeError) {
        self.errors += 1;
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(error.to_string());
        }
    }
}
