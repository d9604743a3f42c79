//! What a playbook file says, as typed values: the trigger, the conditions and the actions.
//!
//! ```yaml
//! name: phishing-campaign
//! description: Block a phishing campaign's URLs and domains, tell the SOC, open a case
//! trigger:
//!   indicator: { kinds: [url, domain], min_score: 60, labels: [phishing] }
//! conditions:
//!   - { field: indicator.score, gte: 70 }
//! actions:
//!   - block: { list: phishing, expires: 30d }
//!   - notify: { channel: soc-chat, text: "Blocked {{indicator.value}}" }
//!   - case: { template: phishing, campaign: "{{indicator.threats}}" }
//!   - retro_hunt: { since: 30d }
//! ```

use jiff::SignedDuration;
use rampart_model::{DurationError, IndicatorKind, Severity, parse_duration};
use serde::Deserialize;

use super::condition::Condition;
use super::template::Template;

/// One playbook file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookSpec {
    /// Unique among the loaded playbooks: runs, audit lines and blocks name it.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A disabled playbook is loaded and checked but never started.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Runs record what each action would do and do nothing.
    #[serde(default)]
    pub dry_run: bool,
    pub trigger: Trigger,
    /// Every condition must hold for a run to start.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Run in order; a failed action (after its retries) fails the run.
    pub actions: Vec<ActionSpec>,
    #[serde(default)]
    pub retry: RetrySpec,
    /// The most values this playbook may block per hour (the global cap applies too).
    #[serde(default)]
    pub max_blocks_per_hour: Option<u32>,
}

fn enabled() -> bool {
    true
}

/// What starts a run.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// An alert was raised.
    Alert(AlertTrigger),
    /// An indicator arrived or changed.
    Indicator(IndicatorTrigger),
    /// An employee's phishing report was analysed.
    Report(ReportTrigger),
    /// A clock: `every: 1h`.
    Schedule(ScheduleTrigger),
}

impl Trigger {
    /// The name of the triggering object in conditions and templates.
    pub fn subject_name(&self) -> &'static str {
        match self {
            Trigger::Alert(_) => "alert",
            Trigger::Indicator(_) => "indicator",
            Trigger::Report(_) => "report",
            Trigger::Schedule(_) => "schedule",
        }
    }
}

/// Alerts that start a run; every filter given must hold, empty lists match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTrigger {
    /// Sigma rule ids or titles.
    #[serde(default)]
    pub rules: Vec<String>,
    /// ATT&CK techniques; `T1110` also matches its sub-techniques.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Alerts raised by an indicator of one of these kinds.
    #[serde(default)]
    pub indicator_kinds: Vec<IndicatorKind>,
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// The matched indicator's score (indicator alerts only).
    #[serde(default)]
    pub min_score: Option<f64>,
}

/// Indicators that start a run when they arrive or change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorTrigger {
    #[serde(default)]
    pub kinds: Vec<IndicatorKind>,
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Any of these sources vouches for it.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Any of these labels (case-insensitive).
    #[serde(default)]
    pub labels: Vec<String>,
}

/// Analysed phishing reports that start a run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportTrigger {
    /// Verdicts that count (`phishing`, `suspicious`, `clean`).
    #[serde(default = "phishing_only")]
    pub verdicts: Vec<String>,
}

fn phishing_only() -> Vec<String> {
    vec!["phishing".to_owned()]
}

/// A run every so often.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    /// `1h`, `1d`…
    pub every: Span,
}

/// Retries of a failed action: `attempts` in all, waiting `backoff`, then twice as long each
/// time up to `max_backoff`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    #[serde(default = "default_backoff")]
    pub backoff: Span,
    #[serde(default = "default_max_backoff")]
    pub max_backoff: Span,
}

fn default_attempts() -> u32 {
    4
}

fn default_backoff() -> Span {
    Span(SignedDuration::from_secs(5))
}

fn default_max_backoff() -> Span {
    Span(SignedDuration::from_mins(10))
}

impl RetrySpec {
    /// How long to wait before attempt `attempt + 1`, after `attempt` (≥ 1) failed.
    pub fn backoff_after(&self, attempt: u32) -> SignedDuration {
        let doublings = attempt.saturating_sub(1).min(20);
        let wait = self
            .backoff
            .0
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_backoff.0);
        wait.min(self.max_backoff.0)
    }
}

impl Default for RetrySpec {
    fn default() -> RetrySpec {
        RetrySpec {
            attempts: default_attempts(),
            backoff: default_backoff(),
            max_backoff: default_max_backoff(),
        }
    }
}

/// One step of a playbook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpec {
    Block(BlockSpec),
    Notify(NotifySpec),
    Case(CaseSpec),
    Enrich(EnrichSpec),
    Approve(ApproveSpec),
    RetroHunt(RetroHuntSpec),
    Forward(ForwardSpec),
}

impl ActionSpec {
    /// The action's type, as written in the file and recorded in runs.
    pub fn kind(&self) -> &'static str {
        match self {
            ActionSpec::Block(_) => "block",
            ActionSpec::Notify(_) => "notify",
            ActionSpec::Case(_) => "case",
            ActionSpec::Enrich(_) => "enrich",
            ActionSpec::Approve(_) => "approve",
            ActionSpec::RetroHunt(_) => "retro_hunt",
            ActionSpec::Forward(_) => "forward",
        }
    }
}

/// Puts values on a block list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    /// A configured block list.
    pub list: String,
    /// Which values: the trigger's (default), or those at event fields.
    #[serde(default)]
    pub values: ValueSource,
    /// Also block the host of each URL (as a domain or an address).
    #[serde(default)]
    pub include_hosts: bool,
    /// How long the block stands (`30d`); the list's default when absent.
    #[serde(default)]
    pub expires: Option<Span>,
    /// Why, for the list's comment and the audit log.
    #[serde(default)]
    pub reason: Option<Template>,
}

/// Where a block action's values come from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ValueSource {
    /// The triggering indicator, or the indicator an alert matched.
    #[default]
    Trigger,
    /// The values at these paths of the subject (`alert.matched.source.ip`), each read as an
    /// indicator of the kind its text shows.
    Fields(Vec<String>),
}

/// Sends a message through a configured channel (webhook or email).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySpec {
    pub channel: String,
    /// The email subject or chat title.
    #[serde(default)]
    pub subject: Option<Template>,
    pub text: Template,
}

/// Opens a case from a template, or adds to the open case of the same campaign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub template: String,
    /// Runs with the same campaign key share one open case.
    #[serde(default)]
    pub campaign: Option<Template>,
    #[serde(default)]
    pub title: Option<Template>,
}

/// Looks the trigger's values up: `store` (what Rampart knows) and configured HTTP lookups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichSpec {
    pub lookups: Vec<String>,
}

/// Waits for an analyst's decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveSpec {
    /// How long to wait (`4h`).
    pub timeout: Span,
    /// What happens when nobody decides in time.
    pub default: Decision,
    #[serde(default)]
    pub message: Option<Template>,
}

/// An approval's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// Sweeps the event archive for the trigger's values.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetroHuntSpec {
    /// How far back (`30d`).
    pub since: Span,
}

/// Sends the trigger to a configured SIEM or ticketing destination.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardSpec {
    pub to: String,
}

/// A length of time as written in a playbook: `30d`, `4h`, `90s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Span(pub SignedDuration);

impl TryFrom<String> for Span {
    type Error = DurationError;

    fn try_from(text: String) -> Result<Span, DurationError> {
        parse_duration(&text).map(Span)
    }
}
