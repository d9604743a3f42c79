//! What actions need from outside the respond stage: sending messages, opening cases, sweeping
//! the event archive, forwarding to a SIEM, looking values up. The server wires real ones;
//! a service that is not wired fails its action with a clear error.

use async_trait::async_trait;
use rampart_model::Indicator;
use serde_json::Value;

use super::facts::Facts;

/// Why an action failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    pub message: String,
    /// A timeout or a 5xx is worth retrying; a refusal or a configuration error is not.
    pub retryable: bool,
}

impl ActionError {
    pub fn retryable(message: impl Into<String>) -> ActionError {
        ActionError {
            message: message.into(),
            retryable: true,
        }
    }

    pub fn permanent(message: impl Into<String>) -> ActionError {
        ActionError {
            message: message.into(),
            retryable: false,
        }
    }
}

/// A message for a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub channel: String,
    pub subject: String,
    pub text: String,
    /// The run's facts, for channels whose body is a template of their own (a custom webhook
    /// body reads `{{alert.rule}}` as well as `{{subject}}` and `{{text}}`).
    pub facts: Facts,
}

/// A case to open, or to add to when one of the same campaign is open.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRequest {
    pub template: String,
    pub campaign: Option<String>,
    pub title: Option<String>,
    pub playbook: String,
    pub run_id: i64,
    /// The alert to link, when an alert started the run.
    pub alert_id: Option<i64>,
    pub observables: Vec<Indicator>,
    /// Values for the case template's placeholders (`host`, `rule`, `user`, `indicator`…),
    /// from the run's facts.
    pub placeholders: Vec<(String, String)>,
}

/// The services actions call. Every method answers JSON that the run records as the action's
/// result (an HTTP status, a case id, how many alerts a hunt found…).
#[async_trait]
pub trait ActionServices: Send + Sync {
    async fn notify(&self, message: &Message) -> Result<Value, ActionError> {
        Err(not_wired("notification channels", &message.channel))
    }

    async fn case(&self, request: &CaseRequest) -> Result<Value, ActionError> {
        Err(not_wired("cases", &request.template))
    }

    /// Sweeps the event archive back to `since` for `values`; the case the run opened, if
    /// any, is in `facts` under `case.id`.
    async fn retro_hunt(
        &self,
        values: &[Indicator],
        since: jiff::Timestamp,
        facts: &Facts,
    ) -> Result<Value, ActionError> {
        let _ = (values, since, facts);
        Err(not_wired("retro-hunts", "the event archive"))
    }

    async fn forward(&self, destination: &str, facts: &Facts) -> Result<Value, ActionError> {
        let _ = facts;
        Err(not_wired("forwarding", destination))
    }

    async fn lookup(&self, lookup: &str, values: &[Indicator]) -> Result<Value, ActionError> {
        let _ = values;
        Err(not_wired("lookups", lookup))
    }
}

fn not_wired(what: &str, name: &str) -> ActionError {
    ActionError::permanent(format!("{what} are not set up here ({name})"))
}

/// Services that are all missing: every action but block and approve fails.
pub struct NoServices;

impl ActionServices for NoServices {}
