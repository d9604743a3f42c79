//! The plain types of [`CaseStore`](crate::CaseStore): what callers give to open, change and
//! query cases, and what the bulk operations report. The domain types themselves (`Case`,
//! `Task`, `Observable`, `TimelineEntry`, `CaseAlert`) live in `rampart-model`.
//!
//! Also the rules both backends apply the same way before writing: text limits and the list of
//! fields an update changed (which becomes the timeline entry).

use rampart_model::{
    AttackId, Case, CaseAlert, CaseStatus, Indicator, Pap, Severity, TaskStatus, TimelineKind,
    Timestamp, Tlp,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{StoreError, StoredAlert};

/// The longest title of a case or task, in characters.
pub const MAX_TITLE_CHARS: usize = 512;

/// A case to open, with the tasks it starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    /// 1 to [`MAX_TITLE_CHARS`] characters, no control characters.
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub pap: Pap,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub techniques: Vec<AttackId>,
    /// The grouping key ([`CaseStore::open_case_for_campaign`](crate::CaseStore::open_case_for_campaign)).
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub due: Option<Timestamp>,
    /// Who opens it, as the audit log names actors.
    pub created_by: String,
    /// Created with the case, in this order.
    #[serde(default)]
    pub tasks: Vec<NewTask>,
}

impl NewCase {
    /// A case with a title, severity and author; TLP:AMBER and PAP:AMBER, nothing else.
    pub fn new(
        title: impl Into<String>,
        severity: Severity,
        created_by: impl Into<String>,
    ) -> Self {
        NewCase {
            title: title.into(),
            description: String::new(),
            severity,
            tlp: Tlp::Amber,
            pap: Pap::Amber,
            assignee: None,
            tags: Vec::new(),
            techniques: Vec::new(),
            campaign: None,
            due: None,
            created_by: created_by.into(),
            tasks: Vec::new(),
        }
    }
}

/// Changes to a case's fields; `None` leaves a field as it is. The doubled options clear a
/// field with `Some(None)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<Severity>,
    pub tlp: Option<Tlp>,
    pub pap: Option<Pap>,
    pub assignee: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub techniques: Option<Vec<AttackId>>,
    pub due: Option<Option<Timestamp>>,
    pub campaign: Option<Option<String>>,
}

/// A status change: the new status, the case duplicated (for `duplicate` only), and the
/// resolution summary (kept when closing; cleared on reopening).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub status: CaseStatus,
    #[serde(default)]
    pub duplicate_of: Option<i64>,
    #[serde(default)]
    pub resolution: Option<String>,
}

/// A task to add to a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub due: Option<Timestamp>,
    /// Its position; `None` puts it after the case's last task.
    #[serde(default)]
    pub order: Option<i64>,
}

impl NewTask {
    pub fn titled(title: impl Into<String>) -> NewTask {
        NewTask {
            title: title.into(),
            ..NewTask::default()
        }
    }
}

/// Changes to a task; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub assignee: Option<Option<String>>,
    pub status: Option<TaskStatus>,
    pub due: Option<Option<Timestamp>>,
    pub order: Option<i64>,
}

/// A value to track in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewObservable {
    pub indicator: Indicator,
    #[serde(default)]
    pub ioc: bool,
    #[serde(default)]
    pub sighted: bool,
    pub tlp: Tlp,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl NewObservable {
    /// An observable of `indicator` at TLP:AMBER, not yet judged.
    pub fn of(indicator: Indicator) -> NewObservable {
        NewObservable {
            indicator,
            ioc: false,
            sighted: false,
            tlp: Tlp::Amber,
            tags: Vec::new(),
            message: None,
        }
    }
}

/// A line to add to a case's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTimelineEntry {
    pub at: Timestamp,
    pub actor: String,
    pub kind: TimelineKind,
    pub message: String,
    /// A JSON object (anything else is wrapped as `{"value": …}`).
    #[serde(default)]
    pub detail: Value,
}

/// Which cases [`CaseStore::cases`](crate::CaseStore::cases) returns. Empty fields match
/// everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseQuery {
    /// Only cases in one of these statuses.
    pub statuses: Vec<CaseStatus>,
    /// Only open cases (new or in progress).
    pub open_only: bool,
    /// Only cases assigned to this username.
    pub assignee: Option<String>,
    /// Only cases at least this severe.
    pub min_severity: Option<Severity>,
    /// Only cases with this tag (exactly).
    pub tag: Option<String>,
    /// Only cases with this campaign key.
    pub campaign: Option<String>,
    /// Only cases whose title or description contains this text, ignoring ASCII case.
    pub contains: Option<String>,
    /// Newest (highest id) first instead of oldest first.
    pub newest_first: bool,
    /// Keyset pagination: only cases after this id in the chosen order (the last id of the
    /// previous page).
    pub after_id: Option<i64>,
    /// Page size; 0 means the default of 1000.
    pub limit: u32,
}

/// An alert moved by [`CaseStore::link_alerts`](crate::CaseStore::link_alerts) from the case
/// it was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedAlert {
    pub alert_id: i64,
    pub from_case: i64,
}

/// What linking alerts to a case did, each alert id in exactly one list (ascending).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertLinks {
    /// Alerts that were in no case.
    pub linked: Vec<i64>,
    /// Alerts taken from another case.
    pub moved: Vec<MovedAlert>,
    /// Alerts already in this case.
    pub already: Vec<i64>,
    /// Ids of no recorded alert.
    pub missing: Vec<i64>,
}

/// An alert of a case with its link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedAlert {
    pub link: CaseAlert,
    pub alert: StoredAlert,
}

/// What [`CaseStore::merge_cases`](crate::CaseStore::merge_cases) moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeOutcome {
    /// The case merged into, as it is now.
    pub into: Case,
    pub alerts_moved: u64,
    pub tasks_moved: u64,
    /// Observables new to the target case.
    pub observables_moved: u64,
    /// Observables the target case had already (their flags and tags were united).
    pub observables_merged: u64,
}

/// Case totals for the overview, counted by the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseCounts {
    /// Cases by status, in [`CaseStatus::ALL`] order; empty ones left out.
    pub by_status: Vec<(CaseStatus, u64)>,
    /// Open cases by severity, most severe first; empty ones left out.
    pub open_by_severity: Vec<(Severity, u64)>,
    /// Open cases whose due date has passed.
    pub open_overdue: u64,
}

// ---- rules applied before writing ------------------------------------------------------------

/// Refuses an empty, overlong or multi-line title.
pub(crate) fn check_title(what: &str, title: &str) -> Result<(), StoreError> {
    let chars = title.chars().count();
    if title.trim().is_empty() || chars > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(StoreError::Refused(format!(
            "a {what} title has 1 to {MAX_TITLE_CHARS} characters and no control characters"
        )));
    }
    Ok(())
}

/// Tags trimmed, without empty ones and repeats, in first-given order.
pub(crate) fn clean_tags(tags: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if !tag.is_empty() && !kept.iter().any(|seen| seen == tag) {
            kept.push(tag.to_owned());
        }
    }
    kept
}

/// Techniques without repeats, in first-given order.
pub(crate) fn clean_techniques(techniques: &[AttackId]) -> Vec<AttackId> {
    let mut kept: Vec<AttackId> = Vec::with_capacity(techniques.len());
    for technique in techniques {
        if !kept.contains(technique) {
            kept.push(technique.clone());
        }
    }
    kept
}

/// A detail value that is a JSON object.
pub(crate) fn detail_object(detail: &Value) -> Value {
    match detail {
        Value::Object(_) => detail.clone(),
        Value::Null => json!({}),
        other => json!({ "value": other }),
    }
}

/// What an update changed: whether the assignee changed (its own timeline kind) and the other
/// changed fields as `{field: {"from": …, "to": …}}`.
pub(crate) struct CaseChanges {
    pub assigned: Option<(Option<String>, Option<String>)>,
    pub fields: Map<String, Value>,
}

/// Applies `update` to `case` and reports what changed.
pub(crate) fn apply_case_update(
    case: &mut Case,
    update: &CaseUpdate,
) -> Result<CaseChanges, StoreError> {
    let mut fields = Map::new();
    let mut note = |name: &str, from: Value, to: Value| {
        if from != to {
            fields.insert(name.to_owned(), json!({ "from": from, "to": to }));
        }
    };
    if let Some(title) = &update.title {
        check_title("case", title)?;
        note("title", json!(case.title), json!(title));
        case.title.clone_from(title);
    }
    if let Some(description) = &update.description {
        // Descriptions are long: record that it changed, not both texts.
        if *description != case.description {
            note("description", json!("…"), json!("changed"));
        }
        case.description.clone_from(description);
    }
    if let Some(severity) = update.severity {
        note("severity", json!(case.severity), json!(severity));
        case.severity = severity;
    }
    if let Some(tlp) = update.tlp {
        note("tlp", json!(case.tlp), json!(tlp));
        case.tlp = tlp;
    }
    if let Some(pap) = update.pap {
        note("pap", json!(case.pap), json!(pap));
        case.pap = pap;
    }
    if let Some(tags) = &update.tags {
        let tags = clean_tags(tags);
        note("tags", json!(case.tags), json!(tags));
        case.tags = tags;
    }
    if let Some(techniques) = &update.techniques {
        let techniques = clean_techniques(techniques);
        note("techniques", json!(case.techniques), json!(techniques));
        case.techniques = techniques;
    }
    if let Some(due) = update.due {
        note("due", json!(case.due), json!(due));
        case.due = due;
    }
    if let Some(campaign) = &update.campaign {
        note("campaign", json!(case.campaign), json!(campaign));
        case.campaign.clone_from(campaign);
    }
    let mut assigned = None;
    if let Some(assignee) = &update.assignee
        && *assignee != case.assignee
    {
        assigned = Some((case.assignee.clone(), assignee.clone()));
        case.assignee.clone_from(assignee);
    }
    Ok(CaseChanges { assigned, fields })
}

/// Applies a task update and reports the changed fields as `{field: {"from", "to"}}`.
pub(crate) fn apply_task_update(
    task: &mut rampart_model::Task,
    update: &TaskUpdate,
) -> Result<Map<String, Value>, StoreError> {
    let mut fields = Map::new();
    let mut note = |name: &str, from: Value, to: Value| {
        if from != to {
            fields.insert(name.to_owned(), json!({ "from": from, "to": to }));
        }
    };
    if let Some(title) = &update.title {
        check_title("task", title)?;
        note("title", json!(task.title), json!(title));
        task.title.clone_from(title);
    }
    if let Some(description) = &update.description {
        if *description != task.description {
            note("description", json!("…"), json!("changed"));
        }
        task.description.clone_from(description);
    }
    if let Some(assignee) = &update.assignee {
        note("assignee", json!(task.assignee), json!(assignee));
        task.assignee.clone_from(assignee);
    }
    if let Some(status) = update.status {
        note("status", json!(task.status), json!(status));
        task.status = status;
    }
    if let Some(due) = update.due {
        note("due", json!(task.due), json!(due));
        task.due = due;
    }
    if let Some(order) = update.order {
        note("order", json!(task.order), json!(order));
        task.order = order;
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        Case {
            id: 1,
            title: "Phishing".into(),
            description: "d".into(),
            severity: Severity::Low,
            tlp: Tlp::Amber,
            pap: Pap::Amber,
            status: CaseStatus::New,
            duplicate_of: None,
            assignee: None,
            tags: vec!["a".into()],
            techniques: Vec::new(),
            campaign: None,
            created: Timestamp::UNIX_EPOCH,
            updated: Timestamp::UNIX_EPOCH,
            closed: None,
            due: None,
            resolution: None,
            created_by: "system".into(),
        }
    }

    #[test]
    fn updates_report_only_what_changed() {
        let mut case = case();
        let changes = apply_case_update(
            &mut case,
            &CaseUpdate {
                title: Some("Phishing".into()),
                severity: Some(Severity::High),
                tags: Some(vec![" a ".into(), "b".into(), "a".into(), String::new()]),
                assignee: Some(Some("alice".into())),
                ..CaseUpdate::default()
            },
        )
        .unwrap();
        assert_eq!(case.tags, ["a", "b"]);
        assert_eq!(case.severity, Severity::High);
        assert_eq!(changes.assigned, Some((None, Some("alice".to_owned()))));
        let names: Vec<&String> = changes.fields.keys().collect();
        assert_eq!(names, ["severity", "tags"]);
        assert_eq!(
            changes.fields["severity"],
            json!({"from": "low", "to": "high"})
        );
    }

    #[test]
    fn titles_must_be_one_short_line() {
        assert!(check_title("case", "ok").is_ok());
        assert!(check_title("case", "  ").is_err());
        assert!(check_title("case", "two\nlines").is_err());
        assert!(check_title("case", &"x".repeat(MAX_TITLE_CHARS + 1)).is_err());
        let mut case = case();
        let refused = apply_case_update(
            &mut case,
            &CaseUpdate {
                title: Some(String::new()),
                ..CaseUpdate::default()
            },
        );
        assert!(matches!(refused, Err(StoreError::Refused(_))));
    }
}
