//! The audit log, newest first (`rampart audit`); admins only.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use rampart_store::{AuditQuery, AuditRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, numeric_cursor, page_limit};
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditList {
    /// Only lines at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Only lines before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Only this actor (`user:alice`, `token:zeek-1`, `cli:root`, `system`).
    pub actor: Option<String>,
    /// Only this action (`login`, `token.create`, `indicator.suppress`…).
    pub action: Option<String>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// One line of the audit log: id, at, actor, action, target, detail, outcome.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct AuditItem(pub AuditRecord);

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "list_audit", tag = "audit", params(AuditList),
    responses((status = 200, description = "one page of audit lines", body = Page<AuditItem>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AuditList>,
) -> Result<Json<Page<AuditItem>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let offset = numeric_cursor(params.cursor.as_deref())?.unwrap_or(0) as u64;
    let records = state
        .store
        .audit(&AuditQuery {
            since: params.since,
            until: params.until,
            actor: params.actor,
            action: params.action,
            newest_first: true,
            limit,
            offset,
        })
        .await?;
    let next = (records.len() == limit as usize).then(|| (offset + u64::from(limit)).to_string());
    Ok(Json(Page {
        items: records.into_iter().map(AuditItem).collect(),
        next,
    }))
}
