//! Indicators: search, one with its score explanation, suppression. The work is the intel
//! crate's (`query::show`, `score::score`, the allowlist and its re-application), as for the
//! `rampart intel` commands.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use rampart_intel::query::{self, IndicatorReport};
use rampart_intel::score::score;
use rampart_model::{Indicator, IndicatorKind};
use rampart_store::{AllowEntry, AuditEntry, SearchQuery, StoredIndicator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, numeric_cursor, page_limit};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

/// Longest search text and suppression reason accepted, in characters.
const MAX_TEXT: usize = 1000;

/// Which indicators to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorSearch {
    /// Substring of the value (ASCII case ignored).
    pub q: Option<String>,
    /// `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`…
    pub kind: Option<String>,
    /// Only indicators this source has a statement on.
    pub source: Option<String>,
    /// Only indicators scoring at least this (0–100) now.
    pub min_score: Option<u8>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// An indicator with its sources and its score now.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorItem {
    /// The stored indicator: id, kind, value, first seen, suppression, source statements.
    #[schema(value_type = Object)]
    pub indicator: StoredIndicator,
    pub score: u8,
}

fn parse_kind(text: &str) -> Result<IndicatorKind, ApiError> {
    text.parse::<IndicatorKind>().map_err(|err| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            err.to_string(),
        )
    })
}

/// Searches indicators, in id order.
#[utoipa::path(get, path = "/api/v1/indicators", operation_id = "search_indicators", tag = "indicators", params(IndicatorSearch),
    responses((status = 200, description = "one page of indicators", body = Page<IndicatorItem>)))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<IndicatorSearch>,
) -> Result<Json<Page<IndicatorItem>>, ApiError> {
    let limit = page_limit(params.limit)?;
    if params
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_TEXT)
    {
        return Err(ApiError::bad_request("q is longer than 1000 characters"));
    }
    let query = SearchQuery {
        contains: params.q.map(|q| q.to_lowercase()),
        kind: params.kind.as_deref().map(parse_kind).transpose()?,
        source: params.source,
        after_id: numeric_cursor(params.cursor.as_deref())?,
        limit,
    };
    let page = state.store.search(&query).await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|last| last.id.to_string()))
        .flatten();
    let now = Timestamp::now();
    let min_score = params.min_score.unwrap_or(0);
    if min_score > 100 {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            "min_score is 0 to 100",
        ));
    }
    let items = page
        .into_iter()
        .filter_map(|stored| {
            let score = score(&stored, now).score;
            (score >= min_score).then_some(IndicatorItem {
                indicator: stored,
                score,
            })
        })
        .collect();
    Ok(Json(Page { items, next }))
}

/// What `rampart intel show` prints, as JSON.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct IndicatorDetail(
    /// The indicator, its score explanation (`explanation`: score, decay model, one
    /// contribution per source) and related context objects.
    pub IndicatorReport,
);

async fn detail(
    state: &AppState,
    indicator: &Indicator,
) -> Result<Json<IndicatorDetail>, ApiError> {
    match query::show(state.store.as_ref(), indicator, Timestamp::now()).await? {
        Some(report) => Ok(Json(IndicatorDetail(report))),
        None => Err(ApiError::not_found(format!("{indicator} is not known"))),
    }
}

/// One indicator by kind and value (percent-encode `/` in URLs), with its score explanation.
/// The value is canonicalised (and refanged) first, as on the command line.
#[utoipa::path(get, path = "/api/v1/indicators/{kind}/{value}", operation_id = "show_indicator", tag = "indicators",
    params(("kind" = String, Path, description = "indicator kind"),
           ("value" = String, Path, description = "the value, percent-encoded")),
    responses((status = 200, description = "the indicator with its score explanation", body = IndicatorDetail)))]
pub async fn show(
    State(state): State<AppState>,
    Path((kind, value)): Path<(String, String)>,
) -> Result<Json<IndicatorDetail>, ApiError> {
    let kind = parse_kind(&kind)?;
    let indicator = Indicator::parse(kind, &value)
        .map_err(|err| ApiError::bad_request(format!("not a {kind} value: {err}")))?;
    detail(&state, &indicator).await
}

/// One indicator by its id, with its score explanation.
#[utoipa::path(get, path = "/api/v1/indicators/{id}", operation_id = "show_indicator_by_id", tag = "indicators",
    params(("id" = i64, Path, description = "the indicator's id")),
    responses((status = 200, description = "the indicator with its score explanation", body = IndicatorDetail)))]
pub async fn show_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IndicatorDetail>, ApiError> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad_request("an indicator id is a positive integer"))?;
    match find_by_id(&state, id).await? {
        Some(stored) => detail(&state, &stored.indicator).await,
        None => Err(ApiError::not_found(format!("no indicator with id {id}"))),
    }
}

/// The stored indicator with this id.
pub(crate) async fn find_by_id(
    state: &AppState,
    id: i64,
) -> Result<Option<StoredIndicator>, ApiError> {
    // Search pages continue after an id, so the page after `id - 1` starts with `id` if it
    // exists.
    let page = state
        .store
        .search(&SearchQuery {
            after_id: Some(id.saturating_sub(1)),
            limit: 1,
            ..SearchQuery::default()
        })
        .await?;
    Ok(page.into_iter().next().filter(|stored| stored.id == id))
}

/// A value (an indicator, or a network) to keep but never enforce.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// An indicator value or a CIDR network; subdomains and contained addresses follow.
    pub value: String,
    /// Why, for the audit log and everyone who sees the indicator later.
    pub reason: String,
}

/// What a suppression did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suppressed {
    /// The value as allowlisted (canonical form).
    pub value: String,
    pub reason: String,
    /// Stored indicators whose suppression changed.
    pub changed: u64,
}

/// Suppresses a value locally (the allowlist), as `rampart intel suppress` does; audited.
#[utoipa::path(post, path = "/api/v1/indicators/suppress", operation_id = "suppress_indicator", tag = "indicators",
    request_body = Suppression,
    responses((status = 200, description = "allowlisted and applied", body = Suppressed)))]
pub async fn suppress(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<Suppression>,
) -> Result<Json<Suppressed>, ApiError> {
    Ok(Json(apply_suppression(&state, &principal, request).await?))
}

/// Allowlists a value and re-applies suppression, audited either way (the API and the
/// dashboard both come here).
pub(crate) async fn apply_suppression(
    state: &AppState,
    principal: &Principal,
    request: Suppression,
) -> Result<Suppressed, ApiError> {
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_TEXT {
        return Err(ApiError::bad_request("reason must be 1 to 1000 characters"));
    }
    let value = Indicator::guess(&request.value)
        .map_err(|_| {
            ApiError::bad_request(format!("{:?} is not an indicator value", request.value))
        })?
        .into_value();
    let store = state.store.as_ref();
    let entry =
        AuditEntry::new(principal.actor.clone(), "indicator.suppress").target(value.clone());
    let applied = async {
        store
            .allow(&AllowEntry {
                value: value.clone(),
                reason: reason.to_owned(),
                added: Timestamp::now(),
            })
            .await?;
        let suppress =
            rampart_intel::import::current_suppression(store, state.warninglists.clone()).await?;
        rampart_intel::import::reapply_suppression(store, suppress).await
    }
    .await;
    match applied {
        Ok(changed) => {
            store
                .record_audit(
                    &entry.detail(serde_json::json!({ "reason": reason, "changed": changed })),
                )
                .await?;
            Ok(Suppressed {
                value,
                reason: reason.to_owned(),
                changed,
            })
        }
        Err(err) => {
            let failed = entry
                .detail(serde_json::json!({ "reason": reason }))
                .failed(&err);
            if let Err(audit) = store.record_audit(&failed).await {
                tracing::warn!(%audit, "cannot record a failed suppression in the audit log");
            }
            Err(err.into())
        }
    }
}
