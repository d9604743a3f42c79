//! `enrich`: look the run's values up in the store (`store`) and in configured HTTP lookups;
//! what is found is added to the facts under `enrichment.NAME`.

use serde_json::{Map, Value, json};

use super::{Context, Outcome, subject_values};
use crate::playbook::definition::EnrichSpec;
use crate::playbook::services::ActionError;

pub(super) async fn run(spec: &EnrichSpec, context: &Context<'_>) -> Result<Outcome, ActionError> {
    let values = subject_values(context, true);
    if context.dry_run {
        let listed: Vec<&str> = values.iter().map(|value| value.value()).collect();
        return Ok(Outcome::done(
            json!({ "would_look_up": listed, "in": spec.lookups }),
        ));
    }
    let mut found = Map::new();
    for lookup in &spec.lookups {
        let answer = if lookup == "store" {
            from_store(context, &values).await?
        } else {
            context.services.lookup(lookup, &values).await?
        };
        found.insert(lookup.clone(), answer);
    }
    let found = Value::Object(found);
    Ok(Outcome::Done {
        result: found.clone(),
        learned: Some(("enrichment", found)),
    })
}

/// What the store knows of each value: its sources, labels and suppression.
async fn from_store(
    context: &Context<'_>,
    values: &[rampart_model::Indicator],
) -> Result<Value, ActionError> {
    let mut known = Map::new();
    for indicator in values {
        let stored = context
            .store
            .indicator(indicator)
            .await
            .map_err(|err| ActionError::retryable(format!("store lookup: {err}")))?;
        let entry = match stored {
            None => json!({ "known": false }),
            Some(stored) => json!({
                "known": true,
                "first_seen": stored.first_seen,
                "suppressed": stored.suppressed,
                "sources": stored.sources.iter().map(|statement| json!({
                    "source": statement.source,
                    "confidence": statement.confidence,
                    "labels": statement.labels,
                    "threats": statement.threats,
                })).collect::<Vec<_>>(),
            }),
        };
        known.insert(indicator.value().to_owned(), entry);
    }
    Ok(Value::Object(known))
}
