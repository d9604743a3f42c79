//! `block`: put the run's values on a block list, past the guardrails and the rate caps.

use jiff::SignedDuration;
use rampart_model::Indicator;
use rampart_store::{BlockQuery, NewBlock};
use serde_json::{Value, json};

use super::{Context, Outcome, subject_values};
use crate::playbook::definition::{BlockSpec, ValueSource};
use crate::playbook::services::ActionError;
use crate::playbook::template::Escape;

pub(super) async fn run(spec: &BlockSpec, context: &Context<'_>) -> Result<Outcome, ActionError> {
    let values = match &spec.values {
        ValueSource::Trigger => subject_values(context, spec.include_hosts),
        ValueSource::Fields(paths) => field_values(context, paths, spec.include_hosts),
    };
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for indicator in values {
        match context.guardrails.refusal(&indicator) {
            Some(reason) => refused.push(
                json!({ "kind": indicator.kind(), "value": indicator.value(), "reason": reason }),
            ),
            None => allowed.push(indicator),
        }
    }
    if allowed.is_empty() {
        let message = if refused.is_empty() {
            "no values to block".to_owned()
        } else {
            format!(
                "every value was refused by the guardrails: {}",
                Value::Array(refused.clone())
            )
        };
        return Err(ActionError::permanent(message));
    }
    check_rate_caps(context, allowed.len()).await?;
    let expiry = spec
        .expires
        .map(|span| span.0)
        .or_else(|| context.list_expiry.get(&spec.list).copied().flatten());
    let expires = expiry.and_then(|expiry| context.now.checked_add(expiry).ok());
    let reason = spec
        .reason
        .as_ref()
        .map(|reason| reason.render(context.facts, Escape::Text))
        .unwrap_or_else(|| format!("playbook {}", context.playbook.name()));
    let listed: Vec<Value> = allowed
        .iter()
        .map(|indicator| json!({ "kind": indicator.kind(), "value": indicator.value() }))
        .collect();
    if context.dry_run {
        return Ok(Outcome::done(json!({
            "list": spec.list, "would_block": listed, "expires": expires, "refused": refused,
        })));
    }
    let blocks: Vec<NewBlock> = allowed
        .into_iter()
        .map(|indicator| NewBlock {
            list: spec.list.clone(),
            indicator,
            reason: reason.clone(),
            added_by: context.actor(),
            run_id: Some(context.run_id),
            expires,
        })
        .collect();
    let outcomes = context
        .store
        .add_blocks(&blocks, context.now)
        .await
        .map_err(|err| ActionError::retryable(format!("block list {}: {err}", spec.list)))?;
    let blocked: Vec<Value> = blocks
        .iter()
        .zip(&outcomes)
        .map(|(block, outcome)| {
            json!({ "kind": block.indicator.kind(), "value": block.indicator.value(), "entry": outcome })
        })
        .collect();
    Ok(Outcome::done(json!({
        "list": spec.list, "blocked": blocked, "expires": expires, "refused": refused,
    })))
}

/// Values at event fields, each read as the indicator kind its text shows.
fn field_values(context: &Context<'_>, paths: &[String], include_hosts: bool) -> Vec<Indicator> {
    let mut values: Vec<Indicator> = paths
        .iter()
        .flat_map(|path| context.facts.values(path))
        .filter_map(Value::as_str)
        .filter_map(|text| Indicator::guess(text).ok())
        .collect();
    if include_hosts {
        let hosts: Vec<Indicator> = values
            .iter()
            .filter_map(|value| {
                value
                    .host()
                    .filter(|_| value.kind() == rampart_model::IndicatorKind::Url)
            })
            .filter_map(|host| Indicator::guess(host).ok())
            .collect();
        values.extend(hosts);
    }
    values.sort();
    values.dedup();
    values
}

/// Refuses a batch that would take this playbook, or all blocking together, past its hourly
/// cap.
async fn check_rate_caps(context: &Context<'_>, adding: usize) -> Result<(), ActionError> {
    let since = context.now.checked_sub(SignedDuration::from_hours(1)).ok();
    let global = context.guardrails.settings().max_blocks_per_hour;
    let caps = [
        (
            Some(context.actor()),
            context.playbook.spec.max_blocks_per_hour,
            "this playbook",
        ),
        (None, Some(global), "all playbooks"),
    ];
    for (added_by, cap, whose) in caps {
        let Some(cap) = cap else { continue };
        let query = BlockQuery {
            added_by,
            added_since: since,
            limit: cap.saturating_add(1),
            ..BlockQuery::default()
        };
        let recent = context
            .store
            .blocks(&query)
            .await
            .map_err(|err| ActionError::retryable(format!("counting recent blocks: {err}")))?
            .len();
        if recent + adding > cap as usize {
            return Err(ActionError::permanent(format!(
                "rate cap: {whose} blocked {recent} values in the last hour and may block {cap}; {adding} more refused"
            )));
        }
    }
    Ok(())
}
