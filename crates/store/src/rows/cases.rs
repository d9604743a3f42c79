//! Rows of the case tables (cases, case_tasks, case_observables, case_timeline, case_alerts),
//! shared by both backends like the rest of [`crate::rows`].

use rampart_model::{Case, CaseAlert, Indicator, Observable, Task, TimelineEntry, Timestamp};

use super::{
    from_json, json_list, kind_from, micros, optional_timestamp, parse_column,
    severity_from_column, timestamp,
};
use crate::StoreError;

/// The columns every case query selects, in [`CaseRow`]'s order.
#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    id: i64,
    title: String,
    description: String,
    severity: i64,
    tlp: String,
    pap: String,
    status: String,
    duplicate_of: Option<i64>,
    assignee: Option<String>,
    tags: String,
    techniques: String,
    campaign: Option<String>,
    created: i64,
    updated: i64,
    closed: Option<i64>,
    due: Option<i64>,
    resolution: Option<String>,
    created_by: String,
}

impl CaseRow {
    pub(crate) fn into_case(self) -> Result<Case, StoreError> {
        const TABLE: &str = "cases";
        Ok(Case {
            id: self.id,
            severity: severity_from_column(self.severity)
                .map_err(|_| super::corrupt(TABLE, format!("severity {}", self.severity)))?,
            tlp: parse_column(TABLE, "tlp", &self.tlp)?,
            pap: parse_column(TABLE, "pap", &self.pap)?,
            status: parse_column(TABLE, "status", &self.status)?,
            tags: from_json(TABLE, "tags", &self.tags)?,
            techniques: from_json(TABLE, "techniques", &self.techniques)?,
            created: timestamp(TABLE, self.created)?,
            updated: timestamp(TABLE, self.updated)?,
            closed: optional_timestamp(TABLE, self.closed)?,
            due: optional_timestamp(TABLE, self.due)?,
            title: self.title,
            description: self.description,
            duplicate_of: self.duplicate_of,
            assignee: self.assignee,
            campaign: self.campaign,
            resolution: self.resolution,
            created_by: self.created_by,
        })
    }
}

/// The columns of a case as written (all but the id and the creation fields).
pub(crate) struct CaseValues<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub severity: i64,
    pub tlp: &'static str,
    pub pap: &'static str,
    pub status: &'static str,
    pub duplicate_of: Option<i64>,
    pub assignee: Option<&'a str>,
    pub tags: String,
    pub techniques: String,
    pub campaign: Option<&'a str>,
    pub updated: i64,
    pub closed: Option<i64>,
    pub due: Option<i64>,
    pub resolution: Option<&'a str>,
}

impl<'a> CaseValues<'a> {
    pub(crate) fn new(case: &'a Case) -> CaseValues<'a> {
        CaseValues {
            title: &case.title,
            description: &case.description,
            severity: case.severity as i64,
            tlp: case.tlp.short(),
            pap: case.pap.short(),
            status: case.status.as_str(),
            duplicate_of: case.duplicate_of,
            assignee: case.assignee.as_deref(),
            tags: json_list(&case.tags),
            techniques: json_list(&case.techniques),
            campaign: case.campaign.as_deref(),
            updated: micros(case.updated),
            closed: case.closed.map(micros),
            due: case.due.map(micros),
            resolution: case.resolution.as_deref(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: i64,
    case_id: i64,
    title: String,
    description: String,
    assignee: Option<String>,
    status: String,
    due: Option<i64>,
    position: i64,
    created: i64,
    updated: i64,
}

impl TaskRow {
    pub(crate) fn into_task(self) -> Result<Task, StoreError> {
        const TABLE: &str = "case_tasks";
        Ok(Task {
            id: self.id,
            case_id: self.case_id,
            status: parse_column(TABLE, "status", &self.status)?,
            due: optional_timestamp(TABLE, self.due)?,
            created: timestamp(TABLE, self.created)?,
            updated: timestamp(TABLE, self.updated)?,
            order: self.position,
            title: self.title,
            description: self.description,
            assignee: self.assignee,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ObservableRow {
    id: i64,
    case_id: i64,
    kind: String,
    value: String,
    ioc: bool,
    sighted: bool,
    tlp: String,
    tags: String,
    message: Option<String>,
    indicator_id: Option<i64>,
    created: i64,
}

impl ObservableRow {
    pub(crate) fn into_observable(self) -> Result<Observable, StoreError> {
        const TABLE: &str = "case_observables";
        Ok(Observable {
            id: self.id,
            case_id: self.case_id,
            indicator: Indicator::from_canonical(kind_from(TABLE, &self.kind)?, self.value),
            ioc: self.ioc,
            sighted: self.sighted,
            tlp: parse_column(TABLE, "tlp", &self.tlp)?,
            tags: from_json(TABLE, "tags", &self.tags)?,
            message: self.message,
            indicator_id: self.indicator_id,
            created: timestamp(TABLE, self.created)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TimelineRow {
    id: i64,
    case_id: i64,
    at: i64,
    actor: String,
    kind: String,
    message: String,
    detail: String,
}

impl TimelineRow {
    pub(crate) fn into_entry(self) -> Result<TimelineEntry, StoreError> {
        const TABLE: &str = "case_timeline";
        Ok(TimelineEntry {
            id: self.id,
            case_id: self.case_id,
            at: timestamp(TABLE, self.at)?,
            kind: parse_column(TABLE, "kind", &self.kind)?,
            detail: from_json(TABLE, "detail", &self.detail)?,
            actor: self.actor,
            message: self.message,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CaseAlertRow {
    case_id: i64,
    alert_id: i64,
    linked: i64,
    linked_by: String,
}

impl CaseAlertRow {
    pub(crate) fn into_link(self) -> Result<CaseAlert, StoreError> {
        Ok(CaseAlert {
            case_id: self.case_id,
            alert_id: self.alert_id,
            linked: timestamp("case_alerts", self.linked)?,
            linked_by: self.linked_by,
        })
    }
}

/// An alert of a case: the link's columns and the alert's.
#[derive(sqlx::FromRow)]
pub(crate) struct LinkedAlertRow {
    #[sqlx(flatten)]
    link: CaseAlertRow,
    #[sqlx(flatten)]
    alert: super::AlertRow,
}

impl LinkedAlertRow {
    pub(crate) fn into_linked(self) -> Result<crate::LinkedAlert, StoreError> {
        Ok(crate::LinkedAlert {
            link: self.link.into_link()?,
            alert: self.alert.into_alert()?,
        })
    }
}

/// An alert id asked for by `link_alerts` and the case it is in now, if any.
#[derive(sqlx::FromRow)]
pub(crate) struct AlertPlaceRow {
    pub(crate) alert_id: i64,
    pub(crate) case_id: Option<i64>,
}

/// The time of a write, as stored: every row of one write shares it.
pub(crate) fn now_micros() -> (Timestamp, i64) {
    // Stored with microsecond precision: round now so the returned values equal reads.
    let micros_now = micros(Timestamp::now());
    let now = Timestamp::from_microsecond(micros_now).unwrap_or(Timestamp::UNIX_EPOCH);
    (now, micros_now)
}
