//! Incident cases: what a team opens when alerts need a response, with its tasks, observables,
//! linked alerts and timeline, and the rules of its status lifecycle.
//!
//! ```
//! use rampart_model::{CaseStatus, StatusChange};
//! assert_eq!(CaseStatus::New.transition_to(CaseStatus::InProgress), Ok(StatusChange::Start));
//! assert_eq!(CaseStatus::Resolved.transition_to(CaseStatus::InProgress), Ok(StatusChange::Reopen));
//! assert!(CaseStatus::InProgress.transition_to(CaseStatus::New).is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{AttackId, Indicator, Pap, Severity, Tlp};

/// Declares a fieldless enum stored and exchanged as a snake_case name, with `ALL`, `as_str`,
/// `Display` and a `FromStr` that also accepts the name with dashes.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $error:ident, $what:literal { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        #[doc = concat!("A name that is not a ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown {} {:?} (expected {})", $what, .0, [$($text),+].join(", "))]
        pub struct $error(pub String);

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = $error;

            fn from_str(text: &str) -> Result<$name, $error> {
                let normal = text.trim().to_ascii_lowercase().replace('-', "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|item| item.as_str() == normal)
                    .ok_or_else(|| $error(text.chars().take(40).collect()))
            }
        }
    };
}

named_enum! {
    /// Where a case stands. `New` and `InProgress` are open; the other three are closed.
    CaseStatus, UnknownCaseStatus, "case status" {
        New => "new",
        InProgress => "in_progress",
        /// Handled: the incident is contained and the case summarised.
        Resolved => "resolved",
        /// Nothing happened: the alerts were wrong.
        FalsePositive => "false_positive",
        /// Another case covers it ([`Case::duplicate_of`] says which).
        Duplicate => "duplicate",
    }
}

named_enum! {
    /// Where a task of a case stands.
    TaskStatus, UnknownTaskStatus, "task status" {
        Waiting => "waiting",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
}

named_enum! {
    /// What a timeline entry records.
    TimelineKind, UnknownTimelineKind, "timeline kind" {
        Created => "created",
        StatusChanged => "status_changed",
        /// A closed case went back to work (also a status change, recorded apart so that
        /// reopenings can be counted).
        Reopened => "reopened",
        Assigned => "assigned",
        /// Title, description, severity, TLP, PAP, tags, techniques, due date or campaign
        /// changed; the detail lists each field's old and new value.
        Updated => "updated",
        TaskAdded => "task_added",
        TaskUpdated => "task_updated",
        ObservableAdded => "observable_added",
        AlertLinked => "alert_linked",
        AlertUnlinked => "alert_unlinked",
        Merged => "merged",
        Comment => "comment",
        Exported => "exported",
        PlaybookAction => "playbook_action",
    }
}

impl CaseStatus {
    /// Whether work on the case is finished (resolved, false positive or duplicate).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseStatus::Resolved | CaseStatus::FalsePositive | CaseStatus::Duplicate
        )
    }

    /// The open statuses, for filters.
    pub const OPEN: [CaseStatus; 2] = [CaseStatus::New, CaseStatus::InProgress];

    /// Whether a case may go from `self` to `to`, and what the change means.
    ///
    /// New cases start work (`in_progress`) or close at once; cases in progress close; a
    /// closed case may only be reopened to `in_progress` (to close it differently, reopen it
    /// first, so that the timeline shows both decisions). Going back to `new`, or "changing"
    /// to the current status, is refused.
    pub fn transition_to(self, to: CaseStatus) -> Result<StatusChange, StatusChangeError> {
        if self == to {
            return Err(StatusChangeError::Unchanged(self));
        }
        match (self, to) {
            (CaseStatus::New, CaseStatus::InProgress) => Ok(StatusChange::Start),
            (CaseStatus::New | CaseStatus::InProgress, closed) if closed.is_closed() => {
                Ok(StatusChange::Close)
            }
            (closed, CaseStatus::InProgress) if closed.is_closed() => Ok(StatusChange::Reopen),
            (from, to) => Err(StatusChangeError::NotAllowed { from, to }),
        }
    }
}

/// What a permitted status change means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// `new` → `in_progress`.
    Start,
    /// An open case closed (resolved, false positive, duplicate): its closed time is set.
    Close,
    /// A closed case back to `in_progress`: its closed time and resolution are cleared.
    Reopen,
}

/// A status change the lifecycle refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeError {
    #[error("the case is {0} already")]
    Unchanged(CaseStatus),
    #[error("a case cannot go from {from} to {to}{}", reopen_hint(*.from, *.to))]
    NotAllowed { from: CaseStatus, to: CaseStatus },
    #[error("a duplicate must name the case it duplicates")]
    DuplicateWithoutTarget,
    #[error("a case cannot duplicate itself")]
    DuplicateOfItself,
    #[error("only a duplicate names another case (status {0})")]
    TargetWithoutDuplicate(CaseStatus),
}

fn reopen_hint(from: CaseStatus, to: CaseStatus) -> &'static str {
    if from.is_closed() && to.is_closed() {
        " (reopen it first)"
    } else {
        ""
    }
}

/// An incident case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Assigned by the store.
    pub id: i64,
    pub title: String,
    /// Markdown, as written by analysts (or imported: treat as untrusted when rendering).
    pub description: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub pap: Pap,
    pub status: CaseStatus,
    /// The case this one duplicates, when its status is [`CaseStatus::Duplicate`].
    pub duplicate_of: Option<i64>,
    /// The username of whoever works on it.
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub techniques: Vec<AttackId>,
    /// The key that groups alerts into this case: a playbook's campaign id, a report
    /// cluster, or a key the automatic grouping made up (`indicator:domain:evil.example`).
    pub campaign: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// When it was last closed; `None` while open.
    pub closed: Option<Timestamp>,
    /// When it should be closed by (the SLA of its severity, or set by hand).
    pub due: Option<Timestamp>,
    /// What was found and done, written when it is closed.
    pub resolution: Option<String>,
    /// Who opened it, as the audit log names actors (`user:alice`, `playbook:phishing`).
    pub created_by: String,
}

impl Case {
    pub fn is_open(&self) -> bool {
        !self.status.is_closed()
    }

    /// Checks a status change of this case: the lifecycle of [`CaseStatus::transition_to`],
    /// and a duplicate's target (required for `duplicate`, refused otherwise, never itself).
    pub fn check_status_change(
        &self,
        to: CaseStatus,
        duplicate_of: Option<i64>,
    ) -> Result<StatusChange, StatusChangeError> {
        match (to, duplicate_of) {
            (CaseStatus::Duplicate, None) => return Err(StatusChangeError::DuplicateWithoutTarget),
            (CaseStatus::Duplicate, Some(target)) if target == self.id => {
                return Err(StatusChangeError::DuplicateOfItself);
            }
            (CaseStatus::Duplicate, Some(_)) => {}
            (other, Some(_)) => return Err(StatusChangeError::TargetWithoutDuplicate(other)),
            (_, None) => {}
        }
        self.status.transition_to(to)
    }
}

/// One task of a case (a checklist item with an owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub case_id: i64,
    pub title: String,
    pub description: String,
    pub assignee: Option<String>,
    pub status: TaskStatus,
    pub due: Option<Timestamp>,
    /// Position in the case's list, smallest first.
    pub order: i64,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A value worth tracking in a case: an address, domain, URL, mail address or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observable {
    pub id: i64,
    pub case_id: i64,
    /// Kind and canonical value; one observable per value within a case.
    pub indicator: Indicator,
    /// Known to be malicious.
    pub ioc: bool,
    /// Seen in the organisation's own systems.
    pub sighted: bool,
    pub tlp: Tlp,
    pub tags: Vec<String>,
    /// Why it is there.
    pub message: Option<String>,
    /// The store's indicator with this value, when intel knows it.
    pub indicator_id: Option<i64>,
    pub created: Timestamp,
}

/// One line of a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub case_id: i64,
    pub at: Timestamp,
    /// As the audit log names actors.
    pub actor: String,
    pub kind: TimelineKind,
    pub message: String,
    /// Structured detail (changed fields, alert ids…): a JSON object.
    pub detail: serde_json::Value,
}

/// An alert's link to the case it belongs to (an alert is in at most one case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAlert {
    pub case_id: i64,
    /// The store's alert id.
    pub alert_id: i64,
    pub linked: Timestamp,
    pub linked_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(status: CaseStatus) -> Case {
        let at = Timestamp::UNIX_EPOCH;
        Case {
            id: 7,
            title: "t".into(),
            description: String::new(),
            severity: Severity::High,
            tlp: Tlp::Amber,
            pap: Pap::Amber,
            status,
            duplicate_of: None,
            assignee: None,
            tags: Vec::new(),
            techniques: Vec::new(),
            campaign: None,
            created: at,
            updated: at,
            closed: None,
            due: None,
            resolution: None,
            created_by: "user:alice".into(),
        }
    }

    #[test]
    fn lifecycle_allows_start_close_and_reopen_only() {
        use CaseStatus::*;
        assert_eq!(New.transition_to(InProgress), Ok(StatusChange::Start));
        for closed in [Resolved, FalsePositive, Duplicate] {
            assert_eq!(New.transition_to(closed), Ok(StatusChange::Close));
            assert_eq!(InProgress.transition_to(closed), Ok(StatusChange::Close));
            assert_eq!(closed.transition_to(InProgress), Ok(StatusChange::Reopen));
            assert_eq!(
                closed.transition_to(New),
                Err(StatusChangeError::NotAllowed {
                    from: closed,
                    to: New
                })
            );
        }
        assert_eq!(
            InProgress.transition_to(New),
            Err(StatusChangeError::NotAllowed {
                from: InProgress,
                to: New
            })
        );
        assert_eq!(
            New.transition_to(New),
            Err(StatusChangeError::Unchanged(New))
        );
        let refused = Resolved.transition_to(FalsePositive).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "a case cannot go from resolved to false_positive (reopen it first)"
        );
    }

    #[test]
    fn duplicates_must_name_another_case() {
        let open = case(CaseStatus::InProgress);
        assert_eq!(
            open.check_status_change(CaseStatus::Duplicate, None),
            Err(StatusChangeError::DuplicateWithoutTarget)
        );
        assert_eq!(
            open.check_status_change(CaseStatus::Duplicate, Some(7)),
            Err(StatusChangeError::DuplicateOfItself)
        );
        assert_eq!(
            open.check_status_change(CaseStatus::Resolved, Some(3)),
            Err(StatusChangeError::TargetWithoutDuplicate(
                CaseStatus::Resolved
            ))
        );
        assert_eq!(
            open.check_status_change(CaseStatus::Duplicate, Some(3)),
            Ok(StatusChange::Close)
        );
    }

    #[test]
    fn names_parse_with_dashes_and_report_the_choices() {
        assert_eq!(
            "false-positive".parse::<CaseStatus>(),
            Ok(CaseStatus::FalsePositive)
        );
        assert_eq!(
            "IN_PROGRESS".parse::<TaskStatus>(),
            Ok(TaskStatus::InProgress)
        );
        assert_eq!(
            "playbook_action".parse::<TimelineKind>(),
            Ok(TimelineKind::PlaybookAction)
        );
        let unknown = "closed".parse::<CaseStatus>().unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "unknown case status \"closed\" (expected new, in_progress, resolved, false_positive, duplicate)"
        );
        assert!(CaseStatus::Duplicate.is_closed());
        assert!(!CaseStatus::InProgress.is_closed());
        assert_eq!(
            serde_json::to_string(&CaseStatus::FalsePositive).unwrap(),
            "\"false_positive\""
        );
    }
}
