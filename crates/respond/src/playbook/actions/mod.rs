//! The actions a playbook step can take, one file each: what it does (`run`) and, in a dry
//! run, what it would do (`plan`). Approvals are the engine's: they pause the run.

mod block;
mod case;
mod enrich;
mod forward;
mod notify;
mod retro_hunt;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use rampart_model::Indicator;
use rampart_store::Store;
use serde_json::{Value, json};

use super::definition::{ActionSpec, Decision};
use super::facts::Facts;
use super::guardrails::Guardrails;
use super::load::Playbook;
use super::services::{ActionError, ActionServices};
use super::template::Escape;

/// What one step needs to run.
pub(crate) struct Context<'a> {
    pub store: &'a dyn Store,
    pub services: &'a dyn ActionServices,
    pub guardrails: &'a Guardrails,
    /// Each configured block list's default expiry.
    pub list_expiry: &'a BTreeMap<String, Option<SignedDuration>>,
    pub playbook: &'a Playbook,
    pub run_id: i64,
    pub facts: &'a Facts,
    pub now: Timestamp,
    pub dry_run: bool,
}

impl Context<'_> {
    /// The actor that automated changes are recorded under.
    pub fn actor(&self) -> String {
        format!("playbook:{}", self.playbook.name())
    }
}

/// How a step ended.
pub(crate) enum Outcome {
    /// Done (or, in a dry run, planned): the result, and facts to add under a key.
    Done {
        result: Value,
        learned: Option<(&'static str, Value)>,
    },
    /// An approval: wait until `deadline`, then take `default`.
    Wait {
        deadline: Timestamp,
        default: Decision,
        message: String,
    },
}

impl Outcome {
    fn done(result: Value) -> Outcome {
        Outcome::Done {
            result,
            learned: None,
        }
    }
}

/// Runs (or plans) one step.
pub(crate) async fn execute(
    spec: &ActionSpec,
    context: &Context<'_>,
) -> Result<Outcome, ActionError> {
    match spec {
        ActionSpec::Block(block) => block::run(block, context).await,
        ActionSpec::Notify(notify) => notify::run(notify, context).await,
        ActionSpec::Case(case) => case::run(case, context).await,
        ActionSpec::Enrich(enrich) => enrich::run(enrich, context).await,
        ActionSpec::RetroHunt(hunt) => retro_hunt::run(hunt, context).await,
        ActionSpec::Forward(forward) => forward::run(forward, context).await,
        ActionSpec::Approve(approve) => {
            let message = approve
                .message
                .as_ref()
                .map(|message| message.render(context.facts, Escape::Text))
                .unwrap_or_default();
            if context.dry_run {
                return Ok(Outcome::done(json!({
                    "would_wait": approve.timeout.0.to_string(),
                    "default": approve.default,
                    "message": message,
                    "assumed": "approve",
                })));
            }
            let deadline = context
                .now
                .checked_add(approve.timeout.0)
                .map_err(|err| ActionError::permanent(format!("approval deadline: {err}")))?;
            Ok(Outcome::Wait {
                deadline,
                default: approve.default,
                message,
            })
        }
    }
}

/// The values a step acts on: the subject's indicators, each URL's host added on request.
pub(crate) fn subject_values(context: &Context<'_>, include_hosts: bool) -> Vec<Indicator> {
    let mut values = context.facts.subject_indicators();
    if include_hosts {
        let hosts: Vec<Indicator> = values
            .iter()
            .filter(|indicator| indicator.kind() == rampart_model::IndicatorKind::Url)
            .filter_map(|url| url.host().and_then(|host| Indicator::guess(host).ok()))
            .collect();
        values.extend(hosts);
    }
    values.sort();
    values.dedup();
    values
}
