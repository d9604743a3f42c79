//! Changes to a case: its fields, its status (the lifecycle of
//! [`CaseStatus::transition_to`]) and merges. Each is audited (`case.update`, `case.status`,
//! `case.merge`) with the caller as actor, who is also the actor of the timeline entry.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use rampart_model::{AttackId, Case, CaseStatus, Pap, Severity, Tlp};
use rampart_store::{CaseUpdate, MergeOutcome, StatusUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{
    CaseItem, case_audit, case_error, checked_campaign, checked_description, checked_tags, invalid,
    known_assignee, positive_id, present, store_error,
};
use super::intel_changes::audited;
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// Changes to a case: absent fields stay, `null` clears the nullable ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseChange {
    pub title: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    #[schema(value_type = Option<String>)]
    pub tlp: Option<Tlp>,
    #[schema(value_type = Option<String>)]
    pub pap: Option<Pap>,
    /// An account name, or `null` to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub techniques: Option<Vec<AttackId>>,
    /// RFC 3339, or `null` for no due date.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due: Option<Option<Timestamp>>,
    /// A grouping key, or `null`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub campaign: Option<Option<String>>,
}

/// Applies `change` to case `id` on behalf of `principal`, audited as `case.update`.
pub(crate) async fn update(
    state: &AppState,
    principal: &Principal,
    id: i64,
    change: CaseChange,
) -> Result<Case, ApiError> {
    let fields: Vec<&str> = [
        ("title", change.title.is_some()),
        ("description", change.description.is_some()),
        ("severity", change.severity.is_some()),
        ("tlp", change.tlp.is_some()),
        ("pap", change.pap.is_some()),
        ("assignee", change.assignee.is_some()),
        ("tags", change.tags.is_some()),
        ("techniques", change.techniques.is_some()),
        ("due", change.due.is_some()),
        ("campaign", change.campaign.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    let entry =
        case_audit(principal, "case.update", id).detail(serde_json::json!({ "fields": fields }));
    let updated = async {
        if fields.is_empty() {
            return Err(invalid("nothing to change: give at least one field"));
        }
        if let Some(description) = &change.description {
            checked_description(description)?;
        }
        if let Some(tags) = &change.tags {
            checked_tags(tags)?;
        }
        if let Some(Some(campaign)) = &change.campaign {
            checked_campaign(campaign)?;
        }
        let assignee = match change.assignee {
            Some(Some(name)) => Some(Some(known_assignee(state, &name).await?)),
            other => other,
        };
        let update = CaseUpdate {
            title: change.title,
            description: change.description,
            severity: change.severity,
            tlp: change.tlp,
            pap: change.pap,
            assignee,
            tags: change.tags,
            techniques: change.techniques,
            due: change.due,
            campaign: change.campaign,
        };
        state
            .store
            .update_case(id, &update, &principal.actor)
            .await
            .map_err(store_error)
    }
    .await;
    audited(state.store.as_ref(), entry, updated).await
}

/// Changes a case's fields; audited.
#[utoipa::path(patch, path = "/api/v1/cases/{id}", operation_id = "change_case", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = CaseChange,
    responses((status = 200, description = "the case, changed", body = CaseItem)))]
pub async fn change(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<CaseChange>,
) -> Result<Json<CaseItem>, ApiError> {
    let id = positive_id(&id, "case")?;
    let case = update(&state, &principal, id, change).await?;
    Ok(Json(CaseItem::now(case)))
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// in_progress (start, or reopen a closed case), resolved, false_positive or duplicate.
    pub status: String,
    /// What was found and done: required to close as resolved or false_positive.
    pub resolution: Option<String>,
    /// The case this one duplicates: required for `duplicate`, refused otherwise.
    pub duplicate_of: Option<i64>,
}

/// Moves case `id` to `request.status` on behalf of `principal`, audited as `case.status`.
/// Closing as resolved or false positive needs a resolution; a refused transition is 409.
pub(crate) async fn set_status(
    state: &AppState,
    principal: &Principal,
    id: i64,
    request: StatusRequest,
) -> Result<Case, ApiError> {
    let entry = case_audit(principal, "case.status", id).detail(serde_json::json!({
        "status": crate::error::truncate(&request.status),
        "duplicate_of": request.duplicate_of,
    }));
    let changed = async {
        let status = request
            .status
            .parse::<CaseStatus>()
            .map_err(|err| invalid(err.to_string()))?;
        if let Some(resolution) = &request.resolution {
            checked_description(resolution)?;
        }
        let actor = principal.actor.as_str();
        if matches!(status, CaseStatus::Resolved | CaseStatus::FalsePositive) {
            if request.duplicate_of.is_some() {
                return Err(invalid("only a duplicate names the case it duplicates"));
            }
            let resolution = request.resolution.as_deref().unwrap_or_default();
            return state
                .case_service()
                .close_case(id, status, resolution, actor)
                .await
                .map_err(case_error);
        }
        let update = StatusUpdate {
            status,
            duplicate_of: request.duplicate_of,
            resolution: request
                .resolution
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty()),
        };
        state
            .store
            .set_case_status(id, &update, actor)
            .await
            .map_err(store_error)
    }
    .await;
    audited(state.store.as_ref(), entry, changed).await
}

/// Moves a case through its lifecycle; audited. `409` for a transition the lifecycle refuses
/// (back to new, closed to closed without reopening).
#[utoipa::path(post, path = "/api/v1/cases/{id}/status", operation_id = "set_case_status", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = StatusRequest,
    responses((status = 200, description = "the case in its new status", body = CaseItem)))]
pub async fn status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Result<Json<CaseItem>, ApiError> {
    let id = positive_id(&id, "case")?;
    let case = set_status(&state, &principal, id, request).await?;
    Ok(Json(CaseItem::now(case)))
}

/// The case to merge into the one of the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// An open case: its alerts, tasks and observables move, and it becomes a duplicate.
    pub from: i64,
}

/// What merging moved.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Merged(pub MergeOutcome);

/// Merges another case into this one; audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/merge", operation_id = "merge_cases", tag = "cases",
    params(("id" = i64, Path, description = "the case merged into")),
    request_body = MergeRequest,
    responses((status = 200, description = "what moved, and the case as it is now", body = Merged)))]
pub async fn merge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MergeRequest>,
) -> Result<Json<Merged>, ApiError> {
    let id = positive_id(&id, "case")?;
    let entry = case_audit(&principal, "case.merge", id)
        .detail(serde_json::json!({ "from": request.from }));
    let merged = async {
        if request.from <= 0 {
            return Err(invalid("from is a case id (a positive integer)"));
        }
        state
            .store
            .merge_cases(id, request.from, &principal.actor)
            .await
            .map_err(store_error)
    }
    .await;
    Ok(Json(Merged(
        audited(state.store.as_ref(), entry, merged).await?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_null_and_given_fields_differ() {
        let change: CaseChange = serde_json::from_str(r#"{"assignee": null}"#).unwrap();
        assert_eq!(change.assignee, Some(None));
        assert_eq!(change.due, None);
        let change: CaseChange = serde_json::from_str(r#"{"campaign": "c-1"}"#).unwrap();
        assert_eq!(change.campaign, Some(Some("c-1".to_owned())));
        assert!(serde_json::from_str::<CaseChange>(r#"{"colour": "red"}"#).is_err());
    }
}
