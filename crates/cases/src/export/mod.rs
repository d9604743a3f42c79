//! Case exports: everything about a case in one [`CaseBundle`], rendered by one renderer per
//! format (Markdown for people, JSON for tools), each in its own file and registered in
//! [`ExportFormat`].

mod json;
mod markdown;

use std::str::FromStr;

use rampart_model::{Case, Observable, Task, TimelineEntry};
use rampart_store::LinkedAlert;
use serde::{Deserialize, Serialize};

pub use json::{CaseDocument, ExportedAlert, JSON_FORMAT, JSON_VERSION};
pub use markdown::{escape_inline, neutralise_html};

/// A case with everything that belongs to it, as read from the store at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseBundle {
    pub case: Case,
    pub tasks: Vec<Task>,
    pub observables: Vec<Observable>,
    pub alerts: Vec<LinkedAlert>,
    pub timeline: Vec<TimelineEntry>,
}

/// Renders a case bundle in one format.
pub trait CaseRenderer {
    /// The media type of the output, for HTTP responses.
    fn media_type(&self) -> &'static str;
    /// The file extension of the output, without the dot.
    fn extension(&self) -> &'static str;
    fn render(&self, bundle: &CaseBundle) -> String;
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Markdown,
    Json,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 2] = [ExportFormat::Markdown, ExportFormat::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "markdown",
            ExportFormat::Json => "json",
        }
    }

    /// The renderer of this format: the one place formats are registered.
    pub fn renderer(self) -> &'static dyn CaseRenderer {
        match self {
            ExportFormat::Markdown => &markdown::Markdown,
            ExportFormat::Json => &json::Json,
        }
    }
}

/// A name that is not an export format.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown export format {0:?} (expected markdown or json)")]
pub struct UnknownExportFormat(pub String);

impl FromStr for ExportFormat {
    type Err = UnknownExportFormat;

    fn from_str(text: &str) -> Result<ExportFormat, UnknownExportFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(ExportFormat::Markdown),
            "json" => Ok(ExportFormat::Json),
            _ => Err(UnknownExportFormat(text.chars().take(40).collect())),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    use rampart_model::{
        Alert, CaseAlert, CaseStatus, Detection, EventRef, Indicator, IndicatorKind, MatchedField,
        Pap, Severity, TaskStatus, TimelineKind, Timestamp, Tlp,
    };
    use rampart_store::{AlertStatus, StoredAlert};

    use super::*;

    pub fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + second).unwrap()
    }

    /// A case whose every attacker-reachable text is hostile.
    pub fn hostile_bundle() -> CaseBundle {
        let case = Case {
            id: 12,
            title: "Invoice | <script>alert(1)</script> `x` **bold**\n# injected".into(),
            description: "Reported by *Bob*.\n\n<img src=x onerror=alert(1)>\n".into(),
            severity: Severity::High,
            tlp: Tlp::Amber,
            pap: Pap::Green,
            status: CaseStatus::InProgress,
            duplicate_of: None,
            assignee: Some("alice".into()),
            tags: vec!["phishing".into(), "a|b".into()],
            techniques: vec!["T1566.001".parse().unwrap()],
            campaign: Some("campaign-7".into()),
            created: at(0),
            updated: at(60),
            closed: None,
            due: Some(at(86_400)),
            resolution: None,
            created_by: "user:alice".into(),
        };
        let task = |id: i64, title: &str, status: TaskStatus| Task {
            id,
            case_id: 12,
            title: title.into(),
            description: String::new(),
            assignee: None,
            status,
            due: None,
            order: id,
            created: at(0),
            updated: at(0),
        };
        let url = Indicator::parse(IndicatorKind::Url, "http://evil.example/a|b`<x>").unwrap();
        let observable = Observable {
            id: 1,
            case_id: 12,
            indicator: url,
            ioc: true,
            sighted: false,
            tlp: Tlp::Red,
            tags: vec!["c2".into()],
            message: Some("line one\nline two | <b>".into()),
            indicator_id: Some(9),
            created: at(10),
        };
        let detection = Detection::External {
            source: "siem".into(),
            source_ref: "abc".into(),
            title: "Beacon to [evil](http://evil.example)".into(),
        };
        let matched = vec![MatchedField {
            field: "observable.domain".into(),
            value: "evil.example".into(),
        }];
        let alert = Alert::new(
            detection,
            Severity::High,
            Vec::new(),
            matched,
            EventRef::line("x", 1),
            at(5),
        );
        let linked = LinkedAlert {
            link: CaseAlert {
                case_id: 12,
                alert_id: 77,
                linked: at(20),
                linked_by: "playbook:c2".into(),
            },
            alert: StoredAlert {
                id: 77,
                alert,
                status: AlertStatus::Open,
                triage: None,
            },
        };
        let entry = TimelineEntry {
            id: 3,
            case_id: 12,
            at: at(20),
            actor: "playbook:c2".into(),
            kind: TimelineKind::AlertLinked,
            message: "1 alert linked | <i>".into(),
            detail: serde_json::json!({"alerts": [77]}),
        };
        CaseBundle {
            case,
            tasks: vec![
                task(0, "Collect headers", TaskStatus::Done),
                task(1, "Block [sender](http://x)", TaskStatus::Waiting),
            ],
            observables: vec![observable],
            alerts: vec![linked],
            timeline: vec![entry],
        }
    }
}
