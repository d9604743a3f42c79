//! The case pages: the list (filters, SLA badges: overdue in red, due soon in amber) and one
//! case with its tasks, observables, linked alerts and timeline, and the forms that work on it
//! ([`super::case_forms`]). Titles, descriptions, comments and imported alert text are
//! attacker-writable: the templates escape them all, and descriptions are shown as text, not
//! rendered as Markdown.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use rampart_cases::{SlaState, sla_state};
use rampart_model::{Case, CaseStatus, IndicatorKind, Severity, TaskStatus};

use super::{Chrome, Form, PageError, html, when, when_or_never};
use crate::api::cases::{CaseList, case_error, case_query, positive_id};
use crate::auth::Principal;
use crate::state::AppState;

/// Cases per page of the list.
const PAGE_SIZE: u32 = 100;
/// An open case is "due soon" once less than this share of its time to due is left.
const DUE_SOON_SHARE: f64 = 0.25;

/// How a case stands against its due date, as a badge.
pub struct SlaBadge {
    /// `sla-ok`, `sla-soon`, `sla-overdue`, `sla-none`.
    pub class: &'static str,
    pub text: String,
}

/// A span as people read it: minutes, hours or days.
fn span_text(span: SignedDuration) -> String {
    let seconds = span.as_secs().max(0);
    match seconds {
        s if s < 90 * 60 => format!("{} min", (s / 60).max(1)),
        s if s < 48 * 3600 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// The badge of `case` at `now`.
pub fn sla_badge(case: &Case, now: Timestamp) -> SlaBadge {
    match sla_state(case, now) {
        SlaState::NoTarget => SlaBadge {
            class: "sla-none",
            text: "no due date".to_owned(),
        },
        SlaState::OnTrack { remaining } => {
            let total = case
                .due
                .map(|due| due.duration_since(case.created))
                .unwrap_or_default();
            let soon = remaining.as_secs_f64() < total.as_secs_f64() * DUE_SOON_SHARE
                || remaining < SignedDuration::from_hours(1);
            SlaBadge {
                class: if soon { "sla-soon" } else { "sla-ok" },
                text: format!("due in {}", span_text(remaining)),
            }
        }
        SlaState::Breached { overdue } => SlaBadge {
            class: "sla-overdue",
            text: format!("overdue by {}", span_text(overdue)),
        },
        SlaState::Met => SlaBadge {
            class: "sla-ok",
            text: "closed in time".to_owned(),
        },
        SlaState::Missed { late } => SlaBadge {
            class: "sla-overdue",
            text: format!("closed {} late", span_text(late)),
        },
    }
}

/// One case in the list.
pub struct Row {
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub assignee: String,
    pub tags: String,
    pub created: String,
    pub sla: SlaBadge,
}

#[derive(Template)]
#[template(path = "cases.html")]
pub struct ListPage {
    pub chrome: Option<Chrome>,
    /// The status filter shown: `open`, `all` or one status.
    pub filter: String,
    pub filters: Vec<(&'static str, &'static str)>,
    pub min_severity: String,
    pub severities: Vec<&'static str>,
    pub assignee: String,
    pub q: String,
    pub tag: String,
    pub rows: Vec<Row>,
    /// The query string of the next page, when there is one.
    pub next: Option<String>,
    /// The case templates' names, for the form that opens a case.
    pub templates: Vec<String>,
}

/// `GET /cases?status=&min_severity=&assignee=&q=&tag=&cursor=`: cases newest first (open
/// ones by default). Filters are read leniently: a value that means nothing is ignored.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let text = |name: &str| params.get(name).unwrap_or_default().trim().to_owned();
    let requested = params.get("status").unwrap_or("open");
    let (filter, status, open) = match requested.parse::<CaseStatus>() {
        Ok(status) => (status.as_str().to_owned(), Some(status.as_str()), None),
        Err(_) if requested == "all" => ("all".to_owned(), None, None),
        Err(_) => ("open".to_owned(), None, Some(true)),
    };
    let min_severity = text("min_severity")
        .parse::<Severity>()
        .ok()
        .map(|severity| severity.as_str().to_owned());
    let cursor = params
        .get("cursor")
        .filter(|cursor| cursor.parse::<u64>().is_ok())
        .map(str::to_owned);
    let list = CaseList {
        status: status.map(str::to_owned),
        open,
        assignee: Some(text("assignee")),
        min_severity: min_severity.clone(),
        tag: Some(text("tag")),
        campaign: None,
        q: Some(text("q")),
        order: None,
        limit: Some(PAGE_SIZE),
        cursor,
    };
    let query = case_query(&list, PAGE_SIZE)?;
    let cases = state.store.cases(&query).await?;
    let now = Timestamp::now();
    let next = (cases.len() == PAGE_SIZE as usize)
        .then(|| cases.last())
        .flatten()
        .map(|last| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("status", &filter)
                .append_pair("min_severity", min_severity.as_deref().unwrap_or_default())
                .append_pair("assignee", &text("assignee"))
                .append_pair("q", &text("q"))
                .append_pair("tag", &text("tag"))
                .append_pair("cursor", &last.id.to_string())
                .finish()
        });
    let rows = cases
        .into_iter()
        .map(|case| Row {
            id: case.id,
            severity: case.severity.as_str(),
            status: case.status.as_str(),
            assignee: case.assignee.clone().unwrap_or_default(),
            tags: case.tags.join(", "),
            created: when(case.created, now),
            sla: sla_badge(&case, now),
            title: case.title,
        })
        .collect();
    Ok(html(&ListPage {
        chrome: Some(Chrome::new(&principal, "cases")),
        filter,
        filters: vec![
            ("open", "Open"),
            ("new", "New"),
            ("in_progress", "In progress"),
            ("resolved", "Resolved"),
            ("false_positive", "False positives"),
            ("duplicate", "Duplicates"),
            ("all", "All"),
        ],
        min_severity: min_severity.unwrap_or_default(),
        severities: ["informational", "low", "medium", "high", "critical"].to_vec(),
        assignee: text("assignee"),
        q: text("q"),
        tag: text("tag"),
        rows,
        next,
        templates: state
            .cases
            .templates
            .iter()
            .map(|template| template.name.clone())
            .collect(),
    }))
}

pub struct TaskRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub status: &'static str,
    pub assignee: String,
    pub due: String,
}

pub struct ObservableRow {
    pub kind: &'static str,
    pub value: String,
    pub ioc: bool,
    pub sighted: bool,
    pub tlp: &'static str,
    pub tags: String,
    pub message: String,
    pub indicator_id: Option<i64>,
}

pub struct AlertRow {
    pub id: i64,
    pub label: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub seen: String,
    pub linked: String,
}

pub struct TimelineRow {
    pub at: String,
    pub actor: String,
    pub kind: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "case.html")]
pub struct DetailPage {
    pub chrome: Option<Chrome>,
    pub id: i64,
    pub title: String,
    pub description: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub open: bool,
    pub duplicate_of: Option<i64>,
    pub tlp: &'static str,
    pub pap: &'static str,
    pub assignee: String,
    pub campaign: String,
    pub tags: String,
    pub techniques: String,
    pub created: String,
    pub created_by: String,
    pub updated: String,
    pub due: String,
    pub closed: String,
    pub resolution: String,
    pub sla: SlaBadge,
    /// The statuses the case may move to now.
    pub next_statuses: Vec<&'static str>,
    pub task_statuses: Vec<&'static str>,
    pub kinds: Vec<&'static str>,
    pub tasks: Vec<TaskRow>,
    pub observables: Vec<ObservableRow>,
    pub alerts: Vec<AlertRow>,
    pub timeline: Vec<TimelineRow>,
}

/// `GET /cases/{id}`: one case with everything that belongs to it.
pub async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let bundle = state
        .case_service()
        .bundle(id)
        .await
        .map_err(|err| PageError(case_error(err)))?;
    let now = Timestamp::now();
    let case = &bundle.case;
    let next_statuses = CaseStatus::ALL
        .iter()
        .filter(|to| case.status.transition_to(**to).is_ok())
        .map(|to| to.as_str())
        .collect();
    let tasks = bundle
        .tasks
        .iter()
        .map(|task| TaskRow {
            id: task.id,
            title: task.title.clone(),
            description: task.description.clone(),
            status: task.status.as_str(),
            assignee: task.assignee.clone().unwrap_or_default(),
            due: task.due.map(|due| when(due, now)).unwrap_or_default(),
        })
        .collect();
    let observables = bundle
        .observables
        .iter()
        .map(|observable| ObservableRow {
            kind: observable.indicator.kind().as_str(),
            value: observable.indicator.value().to_owned(),
            ioc: observable.ioc,
            sighted: observable.sighted,
            tlp: observable.tlp.label(),
            tags: observable.tags.join(", "),
            message: observable.message.clone().unwrap_or_default(),
            indicator_id: observable.indicator_id,
        })
        .collect();
    let alerts = bundle
        .alerts
        .iter()
        .map(|linked| AlertRow {
            id: linked.alert.id,
            label: linked.alert.alert.detection.label(),
            severity: linked.alert.alert.severity.as_str(),
            status: linked.alert.status.as_str(),
            seen: when(linked.alert.alert.last_seen, now),
            linked: format!(
                "{} by {}",
                when(linked.link.linked, now),
                linked.link.linked_by
            ),
        })
        .collect();
    let timeline = bundle
        .timeline
        .iter()
        .map(|entry| TimelineRow {
            at: when(entry.at, now),
            actor: entry.actor.clone(),
            kind: entry.kind.as_str(),
            message: entry.message.clone(),
        })
        .collect();
    let list = |items: &[String]| items.join(", ");
    Ok(html(&DetailPage {
        chrome: Some(Chrome::new(&principal, "cases")),
        id,
        title: case.title.clone(),
        description: case.description.clone(),
        severity: case.severity.as_str(),
        status: case.status.as_str(),
        open: case.is_open(),
        duplicate_of: case.duplicate_of,
        tlp: case.tlp.label(),
        pap: case.pap.label(),
        assignee: case.assignee.clone().unwrap_or_default(),
        campaign: case.campaign.clone().unwrap_or_default(),
        tags: list(&case.tags),
        techniques: case
            .techniques
            .iter()
            .map(|id| id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        created: when(case.created, now),
        created_by: case.created_by.clone(),
        updated: when(case.updated, now),
        due: when_or_never(case.due, now),
        closed: case.closed.map(|at| when(at, now)).unwrap_or_default(),
        resolution: case.resolution.clone().unwrap_or_default(),
        sla: sla_badge(case, now),
        next_statuses,
        task_statuses: TaskStatus::ALL
            .iter()
            .map(|status| status.as_str())
            .collect(),
        kinds: IndicatorKind::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect(),
        tasks,
        observables,
        alerts,
        timeline,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::{Pap, Tlp};

    fn case(created: Timestamp, due: Option<Timestamp>) -> Case {
        Case {
            id: 1,
            title: "t".into(),
            description: String::new(),
            severity: Severity::High,
            tlp: Tlp::Amber,
            pap: Pap::Amber,
            status: CaseStatus::New,
            duplicate_of: None,
            assignee: None,
            tags: Vec::new(),
            techniques: Vec::new(),
            campaign: None,
            created,
            updated: created,
            closed: None,
            due,
            resolution: None,
            created_by: "user:a".into(),
        }
    }

    #[test]
    fn badges_say_overdue_due_soon_or_on_track() {
        let created = Timestamp::from_second(1_000_000).unwrap();
        let due = created + SignedDuration::from_hours(24);
        let open = case(created, Some(due));
        let early = sla_badge(&open, created + SignedDuration::from_hours(2));
        assert_eq!(
            (early.class, early.text.as_str()),
            ("sla-ok", "due in 22 h")
        );
        let late_in_the_day = sla_badge(&open, created + SignedDuration::from_hours(20));
        assert_eq!(late_in_the_day.class, "sla-soon");
        let overdue = sla_badge(&open, due + SignedDuration::from_hours(72));
        assert_eq!(
            (overdue.class, overdue.text.as_str()),
            ("sla-overdue", "overdue by 3 d")
        );
        assert_eq!(sla_badge(&case(created, None), due).class, "sla-none");
    }
}
