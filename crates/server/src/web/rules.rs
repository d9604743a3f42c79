//! The Sigma rules page: the packs as last updated with each rule's effective state, searched
//! and filtered by pack, a page at a time (SigmaHQ alone has thousands), and a form per rule
//! to enable, disable or re-level it through the same code as the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use rampart_auth::Action;

use super::{Chrome, Form, PageError, html, redirect};
use crate::api::rules::{RuleChange, RuleItem, change_rule, rule_items};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Rules shown per page.
const PAGE_SIZE: usize = 100;

/// The levels a rule can be overridden to, as the forms offer them.
pub const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

#[derive(Template)]
#[template(path = "rules.html")]
pub struct RulesPage {
    pub chrome: Option<Chrome>,
    /// Whether rule packs are managed here at all.
    pub available: bool,
    pub can_manage: bool,
    /// Every pack with its number of rules, for the filter.
    pub packs: Vec<(String, usize)>,
    pub pack: String,
    pub q: String,
    pub overridden: bool,
    pub rules: Vec<RuleItem>,
    /// How many rules match the filter, and which of them this page shows (1-based).
    pub total: usize,
    pub first: usize,
    pub last: usize,
    /// Links to the previous and next pages, with the filter.
    pub previous: Option<String>,
    pub next: Option<String>,
    /// This page's address, where the forms come back to.
    pub back: String,
    pub levels: [&'static str; 5],
}

fn query_of(pack: &str, q: &str, overridden: bool, page: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !pack.is_empty() {
        query.append_pair("pack", pack);
    }
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    if overridden {
        query.append_pair("overridden", "true");
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/rules".to_owned()
    } else {
        format!("/rules?{query}")
    }
}

/// `GET /rules?pack=&q=&overridden=&page=`: the rules, by pack and id.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let pack = params.get("pack").unwrap_or_default().trim().to_owned();
    let q = params.get("q").unwrap_or_default().trim().to_owned();
    let overridden = params.get("overridden") == Some("true");
    let page = params
        .get("page")
        .and_then(|page| page.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let chrome = Some(Chrome::new(&principal, "rules"));
    let can_manage = principal.role.allows(Action::ManageRules);
    if state.rule_state.is_none() {
        return Ok(html(&RulesPage {
            chrome,
            available: false,
            can_manage,
            packs: Vec::new(),
            pack,
            q,
            overridden,
            rules: Vec::new(),
            total: 0,
            first: 0,
            last: 0,
            previous: None,
            next: None,
            back: "/rules".to_owned(),
            levels: LEVELS,
        }));
    }
    let all = rule_items(&state, None, false)?;
    let mut packs: Vec<(String, usize)> = Vec::new();
    for rule in &all {
        match packs.last_mut() {
            Some((name, count)) if *name == rule.pack => *count += 1,
            _ => packs.push((rule.pack.clone(), 1)),
        }
    }
    let needle = q.to_lowercase();
    let matching: Vec<RuleItem> = all
        .into_iter()
        .filter(|rule| pack.is_empty() || rule.pack == pack)
        .filter(|rule| !overridden || !rule.enabled || rule.level != rule.own_level)
        .filter(|rule| {
            needle.is_empty()
                || rule.title.to_lowercase().contains(&needle)
                || rule.id.to_lowercase().contains(&needle)
                || rule.path.to_lowercase().contains(&needle)
        })
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages);
    let start = (page - 1) * PAGE_SIZE;
    let rules: Vec<RuleItem> = matching.into_iter().skip(start).take(PAGE_SIZE).collect();
    Ok(html(&RulesPage {
        chrome,
        available: true,
        can_manage,
        packs,
        first: if rules.is_empty() { 0 } else { start + 1 },
        last: start + rules.len(),
        total,
        rules,
        previous: (page > 1).then(|| query_of(&pack, &q, overridden, page - 1)),
        next: (page < pages).then(|| query_of(&pack, &q, overridden, page + 1)),
        back: query_of(&pack, &q, overridden, page),
        pack,
        q,
        overridden,
        levels: LEVELS,
    }))
}

/// `POST /rules/{id}` (enabled = true|false, level = a level or `default`, back): changes the
/// rule's overrides as `PATCH /api/v1/rules/{id}` does, back to the page it was sent from.
pub async fn change(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let enabled = match form.get("enabled") {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(PageError(ApiError::bad_request(
                "the form field \"enabled\" is true or false",
            )));
        }
    };
    let level = form
        .get("level")
        .filter(|level| !level.is_empty())
        .map(str::to_owned);
    change_rule(&state, &principal, &id, RuleChange { enabled, level }).await?;
    let back = form.get("back").unwrap_or("/rules");
    let anchor: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok(redirect(&format!(
        "{}#rule-{anchor}",
        super::local_path(back)
            .split('#')
            .next()
            .unwrap_or("/rules")
    )))
}
