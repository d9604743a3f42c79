//! Indicators changed by people: added by hand (into the `manual` source), taken off the
//! allowlist, and exported in the formats `rampart intel export` writes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_intel::query::{self, ExportFilter};
use rampart_model::{Indicator, IndicatorKind, Observation, SourceInfo, Tlp};
use rampart_store::{AuditEntry, Commit, ImportBatch, Store};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

/// The source indicators added by hand are recorded under.
pub const MANUAL_SOURCE: &str = "manual";
/// Most labels on one indicator, and longest label, in characters.
const MAX_LABELS: usize = 32;
const MAX_LABEL: usize = 200;

/// An indicator to add by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIndicator {
    /// `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`…
    pub kind: String,
    /// The value; defanged forms (`example[.]com`) are accepted and canonicalised.
    pub value: String,
    /// 0–100 (default: the `manual` source's 50).
    pub confidence: Option<u8>,
    /// clear, green, amber, amber+strict or red (default clear).
    pub tlp: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    /// After this the statement no longer counts (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires: Option<Timestamp>,
}

/// What adding did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Added {
    pub kind: String,
    /// The canonical value stored.
    pub value: String,
    pub source: &'static str,
    /// `true` when the indicator was not known before.
    pub new: bool,
}

/// Records `entry` (as failed when `result` is an error) and passes `result` on. A change
/// that cannot be audited is reported as failed: the log must show every change.
pub(crate) async fn audited<T>(
    store: &dyn Store,
    entry: AuditEntry,
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    match result {
        Ok(value) => {
            store.record_audit(&entry).await?;
            Ok(value)
        }
        Err(error) => {
            let failed = entry.failed(&error.message);
            if let Err(audit) = store.record_audit(&failed).await {
                tracing::warn!(%audit, "cannot record a failed change in the audit log");
            }
            Err(error)
        }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

/// Adds an indicator by hand under the `manual` source (created on first use); audited.
/// Suppressions (allowlist, warninglists) apply to it as to imported ones.
#[utoipa::path(post, path = "/api/v1/indicators", operation_id = "add_indicator", tag = "indicators",
    request_body = NewIndicator,
    responses((status = 201, description = "recorded", body = Added)))]
pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewIndicator>,
) -> Result<Response, ApiError> {
    let added = add_indicator(&state, &principal, &request).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

/// Adds `request` under the `manual` source on behalf of `principal`, audited as
/// `indicator.add`; `POST /api/v1/indicators` and the promotion of a case's observable both
/// come here.
pub(crate) async fn add_indicator(
    state: &AppState,
    principal: &Principal,
    request: &NewIndicator,
) -> Result<Added, ApiError> {
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor.clone(), "indicator.add")
        .target(crate::error::truncate(&request.value));
    let added = async {
        let kind: IndicatorKind = request
            .kind
            .parse()
            .map_err(|err: rampart_model::UnknownKind| invalid(err.to_string()))?;
        let indicator = Indicator::parse(kind, &request.value)
            .map_err(|err| invalid(format!("not a {kind} value: {err}")))?;
        let tlp = request
            .tlp
            .as_deref()
            .map(str::parse::<Tlp>)
            .transpose()
            .map_err(|err| invalid(err.to_string()))?;
        if request.confidence.is_some_and(|confidence| confidence > 100) {
            return Err(invalid("confidence is 0 to 100"));
        }
        if request.labels.len() > MAX_LABELS
            || request.labels.iter().any(|label| {
                label.trim().is_empty()
                    || label.chars().count() > MAX_LABEL
                    || label.chars().any(char::is_control)
            })
        {
            return Err(invalid(format!(
                "labels: at most {MAX_LABELS}, each 1 to {MAX_LABEL} characters without control characters"
            )));
        }
        let now = Timestamp::now();
        if request.expires.is_some_and(|expires| expires <= now) {
            return Err(invalid("expires is in the past"));
        }
        let known = store.indicator(&indicator).await?.is_some();
        let source = SourceInfo::adhoc(MANUAL_SOURCE, "manual");
        if store.source(MANUAL_SOURCE).await?.is_none() {
            store
                .upsert_source(&source, &serde_json::json!({}))
                .await?;
        }
        let mut observation = Observation::new(indicator.clone(), principal.actor.clone());
        observation.confidence = request.confidence;
        observation.tlp = tlp;
        observation.labels = request.labels.clone();
        observation.valid_until = request.expires;
        observation.first_seen = Some(now);
        observation.last_seen = Some(now);
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        let import = store.import(&source, receiver);
        let send = async {
            let _ = sender
                .send(ImportBatch::observations(vec![observation]))
                .await;
            let _ = sender.send(ImportBatch::Commit(Commit::default())).await;
            drop(sender);
        };
        let (summary, ()) = tokio::join!(import, send);
        summary?;
        let suppress =
            rampart_intel::import::current_suppression(store, state.warninglists.clone())
                .await
                .map_err(ApiError::internal)?;
        rampart_intel::import::reapply_suppression(store, suppress)
            .await
            .map_err(ApiError::internal)?;
        Ok(Added {
            kind: kind.to_string(),
            value: indicator.value().to_owned(),
            source: MANUAL_SOURCE,
            new: !known,
        })
    }
    .await;
    let detail = serde_json::json!({
        "kind": crate::error::truncate(&request.kind),
        "confidence": request.confidence,
        "tlp": request.tlp.as_deref().map(crate::error::truncate),
        "expires": request.expires,
    });
    audited(store, entry.detail(detail), added).await
}

/// A value to take off the allowlist.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unsuppression {
    /// The value or network as suppressed.
    pub value: String,
}

/// What removing a suppression did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unsuppressed {
    pub value: String,
    /// Stored indicators whose suppression changed.
    pub changed: u64,
}

/// Takes a value off the allowlist (`rampart intel unsuppress`); audited. 404 if it is not
/// on it.
#[utoipa::path(post, path = "/api/v1/indicators/unsuppress", operation_id = "unsuppress_indicator", tag = "indicators",
    request_body = Unsuppression,
    responses((status = 200, description = "removed from the allowlist and re-applied", body = Unsuppressed)))]
pub async fn unsuppress(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<Unsuppression>,
) -> Result<Json<Unsuppressed>, ApiError> {
    Ok(Json(
        lift_suppression(&state, &principal, &request.value).await?,
    ))
}

/// Takes `raw` (any indicator value) off the allowlist and re-applies suppression, audited as
/// `indicator.unsuppress`; the API and the dashboard both come here. 404 when the value has
/// no allowlist entry of its own.
pub(crate) async fn lift_suppression(
    state: &AppState,
    principal: &Principal,
    raw: &str,
) -> Result<Unsuppressed, ApiError> {
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor.clone(), "indicator.unsuppress")
        .target(crate::error::truncate(raw));
    let removed = async {
        let value = Indicator::guess(raw)
            .map_err(|_| ApiError::bad_request(format!("{raw:?} is not an indicator value")))?
            .into_value();
        if !store.disallow(&value).await? {
            return Err(ApiError::not_found(format!(
                "{value} has no allowlist entry of its own: it is not suppressed, or suppressed \
                 by a wider entry (a parent domain or a network) or by a warninglist"
            )));
        }
        let suppress =
            rampart_intel::import::current_suppression(store, state.warninglists.clone())
                .await
                .map_err(ApiError::internal)?;
        let changed = rampart_intel::import::reapply_suppression(store, suppress)
            .await
            .map_err(ApiError::internal)?;
        Ok(Unsuppressed { value, changed })
    }
    .await;
    audited(store, entry, removed).await
}

/// What to export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// stix (default), misp, csv or text.
    pub format: Option<String>,
    /// Highest TLP to include (default green).
    pub max_tlp: Option<String>,
    /// Lowest score now (default 1).
    pub min_score: Option<u8>,
    pub kind: Option<String>,
    pub source: Option<String>,
    /// Include suppressed indicators (never for enforcement).
    pub include_suppressed: Option<bool>,
}

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
}

/// Exports indicators as `rampart intel export` does (default: TLP:GREEN and below, not
/// suppressed, score ≥ 1), as one document in the format's media type.
#[utoipa::path(get, path = "/api/v1/indicators/export", operation_id = "export_indicators", tag = "indicators",
    params(ExportParams),
    responses((status = 200, description = "the export document (STIX bundle, MISP event, CSV or text lines)", content_type = "application/octet-stream")))]
pub async fn export(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let format = params.format.as_deref().unwrap_or("stix");
    let mut exporter = rampart_intel::export::by_name(format).ok_or_else(|| {
        invalid_query(format!(
            "unknown export format {format:?} (known: {})",
            rampart_intel::export::names().join(", ")
        ))
    })?;
    let max_tlp = match params.max_tlp.as_deref() {
        Some(text) => text
            .parse::<Tlp>()
            .map_err(|err| invalid_query(err.to_string()))?,
        None => Tlp::Green,
    };
    let min_score = params.min_score.unwrap_or(1);
    if min_score > 100 {
        return Err(invalid_query("min_score is 0 to 100"));
    }
    let kind = params
        .kind
        .as_deref()
        .map(str::parse::<IndicatorKind>)
        .transpose()
        .map_err(|err| invalid_query(err.to_string()))?;
    let filter = ExportFilter {
        max_tlp,
        min_score,
        kind,
        source: params.source,
        include_suppressed: params.include_suppressed.unwrap_or(false),
    };
    // The exporters write to a `Write`; the document is built in memory and sent whole (a
    // STIX bundle or MISP event is one JSON value, so it cannot be cut into pages anyway).
    // The export future holds a `&mut dyn Write`, which is not `Send`: it runs on a blocking
    // thread of its own.
    let store = state.store.clone();
    let runtime = tokio::runtime::Handle::current();
    let (document, media_type) = tokio::task::spawn_blocking(move || {
        let mut document = Vec::new();
        let exported = runtime.block_on(query::export(
            store.as_ref(),
            exporter.as_mut(),
            &filter,
            Timestamp::now(),
            &mut document,
        ));
        exported.map(|_| (document, exporter.media_type()))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let mut response = document.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
