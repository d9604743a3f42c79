//! Errors of the case service.

use rampart_store::StoreError;

use crate::templates::TemplateError;
use crate::thehive::TheHiveError;

/// What went wrong handling a case.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The store failed or refused (unknown case or task, a refused status change…).
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    TheHive(#[from] TheHiveError),
    #[error("unknown case template {0:?}")]
    UnknownTemplate(String),
    #[error("unknown alert {0}")]
    UnknownAlert(i64),
    /// A request that makes no sense (closing to an open status, an empty resolution…).
    #[error("{0}")]
    Invalid(String),
}
