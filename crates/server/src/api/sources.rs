//! Sources (feeds) with their status, as `rampart feeds status` shows them.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use rampart_intel::config::SourceConfig;
use rampart_intel::scheduler;
use rampart_store::SourceRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, page_of};
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SourceList {
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A source, its feed status and when the scheduler pulls it next.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceStatus {
    /// Name, format, reliability, settings, last attempt/success/error, failures, last
    /// summary, active statements.
    #[schema(value_type = Object)]
    pub source: SourceRecord,
    /// Whether the scheduler pulls it (`false` for sources only imported by hand).
    pub enabled: bool,
    /// When the scheduler pulls it next, if enabled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due: Option<Timestamp>,
}

/// Every source by name, with its feed status.
#[utoipa::path(get, path = "/api/v1/sources", operation_id = "list_sources", tag = "sources", params(SourceList),
    responses((status = 200, description = "one page of sources", body = Page<SourceStatus>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SourceList>,
) -> Result<Json<Page<SourceStatus>>, ApiError> {
    Ok(Json(page_of(
        statuses(&state).await?,
        params.limit,
        params.cursor.as_deref(),
    )?))
}

/// Every source with its feed status and next pull (the API's list and the dashboard's).
pub(crate) async fn statuses(state: &AppState) -> Result<Vec<SourceStatus>, ApiError> {
    let sources = state.store.sources().await?;
    Ok(sources
        .into_iter()
        .map(|record| {
            let config = SourceConfig::from_settings(&record.settings).ok();
            let enabled = config.as_ref().is_some_and(|config| config.enabled);
            let next_due = config
                .filter(|config| config.enabled)
                .map(|config| scheduler::next_due(&record, &config));
            SourceStatus {
                source: record,
                enabled,
                next_due,
            }
        })
        .collect())
}
