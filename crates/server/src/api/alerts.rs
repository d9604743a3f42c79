//! Alerts raised by detection, from the store (`rampart alerts`).

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use rampart_model::Severity;
use rampart_store::{AlertQuery, StoredAlert};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, numeric_cursor, page_limit};
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertList {
    /// Only alerts at least this severe: informational, low, medium, high, critical.
    pub min_severity: Option<String>,
    /// `true`: only alerts raised by retro-hunts; `false`: only live ones.
    pub retro: Option<bool>,
    /// Only alerts seen at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// An alert as stored, with its row id.
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
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_query",
                    err.to_string(),
                )
            })
        })
        .transpose()?;
    let alerts = state
        .store
        .alerts(&AlertQuery {
            since: params.since,
            min_severity,
            retro: params.retro,
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
