//! The plain types that cross the store boundary.

use rampart_model::{
    Alert, AttackId, ContextObject, Direction, Indicator, IndicatorKind, Observation, PatternNote,
    Reliability, Severity, SourceInfo, Timestamp, Tlp,
};
use serde::{Deserialize, Serialize};

/// One message of an import.
#[derive(Debug)]
pub enum ImportBatch {
    /// Statements of this source about indicators. Later statements about the same indicator
    /// update earlier ones (last seen moves forward, first seen stays).
    Observations(Vec<StagedObservation>),
    /// Context objects, kept whole; a newer `modified` replaces an older one.
    Objects(Vec<ContextObject>),
    /// Objects and observations that were rejected, counted for the summary.
    Rejected(u64),
    /// Ends the import successfully.
    Commit(Commit),
    /// Ends the import and discards it.
    Abort(String),
}

impl ImportBatch {
    /// A batch of observations with no suppression.
    pub fn observations(observations: Vec<Observation>) -> ImportBatch {
        ImportBatch::Observations(
            observations
                .into_iter()
                .map(|observation| StagedObservation {
                    observation,
                    suppressed: None,
                })
                .collect(),
        )
    }
}

/// An observation ready for the store, with the suppression the intel stage found for it
/// (a warninglist or allowlist hit). `None` leaves an indicator's existing suppression alone.
#[derive(Debug, Clone)]
pub struct StagedObservation {
    pub observation: Observation,
    pub suppressed: Option<String>,
}

/// How an import ends.
#[derive(Debug, Default, Clone)]
pub struct Commit {
    /// The pull was a full list: this source's statements not renewed by this import are
    /// withdrawn.
    pub full_list: bool,
    /// Cursors to move with the import (key, value), so they advance only if it commits.
    pub cursors: Vec<(String, String)>,
}

/// What an import changed.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Indicators that did not exist before.
    pub new: u64,
    /// Statements this source had made before, renewed by this import with a change: any of
    /// confidence, TLP, labels, techniques, threats, valid_until, revoked, direction, port or
    /// pattern differs (lists compared as sets, after the source's defaults are applied), or the
    /// statement had been withdrawn and is listed again.
    pub updated: u64,
    /// Statements this source had made before, renewed by this import with the same content:
    /// only the seen dates, the reference and the import move.
    #[serde(default)]
    pub unchanged: u64,
    /// Statements this source had not made before about indicators that already existed.
    pub added_source: u64,
    /// Observations that repeated an earlier one within the same import.
    pub duplicate: u64,
    /// Rejected objects, as reported by the format.
    pub rejected: u64,
    /// Statements withdrawn because a full list no longer had them.
    pub withdrawn: u64,
    /// Context objects written.
    pub objects: u64,
}

impl ImportSummary {
    /// Statements written in total.
    pub fn accepted(&self) -> u64 {
        self.new + self.updated + self.unchanged + self.added_source
    }
}

/// A source with its feed status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub info: SourceInfo,
    pub settings: serde_json::Value,
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// Counts of the last successful pull.
    pub last_summary: Option<ImportSummary>,
    /// Statements this source currently makes (not withdrawn).
    pub active_statements: u64,
}

/// The outcome of one pull, for the feed status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PullOutcome {
    Success {
        at: Timestamp,
        summary: ImportSummary,
    },
    /// The server said nothing changed (HTTP 304).
    NotModified {
        at: Timestamp,
    },
    Failure {
        at: Timestamp,
        error: String,
    },
}

/// One source's current statement about an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatement {
    pub source: String,
    pub reliability: Reliability,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub confidence: u8,
    pub tlp: Tlp,
    pub labels: Vec<String>,
    pub techniques: Vec<AttackId>,
    pub threats: Vec<String>,
    pub reference: String,
    pub valid_until: Option<Timestamp>,
    pub revoked: bool,
    /// Set when a full-list source stopped listing the value.
    pub withdrawn_at: Option<Timestamp>,
    pub direction: Option<Direction>,
    pub port: Option<u16>,
    pub pattern: Option<PatternNote>,
}

impl SourceStatement {
    /// Whether the source still vouches for the indicator at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        !self.revoked
            && self.withdrawn_at.is_none()
            && self.valid_until.is_none_or(|until| until > now)
    }
}

/// An indicator with everything the store knows about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIndicator {
    pub id: i64,
    pub indicator: Indicator,
    pub first_seen: Timestamp,
    /// Why the indicator is never enforced, if it is suppressed.
    pub suppressed: Option<String>,
    pub sources: Vec<SourceStatement>,
}

impl StoredIndicator {
    /// The strictest TLP of its sources: sharing it must respect every source.
    pub fn tlp(&self) -> Tlp {
        self.sources
            .iter()
            .map(|s| s.tlp)
            .max()
            .unwrap_or(Tlp::Clear)
    }
}

/// Which indicators a search returns. Empty fields match everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Substring of the canonical value (case-insensitive for ASCII).
    pub contains: Option<String>,
    pub kind: Option<IndicatorKind>,
    /// Only indicators this source makes a statement about.
    pub source: Option<String>,
    /// Keyset pagination: only ids greater than this.
    pub after_id: Option<i64>,
    /// Page size; 0 means the default of 1000.
    pub limit: u32,
}

/// Totals for status output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub indicators: u64,
    pub statements: u64,
    pub suppressed: u64,
    pub objects: u64,
    pub sources: u64,
    pub assets: u64,
}

/// A local allowlist entry: a value (an exact indicator value, a domain and its subdomains, or
/// a CIDR) that is never enforced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowEntry {
    pub value: String,
    pub reason: String,
    pub added: Timestamp,
}

/// One of the organisation's own assets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub name: String,
    /// Free-form kind: server, workstation, network, domain, saas…
    pub kind: String,
    pub owner: Option<String>,
    /// 1 (low) to 5 (crown jewels).
    pub criticality: u8,
    pub tags: Vec<String>,
    /// IP addresses and CIDR networks, canonical.
    pub networks: Vec<String>,
    pub hostnames: Vec<String>,
    pub domains: Vec<String>,
}

/// A reader's place in the change feed ([`crate::Store::indicators_changed_since`]): the last
/// change read and, within it, the last indicator id. The default is the beginning.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ChangeCursor {
    pub seq: i64,
    pub after_id: i64,
}

/// One page of the change feed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    /// The indicators touched by changes after the cursor, as they are now, oldest change
    /// first. An indicator touched again later appears under its latest change only.
    pub indicators: Vec<StoredIndicator>,
    /// Where to continue; equal to the cursor given when there was nothing new.
    pub next: ChangeCursor,
    /// When the oldest change on this page was committed, to measure how long changes take
    /// to be enforced.
    pub oldest_commit: Option<Timestamp>,
    /// Where each indicator of the page sits in the feed, in the same order as `indicators`:
    /// readers that stop part-way through a page (a TAXII page) continue from a mark, and the
    /// commit time is the indicator's version time (TAXII `date_added`, STIX `modified`).
    pub marks: Vec<ChangeMark>,
}

/// One indicator's place in the change feed: the cursor that continues right after it and
/// when the change that last touched it was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMark {
    pub cursor: ChangeCursor,
    pub committed: Timestamp,
}

/// Which alerts [`Store::alerts`](crate::Store::alerts) returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AlertQuery {
    /// Only alerts seen at or after this time.
    pub since: Option<Timestamp>,
    /// Only alerts at least this severe.
    pub min_severity: Option<Severity>,
    /// Only retro-hunt alerts (`true`) or only live ones (`false`).
    pub retro: Option<bool>,
    /// Only alerts in one of these triage states; empty means any.
    #[serde(default)]
    pub statuses: Vec<AlertStatus>,
    /// Keyset pagination: only ids greater than this.
    pub after_id: Option<i64>,
    /// Page size; 0 means the default of 1000.
    pub limit: u32,
}

/// An alert as stored, with its row id and where it stands in triage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub id: i64,
    pub alert: Alert,
    pub status: AlertStatus,
    /// The last triage decision (who, when, note); `None` while nobody has looked.
    pub triage: Option<AlertTriage>,
}

/// Where an alert stands: new alerts are open; people acknowledge them (seen, being worked on),
/// mark them false positives, or close them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    #[default]
    Open,
    Acknowledged,
    FalsePositive,
    Closed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::Open,
        AlertStatus::Acknowledged,
        AlertStatus::FalsePositive,
        AlertStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::FalsePositive => "false_positive",
            AlertStatus::Closed => "closed",
        }
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an alert status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown alert status {0:?} (expected open, acknowledged, false_positive or closed)")]
pub struct UnknownAlertStatus(pub String);

impl std::str::FromStr for AlertStatus {
    type Err = UnknownAlertStatus;

    fn from_str(text: &str) -> Result<AlertStatus, UnknownAlertStatus> {
        AlertStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text || status.as_str().replace('_', "-") == text)
            .ok_or_else(|| UnknownAlertStatus(text.chars().take(40).collect()))
    }
}

/// A triage decision on one alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTriage {
    /// The status it moves the alert to.
    pub status: AlertStatus,
    /// Who decided, as the audit log names actors (`user:alice`, `token:soar`).
    pub by: String,
    pub at: Timestamp,
    /// Why, if they said.
    pub note: Option<String>,
}

/// How [`Store::indicators_per_day`](crate::Store::indicators_per_day) groups its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyGroup {
    /// By the source whose statement first appeared that day (an indicator two sources
    /// report counts once for each).
    Source,
    /// By indicator kind, on the day the indicator was first seen.
    Kind,
}

/// How many indicators were first seen on one UTC day in one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyCount {
    pub day: jiff::civil::Date,
    /// The source name or the indicator kind.
    pub group: String,
    pub count: u64,
}

/// Alert totals for the overview, counted by the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertBreakdown {
    /// Alerts by severity, most severe first; severities without alerts are left out.
    pub by_severity: Vec<(Severity, u64)>,
    /// Alerts by triage status, in [`AlertStatus::ALL`] order; empty ones left out.
    pub by_status: Vec<(AlertStatus, u64)>,
    /// Alerts by ATT&CK tactic (the `phase_name` of the `mitre-attack` kill chain), through the
    /// stored `attack-pattern` objects of their techniques; most alerts first. An alert whose
    /// techniques span two tactics counts once for each. Empty without ATT&CK objects.
    pub by_tactic: Vec<(String, u64)>,
    /// Alerts by technique id, most alerts first (the 20 largest).
    pub by_technique: Vec<(String, u64)>,
    /// Alerts with techniques of which no stored attack-pattern object names a tactic (before
    /// the ATT&CK catalogue is imported, every alert with techniques).
    pub unmapped: u64,
}
