//! The work inside a case: tasks, observables (optionally promoted to indicators), comments and
//! linked alerts; and alerts brought into cases from outside (TheHive-compatible import) or by
//! automatic grouping. Every change is audited with the caller as actor.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_auth::Action;
use rampart_cases::{PlacedBy, TheHiveImport};
use rampart_model::{
    Indicator, IndicatorKind, Observable, Task, TaskStatus, TimelineEntry, TimelineKind, Tlp,
};
use rampart_store::{AlertLinks, AuditEntry, NewObservable, NewTask, NewTimelineEntry, TaskUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{
    MAX_DESCRIPTION_CHARS, case_audit, case_error, checked_tags, invalid, known_assignee,
    positive_id, present, store_error,
};
use super::intel_changes::{Added, NewIndicator, add_indicator, audited};
use crate::auth::{Principal, require};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// The most alerts one request links or groups.
pub const MAX_ALERTS_PER_REQUEST: usize = 1000;
/// The longest comment or observable note, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// A task of a case.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct TaskItem(pub Task);

/// An entry of a case's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct TimelineItem(pub TimelineEntry);

/// A task to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    /// One line, 1 to 512 characters.
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// An account name.
    pub assignee: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due: Option<Timestamp>,
    /// Its position; default: after the last task.
    pub order: Option<i64>,
}

/// Adds `request` to case `id` on behalf of `principal`, audited as `case.task.add`.
pub(crate) async fn add_task(
    state: &AppState,
    principal: &Principal,
    id: i64,
    request: TaskRequest,
) -> Result<Task, ApiError> {
    let entry = case_audit(principal, "case.task.add", id);
    let added = async {
        if request.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(invalid("the task's description is too long"));
        }
        let assignee = match request.assignee {
            Some(name) => Some(known_assignee(state, &name).await?),
            None => None,
        };
        let task = NewTask {
            title: request.title,
            description: request.description,
            assignee,
            due: request.due,
            order: request.order,
        };
        state
            .store
            .add_task(id, &task, &principal.actor)
            .await
            .map_err(store_error)
    }
    .await;
    audited(state.store.as_ref(), entry, added).await
}

/// Adds a task to a case; audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/tasks", operation_id = "add_case_task", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = TaskRequest,
    responses((status = 201, description = "the task", body = TaskItem)))]
pub async fn create_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<TaskRequest>,
) -> Result<Response, ApiError> {
    let id = positive_id(&id, "case")?;
    let task = add_task(&state, &principal, id, request).await?;
    Ok((StatusCode::CREATED, Json(TaskItem(task))).into_response())
}

/// Changes to a task: absent fields stay, `null` clears the nullable ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChange {
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// waiting, in_progress, done or cancelled.
    #[schema(value_type = Option<String>)]
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due: Option<Option<Timestamp>>,
    pub order: Option<i64>,
}

/// Changes task `task` of case `id` on behalf of `principal`, audited as `case.task.update`.
/// A task of another case is 404.
pub(crate) async fn update_task(
    state: &AppState,
    principal: &Principal,
    id: i64,
    task: i64,
    change: TaskChange,
) -> Result<Task, ApiError> {
    let entry = case_audit(principal, "case.task.update", id)
        .detail(serde_json::json!({ "task": task, "status": change.status }));
    let updated = async {
        if state.store.case(id).await?.is_none() {
            return Err(ApiError::not_found(format!("no case with id {id}")));
        }
        if !state.store.tasks(id).await?.iter().any(|t| t.id == task) {
            return Err(ApiError::not_found(format!("case {id} has no task {task}")));
        }
        if change
            .description
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            return Err(invalid("the task's description is too long"));
        }
        let assignee = match change.assignee {
            Some(Some(name)) => Some(Some(known_assignee(state, &name).await?)),
            other => other,
        };
        let update = TaskUpdate {
            title: change.title,
            description: change.description,
            assignee,
            status: change.status,
            due: change.due,
            order: change.order,
        };
        if update == TaskUpdate::default() {
            return Err(invalid("nothing to change: give at least one field"));
        }
        state
            .store
            .update_task(task, &update, &principal.actor)
            .await
            .map_err(store_error)
    }
    .await;
    audited(state.store.as_ref(), entry, updated).await
}

/// Changes a task of a case (its status, title, assignee…); audited.
#[utoipa::path(patch, path = "/api/v1/cases/{id}/tasks/{task}", operation_id = "change_case_task", tag = "cases",
    params(("id" = i64, Path, description = "the case's id"), ("task" = i64, Path, description = "the task's id")),
    request_body = TaskChange,
    responses((status = 200, description = "the task, changed", body = TaskItem)))]
pub async fn change_task(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, task)): Path<(String, String)>,
    ApiJson(change): ApiJson<TaskChange>,
) -> Result<Json<TaskItem>, ApiError> {
    let id = positive_id(&id, "case")?;
    let task = positive_id(&task, "task")?;
    Ok(Json(TaskItem(
        update_task(&state, &principal, id, task, change).await?,
    )))
}

/// A value to track in a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservableRequest {
    /// ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256…
    pub kind: String,
    /// Defanged forms (`evil[.]example`) are accepted and canonicalised.
    pub value: String,
    /// Known to be malicious.
    #[serde(default)]
    pub ioc: bool,
    /// Seen in the organisation's own systems.
    #[serde(default)]
    pub sighted: bool,
    /// Default amber.
    #[schema(value_type = Option<String>)]
    pub tlp: Option<Tlp>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Why it is there.
    pub message: Option<String>,
    /// Also add it as an indicator (source `manual`, as `POST /api/v1/indicators` does);
    /// needs `write_intel`.
    #[serde(default)]
    pub promote: bool,
}

/// What adding an observable did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObservableAdded {
    #[schema(value_type = Object)]
    pub observable: Observable,
    /// `false` when the case had it already (its flags and tags were united).
    pub new: bool,
    /// The indicator it was promoted to.
    pub promoted: Option<Added>,
}

/// Adds an observable to case `id` on behalf of `principal`, audited as
/// `case.observable.add` (and `indicator.add` when promoted).
pub(crate) async fn add_observable(
    state: &AppState,
    principal: &Principal,
    id: i64,
    request: ObservableRequest,
) -> Result<ObservableAdded, ApiError> {
    let entry = case_audit(principal, "case.observable.add", id).detail(serde_json::json!({
        "kind": crate::error::truncate(&request.kind),
        "value": crate::error::truncate(&request.value),
        "promote": request.promote,
    }));
    let added = async {
        let kind: IndicatorKind = request
            .kind
            .parse()
            .map_err(|err: rampart_model::UnknownKind| invalid(err.to_string()))?;
        let indicator = Indicator::parse(kind, &request.value)
            .map_err(|err| invalid(format!("not a {kind} value: {err}")))?;
        checked_tags(&request.tags)?;
        if request
            .message
            .as_ref()
            .is_some_and(|message| message.chars().count() > MAX_COMMENT_CHARS)
        {
            return Err(invalid(format!(
                "a message has at most {MAX_COMMENT_CHARS} characters"
            )));
        }
        if state.store.case(id).await?.is_none() {
            return Err(ApiError::not_found(format!("no case with id {id}")));
        }
        let tlp = request.tlp.unwrap_or(Tlp::Amber);
        // Promoted first, so that the observable is linked to the indicator it became.
        let promoted = if request.promote {
            require(principal, Action::WriteIntel)?;
            let indicator_request = NewIndicator {
                kind: kind.to_string(),
                value: indicator.value().to_owned(),
                confidence: None,
                tlp: Some(tlp.to_string()),
                labels: vec![format!("case:{id}")],
                expires: None,
            };
            Some(add_indicator(state, principal, &indicator_request).await?)
        } else {
            None
        };
        let observable = NewObservable {
            indicator,
            ioc: request.ioc,
            sighted: request.sighted,
            tlp,
            tags: request.tags,
            message: request.message,
        };
        let (observable, new) = state
            .store
            .add_observable(id, &observable, &principal.actor)
            .await
            .map_err(store_error)?;
        Ok(ObservableAdded {
            observable,
            new,
            promoted,
        })
    }
    .await;
    audited(state.store.as_ref(), entry, added).await
}

/// Adds an observable to a case, optionally promoting it to an indicator; audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/observables", operation_id = "add_case_observable", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = ObservableRequest,
    responses((status = 201, description = "the observable as now stored", body = ObservableAdded)))]
pub async fn create_observable(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ObservableRequest>,
) -> Result<Response, ApiError> {
    let id = positive_id(&id, "case")?;
    let added = add_observable(&state, &principal, id, request).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

/// A comment for a case's timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// 1 to 10 000 characters.
    pub message: String,
}

/// Adds a comment to case `id`'s timeline on behalf of `principal`, audited as
/// `case.comment`.
pub(crate) async fn add_comment(
    state: &AppState,
    principal: &Principal,
    id: i64,
    message: &str,
) -> Result<TimelineEntry, ApiError> {
    let entry = case_audit(principal, "case.comment", id);
    let added = async {
        let message = message.trim();
        if message.is_empty() || message.chars().count() > MAX_COMMENT_CHARS {
            return Err(invalid(format!(
                "a comment has 1 to {MAX_COMMENT_CHARS} characters"
            )));
        }
        let comment = NewTimelineEntry {
            at: Timestamp::now(),
            actor: principal.actor.clone(),
            kind: TimelineKind::Comment,
            message: message.to_owned(),
            detail: serde_json::json!({}),
        };
        state
            .store
            .add_timeline(id, &comment)
            .await
            .map_err(store_error)
    }
    .await;
    audited(state.store.as_ref(), entry, added).await
}

/// Comments on a case (a timeline entry); audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/comments", operation_id = "comment_case", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = CommentRequest,
    responses((status = 201, description = "the timeline entry", body = TimelineItem)))]
pub async fn comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<Response, ApiError> {
    let id = positive_id(&id, "case")?;
    let entry = add_comment(&state, &principal, id, &request.message).await?;
    Ok((StatusCode::CREATED, Json(TimelineItem(entry))).into_response())
}

/// Alerts by their store ids.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertIds {
    /// 1 to 1000 alert ids.
    pub alerts: Vec<i64>,
}

fn checked_alert_ids(ids: &[i64]) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > MAX_ALERTS_PER_REQUEST || ids.iter().any(|id| *id <= 0) {
        return Err(invalid(format!(
            "alerts: 1 to {MAX_ALERTS_PER_REQUEST} alert ids (positive integers)"
        )));
    }
    Ok(())
}

/// What linking did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Linked(pub AlertLinks);

/// Links alerts to case `id` (taking them from the cases they were in) on behalf of
/// `principal`, audited as `case.alerts.link`.
pub(crate) async fn link_alerts(
    state: &AppState,
    principal: &Principal,
    id: i64,
    ids: &[i64],
) -> Result<AlertLinks, ApiError> {
    let entry = case_audit(principal, "case.alerts.link", id)
        .detail(serde_json::json!({ "alerts": ids.iter().take(50).collect::<Vec<_>>() }));
    let linked = async {
        checked_alert_ids(ids)?;
        state
            .store
            .link_alerts(id, ids, &principal.actor)
            .await
            .map_err(store_error)
    }
    .await;
    audited(state.store.as_ref(), entry, linked).await
}

/// Links alerts to a case; an alert in another case moves. Unknown ids are listed in
/// `missing`, not refused; audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/alerts", operation_id = "link_case_alerts", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = AlertIds,
    responses((status = 200, description = "linked, moved, already there and missing ids", body = Linked)))]
pub async fn link(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AlertIds>,
) -> Result<Json<Linked>, ApiError> {
    let id = positive_id(&id, "case")?;
    let links = link_alerts(&state, &principal, id, &request.alerts).await?;
    Ok(Json(Linked(links)))
}

/// What unlinking did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unlinked {
    pub case_id: i64,
    pub unlinked: Vec<i64>,
}

/// Takes alert `alert` out of case `id` on behalf of `principal`, audited as
/// `case.alerts.unlink`; 404 when it is not in that case.
pub(crate) async fn unlink_alert(
    state: &AppState,
    principal: &Principal,
    id: i64,
    alert: i64,
) -> Result<Unlinked, ApiError> {
    let entry = case_audit(principal, "case.alerts.unlink", id)
        .detail(serde_json::json!({ "alert": alert }));
    let unlinked = async {
        let unlinked = state
            .store
            .unlink_alerts(id, &[alert], &principal.actor)
            .await
            .map_err(store_error)?;
        if unlinked.is_empty() {
            return Err(ApiError::not_found(format!(
                "alert {alert} is not in case {id}"
            )));
        }
        Ok(Unlinked {
            case_id: id,
            unlinked,
        })
    }
    .await;
    audited(state.store.as_ref(), entry, unlinked).await
}

/// Takes an alert out of a case; audited.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/alerts/{alert}", operation_id = "unlink_case_alert", tag = "cases",
    params(("id" = i64, Path, description = "the case's id"), ("alert" = i64, Path, description = "the alert's id")),
    responses((status = 200, description = "the alert is out of the case", body = Unlinked)))]
pub async fn unlink(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, alert)): Path<(String, String)>,
) -> Result<Json<Unlinked>, ApiError> {
    let id = positive_id(&id, "case")?;
    let alert = positive_id(&alert, "alert")?;
    Ok(Json(unlink_alert(&state, &principal, id, alert).await?))
}

/// What importing an alert did: the alert recorded, the case it went to and how.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Imported(pub TheHiveImport);

/// Records a TheHive-compatible alert (the body SIEMs and EDRs send to TheHive's
/// `POST /api/alert`) and groups it into a case; its indicator observables join that case.
/// Posting the same alert again (same source, sourceRef and date) updates it. Audited as
/// `alert.import`.
#[utoipa::path(post, path = "/api/v1/alerts/import", operation_id = "import_alert", tag = "cases",
    request_body(content = Object, description = "a TheHive 4/5 alert: type, source, sourceRef, title, description, severity 1–4, date (epoch ms), tags, tlp, pap, observables or artifacts"),
    responses((status = 201, description = "the alert's id, its case and how it got there", body = Imported)))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    crate::error::require_json(&headers, "an alert")?;
    let imported = state
        .case_service()
        .import_thehive(&body, &principal.actor)
        .await
        .map_err(case_error);
    let entry = AuditEntry::new(principal.actor.clone(), "alert.import")
        .target(match &imported {
            Ok(import) => format!("alert:{}", import.alert_id),
            Err(_) => "alert".to_owned(),
        })
        .detail(match &imported {
            Ok(import) => serde_json::json!({
                "case": import.placed.case.id,
                "opened": import.placed.opened,
            }),
            Err(_) => serde_json::json!({}),
        });
    let imported = audited(state.store.as_ref(), entry, imported).await?;
    Ok((StatusCode::CREATED, Json(Imported(imported))).into_response())
}

/// Where one alert went.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupedAlert {
    pub alert_id: i64,
    pub case_id: i64,
    /// Whether the case was opened for it.
    pub opened: bool,
    /// already_in_case, campaign, grouped (with its reason) or new_case.
    #[schema(value_type = Object)]
    pub how: PlacedBy,
}

/// What grouping did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Grouping {
    pub placed: Vec<GroupedAlert>,
    /// Ids of no recorded alert.
    pub missing: Vec<i64>,
}

/// Puts each alert into a case by automatic grouping: the open case it shares an indicator
/// with or whose alerts are the same rule on the same host within the window, else its
/// campaign's case, else a new case. An alert already in a case stays. Audited as
/// `alert.group`.
#[utoipa::path(post, path = "/api/v1/alerts/group", operation_id = "group_alerts", tag = "cases",
    request_body = AlertIds,
    responses((status = 200, description = "the case of each alert", body = Grouping)))]
pub async fn group(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<AlertIds>,
) -> Result<Json<Grouping>, ApiError> {
    let entry = AuditEntry::new(principal.actor.clone(), "alert.group").detail(
        serde_json::json!({ "alerts": request.alerts.iter().take(50).collect::<Vec<_>>() }),
    );
    let grouped = async {
        checked_alert_ids(&request.alerts)?;
        let service = state.case_service();
        let mut grouping = Grouping {
            placed: Vec::new(),
            missing: Vec::new(),
        };
        for &alert_id in &request.alerts {
            match service.group_alert(alert_id, &principal.actor).await {
                Ok(placed) => grouping.placed.push(GroupedAlert {
                    alert_id,
                    case_id: placed.case.id,
                    opened: placed.opened,
                    how: placed.how,
                }),
                Err(rampart_cases::CaseError::UnknownAlert(id)) => grouping.missing.push(id),
                Err(other) => return Err(case_error(other)),
            }
        }
        Ok(grouping)
    }
    .await;
    Ok(Json(audited(state.store.as_ref(), entry, grouped).await?))
}
