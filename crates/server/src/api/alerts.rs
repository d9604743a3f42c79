//! Alerts raised by detection, from the store (`rampart alerts`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use rampart_model::Severity;
use rampart_store::{AlertQuery, AlertStatus, AlertTriage, AuditEntry, StoredAlert};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, numeric_cursor, page_limit};
use crate::auth::Principal;
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

/// The longest triage note accepted, in characters.
pub const MAX_NOTE: usize = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertList {
    /// Only alerts at least this severe: informational, low, medium, high, critical.
    pub min_severity: Option<String>,
    /// `true`: only alerts raised by retro-hunts; `false`: only live ones.
    pub retro: Option<bool>,
    /// Only alerts in this triage state: open, acknowledged, false_positive, closed.
    pub status: Option<String>,
    /// Only alerts seen at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// An alert as stored: row id, the alert, its triage status and last triage decision.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct AlertItem(pub StoredAlert);

/// Alerts in the order they were first recorded.
#[utoipa::path(get, path = "/api/v1/alerts", operation_id = "list_alerts", tag = "alerts", params(AlertList),
    responses((status = 200, description = "one page of alerts", body = Page<AlertItem>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AlertList>,
) -> Result<Json<Page<AlertItem>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let min_severity = params
        .min_severity
        .as_deref()
        .map(|text| {
            text.parse::<Severity>().map_err(|err| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", err.to_string())
            })
        })
        .transpose()?;
    let alerts = state
        .store
        .alerts(&AlertQuery {
            since: params.since,
            min_severity,
            retro: params.retro,
            statuses: params
                .status
                .as_deref()
                .map(|text| {
                    text.parse::<AlertStatus>().map_err(|err| {
                        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", err.to_string())
                    })
                })
                .transpose()?
                .into_iter()
                .collect(),
            after_id: numeric_cursor(params.cursor.as_deref())?,
            limit,
        })
        .await?;
    let next = (alerts.len() == limit as usize)
        .then(|| alerts.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: alerts.into_iter().map(AlertItem).collect(),
        next,
    }))
}

/// An optional note with a triage decision.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// Why (up to 1000 characters); shown with the alert and kept in the audit log.
    pub note: Option<String>,
}

/// The body of a triage request: empty, or JSON `{"note": …}`.
fn triage_request(headers: &HeaderMap, body: &Bytes) -> Result<TriageRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(TriageRequest::default());
    }
    crate::error::require_json(headers, "a triage body")?;
    // The statuses and codes of `ApiJson`'s rejections.
    serde_json::from_slice(body).map_err(|err| {
        if err.is_data() {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                err.to_string(),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", err.to_string())
        }
    })
}

/// Moves alert `id` to `status` on behalf of `principal`, audited (`alert.acknowledge`,
/// `alert.false_positive`, …) whether it worked or not; the API and the dashboard both come
/// here.
pub(crate) async fn apply_triage(
    state: &AppState,
    principal: &Principal,
    id: i64,
    status: AlertStatus,
    note: Option<String>,
) -> Result<StoredAlert, ApiError> {
    let note = note
        .map(|note| note.trim().to_owned())
        .filter(|note| !note.is_empty());
    if note
        .as_ref()
        .is_some_and(|note| note.chars().count() > MAX_NOTE)
    {
        return Err(ApiError::bad_request("note is longer than 1000 characters"));
    }
    let entry = AuditEntry::new(principal.actor.clone(), format!("alert.{status}"))
        .target(format!("alert:{id}"))
        .detail(serde_json::json!({ "note": note }));
    let triage = AlertTriage {
        status,
        by: principal.actor.clone(),
        at: Timestamp::now(),
        note,
    };
    match state.store.triage_alert(id, &triage).await {
        Ok(Some(alert)) => {
            state.store.record_audit(&entry).await?;
            // A false positive flows back: the indicator is suppressed, its blocks rolled
            // back, its sources regraded.
            if status == AlertStatus::FalsePositive
                && let Some(responder) = &state.responder
            {
                rampart_respond::feedback::false_positive(
                    state.store.as_ref(),
                    responder.engine(),
                    &alert,
                    &principal.actor,
                )
                .await?;
                responder.blocks_changed();
            }
            Ok(alert)
        }
        Ok(None) => Err(ApiError::not_found(format!("no alert with id {id}"))),
        Err(err) => {
            if let Err(audit) = state.store.record_audit(&entry.failed(&err)).await {
                tracing::warn!(%audit, "cannot record a failed triage in the audit log");
            }
            Err(err.into())
        }
    }
}

fn alert_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad_request("an alert id is a positive integer"))
}

/// Acknowledges an alert (someone is on it); audited.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", operation_id = "acknowledge_alert", tag = "alerts",
    params(("id" = i64, Path, description = "the alert's id")),
    request_body(content = Option<TriageRequest>, description = "optional: a note"),
    responses((status = 200, description = "the alert, acknowledged", body = AlertItem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AlertItem>, ApiError> {
    let id = alert_id(&id)?;
    let request = triage_request(&headers, &body)?;
    let alert = apply_triage(
        &state,
        &principal,
        id,
        AlertStatus::Acknowledged,
        request.note,
    )
    .await?;
    Ok(Json(AlertItem(alert)))
}

/// Marks an alert a false positive; audited.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/false-positive", operation_id = "false_positive_alert", tag = "alerts",
    params(("id" = i64, Path, description = "the alert's id")),
    request_body(content = Option<TriageRequest>, description = "optional: a note (why it is benign)"),
    responses((status = 200, description = "the alert, marked false positive", body = AlertItem)))]
pub async fn false_positive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AlertItem>, ApiError> {
    let id = alert_id(&id)?;
    let request = triage_request(&headers, &body)?;
    let alert = apply_triage(
        &state,
        &principal,
        id,
        AlertStatus::FalsePositive,
        request.note,
    )
    .await?;
    Ok(Json(AlertItem(alert)))
}
