//! `notify`: a message through a configured channel (webhook or email).

use serde_json::json;

use super::{Context, Outcome};
use crate::playbook::definition::NotifySpec;
use crate::playbook::services::{ActionError, Message};
use crate::playbook::template::Escape;

pub(super) async fn run(spec: &NotifySpec, context: &Context<'_>) -> Result<Outcome, ActionError> {
    let message = Message {
        channel: spec.channel.clone(),
        subject: spec
            .subject
            .as_ref()
            .map(|subject| subject.render(context.facts, Escape::Text))
            .unwrap_or_else(|| format!("Rampart: {}", context.playbook.name())),
        text: spec.text.render(context.facts, Escape::Text),
        facts: context.facts.clone(),
    };
    if context.dry_run {
        return Ok(Outcome::done(json!({
            "would_send": { "channel": message.channel, "subject": message.subject, "text": message.text },
        })));
    }
    let answer = context.services.notify(&message).await?;
    Ok(Outcome::done(
        json!({ "channel": message.channel, "sent": answer }),
    ))
}
