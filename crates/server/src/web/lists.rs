//! The plain lists: feeds with their status, and the organisation's assets.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use jiff::Timestamp;
use rampart_auth::Action;

use super::{Chrome, Form, PageError, html, redirect, when_or_never};
use crate::auth::Principal;
use crate::state::AppState;

/// One feed with its status.
pub struct FeedRow {
    pub name: String,
    pub format: String,
    pub reliability: String,
    pub enabled: bool,
    pub url: String,
    pub last_success: String,
    pub last_attempt: String,
    pub next_due: String,
    pub failures: u32,
    pub last_error: Option<String>,
    pub active: u64,
    pub last_summary: String,
}

#[derive(Template)]
#[template(path = "feeds.html")]
pub struct FeedsPage {
    pub chrome: Option<Chrome>,
    pub feeds: Vec<FeedRow>,
    /// Whether the viewer may pull feeds now.
    pub can_pull: bool,
    /// The outcome of the last "pull now", from the redirect's query: (source, outcome).
    pub pulled: Option<(String, String)>,
}

/// `GET /feeds`: every source with its pulls, errors and next pull.
pub async fn feeds(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let pulled = params.get("pulled").map(|name| {
        (
            name.to_owned(),
            params.get("outcome").unwrap_or_default().to_owned(),
        )
    });
    let now = Timestamp::now();
    let feeds = crate::api::sources::statuses(&state)
        .await?
        .into_iter()
        .map(|status| {
            let source = status.source;
            FeedRow {
                url: source
                    .settings
                    .get("url")
                    .and_then(|url| url.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                name: source.info.name,
                format: source.info.format,
                reliability: source.info.reliability.to_string(),
                enabled: status.enabled,
                last_success: when_or_never(source.last_success, now),
                last_attempt: when_or_never(source.last_attempt, now),
                next_due: status
                    .next_due
                    .map_or_else(|| "—".to_owned(), |due| super::when(due, now)),
                failures: source.consecutive_failures,
                last_error: source.last_error,
                active: source.active_statements,
                last_summary: source.last_summary.map_or_else(String::new, |summary| {
                    format!(
                        "{} new, {} updated, {} rejected",
                        summary.new, summary.updated, summary.rejected
                    )
                }),
            }
        })
        .collect();
    Ok(html(&FeedsPage {
        can_pull: principal.role.allows(Action::ManageSources) && state.puller.is_some(),
        chrome: Some(Chrome::new(&principal, "feeds")),
        feeds,
        pulled,
    }))
}

/// `POST /feeds/{name}/pull`: pulls a source now (as the API does, audited), back to the
/// feeds page with the outcome. A failed pull is an outcome to show, not an error page.
pub async fn pull(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    _form: Form,
) -> Result<Response, PageError> {
    let outcome = match crate::api::source_changes::pull_now(&state, &principal, name.clone()).await
    {
        Ok((_, outcome)) => match (outcome.status, outcome.report) {
            ("imported", Some(report)) => format!(
                "imported: {} new, {} updated, {} rejected",
                report.summary.new, report.summary.updated, report.rejected
            ),
            ("running", _) => "still running; its outcome will show in the table".to_owned(),
            ("not_modified", _) => "not modified since the last pull".to_owned(),
            (status, _) => status.to_owned(),
        },
        Err(error) => format!("failed: {}", error.message),
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("pulled", &name)
        .append_pair("outcome", &outcome)
        .finish();
    Ok(redirect(&format!("/feeds?{query}")))
}

/// One asset.
pub struct AssetRow {
    pub name: String,
    pub kind: String,
    pub owner: String,
    pub criticality: u8,
    pub tags: String,
    pub networks: String,
    pub hostnames: String,
    pub domains: String,
}

#[derive(Template)]
#[template(path = "assets.html")]
pub struct AssetsPage {
    pub chrome: Option<Chrome>,
    pub assets: Vec<AssetRow>,
}

/// `GET /assets`: every asset, most critical first.
pub async fn assets(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, PageError> {
    let mut assets = state.store.assets().await?;
    assets.sort_by(|a, b| b.criticality.cmp(&a.criticality).then(a.name.cmp(&b.name)));
    let assets = assets
        .into_iter()
        .map(|asset| AssetRow {
            name: asset.name,
            kind: asset.kind,
            owner: asset.owner.unwrap_or_default(),
            criticality: asset.criticality,
            tags: asset.tags.join(", "),
            networks: asset.networks.join(", "),
            hostnames: asset.hostnames.join(", "),
            domains: asset.domains.join(", "),
        })
        .collect();
    Ok(html(&AssetsPage {
        chrome: Some(Chrome::new(&principal, "assets")),
        assets,
    }))
}
