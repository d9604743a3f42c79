//! `retro_hunt`: sweep the event archive for the run's values, back to `since`.

use serde_json::json;

use super::{Context, Outcome, subject_values};
use crate::playbook::definition::RetroHuntSpec;
use crate::playbook::services::ActionError;

pub(super) async fn run(
    spec: &RetroHuntSpec,
    context: &Context<'_>,
) -> Result<Outcome, ActionError> {
    let values = subject_values(context, true);
    let since = context
        .now
        .checked_sub(spec.since.0)
        .map_err(|err| ActionError::permanent(format!("retro-hunt start: {err}")))?;
    let listed: Vec<&str> = values.iter().map(|value| value.value()).collect();
    if values.is_empty() {
        return Ok(Outcome::done(
            json!({ "values": listed, "skipped": "no values to hunt for" }),
        ));
    }
    if context.dry_run {
        return Ok(Outcome::done(
            json!({ "would_hunt": listed, "since": since }),
        ));
    }
    let found = context
        .services
        .retro_hunt(&values, since, context.facts)
        .await?;
    Ok(Outcome::Done {
        result: json!({ "values": listed, "since": since, "found": found }),
        learned: Some(("retro_hunt", found)),
    })
}
