//! Playbooks and their runs: what is loaded (and what failed to load), each run with its
//! actions, approvals to decide, runs to roll back, and playbook files to edit.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_respond::playbook::{Decision, EngineError, Playbook, parse};
use rampart_respond::runtime::Responder;
use rampart_store::{ActionRecord, AuditEntry, BlockEntry, RunQuery, RunRecord, RunStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::blocklists::responder;
use super::intel_changes::audited;
use super::{Page, numeric_cursor, page_limit};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

/// A loaded playbook.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookSummary {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub dry_run: bool,
    /// alert, indicator, report or schedule.
    pub trigger: String,
    /// The actions' types, in order.
    pub actions: Vec<String>,
    pub file: String,
    /// Which version of the file is loaded.
    pub digest: String,
}

/// A playbook file that did not load, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoadProblem {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// The loaded playbooks and the files that failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookList {
    pub playbooks: Vec<PlaybookSummary>,
    pub problems: Vec<LoadProblem>,
}

pub(crate) fn summary(playbook: &Playbook) -> PlaybookSummary {
    PlaybookSummary {
        name: playbook.name().to_owned(),
        description: playbook.spec.description.clone(),
        enabled: playbook.spec.enabled,
        dry_run: playbook.spec.dry_run,
        trigger: playbook.spec.trigger.subject_name().to_owned(),
        actions: playbook
            .spec
            .actions
            .iter()
            .map(|action| action.kind().to_owned())
            .collect(),
        file: playbook.file.display().to_string(),
        digest: playbook.digest.clone(),
    }
}

/// The loaded playbooks, by name, and the files that did not load.
#[utoipa::path(get, path = "/api/v1/playbooks", operation_id = "list_playbooks", tag = "respond",
    responses((status = 200, description = "playbooks and load problems", body = PlaybookList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<PlaybookList>, ApiError> {
    Ok(Json(playbook_list(responder(&state)?)))
}

/// The loaded playbooks and the load problems; the API and the dashboard both come here.
pub(crate) fn playbook_list(responder: &Responder) -> PlaybookList {
    let library = responder.engine().library();
    PlaybookList {
        playbooks: library.iter().map(|playbook| summary(playbook)).collect(),
        problems: responder
            .playbook_errors()
            .into_iter()
            .map(|error| LoadProblem {
                file: error.file.display().to_string(),
                line: error.line,
                reason: error.reason,
            })
            .collect(),
    }
}

/// A playbook with its file's text.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookDetail {
    #[serde(flatten)]
    pub summary: PlaybookSummary,
    /// The YAML as on disk.
    pub source: String,
}

/// One playbook and its YAML.
#[utoipa::path(get, path = "/api/v1/playbooks/{name}", operation_id = "show_playbook", tag = "respond",
    params(("name" = String, Path, description = "the playbook's name")),
    responses((status = 200, description = "the playbook", body = PlaybookDetail)))]
pub async fn show(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<PlaybookDetail>, ApiError> {
    Ok(Json(playbook_detail(&state, &name).await?))
}

/// One loaded playbook with its file's text (empty when the file cannot be read now).
pub(crate) async fn playbook_detail(
    state: &AppState,
    name: &str,
) -> Result<PlaybookDetail, ApiError> {
    let responder = responder(state)?;
    let library = responder.engine().library();
    let playbook = library
        .get(name)
        .ok_or_else(|| ApiError::not_found(format!("no playbook {name:?}")))?;
    let source = tokio::fs::read_to_string(&playbook.file)
        .await
        .unwrap_or_default();
    Ok(PlaybookDetail {
        summary: summary(playbook),
        source,
    })
}

/// A playbook's new text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookSource {
    /// The whole YAML file; its `name` must be the one in the path.
    pub source: String,
}

/// Replaces (or creates) a playbook's file after checking it as the loader does: a file that
/// does not load is refused with its line and reason, and the running version stays. Audited.
#[utoipa::path(put, path = "/api/v1/playbooks/{name}", operation_id = "save_playbook", tag = "respond",
    params(("name" = String, Path, description = "the playbook's name")), request_body = PlaybookSource,
    responses((status = 200, description = "the playbook as now loaded", body = PlaybookSummary)))]
pub async fn save(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<PlaybookSource>,
) -> Result<Json<PlaybookSummary>, ApiError> {
    Ok(Json(
        save_playbook(&state, &principal, &name, &request.source).await?,
    ))
}

/// Checks `source` as the loader does and, when it loads, writes it as playbook `name`'s file
/// and reloads the library; audited. The API and the dashboard both come here.
pub(crate) async fn save_playbook(
    state: &AppState,
    principal: &Principal,
    name: &str,
    source: &str,
) -> Result<PlaybookSummary, ApiError> {
    let responder = responder(state)?;
    let entry = AuditEntry::new(principal.actor.clone(), "playbook.save")
        .target(format!("playbook:{name}"));
    let result = async {
        let dir = responder.config().playbooks.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "no playbook directory is configured ([respond] playbooks)",
            )
        })?;
        let library = responder.engine().library();
        let file = match library.get(name) {
            Some(existing) => existing.file.clone(),
            None => dir.join(format!("{name}.yaml")),
        };
        let checked = parse(&file, source, responder.references()).map_err(|error| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_playbook",
                error.to_string(),
            )
        })?;
        if checked.name() != name {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_playbook",
                format!("the file names playbook {:?}, not {name:?}", checked.name()),
            ));
        }
        rampart_respond::blocklist::publish::write_atomically(&file, source.as_bytes())
            .map_err(ApiError::internal)?;
        responder.reload_playbooks();
        let library = responder.engine().library();
        let loaded = library
            .get(name)
            .ok_or_else(|| ApiError::internal("the saved playbook did not load"))?;
        Ok(summary(loaded))
    }
    .await;
    audited(state.store.as_ref(), entry, result).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunList {
    pub playbook: Option<String>,
    /// running, waiting, retrying, succeeded, failed, cancelled.
    pub status: Option<String>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A run as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct RunItem(pub RunRecord);

/// Runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", operation_id = "list_runs", tag = "respond", params(RunList),
    responses((status = 200, description = "one page of runs", body = Page<RunItem>)))]
pub async fn runs(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<RunList>,
) -> Result<Json<Page<RunItem>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let statuses = params
        .status
        .as_deref()
        .map(|text| {
            text.parse::<RunStatus>().map_err(|err| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", err.to_string())
            })
        })
        .transpose()?
        .into_iter()
        .collect();
    let runs = run_page(
        &state,
        RunQuery {
            playbook: params.playbook,
            statuses,
            before_id: numeric_cursor(params.cursor.as_deref())?,
            limit,
        },
    )
    .await?;
    Ok(Json(Page {
        items: runs.items.into_iter().map(RunItem).collect(),
        next: runs.next,
    }))
}

/// One page of runs, newest first, with the cursor of the next page when this one is full.
pub(crate) async fn run_page(
    state: &AppState,
    query: RunQuery,
) -> Result<Page<RunRecord>, ApiError> {
    let limit = query.limit;
    let runs = state.store.runs(&query).await?;
    let next = (runs.len() == limit as usize)
        .then(|| runs.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(Page { items: runs, next })
}

/// A run with each action's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[schema(value_type = Object)]
    pub run: RunRecord,
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<ActionRecord>,
}

/// One run and its actions.
#[utoipa::path(get, path = "/api/v1/runs/{id}", operation_id = "show_run", tag = "respond",
    params(("id" = i64, Path, description = "the run's id")),
    responses((status = 200, description = "the run", body = RunDetail)))]
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<RunDetail>, ApiError> {
    Ok(Json(run_detail(&state, id).await?))
}

/// One run and its actions, or a 404.
pub(crate) async fn run_detail(state: &AppState, id: i64) -> Result<RunDetail, ApiError> {
    let (run, actions) = state
        .store
        .run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))?;
    Ok(RunDetail { run, actions })
}

fn engine_error(error: EngineError) -> ApiError {
    match error {
        EngineError::Store(error) => error.into(),
        EngineError::UnknownRun(id) => ApiError::not_found(format!("no run {id}")),
        EngineError::NotWaiting { .. } => {
            ApiError::new(StatusCode::CONFLICT, "conflict", error.to_string())
        }
    }
}

/// Decides an approval on behalf of `principal`; the API and the dashboard both come here.
pub(crate) async fn decide(
    state: &AppState,
    principal: &Principal,
    id: i64,
    decision: Decision,
) -> Result<RunRecord, ApiError> {
    let responder = responder(state)?;
    responder
        .engine()
        .decide(id, decision, &principal.actor)
        .await
        .map_err(engine_error)
}

/// Approves a run waiting at an approval: it goes on with its next action. Audited.
#[utoipa::path(post, path = "/api/v1/runs/{id}/approve", operation_id = "approve_run", tag = "respond",
    params(("id" = i64, Path, description = "the run's id")),
    responses((status = 200, description = "the run as now stored", body = RunItem)))]
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<RunItem>, ApiError> {
    Ok(Json(RunItem(
        decide(&state, &principal, id, Decision::Approve).await?,
    )))
}

/// Rejects a run waiting at an approval: it is cancelled. Audited.
#[utoipa::path(post, path = "/api/v1/runs/{id}/reject", operation_id = "reject_run", tag = "respond",
    params(("id" = i64, Path, description = "the run's id")),
    responses((status = 200, description = "the run as now stored", body = RunItem)))]
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<RunItem>, ApiError> {
    Ok(Json(RunItem(
        decide(&state, &principal, id, Decision::Reject).await?,
    )))
}

/// Takes everything a run blocked off its lists. Audited.
#[utoipa::path(post, path = "/api/v1/runs/{id}/rollback", operation_id = "roll_back_run", tag = "respond",
    params(("id" = i64, Path, description = "the run's id")),
    responses((status = 200, description = "the entries removed", body = Vec<Object>)))]
pub async fn rollback(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Vec<BlockEntry>>, ApiError> {
    Ok(Json(roll_back(&state, &principal, id).await?))
}

/// Takes everything run `id` blocked off its lists on behalf of `principal`; the entries
/// removed. The API and the dashboard both come here.
pub(crate) async fn roll_back(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> Result<Vec<BlockEntry>, ApiError> {
    let responder = responder(state)?;
    if state.store.run(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no run {id}")));
    }
    let removed = responder
        .engine()
        .roll_back_run(id, &principal.actor, "run rolled back by hand")
        .await
        .map_err(engine_error)?;
    responder.blocks_changed();
    Ok(removed)
}
