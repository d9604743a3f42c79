//! Block lists: the rendered files enforcement points fetch (with ETags, so an unchanged list
//! costs a 304), and the entries analysts read, add and remove.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_model::{Indicator, IndicatorKind};
use rampart_respond::blocklist::Format;
use rampart_respond::runtime::Responder;
use rampart_store::{AuditEntry, BlockEntry, BlockQuery, BlockSelector, NewBlock, Removal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::intel_changes::audited;
use super::{Page, numeric_cursor, page_limit};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

/// The respond stage, or a 503 when this server runs without it.
pub(crate) fn responder(state: &AppState) -> Result<&Responder, ApiError> {
    state.responder.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the respond stage does not run in this server",
        )
    })
}

/// One block list rendered in one format, as the enforcement point reads it. Answers `304`
/// when `If-None-Match` names the current rendering.
#[utoipa::path(get, path = "/blocklists/{list}/{format}", operation_id = "fetch_blocklist", tag = "respond",
    params(("list" = String, Path, description = "the block list's name"),
           ("format" = String, Path, description = "rpz, nftables, ipset, postfix-access, postfix-cidr, postfix-header-checks, postfix-body-checks, suricata, suricata-dataset-*, snort, zeek, edl-ip, edl-domain, edl-url, hosts")),
    responses((status = 200, description = "the list in that format", content_type = "text/plain"),
              (status = 304, description = "unchanged since the ETag given")))]
pub async fn fetch(
    State(state): State<AppState>,
    Path((list, format)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let responder = responder(&state)?;
    let format: Format =
        format
            .parse()
            .map_err(|err: rampart_respond::blocklist::UnknownFormat| {
                ApiError::not_found(err.to_string())
            })?;
    let Some(published) = responder.publisher().get(&list, format) else {
        return Err(ApiError::not_found(format!(
            "no block list {list:?} served as {format}"
        )));
    };
    let etag = HeaderValue::from_str(&published.etag).map_err(ApiError::internal)?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == published.etag || tag.trim() == "*")
        });
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let content_type = HeaderValue::from_static(format.content_type());
    let serial = HeaderValue::from(published.serial);
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::HeaderName::from_static("x-rampart-serial"), serial),
        ],
        published.body.to_string(),
    )
        .into_response())
}

/// A configured block list with its standing entries and renderings.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListSummary {
    pub name: String,
    pub description: String,
    pub formats: Vec<String>,
    /// Entries standing now (blocks by playbooks and people).
    pub standing: u64,
    /// The store's revision of the list's entries.
    pub revision: u64,
    /// Whether indicators are listed by score, and from which score.
    pub min_score: Option<u8>,
    pub renderings: Vec<RenderingSummary>,
}

/// One format as last rendered.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenderingSummary {
    pub format: String,
    pub serial: u64,
    pub etag: String,
    #[schema(value_type = String, format = DateTime)]
    pub generated: Timestamp,
    pub written: usize,
    /// Values this format cannot write safely (left out).
    pub rejected: usize,
}

/// The configured block lists.
#[utoipa::path(get, path = "/api/v1/blocklists", operation_id = "list_blocklists", tag = "respond",
    responses((status = 200, description = "every configured block list", body = Vec<ListSummary>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ListSummary>>, ApiError> {
    Ok(Json(list_summaries(&state).await?))
}

/// Every configured block list with its standing count and last renderings; the API and the
/// dashboard both come here.
pub(crate) async fn list_summaries(state: &AppState) -> Result<Vec<ListSummary>, ApiError> {
    let responder = responder(state)?;
    let revisions = state.store.block_lists(Timestamp::now()).await?;
    let summaries = responder
        .config()
        .blocklists
        .iter()
        .map(|list| {
            let revision = revisions.iter().find(|revision| revision.name == list.name);
            ListSummary {
                name: list.name.clone(),
                description: list.description.clone(),
                formats: list
                    .formats
                    .iter()
                    .map(|format| format.as_str().to_owned())
                    .collect(),
                standing: revision.map_or(0, |revision| revision.standing),
                revision: revision.map_or(0, |revision| revision.revision),
                min_score: list.min_score,
                renderings: list
                    .formats
                    .iter()
                    .filter_map(|format| responder.publisher().get(&list.name, *format))
                    .map(|published| RenderingSummary {
                        format: published.format.as_str().to_owned(),
                        serial: published.serial,
                        etag: published.etag.clone(),
                        generated: published.generated,
                        written: published.written,
                        rejected: published.rejected,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(summaries)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryList {
    /// `true` (default): only entries standing now; `false`: removed ones too.
    pub standing: Option<bool>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// One block-list entry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct EntryItem(pub BlockEntry);

fn configured(responder: &Responder, list: &str) -> Result<(), ApiError> {
    match responder.config().list(list) {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!(
            "no block list {list:?} is configured"
        ))),
    }
}

/// A list's entries, in the order they were added.
#[utoipa::path(get, path = "/api/v1/blocklists/{list}/entries", operation_id = "list_blocklist_entries", tag = "respond",
    params(("list" = String, Path, description = "the block list's name"), EntryList),
    responses((status = 200, description = "one page of entries", body = Page<EntryItem>)))]
pub async fn entries(
    State(state): State<AppState>,
    Path(list): Path<String>,
    ApiQuery(params): ApiQuery<EntryList>,
) -> Result<Json<Page<EntryItem>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let page = entry_page(
        &state,
        &list,
        params.standing.unwrap_or(true),
        numeric_cursor(params.cursor.as_deref())?,
        limit,
    )
    .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(EntryItem).collect(),
        next: page.next,
    }))
}

/// One page of a configured list's entries in the order they were added (only those standing
/// now when `standing`), after entry `after_id`.
pub(crate) async fn entry_page(
    state: &AppState,
    list: &str,
    standing: bool,
    after_id: Option<i64>,
    limit: u32,
) -> Result<Page<BlockEntry>, ApiError> {
    configured(responder(state)?, list)?;
    let entries = state
        .store
        .blocks(&BlockQuery {
            list: Some(list.to_owned()),
            standing_at: standing.then(Timestamp::now),
            after_id,
            limit,
            ..BlockQuery::default()
        })
        .await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(Page {
        items: entries,
        next,
    })
}

/// A value to block by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, sha512; guessed when absent.
    pub kind: Option<String>,
    pub value: String,
    /// Why (shown in the list's comment and the audit log).
    pub reason: String,
    /// When the block lapses (RFC 3339); none: until removed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires: Option<Timestamp>,
}

/// Blocks a value by hand; the guardrails apply as to playbooks (own assets, never-block
/// networks, CIDR width). Audited.
#[utoipa::path(post, path = "/api/v1/blocklists/{list}/entries", operation_id = "add_blocklist_entry", tag = "respond",
    params(("list" = String, Path, description = "the block list's name")), request_body = BlockRequest,
    responses((status = 201, description = "the entry, new or renewed", body = EntryItem)))]
pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    Path(list): Path<String>,
    ApiJson(request): ApiJson<BlockRequest>,
) -> Result<(StatusCode, Json<EntryItem>), ApiError> {
    let added = add_entry(&state, &principal, &list, request).await?;
    Ok((StatusCode::CREATED, Json(EntryItem(added))))
}

/// Blocks a value by hand on behalf of `principal` under the guardrails (a refusal is a 409
/// `guardrail`), audited, and has the lists rendered again; the API and the dashboard both
/// come here.
pub(crate) async fn add_entry(
    state: &AppState,
    principal: &Principal,
    list: &str,
    request: BlockRequest,
) -> Result<BlockEntry, ApiError> {
    let responder = responder(state)?;
    let entry = AuditEntry::new(principal.actor.clone(), "blocklist.block")
        .target(format!("blocklist:{list}"))
        .detail(serde_json::json!({ "value": request.value, "reason": request.reason }));
    let result = block_by_hand(state, responder, principal, list, request).await;
    let added = audited(state.store.as_ref(), entry, result).await?;
    responder.blocks_changed();
    Ok(added)
}

async fn block_by_hand(
    state: &AppState,
    responder: &Responder,
    principal: &Principal,
    list: &str,
    request: BlockRequest,
) -> Result<BlockEntry, ApiError> {
    configured(responder, list)?;
    let invalid =
        |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message);
    let indicator = match request.kind.as_deref() {
        Some(kind) => {
            let kind: IndicatorKind = kind
                .parse()
                .map_err(|err: rampart_model::UnknownKind| invalid(err.to_string()))?;
            Indicator::parse(kind, &request.value)
        }
        None => Indicator::guess(&request.value),
    }
    .map_err(|err| invalid(err.to_string()))?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(invalid("reason: 1 to 500 characters on one line".into()));
    }
    if let Some(refusal) = responder.engine().guardrails().refusal(&indicator) {
        return Err(ApiError::new(StatusCode::CONFLICT, "guardrail", refusal));
    }
    let now = Timestamp::now();
    if request.expires.is_some_and(|expires| expires <= now) {
        return Err(invalid("expires is in the past".into()));
    }
    let outcomes = state
        .store
        .add_blocks(
            &[NewBlock {
                list: list.to_owned(),
                indicator: indicator.clone(),
                reason: reason.to_owned(),
                added_by: principal.actor.clone(),
                run_id: None,
                expires: request.expires,
            }],
            now,
        )
        .await?;
    let id = outcomes
        .first()
        .map(|outcome| outcome.id())
        .ok_or_else(|| ApiError::internal("no outcome"))?;
    let entries = state
        .store
        .blocks(&BlockQuery {
            list: Some(list.to_owned()),
            indicator: Some(indicator),
            ..BlockQuery::default()
        })
        .await?;
    entries
        .into_iter()
        .find(|entry| entry.id == id)
        .ok_or_else(|| ApiError::internal("the new entry was not found"))
}

/// Takes an entry off its list (by hand); audited.
#[utoipa::path(delete, path = "/api/v1/blocklists/{list}/entries/{id}", operation_id = "remove_blocklist_entry", tag = "respond",
    params(("list" = String, Path, description = "the block list's name"), ("id" = i64, Path, description = "the entry's id")),
    responses((status = 200, description = "the entry as removed", body = EntryItem)))]
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path((list, id)): Path<(String, i64)>,
) -> Result<Json<EntryItem>, ApiError> {
    Ok(Json(EntryItem(
        remove_entry(&state, &principal, &list, id).await?,
    )))
}

/// Takes entry `id` off `list` by hand on behalf of `principal`, audited; a 404 when the list
/// has no such entry, a 409 when it was removed already. The API and the dashboard both come
/// here.
pub(crate) async fn remove_entry(
    state: &AppState,
    principal: &Principal,
    list: &str,
    id: i64,
) -> Result<BlockEntry, ApiError> {
    let responder = responder(state)?;
    let entry = AuditEntry::new(principal.actor.clone(), "blocklist.unblock")
        .target(format!("blocklist:{list}/{id}"));
    let result = async {
        configured(responder, list)?;
        let removal = Removal {
            at: Timestamp::now(),
            by: principal.actor.clone(),
            reason: "removed by hand".into(),
        };
        let standing = state
            .store
            .blocks(&BlockQuery {
                list: Some(list.to_owned()),
                after_id: Some(id - 1),
                limit: 1,
                ..BlockQuery::default()
            })
            .await?;
        if !standing.iter().any(|entry| entry.id == id) {
            return Err(ApiError::not_found(format!(
                "no entry {id} on block list {list:?}"
            )));
        }
        let removed = state
            .store
            .remove_blocks(&BlockSelector::Ids(vec![id]), &removal)
            .await?;
        removed.into_iter().next().ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("entry {id} was already removed"),
            )
        })
    }
    .await;
    let removed = audited(state.store.as_ref(), entry, result).await?;
    responder.blocks_changed();
    Ok(removed)
}
