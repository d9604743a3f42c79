//! Alerts: the one type both kinds of detection — indicator matches and Sigma rules, with their
//! correlations — raise, and the reference back to the event that caused them.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{AttackId, IndicatorKind};

/// Where an event came from, precisely enough to find it again: the input and a position in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventRef {
    /// The input: a file path, `-` for standard input, or a listener such as
    /// `syslog+udp://127.0.0.1:5514`.
    pub source: String,
    /// The position within that input.
    pub locator: Locator,
}

/// A position within one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locator {
    /// 1-based line of a text input (after decompression, for `.gz` files).
    Line(u64),
    /// An EVTX record id (`EventRecordID`), stable across re-reads of the file.
    Record(u64),
    /// The n-th message (1-based) received on a network listener since it started.
    Message(u64),
}

impl EventRef {
    pub fn line(source: impl Into<String>, line: u64) -> EventRef {
        EventRef {
            source: source.into(),
            locator: Locator::Line(line),
        }
    }
}

impl fmt::Display for EventRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.locator {
            Locator::Line(line) => write!(f, "{}:{line}", self.source),
            Locator::Record(record) => write!(f, "{}#record{record}", self.source),
            Locator::Message(message) => write!(f, "{}#message{message}", self.source),
        }
    }
}

/// How urgent an alert is; Sigma's `level` values, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

/// A name that is not a severity.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown severity {0:?} (expected informational, low, medium, high or critical)")]
pub struct UnknownSeverity(pub String);

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity of an indicator match with this score (0–100), in fixed bands so that an
    /// analyst can predict it: ≥ 90 critical, ≥ 70 high, ≥ 40 medium, ≥ 20 low.
    pub fn for_score(score: f64) -> Severity {
        match score {
            s if s >= 90.0 => Severity::Critical,
            s if s >= 70.0 => Severity::High,
            s if s >= 40.0 => Severity::Medium,
            s if s >= 20.0 => Severity::Low,
            _ => Severity::Informational,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(text: &str) -> Result<Severity, UnknownSeverity> {
        match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Severity::Informational),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(text.to_owned())),
        }
    }
}

/// What raised an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detection {
    /// A Sigma detection rule matched one event.
    Sigma { rule_id: String, title: String },
    /// A Sigma correlation rule fired over several events of one group.
    Correlation {
        rule_id: String,
        title: String,
        /// The group-by values, as `field=value` pairs in rule order.
        group: Vec<(String, String)>,
    },
    /// An event field held a value that a known indicator covers.
    Indicator {
        /// The store's id of the indicator.
        id: i64,
        kind: IndicatorKind,
        /// The indicator's canonical value (the CIDR or parent domain that covered the
        /// event's value, not the event's value itself).
        value: String,
        score: f64,
        sources: Vec<String>,
    },
    /// Raised by another tool and imported (a TheHive-compatible alert from a SIEM or EDR):
    /// `source` names the tool, `source_ref` is its own id for the alert.
    External {
        source: String,
        source_ref: String,
        title: String,
    },
}

impl Detection {
    /// A short human label: the rule title, or `kind value`.
    pub fn label(&self) -> String {
        match self {
            Detection::Sigma { title, .. }
            | Detection::Correlation { title, .. }
            | Detection::External { title, .. } => title.clone(),
            Detection::Indicator { kind, value, .. } => format!("{} {value}", kind.as_str()),
        }
    }
}

/// One event field that contributed to a detection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MatchedField {
    pub field: String,
    pub value: String,
}

/// An alert, deduplicated by [`Alert::key`]: repeats within the suppression window raise its
/// count and last-seen time instead of a new alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable across runs: the same detection on the same matched values gives the same key.
    pub key: String,
    pub detection: Detection,
    pub severity: Severity,
    pub techniques: Vec<AttackId>,
    pub matched: Vec<MatchedField>,
    /// The first event that raised it.
    pub event: EventRef,
    /// When the event that raised the alert happened, and the latest of its repeats (event
    /// time, or arrival time for events without one). `first_seen` never moves once raised
    /// (with the key it identifies the alert in the store), even when an older repeat arrives
    /// later.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub count: u64,
    /// Raised by a retro-hunt: the event was older than the intel that matched it.
    pub retro: bool,
}

impl Alert {
    /// A new alert for one event at `at`: keyed by its detection and matched values, seen once.
    pub fn new(
        detection: Detection,
        severity: Severity,
        techniques: Vec<AttackId>,
        matched: Vec<MatchedField>,
        event: EventRef,
        at: Timestamp,
    ) -> Alert {
        Alert {
            key: Alert::key_for(&detection, &matched),
            detection,
            severity,
            techniques,
            matched,
            event,
            first_seen: at,
            last_seen: at,
            count: 1,
            retro: false,
        }
    }

    /// The deduplication key of a detection over matched values: FNV-1a over the detection's
    /// identity and the sorted matched pairs, as 16 hex digits (an external alert's identity
    /// alone: its source and reference). Stable across versions and platforms, unlike `std`'s
    /// hasher.
    pub fn key_for(detection: &Detection, matched: &[MatchedField]) -> String {
        let mut hash = Fnv::default();
        match detection {
            Detection::Sigma { rule_id, .. } => {
                hash.write("sigma");
                hash.write(rule_id);
            }
            Detection::Correlation { rule_id, group, .. } => {
                hash.write("correlation");
                hash.write(rule_id);
                for (field, value) in group {
                    hash.write(field);
                    hash.write(value);
                }
            }
            Detection::Indicator { kind, value, .. } => {
                hash.write("indicator");
                hash.write(kind.as_str());
                hash.write(value);
            }
            Detection::External {
                source, source_ref, ..
            } => {
                // The other tool's id is the identity, as TheHive deduplicates: a repeat with
                // more observables is the same alert.
                hash.write("external");
                hash.write(source);
                hash.write(source_ref);
                return format!("{:016x}", hash.0);
            }
        }
        let mut pairs: Vec<&MatchedField> = matched.iter().collect();
        pairs.sort_by(|a, b| (&a.field, &a.value).cmp(&(&b.field, &b.value)));
        pairs.dedup();
        for pair in pairs {
            hash.write(&pair.field);
            hash.write(&pair.value);
        }
        format!("{:016x}", hash.0)
    }
}

/// FNV-1a, 64 bit, with a separator byte after each part so that ("ab","c") ≠ ("a","bc").
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, part: &str) {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field: &str, value: &str) -> MatchedField {
        MatchedField {
            field: field.into(),
            value: value.into(),
        }
    }

    #[test]
    fn key_ignores_matched_order_but_not_content() {
        let rule = Detection::Sigma {
            rule_id: "r1".into(),
            title: "t".into(),
        };
        let a = Alert::key_for(&rule, &[field("Image", "a.exe"), field("User", "bob")]);
        let b = Alert::key_for(&rule, &[field("User", "bob"), field("Image", "a.exe")]);
        let c = Alert::key_for(&rule, &[field("Image", "a.exe"), field("User", "eve")]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 16);
        // Parts are separated: moving a character between field and value changes the key.
        let d = Alert::key_for(&rule, &[field("Imag", "ea.exe"), field("User", "bob")]);
        assert_ne!(a, d);
    }

    #[test]
    fn external_alerts_are_keyed_by_source_and_reference_and_keep_old_json() {
        let external = |source: &str, reference: &str, title: &str| Detection::External {
            source: source.into(),
            source_ref: reference.into(),
            title: title.into(),
        };
        let a = Alert::key_for(
            &external("siem", "42", "first title"),
            &[field("ip", "1.2.3.4")],
        );
        let b = Alert::key_for(&external("siem", "42", "renamed"), &[]);
        let c = Alert::key_for(&external("edr", "42", "first title"), &[]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(external("siem", "1", "Beacon").label(), "Beacon");
        let json = serde_json::to_value(external("siem", "1", "Beacon")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "external", "source": "siem", "source_ref": "1", "title": "Beacon"})
        );
        // Bodies stored before the variant existed still read.
        let old: Detection =
            serde_json::from_str(r#"{"type":"sigma","rule_id":"r","title":"t"}"#).unwrap();
        assert_eq!(old.label(), "t");
    }

    #[test]
    fn severity_parses_orders_and_bands_scores() {
        assert_eq!("HIGH".parse::<Severity>().ok(), Some(Severity::High));
        assert!("urgent".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::for_score(95.0), Severity::Critical);
        assert_eq!(Severity::for_score(40.0), Severity::Medium);
        assert_eq!(Severity::for_score(3.0), Severity::Informational);
    }

    #[test]
    fn references_print_as_file_and_position() {
        assert_eq!(EventRef::line("a.log", 12).to_string(), "a.log:12");
        let record = EventRef {
            source: "x.evtx".into(),
            locator: Locator::Record(7),
        };
        assert_eq!(record.to_string(), "x.evtx#record7");
    }
}
