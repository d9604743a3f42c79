//! Feeds managed over HTTP, as `rampart feeds add|remove|pull|status` manage them: the same
//! settings, the same validation (`SourceConfig::validate`), the same puller.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_intel::config::{AuthConfig, SourceConfig, TransportKind};
use rampart_intel::scheduler::{self, PullResult};
use rampart_model::{Reliability, Tlp};
use rampart_store::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::intel_changes::audited;
use super::sources::SourceStatus;
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// A feed to add (or replace, by name): the settings `rampart feeds add` takes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    /// Letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// Format or preset: stix, misp, csv, text, urlhaus, spamhaus-drop, …
    pub format: String,
    /// An http(s) URL (default: the preset's public address). Local paths are for the
    /// configuration file and the command line, not for the API.
    pub url: Option<String>,
    /// http (default), taxii, misp-server or misp-feed.
    #[schema(value_type = Option<String>)]
    pub transport: Option<TransportKind>,
    /// Pull interval (default `1h`).
    pub interval: Option<String>,
    /// Admiralty reliability A–F (default: the preset's, else F).
    #[schema(value_type = Option<String>)]
    pub reliability: Option<Reliability>,
    /// Confidence 0–100 for statements without one (default: the preset's, else 50).
    pub confidence: Option<u8>,
    /// TLP for statements without one (default: the preset's, else clear).
    #[schema(value_type = Option<String>)]
    pub tlp: Option<Tlp>,
    /// Each pull is the whole list: values missing from it are withdrawn.
    #[serde(default)]
    pub full_list: bool,
    /// Format options (`value`, `delimiter`…).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// Transport options (TAXII collection, MISP filters…).
    #[serde(default)]
    pub transport_options: BTreeMap<String, String>,
    /// `false` adds it disabled (default `true`).
    pub enabled: Option<bool>,
    /// Credentials by environment variable name: `{"type": "bearer", "token_env": "X"}`,
    /// `{"type": "basic", "user": "u", "password_env": "X"}`,
    /// `{"type": "header", "name": "Authorization", "value_env": "X"}`.
    #[schema(value_type = Option<Object>)]
    pub auth: Option<AuthConfig>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

fn status_of(record: rampart_store::SourceRecord) -> SourceStatus {
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
}

/// Adds a feed, or replaces the settings of the feed of that name; audited.
#[utoipa::path(post, path = "/api/v1/sources", operation_id = "add_source", tag = "sources",
    request_body = NewSource,
    responses((status = 201, description = "the feed as stored, with its status", body = SourceStatus)))]
pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewSource>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor, "source.add")
        .target(crate::error::truncate(&request.name))
        .detail(serde_json::json!({
            "format": crate::error::truncate(&request.format),
            "url": request.url.as_deref().map(crate::error::truncate),
        }));
    let added = async {
        let preset = rampart_intel::formats::presets::preset_defaults(&request.format);
        let url = match (&request.url, preset.as_ref().and_then(|p| p.url.clone())) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url,
            (None, None) => {
                return Err(invalid(format!(
                    "url is needed: {:?} has no default address",
                    request.format
                )));
            }
        };
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(invalid("url must be an http:// or https:// URL"));
        }
        let config = SourceConfig {
            name: request.name.clone(),
            format: request.format.clone(),
            transport: request.transport.unwrap_or_default(),
            url,
            interval: request.interval.clone().unwrap_or_else(|| "1h".into()),
            enabled: request.enabled.unwrap_or(true),
            reliability: request
                .reliability
                .or(preset.as_ref().map(|p| p.reliability))
                .unwrap_or(Reliability::F),
            confidence: request
                .confidence
                .or(preset.as_ref().map(|p| p.confidence))
                .unwrap_or(50),
            tlp: request
                .tlp
                .or(preset.as_ref().map(|p| p.tlp))
                .unwrap_or(Tlp::Clear),
            full_list: request.full_list.then_some(true),
            options: request.options.clone(),
            auth: request.auth.clone(),
            timeout_secs: 60,
            transport_options: request.transport_options.clone(),
        };
        config
            .validate()
            .map_err(|reason| invalid(format!("feed {:?}: {reason}", config.name)))?;
        store
            .upsert_source(&config.info(), &config.to_settings())
            .await?;
        let record = store
            .source(&config.name)
            .await?
            .ok_or_else(|| ApiError::internal("the source just added is missing"))?;
        Ok(status_of(record))
    }
    .await;
    let added = audited(store, entry, added).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

/// One source with its feed status.
#[utoipa::path(get, path = "/api/v1/sources/{name}", operation_id = "show_source", tag = "sources",
    params(("name" = String, Path, description = "the source's name")),
    responses((status = 200, description = "the source and its feed status", body = SourceStatus)))]
pub async fn show(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SourceStatus>, ApiError> {
    match state.store.source(&name).await? {
        Some(record) => Ok(Json(status_of(record))),
        None => Err(ApiError::not_found(format!(
            "no source named {:?}",
            crate::error::truncate(&name)
        ))),
    }
}

/// Removes a source and its statements (indicators only it vouched for lose their score);
/// audited.
#[utoipa::path(delete, path = "/api/v1/sources/{name}", operation_id = "remove_source", tag = "sources",
    params(("name" = String, Path, description = "the source's name")),
    responses((status = 204, description = "removed")))]
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.store.as_ref();
    let entry =
        AuditEntry::new(principal.actor, "source.remove").target(crate::error::truncate(&name));
    let removed = async {
        if store.remove_source(&name).await? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::not_found(format!(
                "no source named {:?}",
                crate::error::truncate(&name)
            )))
        }
    }
    .await;
    audited(store, entry, removed).await
}

/// The outcome of a pull asked for over HTTP.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullOutcome {
    pub source: String,
    /// `imported`, `not_modified`, or `running` (202: still pulling; see the source's status).
    pub status: &'static str,
    /// The import report (counts, rejections), when imported.
    #[schema(value_type = Option<Object>)]
    pub report: Option<rampart_intel::import::ImportReport>,
}

/// Pulls a source now with the scheduler's puller; audited. Answers with the pull's report,
/// or 202 if it is still running after half the request timeout (it goes on; its outcome
/// shows in the source's status). A failed pull is 502 with the feed's error.
#[utoipa::path(post, path = "/api/v1/sources/{name}/pull", operation_id = "pull_source", tag = "sources",
    params(("name" = String, Path, description = "the source's name")),
    responses((status = 200, description = "pulled", body = PullOutcome),
              (status = 202, description = "still pulling", body = PullOutcome),
              (status = 502, description = "the pull failed", body = crate::error::ErrorBody)))]
pub async fn pull(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (status, outcome) = pull_now(&state, &principal, name).await?;
    Ok((status, Json(outcome)).into_response())
}

/// Pulls a source now, audited, as `POST /api/v1/sources/{name}/pull` and the feeds page's
/// "pull now" do: 200 with the outcome, or 202 when the pull outlives half the request
/// timeout (it goes on in the background).
pub async fn pull_now(
    state: &AppState,
    principal: &Principal,
    name: String,
) -> Result<(StatusCode, PullOutcome), ApiError> {
    let Some(puller) = state.puller.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "pulls_off",
            "this server has no feed puller",
        ));
    };
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor.clone(), "source.pull")
        .target(crate::error::truncate(&name));
    if store.source(&name).await?.is_none() {
        let missing = Err(ApiError::not_found(format!(
            "no source named {:?}",
            crate::error::truncate(&name)
        )));
        return audited(store, entry, missing).await;
    }
    // The pull runs on its own task so that a slow feed outlives this request.
    let task_name = name.clone();
    let mut task = tokio::spawn(async move { puller.pull(&task_name).await });
    let patience = (state.config.request_timeout / 2).min(Duration::from_secs(60));
    let outcome = match tokio::time::timeout(patience, &mut task).await {
        Err(_) => {
            let running = PullOutcome {
                source: name,
                status: "running",
                report: None,
            };
            let entry = entry.detail(serde_json::json!({ "status": "running" }));
            let running = audited(store, entry, Ok(running)).await?;
            return Ok((StatusCode::ACCEPTED, running));
        }
        Ok(Err(join)) => Err(ApiError::internal(join)),
        Ok(Ok(Err(error))) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "pull_failed",
            format!("pull of {name:?} failed: {error}"),
        )),
        Ok(Ok(Ok(PullResult::Imported(report)))) => Ok(PullOutcome {
            source: name,
            status: "imported",
            report: Some(report),
        }),
        Ok(Ok(Ok(PullResult::NotModified))) => Ok(PullOutcome {
            source: name,
            status: "not_modified",
            report: None,
        }),
    };
    Ok((StatusCode::OK, audited(store, entry, outcome).await?))
}
