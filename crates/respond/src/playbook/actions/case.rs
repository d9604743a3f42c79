//! `case`: open a case from a template, or add to the open case of the same campaign.

use serde_json::{Value, json};

use super::{Context, Outcome, subject_values};
use crate::playbook::definition::CaseSpec;
use crate::playbook::services::{ActionError, CaseRequest};
use crate::playbook::template::Escape;

pub(super) async fn run(spec: &CaseSpec, context: &Context<'_>) -> Result<Outcome, ActionError> {
    let render = |template: &Option<crate::playbook::template::Template>| {
        template
            .as_ref()
            .map(|template| template.render(context.facts, Escape::Text))
            .filter(|text| !text.trim().is_empty())
    };
    let request = CaseRequest {
        template: spec.template.clone(),
        campaign: render(&spec.campaign),
        title: render(&spec.title),
        playbook: context.playbook.name().to_owned(),
        run_id: context.run_id,
        alert_id: context
            .facts
            .first_value("alert.id")
            .and_then(Value::as_i64),
        observables: subject_values(context, false),
        placeholders: placeholders(context),
    };
    if context.dry_run {
        return Ok(Outcome::done(json!({
            "would_open_or_add": { "template": request.template, "campaign": request.campaign, "title": request.title },
        })));
    }
    let case = context.services.case(&request).await?;
    Ok(Outcome::Done {
        result: case.clone(),
        learned: Some(("case", case)),
    })
}

/// The case template's placeholders that the facts can fill.
fn placeholders(context: &Context<'_>) -> Vec<(String, String)> {
    let text = |path: &str| {
        context
            .facts
            .values(path)
            .into_iter()
            .find_map(|value| match value {
                Value::String(text) => Some(text.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
    };
    let sources = [
        ("indicator", "indicator.value"),
        ("indicator", "alert.indicator.value"),
        ("host", "alert.host"),
        ("rule", "alert.rule"),
        ("user", "alert.matched.user.name"),
        ("severity", "alert.severity"),
        ("source", "indicator.sources"),
        ("sender", "report.sender"),
        ("subject", "report.subject"),
    ];
    let mut filled: Vec<(String, String)> = Vec::new();
    for (name, path) in sources {
        if filled.iter().any(|(taken, _)| taken == name) {
            continue;
        }
        if let Some(value) = text(path) {
            filled.push((name.to_owned(), value));
        }
    }
    filled
}
