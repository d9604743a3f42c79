//! Events pushed over HTTP into the running detection pipeline: one record per line, decoded
//! by one of detect's decoders (JSON lines by default). A full pipeline queue makes the
//! request wait (up to the request timeout) instead of dropping events.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use rampart_detect::ingest::{IngestError, IngestReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

/// How the body is read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IngestParams {
    /// The decoder: `jsonl` (default), `syslog`, `cef`, `zeek`, `suricata`, `apache`, `text`…
    pub decoder: Option<String>,
}

/// What a push did.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestSummary {
    /// Events queued for detection.
    pub accepted: u64,
    /// Lines that could not be decoded.
    pub rejected: u64,
    /// The first 100 rejected lines, by 1-based line number.
    pub errors: Vec<LineError>,
}

/// A line that could not be decoded.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl From<IngestReport> for IngestSummary {
    fn from(report: IngestReport) -> IngestSummary {
        IngestSummary {
            accepted: report.accepted,
            rejected: report.rejected,
            errors: report
                .errors
                .into_iter()
                .map(|error| LineError {
                    line: error.line,
                    message: crate::error::truncate(&error.message),
                })
                .collect(),
        }
    }
}

/// The content types a push may have: JSON lines, or JSON with one object per line; plain
/// text for the line-based decoders (syslog, CEF…).
fn accepted_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-ndjson" | "application/jsonl" | "application/json" | "text/plain" => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "content type {content_type:?} is not accepted: send application/x-ndjson \
                 (one JSON object per line), application/json or text/plain"
            ),
        )),
    }
}

/// Pushes events for detection. Bad lines do not fail the body: they are counted and the
/// first ones reported; a body with no good line at all is refused with 400.
#[utoipa::path(post, path = "/api/v1/events", operation_id = "ingest_events", tag = "events",
    params(IngestParams),
    request_body(content = String, description = "one event per line",
        content_type = "application/x-ndjson"),
    responses((status = 200, description = "the events were queued for detection", body = IngestSummary),
              (status = 400, description = "no line could be decoded", body = crate::error::ErrorBody),
              (status = 503, description = "detection is not running, or the queue stayed full past the request timeout", body = crate::error::ErrorBody)))]
pub async fn ingest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<IngestParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestSummary>, ApiError> {
    accepted_type(&headers)?;
    let Some(ingest) = state.ingest.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "detection_off",
            "detection is not running in this server",
        ));
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body holds no event"));
    }
    let decoder = params.decoder.as_deref().unwrap_or("jsonl");
    let report = ingest
        .ingest(decoder, body)
        .await
        .map_err(|error| match error {
            IngestError::UnknownDecoder(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
            }
            IngestError::Unreadable(message) => ApiError::bad_request(message),
            IngestError::Stopped => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "detection_off",
                error.to_string(),
            ),
        })?;
    if report.accepted == 0 {
        let first = report
            .errors
            .first()
            .map(|error| format!(": line {}: {}", error.line, error.message))
            .unwrap_or_default();
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!(
                "none of the {} records could be decoded{first}",
                report.rejected
            ),
        ));
    }
    Ok(Json(report.into()))
}
