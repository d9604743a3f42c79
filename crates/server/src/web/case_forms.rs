//! The forms of the case pages. Each reads its fields, calls the same function as the API
//! route (so the checks and the audit entry are the same), and sends the browser back to the
//! case (post/redirect/get). The CSRF token was checked before these run.

use axum::extract::{Path, State};
use axum::response::Response;
use rampart_model::{Severity, TaskStatus};

use super::{Form, PageError, redirect};
use crate::api::case_changes::{CaseChange, StatusRequest, set_status, update};
use crate::api::case_work::{
    ObservableRequest, TaskChange, TaskRequest, add_comment, add_observable as add_case_observable,
    add_task as add_case_task, link_alerts as link, unlink_alert as unlink, update_task,
};
use crate::api::cases::{NewCaseRequest, invalid, open as open_case, positive_id};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

fn case_page(id: i64, anchor: &str) -> Response {
    redirect(&format!("/cases/{id}#{anchor}"))
}

/// A field that is there and not blank, trimmed.
fn optional<'f>(form: &'f Form, name: &str) -> Option<&'f str> {
    form.get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// A checkbox: sent (as `on`) when ticked.
fn ticked(form: &Form, name: &str) -> bool {
    form.get(name).is_some()
}

fn parsed<T: std::str::FromStr>(form: &Form, name: &str) -> Result<T, PageError>
where
    T::Err: std::fmt::Display,
{
    form.required(name)?
        .parse()
        .map_err(|err: T::Err| PageError(invalid(format!("{name}: {err}"))))
}

/// `POST /cases` (title, severity, template, description): opens a case, then shows it.
pub async fn open(
    State(state): State<AppState>,
    principal: Principal,
    form: Form,
) -> Result<Response, PageError> {
    let request = NewCaseRequest {
        title: optional(&form, "title").map(str::to_owned),
        description: optional(&form, "description").map(str::to_owned),
        severity: optional(&form, "severity")
            .map(|_| parsed::<Severity>(&form, "severity"))
            .transpose()?,
        template: optional(&form, "template").map(str::to_owned),
        ..NewCaseRequest::default()
    };
    let case = open_case(&state, &principal, request).await?;
    Ok(case_page(case.id, "case"))
}

/// `POST /cases/{id}/status` (status, resolution, duplicate_of).
pub async fn status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let duplicate_of = match optional(&form, "duplicate_of") {
        Some(text) => Some(positive_id(text, "case")?),
        None => None,
    };
    let request = StatusRequest {
        status: form.required("status")?.to_owned(),
        resolution: optional(&form, "resolution").map(str::to_owned),
        duplicate_of,
    };
    set_status(&state, &principal, id, request).await?;
    Ok(case_page(id, "case"))
}

/// `POST /cases/{id}/assign` (assignee; blank to unassign).
pub async fn assign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let change = CaseChange {
        assignee: Some(optional(&form, "assignee").map(str::to_owned)),
        ..CaseChange::default()
    };
    update(&state, &principal, id, change).await?;
    Ok(case_page(id, "case"))
}

/// `POST /cases/{id}/comments` (message).
pub async fn comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    add_comment(&state, &principal, id, form.required("message")?).await?;
    Ok(case_page(id, "timeline"))
}

/// `POST /cases/{id}/tasks` (title, description, assignee).
pub async fn add_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let request = TaskRequest {
        title: form.required("title")?.to_owned(),
        description: optional(&form, "description")
            .unwrap_or_default()
            .to_owned(),
        assignee: optional(&form, "assignee").map(str::to_owned),
        due: None,
        order: None,
    };
    add_case_task(&state, &principal, id, request).await?;
    Ok(case_page(id, "tasks"))
}

/// `POST /cases/{id}/tasks/{task}` (status).
pub async fn task_status(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, task)): Path<(String, String)>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let task = positive_id(&task, "task")?;
    let change = TaskChange {
        status: Some(parsed::<TaskStatus>(&form, "status")?),
        ..TaskChange::default()
    };
    update_task(&state, &principal, id, task, change).await?;
    Ok(case_page(id, "tasks"))
}

/// `POST /cases/{id}/observables` (kind, value, message, ioc, sighted, promote).
pub async fn add_observable(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let request = ObservableRequest {
        kind: form.required("kind")?.to_owned(),
        value: form.required("value")?.to_owned(),
        ioc: ticked(&form, "ioc"),
        sighted: ticked(&form, "sighted"),
        tlp: None,
        tags: Vec::new(),
        message: optional(&form, "message").map(str::to_owned),
        promote: ticked(&form, "promote"),
    };
    add_case_observable(&state, &principal, id, request).await?;
    Ok(case_page(id, "observables"))
}

/// `POST /cases/{id}/alerts` (alerts: ids separated by commas or spaces).
pub async fn link_alerts(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let ids = form
        .required("alerts")?
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|part| !part.is_empty())
        .map(|part| positive_id(part, "alert"))
        .collect::<Result<Vec<i64>, ApiError>>()?;
    link(&state, &principal, id, &ids).await?;
    Ok(case_page(id, "alerts"))
}

/// `POST /cases/{id}/alerts/{alert}/unlink`.
pub async fn unlink_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, alert)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = positive_id(&id, "case")?;
    let alert = positive_id(&alert, "alert")?;
    unlink(&state, &principal, id, alert).await?;
    Ok(case_page(id, "alerts"))
}
