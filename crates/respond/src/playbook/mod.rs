//! Playbooks: their files ([`definition`]), how they load, the facts a run reads, triggers,
//! conditions, templates, guardrails, the actions and the engine that drives runs, and the
//! [`outbound`] services (channels, destinations, lookups) that actions send through.

mod actions;
mod condition;
pub mod definition;
mod engine;
mod facts;
mod guardrails;
mod load;
pub mod outbound;
mod services;
mod stage_services;
mod template;
mod trigger;

pub use condition::{Condition, Scalar, Test};
pub use definition::Decision;
pub use engine::{Engine, EngineError, EngineSettings};
pub use facts::{Facts, Subject};
pub use guardrails::{GuardrailSettings, Guardrails};
pub use load::{Library, Playbook, PlaybookError, References, parse};
pub use services::{ActionError, ActionServices, CaseRequest, Message, NoServices};
pub use stage_services::StageServices;
pub use template::{Escape, Template, TemplateError};

/// Reads YAML where an enum is written as a one-key map (`trigger: {indicator: {…}}`), the
/// shape people write, rather than as a YAML tag (`!indicator`).
pub fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, yaml_serde::Error> {
    yaml_serde::with::singleton_map_recursive::deserialize(yaml_serde::Deserializer::from_str(text))
}
