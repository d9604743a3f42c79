//! Service-level targets: how long a case of each severity may stay open. A case gets its due
//! date when it is opened; whether it is late is read from that date, so a date set by hand
//! counts the same way.

use jiff::{SignedDuration, Timestamp};
use rampart_model::{Case, Severity};
use serde::{Deserialize, Serialize};

use crate::duration::{Span, SpanError};

/// How long a case may stay open, by severity. `none` sets no target. In `rampart.toml`:
///
/// ```toml
/// [cases.sla]
/// critical = "4h"       # the defaults
/// high = "24h"
/// medium = "72h"
/// low = "7d"
/// informational = "none"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    pub critical: SlaTarget,
    pub high: SlaTarget,
    pub medium: SlaTarget,
    pub low: SlaTarget,
    pub informational: SlaTarget,
}

impl Default for SlaPolicy {
    fn default() -> SlaPolicy {
        SlaPolicy {
            critical: SlaTarget::Within(Span::hours(4)),
            high: SlaTarget::Within(Span::hours(24)),
            medium: SlaTarget::Within(Span::hours(72)),
            low: SlaTarget::Within(Span::days(7)),
            informational: SlaTarget::None,
        }
    }
}

/// The target of one severity: a span, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum SlaTarget {
    None,
    Within(Span),
}

impl From<SlaTarget> for String {
    fn from(target: SlaTarget) -> String {
        match target {
            SlaTarget::None => "none".to_owned(),
            SlaTarget::Within(span) => span.to_string(),
        }
    }
}

impl TryFrom<String> for SlaTarget {
    type Error = SpanError;
    fn try_from(text: String) -> Result<SlaTarget, SpanError> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(SlaTarget::None);
        }
        Ok(SlaTarget::Within(text.parse()?))
    }
}

impl SlaPolicy {
    pub fn target(&self, severity: Severity) -> SlaTarget {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Informational => self.informational,
        }
    }

    /// When a case of `severity` opened at `opened` is due; `None` without a target.
    pub fn due_at(&self, severity: Severity, opened: Timestamp) -> Option<Timestamp> {
        match self.target(severity) {
            SlaTarget::None => None,
            SlaTarget::Within(span) => opened.checked_add(span.as_duration()).ok(),
        }
    }
}

/// Where a case stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlaState {
    /// No due date.
    NoTarget,
    /// Open, due in `remaining`.
    OnTrack {
        #[serde(with = "seconds")]
        remaining: SignedDuration,
    },
    /// Open and late by `overdue`.
    Breached {
        #[serde(with = "seconds")]
        overdue: SignedDuration,
    },
    /// Closed by its due date.
    Met,
    /// Closed `late` after its due date.
    Missed {
        #[serde(with = "seconds")]
        late: SignedDuration,
    },
}

/// Where `case` stands at `now`.
pub fn sla_state(case: &Case, now: Timestamp) -> SlaState {
    let Some(due) = case.due else {
        return SlaState::NoTarget;
    };
    match case.closed.filter(|_| !case.is_open()) {
        Some(closed) if closed <= due => SlaState::Met,
        Some(closed) => SlaState::Missed {
            late: closed.duration_since(due),
        },
        None if now <= due => SlaState::OnTrack {
            remaining: due.duration_since(now),
        },
        None => SlaState::Breached {
            overdue: now.duration_since(due),
        },
    }
}

/// Whether `case` broke its target: open past its due date, or closed after it.
pub fn breached(case: &Case, now: Timestamp) -> bool {
    matches!(
        sla_state(case, now),
        SlaState::Breached { .. } | SlaState::Missed { .. }
    )
}

/// How long until an open case is due (negative once it is late); `None` for a closed case or
/// one without a due date.
pub fn time_to_due(case: &Case, now: Timestamp) -> Option<SignedDuration> {
    match (case.due, case.is_open()) {
        (Some(due), true) => Some(due.duration_since(now)),
        _ => None,
    }
}

/// Durations in JSON as whole seconds, which every client reads.
mod seconds {
    use jiff::SignedDuration;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(
        duration: &SignedDuration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(duration.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use rampart_model::{CaseStatus, Pap, Tlp};

    use super::*;

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + hours * 3_600).unwrap()
    }

    fn case(due: Option<Timestamp>, closed: Option<Timestamp>) -> Case {
        Case {
            id: 1,
            title: "t".into(),
            description: String::new(),
            severity: Severity::High,
            tlp: Tlp::Amber,
            pap: Pap::Amber,
            status: if closed.is_some() {
                CaseStatus::Resolved
            } else {
                CaseStatus::InProgress
            },
            duplicate_of: None,
            assignee: None,
            tags: Vec::new(),
            techniques: Vec::new(),
            campaign: None,
            created: at(0),
            updated: at(0),
            closed,
            due,
            resolution: None,
            created_by: "system".into(),
        }
    }

    #[test]
    fn defaults_give_each_severity_its_target() {
        let policy = SlaPolicy::default();
        assert_eq!(policy.due_at(Severity::Critical, at(0)), Some(at(4)));
        assert_eq!(policy.due_at(Severity::High, at(0)), Some(at(24)));
        assert_eq!(policy.due_at(Severity::Medium, at(0)), Some(at(72)));
        assert_eq!(policy.due_at(Severity::Low, at(0)), Some(at(7 * 24)));
        assert_eq!(policy.due_at(Severity::Informational, at(0)), None);
    }

    #[test]
    fn policy_reads_from_toml_with_defaults_for_the_rest() {
        let policy: SlaPolicy = toml::from_str("critical = \"1h\"\nlow = \"none\"\n").unwrap();
        assert_eq!(policy.due_at(Severity::Critical, at(0)), Some(at(1)));
        assert_eq!(policy.target(Severity::Low), SlaTarget::None);
        assert_eq!(policy.high, SlaPolicy::default().high);
        let refused = toml::from_str::<SlaPolicy>("critical = \"soon\"\n").unwrap_err();
        assert!(
            refused.to_string().contains("invalid duration \"soon\""),
            "{refused}"
        );
        let unknown = toml::from_str::<SlaPolicy>("urgent = \"1h\"\n").unwrap_err();
        assert!(unknown.to_string().contains("unknown field"), "{unknown}");
        let written = toml::to_string(&SlaPolicy::default()).unwrap();
        assert!(written.contains("medium = \"3d\""), "{written}");
        assert!(written.contains("informational = \"none\""), "{written}");
    }

    #[test]
    fn states_follow_the_due_date_and_the_closing_time() {
        let open = case(Some(at(10)), None);
        assert_eq!(
            sla_state(&open, at(4)),
            SlaState::OnTrack {
                remaining: SignedDuration::from_hours(6)
            }
        );
        assert!(!breached(&open, at(10)));
        assert!(breached(&open, at(11)));
        assert_eq!(
            time_to_due(&open, at(12)),
            Some(SignedDuration::from_hours(-2))
        );
        assert_eq!(
            sla_state(&open, at(12)),
            SlaState::Breached {
                overdue: SignedDuration::from_hours(2)
            }
        );
        let on_time = case(Some(at(10)), Some(at(9)));
        assert_eq!(sla_state(&on_time, at(100)), SlaState::Met);
        assert!(!breached(&on_time, at(100)));
        assert_eq!(time_to_due(&on_time, at(1)), None);
        let late = case(Some(at(10)), Some(at(13)));
        assert!(breached(&late, at(13)));
        assert_eq!(
            serde_json::to_value(sla_state(&late, at(13))).unwrap(),
            serde_json::json!({"state": "missed", "late": 3 * 3600})
        );
        assert_eq!(sla_state(&case(None, None), at(0)), SlaState::NoTarget);
    }
}
