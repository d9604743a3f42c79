//! The types of the respond stage's persistence: block-list entries and playbook runs.

use std::fmt;
use std::str::FromStr;

use rampart_model::{Indicator, Timestamp};
use serde::{Deserialize, Serialize};

/// A value to put on a block list.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBlock {
    /// The list's name, as configured.
    pub list: String,
    pub indicator: Indicator,
    /// Why it is blocked, shown in the UI and written as a comment where the format has one.
    pub reason: String,
    /// Who blocked it, as in the audit log: `playbook:NAME` or a username.
    pub added_by: String,
    /// The playbook run that blocked it, if one did.
    pub run_id: Option<i64>,
    /// When the block lapses by itself; `None` keeps it until it is removed.
    pub expires: Option<Timestamp>,
}

/// What [`crate::RespondStore::add_blocks`] did with one [`NewBlock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "id", rename_all = "snake_case")]
pub enum BlockOutcome {
    /// A new entry with this id.
    Added(i64),
    /// The value already stood on the list: that entry (this id) keeps its reason and the later
    /// of the two expiries (no expiry is the latest).
    Renewed(i64),
}

impl BlockOutcome {
    pub fn id(self) -> i64 {
        match self {
            BlockOutcome::Added(id) | BlockOutcome::Renewed(id) => id,
        }
    }
}

/// Who took a block off a list, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub at: Timestamp,
    pub by: String,
    pub reason: String,
}

/// One entry of a block list, standing or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockEntry {
    pub id: i64,
    pub list: String,
    pub indicator: Indicator,
    pub reason: String,
    pub added_by: String,
    pub run_id: Option<i64>,
    pub added: Timestamp,
    pub expires: Option<Timestamp>,
    pub removed: Option<Removal>,
}

impl BlockEntry {
    /// Whether the entry is on its list at `now`: not removed and not expired.
    pub fn stands_at(&self, now: Timestamp) -> bool {
        self.removed.is_none() && self.expires.is_none_or(|expires| expires > now)
    }
}

/// Which entries [`crate::RespondStore::blocks`] returns: every filter set must hold. Entries
/// come in id order, one page of `limit` (0: 1000) after `after_id`.
#[derive(Debug, Clone, Default)]
pub struct BlockQuery {
    pub list: Option<String>,
    pub indicator: Option<Indicator>,
    pub run_id: Option<i64>,
    /// Entries added by exactly this actor.
    pub added_by: Option<String>,
    /// Entries added at or after this time.
    pub added_since: Option<Timestamp>,
    /// Only entries standing at this time (not removed, not expired).
    pub standing_at: Option<Timestamp>,
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// Which standing entries [`crate::RespondStore::remove_blocks`] takes off.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockSelector {
    /// These entries.
    Ids(Vec<i64>),
    /// The value on every list (its indicator was revoked, suppressed or marked a false
    /// positive).
    Indicator(Indicator),
    /// The value on one list.
    Listed { list: String, indicator: Indicator },
    /// Everything one playbook run blocked (rolling the run back).
    Run(i64),
}

/// A block list's revision: it grows by one with every change to the list (an entry added,
/// renewed with a new expiry, removed or expired), so renderers can number versions (the RPZ
/// SOA serial) and caches can tell when to render again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockListRevision {
    pub name: String,
    pub revision: u64,
    pub updated: Timestamp,
    /// Entries standing when this was read.
    pub standing: u64,
}

/// Where a playbook run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Working through its actions (or interrupted while doing so: resumed at start).
    Running,
    /// Paused at an approval until an analyst decides or the deadline passes.
    Waiting,
    /// An action failed and is tried again at the run's wake time.
    Retrying,
    Succeeded,
    /// An action failed for good (after its retries) or was refused by a guardrail.
    Failed,
    /// Stopped by an analyst or by a rejected approval.
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Retrying,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Retrying => "retrying",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the run is over; an unfinished run is resumed after a restart.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

/// A word that names no run or action status.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<RunStatus, UnknownStatus> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub playbook: String,
    /// Identifies the version of the playbook file (a hash of its text).
    pub digest: String,
    /// What started the run, as JSON (`{"type": "alert", "id": 12, …}`).
    pub trigger: serde_json::Value,
    pub dry_run: bool,
    pub started: Timestamp,
    /// The run's variables at the start.
    pub state: serde_json::Value,
}

/// The new standing of a run, written as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct RunProgress {
    pub status: RunStatus,
    /// The next action to run (the number of actions done).
    pub step: u32,
    pub state: serde_json::Value,
    pub at: Timestamp,
    /// When a waiting or retrying run is next due.
    pub wake: Option<Timestamp>,
    pub error: Option<String>,
}

/// A playbook run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub playbook: String,
    pub digest: String,
    pub trigger: serde_json::Value,
    pub dry_run: bool,
    pub status: RunStatus,
    pub step: u32,
    pub state: serde_json::Value,
    pub started: Timestamp,
    pub updated: Timestamp,
    pub finished: Option<Timestamp>,
    pub wake: Option<Timestamp>,
    pub error: Option<String>,
}

/// How one action of a run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Succeeded,
    /// Failed for good: its retries are spent.
    Failed,
    /// Failed and will be tried again.
    Retrying,
    /// An approval waiting for a decision.
    Waiting,
    /// Not run: a condition or an earlier decision ruled it out.
    Skipped,
    /// A dry run's record of what the action would have done.
    Planned,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 6] = [
        ActionStatus::Succeeded,
        ActionStatus::Failed,
        ActionStatus::Retrying,
        ActionStatus::Waiting,
        ActionStatus::Skipped,
        ActionStatus::Planned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Succeeded => "succeeded",
            ActionStatus::Failed => "failed",
            ActionStatus::Retrying => "retrying",
            ActionStatus::Waiting => "waiting",
            ActionStatus::Skipped => "skipped",
            ActionStatus::Planned => "planned",
        }
    }
}

impl FromStr for ActionStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<ActionStatus, UnknownStatus> {
        ActionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One action of a run: written when it starts waiting, fails or finishes, and rewritten on
/// each retry (keyed by run and step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRecord {
    pub run_id: i64,
    pub step: u32,
    /// The action's type (`block`, `notify`, …).
    pub action: String,
    pub status: ActionStatus,
    pub attempts: u32,
    pub started: Timestamp,
    pub finished: Option<Timestamp>,
    pub duration_ms: u64,
    /// What it did, as JSON (values blocked, HTTP status, case id…).
    pub result: serde_json::Value,
    pub error: Option<String>,
}

/// Which runs [`crate::RespondStore::runs`] returns, newest first, one page of `limit`
/// (0: 1000) with ids below `before_id`.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub playbook: Option<String>,
    pub statuses: Vec<RunStatus>,
    pub before_id: Option<i64>,
    pub limit: u32,
}
