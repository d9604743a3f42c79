//! Indicators: search with paging, one indicator with its sources and score explanation, and
//! the suppression form.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use jiff::Timestamp;
use rampart_intel::query;
use rampart_intel::score::score;
use rampart_model::IndicatorKind;
use rampart_store::SearchQuery;

use super::{Chrome, Form, PageError, html, redirect, when};
use crate::api::indicators::{Suppression, apply_suppression, find_by_id};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Indicators per search page.
const PAGE: u32 = 50;

/// One line of the search results.
pub struct Row {
    pub id: i64,
    pub kind: &'static str,
    pub value: String,
    pub sources: String,
    pub score: u8,
    pub first_seen: String,
    pub suppressed: bool,
}

#[derive(Template)]
#[template(path = "indicators.html")]
pub struct SearchPage {
    pub chrome: Option<Chrome>,
    pub q: String,
    pub kind: String,
    pub source: String,
    pub kinds: Vec<&'static str>,
    pub rows: Vec<Row>,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
    pub notice: Option<String>,
}

/// `GET /indicators?q=&kind=&source=&after=`: one page of matching indicators, in id order.
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let text = |name: &str| params.get(name).unwrap_or_default().trim().to_owned();
    let (q, kind, source) = (text("q"), text("kind"), text("source"));
    let mut notice = None;
    let parsed_kind = match kind.as_str() {
        "" => None,
        other => match other.parse::<IndicatorKind>() {
            Ok(kind) => Some(kind),
            Err(err) => {
                notice = Some(err.to_string());
                None
            }
        },
    };
    if q.chars().count() > 1000 {
        return Err(PageError(ApiError::bad_request(
            "the search text is longer than 1000 characters",
        )));
    }
    let after_id = params
        .get("after")
        .and_then(|after| after.parse::<i64>().ok());
    let found = state
        .store
        .search(&SearchQuery {
            contains: (!q.is_empty()).then(|| q.to_lowercase()),
            kind: parsed_kind,
            source: (!source.is_empty()).then(|| source.clone()),
            after_id,
            limit: PAGE,
        })
        .await?;
    let now = Timestamp::now();
    let next = (found.len() == PAGE as usize)
        .then(|| found.last())
        .flatten()
        .map(|last| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &q)
                .append_pair("kind", &kind)
                .append_pair("source", &source)
                .append_pair("after", &last.id.to_string())
                .finish()
        });
    let rows = found
        .into_iter()
        .map(|stored| Row {
            id: stored.id,
            kind: stored.indicator.kind().as_str(),
            score: score(&stored, now).score,
            first_seen: when(stored.first_seen, now),
            suppressed: stored.suppressed.is_some(),
            sources: stored
                .sources
                .iter()
                .map(|statement| statement.source.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            value: stored.indicator.value().to_owned(),
        })
        .collect();
    Ok(html(&SearchPage {
        chrome: Some(Chrome::new(&principal, "indicators")),
        q,
        kind,
        source,
        kinds: IndicatorKind::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect(),
        rows,
        next,
        notice,
    }))
}

/// One source's statement, as the detail page lists it.
pub struct StatementRow {
    pub source: String,
    pub reliability: String,
    pub confidence: u8,
    pub tlp: String,
    pub first_seen: String,
    pub last_seen: String,
    pub labels: String,
    pub techniques: String,
    pub threats: String,
    pub reference: String,
    pub withdrawn: bool,
}

/// One source's share of the score.
pub struct ContributionRow {
    pub source: String,
    pub reliability: String,
    pub weight: String,
    pub confidence: u8,
    pub age_days: String,
    pub decay: String,
    pub value: String,
    pub inactive: Option<String>,
}

/// A related context object.
pub struct RelatedRow {
    pub relation: String,
    pub object_type: String,
    pub name: String,
    pub id: String,
}

#[derive(Template)]
#[template(path = "indicator.html")]
pub struct DetailPage {
    pub chrome: Option<Chrome>,
    pub id: i64,
    pub kind: &'static str,
    pub value: String,
    pub first_seen: String,
    pub tlp: String,
    pub score: u8,
    pub decay: String,
    pub suppressed: Option<String>,
    pub contributions: Vec<ContributionRow>,
    pub statements: Vec<StatementRow>,
    pub related: Vec<RelatedRow>,
}

fn indicator_id(text: &str) -> Result<i64, PageError> {
    text.parse().ok().filter(|id| *id > 0).ok_or_else(|| {
        PageError(ApiError::bad_request(
            "an indicator id is a positive integer",
        ))
    })
}

/// `GET /indicators/{id}`: the indicator, its score explanation, statements and context.
pub async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = indicator_id(&id)?;
    let Some(stored) = find_by_id(&state, id).await? else {
        return Err(PageError(ApiError::not_found(format!(
            "no indicator with id {id}"
        ))));
    };
    let now = Timestamp::now();
    let Some(report) = query::show(state.store.as_ref(), &stored.indicator, now).await? else {
        return Err(PageError(ApiError::not_found(format!(
            "no indicator with id {id}"
        ))));
    };
    let explanation = &report.explanation;
    let contributions = explanation
        .contributions
        .iter()
        .map(|contribution| ContributionRow {
            source: contribution.source.clone(),
            reliability: contribution.reliability.to_string(),
            weight: format!("{:.2}", contribution.reliability_weight),
            confidence: contribution.confidence,
            age_days: format!("{:.1}", contribution.age_days),
            decay: format!("{:.2}", contribution.decay),
            value: format!("{:.3}", contribution.value),
            inactive: contribution.inactive.clone(),
        })
        .collect();
    let list = |items: Vec<String>| items.join(", ");
    let statements = report
        .indicator
        .sources
        .iter()
        .map(|statement| StatementRow {
            source: statement.source.clone(),
            reliability: statement.reliability.to_string(),
            confidence: statement.confidence,
            tlp: statement.tlp.to_string(),
            first_seen: when(statement.first_seen, now),
            last_seen: when(statement.last_seen, now),
            labels: list(statement.labels.clone()),
            techniques: list(
                statement
                    .techniques
                    .iter()
                    .map(|id| id.as_str().to_owned())
                    .collect(),
            ),
            threats: list(statement.threats.clone()),
            reference: statement.reference.clone(),
            withdrawn: statement.withdrawn_at.is_some() || statement.revoked,
        })
        .collect();
    let related = report
        .related
        .iter()
        .map(|related| RelatedRow {
            relation: related.relation.clone(),
            object_type: related.object.object_type.clone(),
            name: related.object.name.clone().unwrap_or_default(),
            id: related.object.id.clone(),
        })
        .collect();
    Ok(html(&DetailPage {
        chrome: Some(Chrome::new(&principal, "indicators")),
        id,
        kind: report.indicator.indicator.kind().as_str(),
        value: report.indicator.indicator.value().to_owned(),
        first_seen: when(report.indicator.first_seen, now),
        tlp: report.indicator.tlp().to_string(),
        score: explanation.score,
        decay: format!(
            "{:.0}-day lifetime, speed {:.1}",
            explanation.decay_model.lifetime_days, explanation.decay_model.speed
        ),
        suppressed: report.indicator.suppressed.clone(),
        contributions,
        statements,
        related,
    }))
}

/// `POST /indicators/suppress` (value, reason, back): allowlists the value, then returns to
/// the indicator's page.
pub async fn suppress(
    State(state): State<AppState>,
    principal: Principal,
    form: Form,
) -> Result<Response, PageError> {
    let request = Suppression {
        value: form.required("value")?.to_owned(),
        reason: form.required("reason")?.to_owned(),
    };
    apply_suppression(&state, &principal, request).await?;
    Ok(redirect(form.get("back").unwrap_or("/indicators")))
}

/// `POST /indicators/unsuppress` (value, back): removes the value's allowlist entry and
/// re-applies suppression (as `rampart intel unsuppress`), audited as `indicator.unsuppress`.
pub async fn unsuppress(
    State(state): State<AppState>,
    principal: Principal,
    form: Form,
) -> Result<Response, PageError> {
    crate::api::intel_changes::lift_suppression(&state, &principal, form.required("value")?)
        .await?;
    Ok(redirect(form.get("back").unwrap_or("/indicators")))
}
