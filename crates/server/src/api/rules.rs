//! Sigma rules as `rampart rules` manages them: the packs as last updated, each rule with
//! its effective state, and the analyst's overrides (enable, disable, level). Overrides are
//! kept in the same file as the command line's and take effect when detection next starts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use rampart_detect::packs::RuleState;
use rampart_model::Severity;
use rampart_store::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::intel_changes::audited;
use super::{Page, page_of};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RuleList {
    /// Only rules of this pack.
    pub pack: Option<String>,
    /// Only disabled rules or rules whose level is overridden.
    pub overridden: Option<bool>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A rule of a pack with its effective state.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleItem {
    pub pack: String,
    pub id: String,
    pub title: String,
    /// The file inside the pack.
    pub path: String,
    /// The level the rule is run with (its own, or the override).
    pub level: String,
    /// The level the rule itself declares (medium when it declares none).
    pub own_level: String,
    pub enabled: bool,
}

fn rule_state(state: &AppState) -> Result<&std::path::Path, ApiError> {
    state.rule_state.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rules_off",
            "this server does not manage rule packs",
        )
    })
}

fn load(path: &std::path::Path) -> Result<RuleState, ApiError> {
    RuleState::load(path).map_err(ApiError::internal)
}

fn item(
    state: &RuleState,
    pack: &str,
    id: &str,
    rule: &rampart_detect::packs::RuleEntry,
) -> RuleItem {
    let own = rule
        .level
        .as_deref()
        .and_then(|level| level.parse::<Severity>().ok())
        .unwrap_or(Severity::Medium);
    RuleItem {
        pack: pack.to_owned(),
        id: id.to_owned(),
        title: rule.title.clone(),
        path: rule.path.clone(),
        level: state.level_of(id, own).to_string(),
        own_level: own.to_string(),
        enabled: state.is_enabled(id),
    }
}

/// The rules of the packs as last updated (`rampart rules update`), by pack and id.
#[utoipa::path(get, path = "/api/v1/rules", operation_id = "list_rules", tag = "rules", params(RuleList),
    responses((status = 200, description = "one page of rules", body = Page<RuleItem>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<RuleList>,
) -> Result<Json<Page<RuleItem>>, ApiError> {
    let items = rule_items(
        &state,
        params.pack.as_deref(),
        params.overridden.unwrap_or(false),
    )?;
    Ok(Json(page_of(
        items,
        params.limit,
        params.cursor.as_deref(),
    )?))
}

/// Every rule of the packs with its effective state, by pack and id: only `pack`'s when
/// given, only disabled or re-levelled ones when `overridden`. The API and the rules page
/// both list through this.
pub fn rule_items(
    state: &AppState,
    pack: Option<&str>,
    overridden: bool,
) -> Result<Vec<RuleItem>, ApiError> {
    let rules = load(rule_state(state)?)?;
    Ok(rules
        .packs
        .iter()
        .filter(|(name, _)| pack.is_none_or(|wanted| wanted == name.as_str()))
        .flat_map(|(pack, manifest)| {
            manifest
                .rules
                .iter()
                .map(|(id, rule)| item(&rules, pack, id, rule))
                .collect::<Vec<_>>()
        })
        .filter(|rule| !overridden || !rule.enabled || rule.level != rule.own_level)
        .collect())
}

/// A change to one rule's overrides; absent fields are left as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleChange {
    /// Run the rule (`true`) or not (`false`); survives pack updates.
    pub enabled: Option<bool>,
    /// informational, low, medium, high, critical, or `default` for the rule's own.
    pub level: Option<String>,
}

/// Enables or disables a rule, or overrides its level (`rampart rules enable|disable|level`);
/// audited. Running detection picks the change up at its next start.
#[utoipa::path(patch, path = "/api/v1/rules/{id}", operation_id = "change_rule", tag = "rules",
    params(("id" = String, Path, description = "the rule's id")),
    request_body = RuleChange,
    responses((status = 200, description = "the rule with its new state", body = RuleItem)))]
pub async fn change(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RuleChange>,
) -> Result<Json<RuleItem>, ApiError> {
    Ok(Json(change_rule(&state, &principal, &id, request).await?))
}

/// Changes one rule's overrides in the rule state file, audited: the API's `PATCH` and the
/// rules page's form both change rules through this.
pub async fn change_rule(
    state: &AppState,
    principal: &Principal,
    id: &str,
    request: RuleChange,
) -> Result<RuleItem, ApiError> {
    let path = rule_state(state)?.to_owned();
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor.clone(), "rule.change")
        .target(crate::error::truncate(id))
        .detail(serde_json::json!({
            "enabled": request.enabled,
            "level": request.level.as_deref().map(crate::error::truncate),
        }));
    // One change at a time: each reads, changes and rewrites the whole file.
    let _guard = state.rule_state_lock.lock().await;
    let changed = async {
        if request.enabled.is_none() && request.level.is_none() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "nothing to change: give enabled and/or level",
            ));
        }
        let level = match request.level.as_deref() {
            None => None,
            Some("default") => Some(None),
            Some(text) => Some(Some(text.parse::<Severity>().map_err(|err| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    err.to_string(),
                )
            })?)),
        };
        let mut rules = load(&path)?;
        if rules.rule(id).is_none() {
            return Err(ApiError::not_found(format!(
                "no rule with id {:?} in the packs as last updated",
                crate::error::truncate(id)
            )));
        }
        let now = Timestamp::now();
        if let Some(enabled) = request.enabled {
            rules.set_enabled(id, enabled, now);
        }
        if let Some(level) = level {
            rules.set_level(id, level, now);
        }
        rules.save(&path).map_err(ApiError::internal)?;
        let (pack, rule) = rules
            .rule(id)
            .ok_or_else(|| ApiError::internal("the rule just changed is missing"))?;
        Ok(item(&rules, pack, id, rule))
    }
    .await;
    audited(store, entry, changed).await
}
