//! The plain lists: feeds with their status, and the organisation's assets.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use jiff::Timestamp;

use super::{Chrome, PageError, html, when_or_never};
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
}

/// `GET /feeds`: every source with its pulls, errors and next pull.
pub async fn feeds(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, PageError> {
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
        chrome: Some(Chrome::new(&principal, "feeds")),
        feeds,
    }))
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
