//! The alert triage queue: open and acknowledged alerts, most urgent first (indicator score ×
//! the criticality of the assets the alert names), with acknowledge and false-positive forms.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use jiff::Timestamp;
use rampart_model::{Detection, Severity};
use rampart_store::{AlertQuery, AlertStatus, Asset, StoredAlert};

use super::{Chrome, Form, PageError, html, redirect, when};
use crate::api::alerts::apply_triage;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Alerts read per store page, and the most pages read for one queue.
const BATCH: u32 = 1000;
const MAX_BATCHES: usize = 10;
/// The criticality assumed when an alert names no known asset (the asset file's default).
const UNKNOWN_CRITICALITY: u8 = 3;

/// How urgent an alert is, 0–100, before asset criticality: an indicator match's score, or
/// the middle of a rule alert's severity band.
pub fn alert_score(alert: &rampart_model::Alert) -> f64 {
    match &alert.detection {
        Detection::Indicator { score, .. } => *score,
        _ => match alert.severity {
            Severity::Critical => 95.0,
            Severity::High => 80.0,
            Severity::Medium => 55.0,
            Severity::Low => 30.0,
            Severity::Informational => 10.0,
        },
    }
}

/// The highest criticality of the assets whose addresses, networks, host names or domains
/// one of the alert's matched values falls in; [`UNKNOWN_CRITICALITY`] when none does.
pub fn asset_criticality(alert: &rampart_model::Alert, assets: &[Asset]) -> (u8, Vec<String>) {
    let mut best: Option<u8> = None;
    let mut names = Vec::new();
    for asset in assets {
        let hit = alert.matched.iter().any(|matched| {
            let value = matched.value.trim().to_ascii_lowercase();
            let address = value.parse::<std::net::IpAddr>().ok();
            asset.networks.iter().any(|network| match address {
                Some(address) => network
                    .parse::<ipnet::IpNet>()
                    .map(|network| network.contains(&address))
                    .unwrap_or_else(|_| network.parse::<std::net::IpAddr>() == Ok(address)),
                None => false,
            }) || asset
                .hostnames
                .iter()
                .any(|host| host.eq_ignore_ascii_case(&value))
                || asset.domains.iter().any(|domain| {
                    let domain = domain.to_ascii_lowercase();
                    value == domain || value.ends_with(&format!(".{domain}"))
                })
        });
        if hit {
            best = Some(best.map_or(asset.criticality, |best| best.max(asset.criticality)));
            names.push(asset.name.clone());
        }
    }
    (best.unwrap_or(UNKNOWN_CRITICALITY), names)
}

/// One alert in the queue.
pub struct Row {
    pub id: i64,
    pub priority: String,
    pub score: String,
    pub criticality: u8,
    pub assets: String,
    pub severity: &'static str,
    pub label: String,
    pub matched: Vec<String>,
    pub techniques: String,
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    pub retro: bool,
    pub status: &'static str,
    pub triage: Option<String>,
    pub note: Option<String>,
    pub open: bool,
    sort_key: f64,
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub struct QueuePage {
    pub chrome: Option<Chrome>,
    /// The filter shown: `queue` (open and acknowledged) or one status.
    pub filter: String,
    pub filters: Vec<(&'static str, &'static str)>,
    pub rows: Vec<Row>,
    /// The queue was cut at the most alerts read for one page.
    pub truncated: bool,
}

fn row(stored: StoredAlert, assets: &[Asset], now: Timestamp) -> Row {
    let alert = &stored.alert;
    let score = alert_score(alert);
    let (criticality, names) = asset_criticality(alert, assets);
    let priority = score * f64::from(criticality);
    Row {
        id: stored.id,
        priority: format!("{priority:.0}"),
        score: format!("{score:.0}"),
        criticality,
        assets: names.join(", "),
        severity: alert.severity.as_str(),
        label: alert.detection.label(),
        matched: alert
            .matched
            .iter()
            .map(|matched| format!("{} = {}", matched.field, matched.value))
            .collect(),
        techniques: alert
            .techniques
            .iter()
            .map(|id| id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        first_seen: when(alert.first_seen, now),
        last_seen: when(alert.last_seen, now),
        count: alert.count,
        retro: alert.retro,
        status: stored.status.as_str(),
        triage: stored
            .triage
            .as_ref()
            .map(|triage| format!("{} by {}", when(triage.at, now), triage.by)),
        note: stored.triage.and_then(|triage| triage.note),
        open: matches!(stored.status, AlertStatus::Open | AlertStatus::Acknowledged),
        sort_key: priority,
    }
}

/// `GET /alerts?status=`: the triage queue (open and acknowledged alerts) by priority, or the
/// alerts of one status.
pub async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let requested = params.get("status").unwrap_or("queue");
    let (filter, statuses) = match requested.parse::<AlertStatus>() {
        Ok(status) => (status.as_str().to_owned(), vec![status]),
        Err(_) => (
            "queue".to_owned(),
            vec![AlertStatus::Open, AlertStatus::Acknowledged],
        ),
    };
    let assets = state.store.assets().await?;
    let now = Timestamp::now();
    let mut rows = Vec::new();
    let mut after_id = None;
    let mut truncated = false;
    for batch in 0..MAX_BATCHES {
        let page = state
            .store
            .alerts(&AlertQuery {
                statuses: statuses.clone(),
                after_id,
                limit: BATCH,
                ..AlertQuery::default()
            })
            .await?;
        let full = page.len() == BATCH as usize;
        after_id = page.last().map(|last| last.id);
        rows.extend(page.into_iter().map(|stored| row(stored, &assets, now)));
        if !full {
            break;
        }
        truncated = batch + 1 == MAX_BATCHES;
    }
    rows.sort_by(|a, b| b.sort_key.total_cmp(&a.sort_key).then(b.id.cmp(&a.id)));
    Ok(html(&QueuePage {
        chrome: Some(Chrome::new(&principal, "alerts")),
        filter,
        filters: vec![
            ("queue", "To triage"),
            ("open", "Open"),
            ("acknowledged", "Acknowledged"),
            ("false_positive", "False positives"),
            ("closed", "Closed"),
        ],
        rows,
        truncated,
    }))
}

fn alert_id(text: &str) -> Result<i64, PageError> {
    text.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| PageError(ApiError::bad_request("an alert id is a positive integer")))
}

async fn triage(
    state: &AppState,
    principal: &Principal,
    id: &str,
    status: AlertStatus,
    form: &Form,
) -> Result<Response, PageError> {
    let id = alert_id(id)?;
    let note = form.get("note").map(str::to_owned);
    apply_triage(state, principal, id, status, note).await?;
    Ok(redirect(&format!("/alerts#alert-{id}")))
}

/// `POST /alerts/{id}/acknowledge` (note): acknowledges, back to the queue.
pub async fn acknowledge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    triage(&state, &principal, &id, AlertStatus::Acknowledged, &form).await
}

/// `POST /alerts/{id}/false-positive` (note): marks a false positive, back to the queue.
pub async fn false_positive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    triage(&state, &principal, &id, AlertStatus::FalsePositive, &form).await
}
