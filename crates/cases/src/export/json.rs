//! A case as JSON, for tools. The shape is stable: a version only ever gains fields.
//!
//! ```json
//! {
//!   "format": "rampart.case",
//!   "version": 1,
//!   "case": { "id": 12, "title": "…", "description": "…", "severity": "high",
//!             "tlp": "amber", "pap": "green", "status": "in_progress", "duplicate_of": null,
//!             "assignee": "alice", "tags": ["…"], "techniques": ["T1566.001"],
//!             "campaign": "…", "created": "2026-11-27T10:00:00Z", "updated": "…",
//!             "closed": null, "due": "…", "resolution": null, "created_by": "user:alice" },
//!   "tasks": [ { "id": 1, "case_id": 12, "title": "…", "description": "…", "assignee": null,
//!                "status": "waiting", "due": null, "order": 0, "created": "…", "updated": "…" } ],
//!   "observables": [ { "id": 1, "case_id": 12, "indicator": { "kind": "domain", "value": "…" },
//!                      "ioc": true, "sighted": false, "tlp": "red", "tags": [], "message": null,
//!                      "indicator_id": 9, "created": "…" } ],
//!   "alerts": [ { "id": 77, "linked": "…", "linked_by": "playbook:c2", "status": "open",
//!                 "alert": { "key": "…", "detection": { "type": "sigma", … }, … } } ],
//!   "timeline": [ { "id": 3, "case_id": 12, "at": "…", "actor": "…", "kind": "alert_linked",
//!                   "message": "…", "detail": { … } } ]
//! }
//! ```
//!
//! Times are RFC 3339 in UTC; text is exactly as stored (JSON escaping is the reader's
//! protection).

use rampart_model::{Alert, Case, Observable, Task, TimelineEntry, Timestamp};
use rampart_store::AlertStatus;
use serde::{Deserialize, Serialize};

use super::{CaseBundle, CaseRenderer};

/// The `format` of a case document.
pub const JSON_FORMAT: &str = "rampart.case";
/// The `version` of the shape written here.
pub const JSON_VERSION: u32 = 1;

/// The JSON export of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseDocument {
    /// Always [`JSON_FORMAT`].
    pub format: String,
    /// [`JSON_VERSION`] when written by this version.
    pub version: u32,
    pub case: Case,
    pub tasks: Vec<Task>,
    pub observables: Vec<Observable>,
    pub alerts: Vec<ExportedAlert>,
    pub timeline: Vec<TimelineEntry>,
}

/// An alert of the case with its link and triage status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedAlert {
    /// The store's alert id.
    pub id: i64,
    pub linked: Timestamp,
    pub linked_by: String,
    pub status: AlertStatus,
    pub alert: Alert,
}

impl CaseDocument {
    pub fn from_bundle(bundle: &CaseBundle) -> CaseDocument {
        CaseDocument {
            format: JSON_FORMAT.to_owned(),
            version: JSON_VERSION,
            case: bundle.case.clone(),
            tasks: bundle.tasks.clone(),
            observables: bundle.observables.clone(),
            alerts: bundle
                .alerts
                .iter()
                .map(|linked| ExportedAlert {
                    id: linked.alert.id,
                    linked: linked.link.linked,
                    linked_by: linked.link.linked_by.clone(),
                    status: linked.alert.status,
                    alert: linked.alert.alert.clone(),
                })
                .collect(),
            timeline: bundle.timeline.clone(),
        }
    }
}

/// The JSON renderer.
pub(super) struct Json;

impl CaseRenderer for Json {
    fn media_type(&self) -> &'static str {
        "application/json"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    fn render(&self, bundle: &CaseBundle) -> String {
        // Plain derived structs and JSON values: serialising cannot fail.
        serde_json::to_string_pretty(&CaseDocument::from_bundle(bundle)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::hostile_bundle;
    use super::*;

    #[test]
    fn document_has_the_documented_shape_and_reads_back() {
        let bundle = hostile_bundle();
        let text = Json.render(&bundle);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "format",
                "version",
                "case",
                "tasks",
                "observables",
                "alerts",
                "timeline"
            ]
        );
        assert_eq!(value["format"], "rampart.case");
        assert_eq!(value["version"], 1);
        assert_eq!(value["case"]["status"], "in_progress");
        assert_eq!(value["case"]["pap"], "green");
        assert_eq!(value["case"]["due"], "2023-11-15T22:13:20Z");
        assert_eq!(value["observables"][0]["indicator"]["kind"], "url");
        assert_eq!(value["alerts"][0]["id"], 77);
        assert_eq!(value["alerts"][0]["status"], "open");
        assert_eq!(value["alerts"][0]["alert"]["detection"]["type"], "external");
        assert_eq!(value["timeline"][0]["kind"], "alert_linked");
        // Text is kept exactly.
        assert_eq!(value["case"]["title"], bundle.case.title.as_str());
        let document: CaseDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(document, CaseDocument::from_bundle(&bundle));
    }
}
