//! The organisation's own assets (`rampart assets list`).

use axum::Json;
use axum::extract::State;
use rampart_store::Asset;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, page_of};
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
