//! A case leaving Rampart: exported as a download (Markdown for people, JSON for tools) or
//! pushed as JSON to a webhook (a ticketing system, a chat bridge, another team's intake).
//!
//! A push is an outgoing request to a URL the caller chose, from the server's network. Only
//! people allowed `manage_cases` may make one, only to `http`/`https`, without following
//! redirects, with a short timeout; the case's timeline and the audit log record where it
//! went (the URL's origin only: webhook paths often carry secrets) and what came back.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_cases::ExportFormat;
use rampart_model::TimelineKind;
use rampart_store::NewTimelineEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::cases::{case_audit, case_error, invalid, positive_id, store_error};
use super::intel_changes::audited;
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

/// How long a webhook may take to answer, connection included.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting to a webhook may take.
const PUSH_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// markdown (default) or json.
    pub format: Option<String>,
}

/// A case as one document: Markdown (`text/markdown`) or JSON (`application/json`), as a
/// download named `case-ID.md` or `case-ID.json`. The export is recorded in the case's
/// timeline.
#[utoipa::path(get, path = "/api/v1/cases/{id}/export", operation_id = "export_case", tag = "cases",
    params(("id" = i64, Path, description = "the case's id"), ExportParams),
    responses((status = 200, description = "the case document", content_type = "application/octet-stream")))]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let id = positive_id(&id, "case")?;
    let format = match params.format.as_deref() {
        None => ExportFormat::Markdown,
        Some(name) => name.parse::<ExportFormat>().map_err(|err| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", err.to_string())
        })?,
    };
    let document = state
        .case_service()
        .export(id, format, &principal.actor)
        .await
        .map_err(case_error)?;
    let renderer = format.renderer();
    let mut response = document.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(renderer.media_type()),
    );
    // The name is made of the id and a fixed extension only: nothing from the case's text.
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"case-{id}.{}\"",
        renderer.extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// Where to push a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// An `http` or `https` URL; the JSON export is POSTed to it.
    pub url: String,
}

/// What the webhook answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pushed {
    /// The origin pushed to (`https://tickets.example:443`).
    pub target: String,
    /// The webhook's HTTP status.
    pub status: u16,
    /// Bytes of JSON sent.
    pub bytes: usize,
}

/// A push target: an absolute `http`/`https` URL with a host and no credentials in it.
fn push_target(text: &str) -> Result<url::Url, ApiError> {
    let url = url::Url::parse(text.trim())
        .map_err(|err| invalid(format!("url: not an absolute URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "url: only http and https can be pushed to, not {:?}",
            crate::error::truncate(url.scheme())
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url: no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "url: credentials in the URL are not accepted (they would be logged)",
        ));
    }
    Ok(url)
}

/// The client pushes go out with: no redirects (a webhook that redirects is misconfigured, and
/// a redirect could lead anywhere), short timeouts.
fn push_client() -> Result<reqwest::Client, ApiError> {
    // reqwest needs a process-wide TLS provider; `serve` installs ring, as this does if not.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(PUSH_CONNECT_TIMEOUT)
        .timeout(PUSH_TIMEOUT)
        .build()
        .map_err(ApiError::internal)
}

/// POSTs the case's JSON export to `url`; the answer (or why there was none) goes to the
/// case's timeline. A webhook that fails or answers an error is a `502`.
pub(crate) async fn push_case(
    state: &AppState,
    principal: &Principal,
    id: i64,
    url: &str,
) -> Result<Pushed, ApiError> {
    let target = push_target(url);
    let origin = target
        .as_ref()
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default();
    let entry =
        case_audit(principal, "case.push", id).detail(serde_json::json!({ "target": origin }));
    let pushed = async {
        let url = target?;
        let service = state.case_service();
        let bundle = service.bundle(id).await.map_err(case_error)?;
        let document = ExportFormat::Json.renderer().render(&bundle);
        let bytes = document.len();
        let answer = push_client()?
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(document)
            .send()
            .await;
        let (outcome, message) = match &answer {
            Ok(response) if response.status().is_success() => (
                Ok(response.status().as_u16()),
                format!("pushed as json to {origin}: HTTP {}", response.status()),
            ),
            Ok(response) => (
                Err(format!("the webhook answered HTTP {}", response.status())),
                format!("push to {origin} failed: HTTP {}", response.status()),
            ),
            Err(err) => {
                let why = if err.is_timeout() {
                    format!("no answer within {} s", PUSH_TIMEOUT.as_secs())
                } else if err.is_connect() {
                    "cannot connect".to_owned()
                } else {
                    "the request failed".to_owned()
                };
                (
                    Err(format!("the webhook could not be reached: {why}")),
                    format!("push to {origin} failed: {why}"),
                )
            }
        };
        let status = answer
            .as_ref()
            .ok()
            .map(|response| response.status().as_u16());
        let record = NewTimelineEntry {
            at: Timestamp::now(),
            actor: principal.actor.clone(),
            kind: TimelineKind::Exported,
            message,
            detail: serde_json::json!({
                "format": "json", "target": origin, "status": status, "bytes": bytes,
            }),
        };
        state
            .store
            .add_timeline(id, &record)
            .await
            .map_err(store_error)?;
        match outcome {
            Ok(status) => Ok(Pushed {
                target: origin.clone(),
                status,
                bytes,
            }),
            Err(why) => Err(ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", why)),
        }
    }
    .await;
    audited(state.store.as_ref(), entry, pushed).await
}

/// POSTs the case's JSON export to a webhook (http or https only, no redirects, 10 s at most);
/// the answer is recorded in the case's timeline. `502` when the webhook fails. Audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/push", operation_id = "push_case", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    request_body = PushRequest,
    responses((status = 200, description = "the webhook accepted it", body = Pushed),
              (status = 502, description = "the webhook failed or answered an error", body = crate::error::ErrorBody)))]
pub async fn push(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<Pushed>, ApiError> {
    let id = positive_id(&id, "case")?;
    Ok(Json(push_case(&state, &principal, id, &request.url).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_web_urls_are_push_targets() {
        assert!(push_target("https://tickets.example/hooks/abc").is_ok());
        assert!(push_target("http://127.0.0.1:8081/x").is_ok());
        for refused in [
            "file:///etc/passwd",
            "gopher://evil.example/",
            "ftp://files.example/",
            "tickets.example/hook",
            "https://user:secret@tickets.example/",
            "",
        ] {
            let error = push_target(refused).unwrap_err();
            assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        }
    }
}
