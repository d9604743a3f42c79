//! `forward`: the run's subject to a SIEM or ticketing destination.

use serde_json::json;

use super::{Context, Outcome};
use crate::playbook::definition::ForwardSpec;
use crate::playbook::services::ActionError;

pub(super) async fn run(spec: &ForwardSpec, context: &Context<'_>) -> Result<Outcome, ActionError> {
    if context.dry_run {
        return Ok(Outcome::done(json!({ "would_forward_to": spec.to })));
    }
    let answer = context.services.forward(&spec.to, context.facts).await?;
    Ok(Outcome::done(json!({ "to": spec.to, "answer": answer })))
}
