//! The organisation's own assets (`rampart assets list` and `import`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use rampart_store::{Asset, AuditEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, page_of};
use crate::auth::Principal;
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssetList {
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// An asset: name, kind, owner, criticality, tags, networks, hostnames, domains.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct AssetItem(pub Asset);

/// Every asset, by name.
#[utoipa::path(get, path = "/api/v1/assets", operation_id = "list_assets", tag = "assets", params(AssetList),
    responses((status = 200, description = "one page of assets", body = Page<AssetItem>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AssetList>,
) -> Result<Json<Page<AssetItem>>, ApiError> {
    let assets = state.store.assets().await?;
    Ok(Json(page_of(
        assets.into_iter().map(AssetItem).collect(),
        params.limit,
        params.cursor.as_deref(),
    )?))
}

/// What an asset import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetImportSummary {
    /// Assets written (new or replaced by name).
    pub imported: usize,
    /// Rows that were wrong, with their line.
    pub rejected: Vec<AssetRejection>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetRejection {
    /// `line N`.
    pub reference: String,
    pub reason: String,
}

/// Imports assets from CSV, as `rampart assets import` does (columns
/// `name,kind,owner,criticality,tags,networks,hostnames,domains`, lists separated by `;`):
/// each is created or replaced by name; bad rows are reported and the rest kept. Audited.
#[utoipa::path(post, path = "/api/v1/assets", operation_id = "import_assets", tag = "assets",
    request_body(content = String, description = "assets as CSV with a header row", content_type = "text/csv"),
    responses((status = 200, description = "what was imported", body = AssetImportSummary),
              (status = 400, description = "not CSV, or no name column", body = crate::error::ErrorBody),
              (status = 415, description = "not text/csv", body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AssetImportSummary>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("text/csv") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("content type {content_type:?} is not accepted: send text/csv"),
        ));
    }
    let entry = AuditEntry::new(principal.actor.clone(), "assets.import");
    let result = async {
        let import = rampart_intel::assets::read_csv(body.as_ref())
            .map_err(|err| ApiError::bad_request(format!("assets CSV: {err}")))?;
        let imported = state.store.upsert_assets(&import.assets).await?;
        Ok(AssetImportSummary {
            imported,
            rejected: import
                .rejections
                .into_iter()
                .map(|rejection| AssetRejection {
                    reference: rejection.reference,
                    reason: rejection.reason,
                })
                .collect(),
        })
    }
    .await;
    let detail = match &result {
        Ok(summary) => serde_json::json!({
            "imported": summary.imported,
            "rejected": summary.rejected.len(),
        }),
        Err(_) => serde_json::json!({}),
    };
    super::intel_changes::audited(state.store.as_ref(), entry.detail(detail), result)
        .await
        .map(Json)
}
